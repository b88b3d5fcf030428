from __future__ import annotations

from pathlib import Path

import pyarrow.fs as pafs
import pytest
from callcenter import distribute as dist
from callcenter.distribute import (
    TEMP_FOLDER,
    ChecksumMismatchError,
    distribute_partition,
)
from distribute_helpers import parquet_bytes


@pytest.fixture
def stores(tmp_path: Path) -> tuple[pafs.FileSystem, pafs.FileSystem, Path, Path]:
    src, dst = tmp_path / "s3", tmp_path / "gcs"
    part = src / "curated" / "call_date=2026-11-20"
    part.mkdir(parents=True)
    (part / "part-a.parquet").write_bytes(parquet_bytes(10, tag="a"))
    (part / "part-b.parquet").write_bytes(parquet_bytes(300, tag="b"))
    (part / "_staging").mkdir()
    (part / "_staging" / "half-written.parquet").write_bytes(b"partial")
    dst.mkdir()
    local = pafs.LocalFileSystem()
    return (pafs.SubTreeFileSystem(str(src), local), pafs.SubTreeFileSystem(str(dst), local), src, dst)


def test_copies_partition_with_checksums(stores) -> None:
    src_fs, dst_fs, src, dst = stores
    result = distribute_partition(src_fs, "curated/call_date=2026-11-20", dst_fs, "mirror/call_date=2026-11-20")
    assert result.files == 2
    assert set(result.checksums) == {"part-a.parquet", "part-b.parquet"}
    assert (result.source_rows, result.rows, result.verified) == (310, 310, 2)
    for name in result.checksums:
        assert (dst / "mirror/call_date=2026-11-20" / name).read_bytes() == \
               (src / "curated/call_date=2026-11-20" / name).read_bytes()
    assert not (dst / "mirror/call_date=2026-11-20/_staging").exists()


def test_rerun_overwrites_stale_destination(stores) -> None:
    src_fs, dst_fs, src, dst = stores
    target = dst / "mirror/call_date=2026-11-20"
    target.mkdir(parents=True)
    (target / "part-a.parquet").write_bytes(b"stale and longer than before" * 100)
    first = distribute_partition(src_fs, "curated/call_date=2026-11-20", dst_fs, "mirror/call_date=2026-11-20")
    second = distribute_partition(src_fs, "curated/call_date=2026-11-20", dst_fs, "mirror/call_date=2026-11-20")
    assert first.checksums == second.checksums
    assert (target / "part-a.parquet").read_bytes() == parquet_bytes(10, tag="a")


def test_checksum_mismatch_is_detected_and_bad_copy_removed(stores, monkeypatch) -> None:
    src_fs, dst_fs, src, dst = stores
    real_copy = dist._copy

    def corrupting_copy(s_fs, s, d_fs, d):  # the store silently flips a byte
        digest = real_copy(s_fs, s, d_fs, d)
        path = dst / d
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        return digest

    monkeypatch.setattr(dist, "_copy", corrupting_copy)
    with pytest.raises(ChecksumMismatchError, match="sha256"):
        distribute_partition(src_fs, "curated/call_date=2026-11-20", dst_fs, "mirror/call_date=2026-11-20")
    assert not list((dst / "mirror/call_date=2026-11-20").rglob("*.parquet"))  # nor a temporary
    assert (dst / "mirror/call_date=2026-11-20" / TEMP_FOLDER).is_dir()


def test_truncated_copy_is_detected(stores, monkeypatch) -> None:
    src_fs, dst_fs, src, dst = stores
    real_copy = dist._copy

    def truncating_copy(s_fs, s, d_fs, d):
        digest = real_copy(s_fs, s, d_fs, d)
        path = dst / d
        path.write_bytes(path.read_bytes()[:-1])
        return digest

    monkeypatch.setattr(dist, "_copy", truncating_copy)
    with pytest.raises(ChecksumMismatchError):
        distribute_partition(src_fs, "curated/call_date=2026-11-20", dst_fs, "mirror/x")


def test_missing_partition_copies_nothing(stores) -> None:
    """copy_partition decides what an empty source means (it empties the copy)."""
    src_fs, dst_fs, _, _ = stores
    result = distribute_partition(src_fs, "curated/call_date=1999-01-01", dst_fs, "mirror/x")
    assert (result.files, result.rows, result.checksums) == (0, 0, {})
