from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.fs as pafs
import pytest
from callcenter import ingest as ingest_mod
from callcenter import synthetic
from callcenter.ingest import ReconciliationError, ingest, reconcile
from callcenter.reader import iter_line_batches
from helpers import curated, good_record, line, quarantined, run


def test_counts_reconcile_and_outputs_match(tmp_path, key) -> None:
    lines = list(synthetic.records(2000, seed=3, malformed_rate=0.05))
    result = run(lines, tmp_path, key, batch_bytes=32 << 10)
    assert result.records_in == 2000
    assert result.records_in == result.curated + result.quarantined
    assert result.quarantined > 0 and result.batches > 1
    assert curated(tmp_path).num_rows == result.curated
    assert len(quarantined(tmp_path)) == result.quarantined
    assert sum(result.reasons.values()) >= result.quarantined


def test_reconcile_raises_on_mismatch() -> None:
    reconcile(10, 7, 3, "ok")
    with pytest.raises(ReconciliationError, match="records_in=10"):
        reconcile(10, 7, 2, "lost one")


def test_reconciliation_failure_publishes_nothing(tmp_path, key, monkeypatch) -> None:
    lines = [line(good_record(call_id=f"c{i}")) for i in range(20)]
    first = run(lines, tmp_path, key)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    assert first.curated == 20

    real_curate = ingest_mod._curate

    def lossy_curate(*args, **kwargs):  # a bug that silently drops a record
        table = real_curate(*args, **kwargs)
        return table.slice(1)

    monkeypatch.setattr(ingest_mod, "_curate", lossy_curate)
    with pytest.raises(ReconciliationError):
        run(lines, tmp_path, key)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.parquet"))
    assert after == before, "a failed run must leave the previous output untouched"
    assert curated(tmp_path).num_rows == 20
    assert not any((tmp_path / "curated" / "_staging").iterdir())


def test_rerun_of_same_source_replaces_not_duplicates(tmp_path, key) -> None:
    lines = [line(good_record(call_id=f"c{i}", call_start_time=f"2026-11-2{i % 3}T10:00:00Z"))
             for i in range(30)]
    run(lines, tmp_path, key)
    run(lines, tmp_path, key)
    assert curated(tmp_path).num_rows == 30
    # A corrected re-delivery with fewer dates must drop the stale partition file.
    run(lines[:1], tmp_path, key)
    assert curated(tmp_path).num_rows == 1


def test_other_sources_in_same_partition_are_kept(tmp_path, key) -> None:
    run([line(good_record(call_id="a"))], tmp_path, key, source_id="file-a")
    run([line(good_record(call_id="b"))], tmp_path, key, source_id="file-b")
    run([line(good_record(call_id="a2"))], tmp_path, key, source_id="file-a")
    assert sorted(curated(tmp_path).column("call_id").to_pylist()) == ["a2", "b"]


def test_curated_schema_has_no_raw_pii_columns(tmp_path, key) -> None:
    run([line(good_record())], tmp_path, key)
    names = set(curated(tmp_path).column_names)
    assert not names & {"customer_name", "customer_phone", "customer_email", "notes"}
    row = curated(tmp_path).to_pylist()[0]
    assert row["customer_phone_last4"] == "4567"
    assert row["duration"] == 125 and row["sentiment"] == 0.25


def test_works_on_a_pyarrow_filesystem(tmp_path, key) -> None:
    # SubTreeFileSystem stands in for S3/GCS: paths are store-relative and every
    # read and write must go through the filesystem object, not the OS.
    store = tmp_path / "store"
    store.mkdir()
    fs = pafs.SubTreeFileSystem(str(store), pafs.LocalFileSystem())
    fs.create_dir("landing")
    with fs.open_output_stream("landing/calls.jsonl") as out:
        out.write(("\n".join(synthetic.records(500, seed=5)) + "\n").encode())
    result = ingest("landing/calls.jsonl", in_fs=fs, out_fs=fs, out_dir="curated",
                    quarantine_dir="quarantine", key=key)
    assert result.source_id == "landing/calls.jsonl"
    assert result.records_in == 500 == result.curated + result.quarantined
    assert any((store / "curated").rglob("*.parquet"))
    assert any((store / "quarantine").glob("*.jsonl"))


def test_stream_source_needs_an_id(tmp_path, key) -> None:
    with pytest.raises(ValueError, match="source_id"):
        ingest(io.BytesIO(b""), out_dir=str(tmp_path), quarantine_dir=str(tmp_path), key=key)


@pytest.mark.parametrize("n_records", [200, 2000, 20000])
def test_line_batches_are_bounded_whatever_the_input_size(n_records: int) -> None:
    batch_bytes = 16 << 10
    buf = io.BytesIO()
    synthetic.write_jsonl(buf, n_records, seed=1)
    buf.seek(0)
    longest_line = max(len(x) for x in buf.getvalue().split(b"\n")) + 1
    sizes, total = [], 0
    for batch in iter_line_batches(buf, batch_bytes=batch_bytes):
        sizes.append(batch.lines.nbytes)
        total += len(batch.lines)
    assert total == n_records
    # One block plus at most one carried-over line, independent of input size.
    assert max(sizes) <= batch_bytes + longest_line + 8 * (batch_bytes // 100 + 2)


def test_ingest_batch_records_do_not_grow_with_input(tmp_path, key) -> None:
    seen: dict[int, int] = {}
    for n in (1000, 10000):
        batches: list[int] = []
        run(list(synthetic.records(n, seed=2)), tmp_path / str(n), key, batch_bytes=32 << 10,
            on_batch=batches.append)
        assert sum(batches) == n
        seen[n] = max(batches)
    assert seen[10000] <= seen[1000] * 1.2


def test_arrow_memory_is_released_between_runs(tmp_path, key) -> None:
    run(list(synthetic.records(3000, seed=4)), tmp_path, key, batch_bytes=32 << 10)
    assert pa.total_allocated_bytes() < 16 << 20


def test_read_buffers_held_by_a_consumer_are_never_reused() -> None:
    # The reader recycles its block buffers, but only once no batch (or array
    # built on one) still references them: batches kept around must keep their text.
    data = ("\n".join(synthetic.records(3000, seed=9)) + "\n").encode()
    kept = list(iter_line_batches(io.BytesIO(data), batch_bytes=16 << 10))
    assert len(kept) > 3
    assert b"".join(b for batch in kept for b in batch.lines.to_pylist()) == data
    # Consumed one at a time (the ingest pattern), every batch is still whole.
    seen = [b"".join(batch.lines.to_pylist()) for batch in iter_line_batches(io.BytesIO(data), batch_bytes=16 << 10)]
    assert b"".join(seen) == data


def test_partition_writer_sorts_tables_that_are_not_grouped_by_date(tmp_path) -> None:
    import datetime as dt

    import pyarrow.parquet as pq
    from callcenter.contract import CURATED_SCHEMA

    days = [dt.date(2026, 11, d) for d in (20, 21, 20, 22, 21)]
    rows = [{"call_id": f"c{i}", "customer_id": "x", "customer_name_hash": None, "customer_phone_last4": "1234",
             "customer_email_hash": "h", "agent_id": "a",
             "call_start_time": dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC), "duration": 1,
             "sentiment": 0.0, "notes_redacted": None, "call_date": d} for i, d in enumerate(days)]
    writer = ingest_mod._PartitionWriter(pafs.LocalFileSystem(), str(tmp_path), "part-x")
    writer.write(pa.Table.from_pylist(rows, schema=CURATED_SCHEMA))
    writer.close()
    got = {name: pq.read_table(path).column("call_id").to_pylist() for name, path in writer.files.items()}
    assert got == {"call_date=2026-11-20": ["c0", "c2"], "call_date=2026-11-21": ["c1", "c4"],
                   "call_date=2026-11-22": ["c3"]}


def test_curated_rows_keep_input_order_within_a_day(tmp_path, key) -> None:
    lines = [line(good_record(call_id=f"c{i}", call_start_time=f"2026-11-2{(i * 7) % 3}T10:00:{i:02d}Z"))
             for i in range(40)]
    lines[5] = "{broken"
    run(lines, tmp_path, key, batch_bytes=2 << 10)
    table = curated(tmp_path).sort_by([("call_date", "ascending")])
    for day in set(table.column("call_date").to_pylist()):
        ids = [r["call_id"] for r in table.to_pylist() if r["call_date"] == day]
        assert ids == sorted(ids, key=lambda c: int(c[1:]))
    assert table.num_rows == 39


def test_quarantine_keeps_each_structured_field_capped_and_email_free(tmp_path, key) -> None:
    recs = [good_record(call_id=f"id-{i}", customer_id=f"cust-{i}", agent_id=f"agent-{i}", duration=f"{i}s",
                        sentiment=f"s{i}", call_start_time=f"t{i}") for i in range(3)]
    recs[1]["agent_id"] = "ops mail bob@example.com now"
    recs[2]["call_id"] = "x" * 100
    run([line(r) for r in recs], tmp_path, key)
    q = {r["line"]: r for r in quarantined(tmp_path)}
    assert [q[1][f] for f in ("call_id", "customer_id", "agent_id", "duration", "sentiment", "call_start_time")] \
        == ["id-0", "cust-0", "agent-0", "0s", "s0", "t0"]
    assert q[2]["agent_id"] == "ops mail [EMAIL] now" and q[2]["customer_id"] == "cust-1"
    assert q[3]["call_id"] == "x" * 64 and q[3]["agent_id"] == "agent-2"


def test_nested_stage_timings_are_not_counted_twice(monkeypatch) -> None:
    clock = iter([0.0, 1.0, 4.0, 6.0])  # outer starts, inner starts, inner ends, outer ends
    monkeypatch.setattr(ingest_mod.time, "perf_counter", lambda: next(clock))
    sink: dict[str, float] = {}
    timer = ingest_mod._Timer(sink)
    with timer.stage("outer"), timer.stage("inner"):
        pass
    assert sink == {"outer": 3.0, "inner": 3.0}


def test_timings_cover_the_masking_parts(tmp_path, key) -> None:
    import time

    timings: dict[str, float] = {}
    start = time.perf_counter()
    run(list(synthetic.records(500, seed=6)), tmp_path, key, timings=timings)
    elapsed = time.perf_counter() - start
    assert {"read", "parse", "validate", "mask", "mask:gather", "mask:pseudonymise", "mask:redact",
            "write"} <= set(timings)
    assert all(v >= 0 for v in timings.values()) and sum(timings.values()) <= elapsed


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_a_leading_byte_order_mark_costs_no_record(tmp_path, key, eol) -> None:
    """Excel/PowerShell exports start with a UTF-8 BOM (RFC 8259 s8.1: ignorable); it must
    not turn the first good record into invalid JSON. A BOM later in the file stays data."""
    recs = [good_record(call_id=f"call-{i}") for i in range(3)]
    data = ("\ufeff" + eol.join(line(r) for r in recs) + eol + "\ufeff" + line(good_record(call_id="call-x"))
            + eol).encode("utf-8")
    result = run(data, tmp_path, key)
    assert (result.records_in, result.curated, result.quarantined) == (4, 3, 1)
    assert sorted(curated(tmp_path).column("call_id").to_pylist()) == ["call-0", "call-1", "call-2"]
    assert [q["line"] for q in quarantined(tmp_path)] == [4]
