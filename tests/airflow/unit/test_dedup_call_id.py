"""duplicate_call_id (review V6): the same call exported twice lands once in
curated, in one file or across files, and customer_360 counts it once."""

from __future__ import annotations

import pyarrow as pa
from callcenter import tasks
from callcenter.contract import Reason
from callcenter.customer_360 import call_metrics
from callcenter.dedup import first_occurrence
from helpers import curated, good_record, line, quarantined, run


def rec(call_id: str, duration: int, day: str = "2026-11-20") -> str:
    return line(good_record(call_id=call_id, duration=duration, call_start_time=f"{day}T10:00:00Z"))


def test_first_occurrence_keeps_the_first_row_of_each_value() -> None:
    assert first_occurrence(pa.array(["b", "a", "b", None, "a", None, "c"])).tolist() == \
        [True, True, False, True, False, False, True]


def test_duplicates_within_one_export_in_a_batch_and_across_batches(tmp_path, key) -> None:
    filler = [rec(f"f{i}", 1) for i in range(300)]
    # c1 twice in the first batch, then again (other date, too) far enough on to be in a later batch
    lines = [rec("c1", 10), rec("c1", 11), rec("c2", 20), *filler, rec("c1", 12, "2026-11-21"), rec("c2", 21)]
    result = run(lines, tmp_path, key, batch_bytes=16 << 10)
    assert result.batches > 1
    assert result.records_in == len(lines) == result.curated + result.quarantined
    assert result.quarantined == 3 and result.reasons == {Reason.DUPLICATE_CALL_ID: 3}
    table = curated(tmp_path)
    rows = {r["call_id"]: r["duration"] for r in table.select(["call_id", "duration"]).to_pylist()}
    assert table.num_rows == len(set(rows)) == 302
    assert rows["c1"] == 10 and rows["c2"] == 20  # the first occurrence is the one curated
    q = quarantined(tmp_path)
    assert sorted(r["line"] for r in q) == [2, 304, 305]
    assert {r["reason"] for r in q} == {"duplicate_call_id"} and {r["call_id"] for r in q} == {"c1", "c2"}


def test_duplicate_across_exports_in_the_same_partition(tmp_path, key) -> None:
    run([rec("c1", 10), rec("c2", 20)], tmp_path, key, source_id="a.jsonl")
    result = run([rec("c1", 99), rec("c3", 30), rec("c2", 5, "2026-11-22")], tmp_path, key, source_id="b.jsonl")
    # c1 is in a.jsonl's file of the same day; c2 on another day is another partition's business
    assert result.reasons == {Reason.DUPLICATE_CALL_ID: 1} and result.curated == 2
    assert result.records_in == result.curated + result.quarantined
    rows = sorted((r["call_id"], r["duration"]) for r in curated(tmp_path).select(["call_id", "duration"]).to_pylist())
    assert rows == [("c1", 10), ("c2", 5), ("c2", 20), ("c3", 30)]


def test_re_export_of_the_same_source_replaces_its_own_rows(tmp_path, key) -> None:
    lines = [rec("c1", 10), rec("c2", 20)]
    run(lines, tmp_path, key, source_id="a.jsonl")
    again = run([rec("c1", 11), rec("c2", 20)], tmp_path, key, source_id="a.jsonl")
    assert again.quarantined == 0 and again.curated == 2
    assert sorted(curated(tmp_path).column("duration").to_pylist()) == [11, 20]


def test_unique_input_is_untouched(tmp_path, key) -> None:
    lines = [rec(f"c{i}", i) for i in range(50)]
    result = run(lines, tmp_path, key)
    assert result.quarantined == 0 and curated(tmp_path).num_rows == 50


def test_customer_360_counts_each_call_once() -> None:
    at = pa.scalar(1_700_000_000_000_000, pa.timestamp("us", tz="UTC"))
    calls = pa.table({"call_id": ["x", "x", "y"], "customer_id": ["k", "k", "k"], "duration": [10, 10, 30],
                      "sentiment": [0.5, 0.5, -0.5], "call_start_time": pa.array([at] * 3)})
    metrics = call_metrics(calls).to_pylist()
    assert len(metrics) == 1
    assert metrics[0]["calls"] == 2 and metrics[0]["total_duration_s"] == 40 and metrics[0]["avg_sentiment"] == 0.0
    assert "call_id" in tasks.CALL_COLUMNS  # the DAG reads the column the dedup needs
