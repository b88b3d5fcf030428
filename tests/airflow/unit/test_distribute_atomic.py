"""copy_partition on local disk: a failed or mismatched copy keeps the previous good
file at its final name (only the `_copying/` temporary is removed), stale files are
pruned only after every new file is committed, an emptied source partition empties
the copy, and the result carries row counts read back from the Parquet footers."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pyarrow.fs as pafs
import pytest
from callcenter import distribute as dist
from callcenter.distribute import TEMP_FOLDER, ChecksumMismatchError
from callcenter.tasks import copy_partition
from distribute_helpers import CutSource, parquet_bytes, read, write

PART = "call_date=2026-11-20"


@pytest.fixture
def fs(tmp_path) -> pafs.FileSystem:
    return pafs.SubTreeFileSystem(str(tmp_path), pafs.LocalFileSystem())


def _no_temporaries(fs: pafs.FileSystem) -> bool:
    infos = fs.get_file_info(pafs.FileSelector(f"gcs/{PART}/{TEMP_FOLDER}", allow_not_found=True))
    return not [i for i in infos if i.type == pafs.FileType.File]


def test_result_carries_row_counts_read_back_from_both_sides(fs) -> None:
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(7))
    write(fs, f"s3/{PART}/part-b.parquet", parquet_bytes(5))
    result = copy_partition(fs, "s3", PART, fs, "gcs")
    assert (result["files"], result["verified"], result["rows"], result["source_rows"]) == (2, 2, 12, 12)
    assert _no_temporaries(fs)


def test_rows_are_read_back_not_counted_while_copying(fs, monkeypatch) -> None:
    """A commit that lands the wrong object shows up as a row mismatch."""
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(7))
    real_commit = dist._commit

    def wrong_object(dst_fs, temp, final):  # the store keeps another version
        real_commit(dst_fs, temp, final)
        write(dst_fs, final, parquet_bytes(3))

    monkeypatch.setattr(dist, "_commit", wrong_object)
    result = copy_partition(fs, "s3", PART, fs, "gcs")
    assert (result["rows"], result["source_rows"], result["verified"], result["files"]) == (3, 7, 0, 1)


def test_failure_mid_copy_keeps_the_previous_final_file(fs) -> None:
    old = parquet_bytes(4, tag="old")
    write(fs, f"gcs/{PART}/part-a.parquet", old)
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(50, tag="new"))
    seen_midway = []
    source = CutSource(fs, "part-a.parquet", limit=100,
                       midway=lambda: seen_midway.append(read(fs, f"gcs/{PART}/part-a.parquet")))
    with pytest.raises(OSError, match="injected mid-copy"):
        copy_partition(source, "s3", PART, fs, "gcs")
    assert seen_midway == [old]  # while the copy ran, a reader saw the old file whole
    assert read(fs, f"gcs/{PART}/part-a.parquet") == old
    assert _no_temporaries(fs)


def test_checksum_mismatch_keeps_the_previous_good_copy(fs, monkeypatch) -> None:
    old = parquet_bytes(4, tag="old")
    write(fs, f"gcs/{PART}/part-a.parquet", old)
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(9, tag="new"))
    real_copy = dist._copy

    def flipping_copy(s_fs, s, d_fs, d):  # the store silently flips a byte of what it kept
        digest = real_copy(s_fs, s, d_fs, d)
        data = bytearray(read(d_fs, d))
        data[len(data) // 2] ^= 0xFF
        write(d_fs, d, bytes(data))
        return digest

    monkeypatch.setattr(dist, "_copy", flipping_copy)
    with pytest.raises(ChecksumMismatchError, match="previous copy is kept"):
        copy_partition(fs, "s3", PART, fs, "gcs")
    assert read(fs, f"gcs/{PART}/part-a.parquet") == old
    assert _no_temporaries(fs)


def test_stale_files_are_pruned_only_after_every_new_file_is_committed(fs) -> None:
    write(fs, f"gcs/{PART}/part-old.parquet", parquet_bytes(3, tag="stale"))
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(2))
    write(fs, f"s3/{PART}/part-b.parquet", parquet_bytes(60))
    with pytest.raises(OSError):
        copy_partition(CutSource(fs, "part-b.parquet", limit=50), "s3", PART, fs, "gcs")
    # part-b never landed, so the rows it replaces must still be readable
    assert fs.get_file_info(f"gcs/{PART}/part-old.parquet").type == pafs.FileType.File
    result = copy_partition(fs, "s3", PART, fs, "gcs")  # the retry mirrors the source
    assert (result["pruned"], result["rows"], result["source_rows"]) == (1, 62, 62)
    assert fs.get_file_info(f"gcs/{PART}/part-old.parquet").type == pafs.FileType.NotFound


@pytest.mark.parametrize("source_state", ["folder without files", "folder gone"])
def test_an_emptied_source_partition_empties_the_copy(fs, source_state) -> None:
    """A re-export moved every row of the day elsewhere: the copy must not keep them."""
    write(fs, f"gcs/{PART}/part-a.parquet", parquet_bytes(3))
    write(fs, f"gcs/{PART}/part-b.parquet", parquet_bytes(4))
    if source_state == "folder without files":
        fs.create_dir(f"s3/{PART}/_staging", recursive=True)
        write(fs, f"s3/{PART}/_staging/half-written.parquet", b"partial")  # staging is not data
    result = copy_partition(fs, "s3", PART, fs, "gcs")
    assert (result["files"], result["pruned"], result["rows"], result["source_rows"]) == (0, 2, 0, 0)
    listed = fs.get_file_info(pafs.FileSelector(f"gcs/{PART}", recursive=True, allow_not_found=True))
    assert not [i for i in listed if i.type == pafs.FileType.File]


def test_a_killed_copy_s_old_temporary_is_swept_by_the_next_copy(fs, tmp_path) -> None:
    """SIGKILL skips the cleanup; the next copy removes temporaries older than STALE_TEMP_AGE
    and leaves a younger one (it may belong to a copy still running)."""
    write(fs, f"s3/{PART}/part-a.parquet", parquet_bytes(2))
    write(fs, f"gcs/{PART}/{TEMP_FOLDER}/dead-part-a.parquet", b"half")
    write(fs, f"gcs/{PART}/{TEMP_FOLDER}/live-part-a.parquet", b"half")
    old = (datetime.now(UTC) - dist.STALE_TEMP_AGE - timedelta(minutes=1)).timestamp()
    os.utime(tmp_path / "gcs" / PART / TEMP_FOLDER / "dead-part-a.parquet", (old, old))
    copy_partition(fs, "s3", PART, fs, "gcs")
    left = fs.get_file_info(pafs.FileSelector(f"gcs/{PART}/{TEMP_FOLDER}"))
    assert [i.base_name for i in left] == ["live-part-a.parquet"]
