"""Copy one curated partition between stores (S3 -> GCS -> Azure Blob ...).

A file is never written at its final name. Each one is streamed to a temporary
name under the destination partition's `_copying/` folder (a `_` folder: pyarrow
datasets, Spark/Hive and our own listing skip it), read back (SHA-256 + size),
and only then committed to the final name in one store-side step (`_commit`).
A failure or a mismatch deletes only the temporary copy: the final name keeps
its previous good content. Re-running overwrites, so the task is safe to retry.

Row counts come from the Parquet footers of the source files and of the
committed destination files (read back after the commit), so a caller can
compare them instead of trusting what this code wrote.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyarrow.fs as pafs
import pyarrow.parquet as pq

CHUNK_BYTES = 8 << 20  # bounded memory: files are streamed, never loaded whole
TEMP_FOLDER = "_copying"  # `_`-prefixed: skipped by readers and by `listed_files`
# A temporary this old belongs to no live copy (tasks time out after 1 h and a DAG runs
# one at a time): it is what a killed worker left, swept by the next copy of the partition.
STALE_TEMP_AGE = timedelta(hours=6)


class ChecksumMismatchError(RuntimeError):
    """The destination copy differs from the source."""


@dataclass
class DistributeResult:
    files: int = 0
    bytes: int = 0
    checksums: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    source_rows: int = 0  # Parquet footers of the source files
    rows: int = 0  # Parquet footers of the committed destination files, read back
    verified: int = 0  # committed files whose read-back size and rows equal the source's


def listed_files(fs: pafs.FileSystem, root: str) -> dict[str, str]:
    """relative path -> full path of the files under `root`, except those inside
    `_`-prefixed folders (staging and temporary copies)."""
    root = root.rstrip("/")
    out = {}
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type != pafs.FileType.File:
            continue
        rel = info.path[len(root) + 1:] if info.path.startswith(root + "/") else info.path
        if not any(part.startswith("_") for part in rel.split("/")[:-1]):
            out[rel] = info.path
    return out


def _sha256(fs: pafs.FileSystem, path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with fs.open_input_stream(path) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy(src_fs: pafs.FileSystem, src: str, dst_fs: pafs.FileSystem, dst: str) -> tuple[str, int]:
    """Stream `src` to `dst` (a temporary name: NativeFile.__exit__ closes, i.e.
    commits, the output stream even when the copy raised, pyarrow io.pxi)."""
    digest, size = hashlib.sha256(), 0
    with src_fs.open_input_stream(src) as inp, dst_fs.open_output_stream(dst) as out:
        while chunk := inp.read(CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _rows(fs: pafs.FileSystem, path: str) -> int:
    """Row count from the Parquet footer (reads the footer only, not the data);
    0 for a file that is not Parquet by name."""
    if not path.endswith(".parquet"):
        return 0
    with fs.open_input_file(path) as handle:
        return pq.ParquetFile(handle).metadata.num_rows


def partition_rows(fs: pafs.FileSystem, root: str) -> int:
    """Rows of every listed Parquet file under `root`, from their footers."""
    return sum(_rows(fs, path) for path in listed_files(fs, root).values())


def _commit(fs: pafs.FileSystem, temp: str, final: str) -> None:
    """Replace `final` by the verified `temp` in one step a reader sees whole.

    - Local disk: rename(2), atomic.
    - GCS: Arrow's GcsFileSystem.move is CopyFile (a server-side objects.rewrite)
      then DeleteFile (arrow gcsfs.cc Impl::Move). A rewrite creates the new object
      generation in one step: readers get the old or the new object, never a part.
    - Azure with hierarchical namespace (the deployed ADLS Gen2 lake account):
      move is a DataLake RenameFile, atomic (arrow azurefs.cc MovePathsWithDataLakeAPI).
    - Azure without HNS (Azurite): Arrow's move answers NotImplemented
      (azurefs.cc MovePathsUsingBlobsAPI), and an output stream opened at the final
      name would first replace it by an EMPTY block blob (ObjectAppendStream::Init ->
      CreateEmptyBlockBlob). copy_file is a server-side Copy Blob From URL
      (BlobClient::CopyFromUri, synchronous): the final blob switches to the verified
      bytes when it returns, never to an empty or partial blob.
    """
    try:
        fs.move(temp, final)
    except NotImplementedError:
        fs.copy_file(temp, final)
        fs.delete_file(temp)


def _delete_quietly(fs: pafs.FileSystem, path: str) -> None:
    try:
        fs.delete_file(path)
    except OSError:
        pass  # e.g. a temporary that was never created: the original error is the one to raise


def copy_file_verified(src_fs: pafs.FileSystem, src: str, dst_fs: pafs.FileSystem, final: str,
                       temp: str) -> tuple[str, int]:
    """Copy `src` to `temp`, verify the read-back, commit it to `final`.
    On any failure only `temp` is removed; `final` keeps what it held."""
    try:
        src_sum, size = _copy(src_fs, src, dst_fs, temp)
        # Re-read from the destination: the stream write succeeding proves
        # nothing about what the store kept (truncation, wrong object, bit rot).
        dst_sum, dst_size = _sha256(dst_fs, temp)
        if dst_sum != src_sum or dst_size != size:
            raise ChecksumMismatchError(
                f"{final}: sha256 {dst_sum[:12]}.. ({dst_size} B) != source {src_sum[:12]}.. ({size} B); "
                "the previous copy is kept")
        _commit(dst_fs, temp, final)
    except BaseException:  # also Airflow's timeout/termination exceptions: never leave the temp behind
        _delete_quietly(dst_fs, temp)
        raise
    return src_sum, size


def sweep_stale_temporaries(fs: pafs.FileSystem, dst_dir: str, now: datetime | None = None) -> int:
    """Delete temporaries older than STALE_TEMP_AGE under `dst_dir/_copying` (a SIGKILL
    skips the cleanup in copy_file_verified). A store without mtimes keeps them."""
    cutoff = (now or datetime.now(UTC)) - STALE_TEMP_AGE
    infos = fs.get_file_info(pafs.FileSelector(f"{dst_dir.rstrip('/')}/{TEMP_FOLDER}", allow_not_found=True))
    stale = [i.path for i in infos if i.type == pafs.FileType.File and i.mtime is not None
             and i.mtime.astimezone(UTC) < cutoff]
    for path in stale:
        _delete_quietly(fs, path)
    return len(stale)


def distribute_partition(
    src_fs: pafs.FileSystem,
    src_dir: str,
    dst_fs: pafs.FileSystem,
    dst_dir: str,
) -> DistributeResult:
    """Copy every file under `src_dir` to `dst_dir` (same relative layout), each
    verified by SHA-256 before it replaces the final name, then read back the
    committed file's size and row count. Files under `_`-prefixed folders
    (staging) are skipped. A source without files copies nothing (the caller
    decides what an empty source means for the destination)."""
    src_dir, dst_dir = src_dir.rstrip("/"), dst_dir.rstrip("/")
    run = uuid.uuid4().hex[:12]  # two concurrent runs never share a temporary name
    sweep_stale_temporaries(dst_fs, dst_dir)
    result = DistributeResult()
    for rel, path in sorted(listed_files(src_fs, src_dir).items()):
        final = f"{dst_dir}/{rel}"
        temp = f"{dst_dir}/{TEMP_FOLDER}/{run}-{rel.replace('/', '--')}"
        dst_fs.create_dir(final.rsplit("/", 1)[0], recursive=True)
        dst_fs.create_dir(temp.rsplit("/", 1)[0], recursive=True)
        src_sum, size = copy_file_verified(src_fs, path, dst_fs, final, temp)
        source_rows, rows = _rows(src_fs, path), _rows(dst_fs, final)
        committed_size = dst_fs.get_file_info(final).size
        result.files += 1
        result.bytes += size
        result.checksums[rel] = src_sum
        result.source_rows += source_rows
        result.rows += rows
        result.verified += int(committed_size == size and rows == source_rows)
    return result
