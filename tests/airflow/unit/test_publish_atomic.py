"""Publishing never deletes first (review D6), proven by fault injection.

A FileSystem wrapper around a real store (local disk, and S3 on the moto server
through pyarrow's S3FileSystem, where a move is a copy and a delete) raises on
the Nth move or delete of a re-ingest. For every N: after the failure each
partition of the source holds its previous or its new rows (never none while it
had data, never a torn file), and a retry, or the next run's recover step,
yields exactly the new output."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import boto3
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from airflow_probe import moto  # noqa: F401 (a fixture)
from callcenter.ingest import ingest, recover_publishes, source_key
from helpers import good_record, line

SOURCE = "incoming/s.jsonl"
OTHER = "incoming/other.jsonl"
OLD_DAYS, NEW_DAYS = ("2026-11-01", "2026-11-02", "2026-11-03"), ("2026-11-02", "2026-11-03", "2026-11-04")
MUTATING = ("move", "delete_file", "delete_dir", "delete_dir_contents")


class Injected(OSError):
    pass


class FaultyHandler(pafs.FileSystemHandler):
    """Delegates every call to a real filesystem; the `fail_at`-th mutating call raises."""

    def __init__(self, fs: pafs.FileSystem, fail_at: int) -> None:
        self.fs, self.fail_at, self.count = fs, fail_at, 0

    def _tick(self, op: str) -> None:
        if op in MUTATING:
            self.count += 1
            if self.count == self.fail_at:
                raise Injected(f"injected failure at {op} #{self.count}")

    def get_type_name(self): return "faulty+" + self.fs.type_name
    def equals(self, other): return self is other
    def normalize_path(self, path): return self.fs.normalize_path(path)
    def get_file_info(self, paths): return self.fs.get_file_info(paths)
    def get_file_info_selector(self, selector): return self.fs.get_file_info(selector)
    def create_dir(self, path, recursive): self.fs.create_dir(path, recursive=recursive)
    def delete_dir(self, path): self._tick("delete_dir"); self.fs.delete_dir(path)
    def delete_dir_contents(self, path, missing_dir_ok=False):
        self._tick("delete_dir_contents"); self.fs.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)
    def delete_root_dir_contents(self): raise NotImplementedError
    def delete_file(self, path): self._tick("delete_file"); self.fs.delete_file(path)
    def move(self, src, dest): self._tick("move"); self.fs.move(src, dest)
    def copy_file(self, src, dest): self.fs.copy_file(src, dest)
    def open_input_stream(self, path): return self.fs.open_input_stream(path)
    def open_input_file(self, path): return self.fs.open_input_file(path)
    def open_output_stream(self, path, metadata): return self.fs.open_output_stream(path, metadata=metadata)
    def open_append_stream(self, path, metadata): raise NotImplementedError


def export(days: tuple[str, ...], duration: int, bad_lines: int, ids: str = "c") -> bytes:
    recs = [line(good_record(call_id=f"{ids}-{d}-{i}", duration=duration, call_start_time=f"{d}T10:00:0{i}Z"))
            for d in days for i in range(3)]
    recs += ['{"broken'] * bad_lines
    return ("\n".join(recs) + "\n").encode()


OLD, NEW = export(OLD_DAYS, 100, 1), export(NEW_DAYS, 200, 2)


def ingest_into(fs: pafs.FileSystem, root: str, data: bytes, source_id: str, key: bytes):
    return ingest(io.BytesIO(data), source_id=source_id, out_dir=f"{root}/curated",
                  quarantine_dir=f"{root}/quarantine", key=key, out_fs=fs)


def durations(fs: pafs.FileSystem, root: str, day: str, source_id: str) -> list[int] | None:
    path = f"{root}/curated/call_date={day}/part-{source_key(source_id)}.parquet"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_file(path) as f:  # a torn file would fail to open here
        return sorted(pq.read_table(f).column("duration").to_pylist())


def quarantine_lines(fs: pafs.FileSystem, root: str) -> int | None:
    path = f"{root}/quarantine/part-{source_key(SOURCE)}.jsonl"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as s:
        return s.read().count(b"\n")


def state(fs: pafs.FileSystem, root: str) -> dict[str, list[int] | None]:
    return {d: durations(fs, root, d, SOURCE) for d in sorted({*OLD_DAYS, *NEW_DAYS})}


OLD_STATE = {d: ([100] * 3 if d in OLD_DAYS else None) for d in sorted({*OLD_DAYS, *NEW_DAYS})}
NEW_STATE = {d: ([200] * 3 if d in NEW_DAYS else None) for d in sorted({*OLD_DAYS, *NEW_DAYS})}


def staging_left(fs: pafs.FileSystem, root: str) -> list[str]:
    infos = fs.get_file_info(pafs.FileSelector(f"{root}/curated/_staging", recursive=True, allow_not_found=True))
    return [i.path for i in infos if i.type == pafs.FileType.File]


def check_every_fault(fs: pafs.FileSystem, fresh_root: Callable[[int], str], key: bytes,
                      recover: bool) -> int:
    """Returns how many fault points were exercised (the mutating calls of a re-ingest)."""
    n = 0
    while True:
        n += 1
        root = fresh_root(n)
        ingest_into(fs, root, OLD, SOURCE, key)
        ingest_into(fs, root, export(("2026-11-02",), 7, 0, "other"), OTHER, key)  # another source's file
        faulty = pafs.PyFileSystem(FaultyHandler(fs, n))
        try:
            ingest_into(faulty, root, NEW, SOURCE, key)
        except Injected:
            pass
        else:
            assert state(fs, root) == NEW_STATE
            assert n > 4, "the re-ingest made fewer mutating calls than moves + deletes + journal"
            return n - 1
        after = state(fs, root)
        for day in after:  # per partition: the previous or the new rows, whole
            assert after[day] in (OLD_STATE[day], NEW_STATE[day]), (n, day, after)
        assert quarantine_lines(fs, root) in (1, 2)
        assert durations(fs, root, "2026-11-02", OTHER) == [7, 7, 7]
        if recover:
            recover_publishes(fs, f"{root}/curated")
            assert state(fs, root) in (OLD_STATE, NEW_STATE), n  # never a mix once recovered
            ingest_into(fs, root, NEW, SOURCE, key)
        else:
            result = ingest_into(fs, root, NEW, SOURCE, key)  # the retry
            assert result.read_back_curated == 9 and result.read_back_quarantined == 2
        assert state(fs, root) == NEW_STATE, n
        assert quarantine_lines(fs, root) == 2
        assert durations(fs, root, "2026-11-02", OTHER) == [7, 7, 7]
        assert staging_left(fs, root) == [], n


@pytest.mark.parametrize("recover", [False, True], ids=["retry", "recover-then-retry"])
def test_fault_at_every_step_local(tmp_path, key, recover) -> None:
    fs = pafs.LocalFileSystem()
    points = check_every_fault(fs, lambda n: str(tmp_path / f"r{n}"), key, recover)
    # journal rename, 3 moves + quarantine, 1 stale delete, cleanup (2), journal delete
    assert points >= 8


def test_failed_publish_keeps_staging_for_the_journal(tmp_path, key) -> None:
    """After the journal is written, a failure must not remove the staged files
    the journal still needs (the old `finally` did)."""
    fs, root = pafs.LocalFileSystem(), str(tmp_path)
    ingest_into(fs, root, OLD, SOURCE, key)
    with pytest.raises(Injected):
        ingest_into(pafs.PyFileSystem(FaultyHandler(fs, 2)), root, NEW, SOURCE, key)  # 1st data move
    left = staging_left(fs, root)
    journals = [p for p in left if p.endswith(".journal.json")]
    assert len(journals) == 1
    plan = json.loads(open(journals[0], encoding="utf-8").read())
    assert all(fs.get_file_info(src).type == pafs.FileType.File for src, _ in plan["moves"])
    assert recover_publishes(fs, f"{root}/curated") == 1
    assert state(fs, root) == NEW_STATE and staging_left(fs, root) == []


REGION = "eu-west-1"


@pytest.fixture
def s3(moto):
    client = boto3.client("s3", endpoint_url=moto.url, region_name=REGION,
                          aws_access_key_id="moto", aws_secret_access_key="moto")
    client.create_bucket(Bucket="pub-atomic", CreateBucketConfiguration={"LocationConstraint": REGION})
    yield pafs.S3FileSystem(endpoint_override=moto.url, scheme="http", region=REGION,
                            access_key="moto", secret_key="moto")
    for page in client.get_paginator("list_objects_v2").paginate(Bucket="pub-atomic"):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket="pub-atomic", Key=obj["Key"])
    client.delete_bucket(Bucket="pub-atomic")


def test_fault_at_every_step_s3(s3, key) -> None:
    points = check_every_fault(s3, lambda n: f"pub-atomic/r{n}", key, recover=False)
    assert points >= 8
