"""Copy one curated partition between stores (S3 -> GCS -> Azure Blob ...).

Every file is checksummed while it is read and re-read from the destination
after writing; a mismatch deletes the bad copy and raises, so a partition is
never left looking complete when it is not. Re-running overwrites, which makes
the task safe to retry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pyarrow.fs as pafs

CHUNK_BYTES = 8 << 20  # bounded memory: files are streamed, never loaded whole


class ChecksumMismatchError(RuntimeError):
    """The destination copy differs from the source."""


class PartitionNotFoundError(FileNotFoundError):
    """The partition to distribute does not exist or holds no files."""


@dataclass
class DistributeResult:
    files: int = 0
    bytes: int = 0
    checksums: dict[str, str] = field(default_factory=dict)  # relative path -> sha256


def _sha256(fs: pafs.FileSystem, path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with fs.open_input_stream(path) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _copy(src_fs: pafs.FileSystem, src: str, dst_fs: pafs.FileSystem, dst: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with src_fs.open_input_stream(src) as inp, dst_fs.open_output_stream(dst) as out:
        while chunk := inp.read(CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def distribute_partition(
    src_fs: pafs.FileSystem,
    src_dir: str,
    dst_fs: pafs.FileSystem,
    dst_dir: str,
) -> DistributeResult:
    """Copy every file under `src_dir` to `dst_dir` (same relative layout),
    verifying each copy by SHA-256. Files under `_`-prefixed folders (staging)
    are skipped."""
    src_dir, dst_dir = src_dir.rstrip("/"), dst_dir.rstrip("/")
    infos = src_fs.get_file_info(pafs.FileSelector(src_dir, recursive=True, allow_not_found=True))
    files = sorted(
        i.path for i in infos
        if i.type == pafs.FileType.File and not any(p.startswith("_") for p in _rel(i.path, src_dir).split("/")[:-1])
    )
    if not files:
        raise PartitionNotFoundError(f"no files to distribute under {src_dir}")
    result = DistributeResult()
    for path in files:
        rel = _rel(path, src_dir)
        target = f"{dst_dir}/{rel}"
        parent = target.rsplit("/", 1)[0]
        dst_fs.create_dir(parent, recursive=True)
        src_sum, size = _copy(src_fs, path, dst_fs, target)
        # Re-read from the destination: the stream write succeeding proves
        # nothing about what the store kept (truncation, wrong object, bit rot).
        dst_sum, dst_size = _sha256(dst_fs, target)
        if dst_sum != src_sum or dst_size != size:
            dst_fs.delete_file(target)
            raise ChecksumMismatchError(
                f"{target}: sha256 {dst_sum[:12]}.. ({dst_size} B) != source {src_sum[:12]}.. ({size} B)"
            )
        result.files += 1
        result.bytes += size
        result.checksums[rel] = src_sum
    return result


def _rel(path: str, root: str) -> str:
    return path[len(root) + 1 :] if path.startswith(root + "/") else path
