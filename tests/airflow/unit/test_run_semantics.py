"""Which days/partitions a run takes, how large a batch may be, and which errors
skip the retries (callcenter.runtime helpers the DAGs use)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from callcenter import runtime
from callcenter.layout import LATENESS_DAYS, MAX_BATCH

TODAY = date(2026, 11, 25)


def events(*partition_lists: list[str] | None) -> dict[str, list[SimpleNamespace]]:
    return {"call_analytics.curated_call_records": [
        SimpleNamespace(extra=None if p is None else {"partitions": p}) for p in partition_lists]}


def test_late_days_are_finished_days_within_the_window():
    got = runtime.late_days(events(["call_date=2026-11-24", "call_date=2026-11-25"],
                                   ["call_date=2026-11-22", "call_date=2026-11-21", "call_date=2026-11-24"], None),
                            TODAY)
    # 11-25 is today (built by tomorrow's scheduled run); 11-21 is older than the window.
    assert LATENESS_DAYS == 3
    assert got == ["2026-11-22", "2026-11-24"]


def test_no_events_or_no_partitions_pick_no_day():
    assert runtime.late_days(None, TODAY) == []
    assert runtime.late_days(events(None, []), TODAY) == []


def test_batch_is_bounded_oldest_first_and_well_below_max_map_length(capsys):
    names = [f"call_date=2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    got = runtime.batch(reversed(names), "partitions")
    assert MAX_BATCH <= 512  # Airflow's max_map_length is 1024
    assert got == sorted(names)[:MAX_BATCH]
    assert "the next runs the rest" in capsys.readouterr().out
    assert runtime.batch(["b", "a", "a"], "x") == ["a", "b"]


def test_collected_keeps_only_the_stored_results():
    assert runtime.collected([{"a": 1}, None, {"b": 2}]) == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize("error", ["reconciliation", "schema"])
def test_deterministic_errors_fail_fast(error):
    from airflow.sdk.exceptions import AirflowFailException
    from callcenter.customer_360 import SchemaError
    from callcenter.ingest import ReconciliationError

    exc = {"reconciliation": ReconciliationError, "schema": SchemaError}[error]("counts differ")
    with pytest.raises(AirflowFailException, match="counts differ"), runtime.fail_fast():
        raise exc


def test_outages_keep_their_retries():
    with pytest.raises(OSError), runtime.fail_fast():
        raise OSError("connection reset")


# --------------------------------------------------------------------------- ingest: failures and backlogs


def _layout(tmp_path):
    from callcenter.layout import Layout

    root = str(tmp_path)
    return Layout(raw_bucket=f"{root}/raw", curated_bucket=f"{root}/cur", quarantine_bucket=f"{root}/q",
                  gcs_curated_bucket=f"{root}/g", gcs_exports_bucket=f"{root}/ge", azure_container=f"{root}/az",
                  glue_crawler="crawler")


def test_pending_exports_are_a_bounded_batch_oldest_first(tmp_path):
    import os

    import pyarrow.fs as pafs
    from callcenter import tasks

    layout = _layout(tmp_path)
    os.makedirs(layout.incoming)
    for i, name in enumerate(["c.jsonl", "a.jsonl", "b.jsonl", "d.jsonl"]):
        path = f"{layout.incoming}/{name}"
        with open(path, "w") as f:
            f.write("{}\n")
        os.utime(path, (1_700_000_000 + i, 1_700_000_000 + i))  # c oldest, d newest
    fs = pafs.LocalFileSystem()
    got = tasks.pending_exports(fs, layout, limit=3)
    assert [p.rsplit("/", 1)[1] for p in got] == ["c.jsonl", "a.jsonl", "b.jsonl"]
    assert len(tasks.pending_exports(fs, layout, reprocess=True, limit=2)) == 2


def test_failed_exports_are_those_without_a_summary():
    from callcenter import tasks

    assert tasks.failed_exports(["s3/b", "s3/a", "s3/c"], [{"source": "s3/b"}]) == ["s3/a", "s3/c"]
    assert tasks.failed_exports(["s3/a"], [{"source": "s3/a"}]) == []


# --------------------------------------------------------------------------- distribute: what to copy


def _everything() -> list[str]:
    raise AssertionError("listed the whole curated zone without full_resync")


def test_an_event_without_partitions_copies_nothing():
    assert runtime.partitions_wanted({}, events(None, []), _everything) == set()
    assert runtime.partitions_wanted(None, None, _everything) == set()


def test_events_and_params_name_the_partitions():
    assert runtime.partitions_wanted({}, events(["call_date=2026-11-02"], ["call_date=2026-11-01"]),
                                     _everything) == {"call_date=2026-11-01", "call_date=2026-11-02"}
    assert runtime.partitions_wanted({"partitions": ["call_date=2026-11-03"]}, events(["call_date=2026-11-01"]),
                                     _everything) == {"call_date=2026-11-03"}


def test_only_an_explicit_full_resync_copies_every_partition():
    everything = ["call_date=2026-11-01", "call_date=2026-11-02"]
    assert runtime.partitions_wanted({"full_resync": True}, None, lambda: everything) == set(everything)


# --------------------------------------------------------------------------- customer_360: call-quality allowlist


def _quality(tmp_path, layout, day: str, **extra_columns) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    part = tmp_path / layout.call_quality.removeprefix(str(tmp_path) + "/") / f"call_date={day}"
    part.mkdir(parents=True)
    pq.write_table(pa.table({"customer_id": ["c1", "c2"], **extra_columns}), str(part / "part-0.parquet"))


def test_customer_360_reads_only_the_allowlisted_quality_columns(tmp_path):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq
    from callcenter import tasks
    from callcenter.customer_360 import QUALITY_SCHEMA

    layout = _layout(tmp_path)
    _quality(tmp_path, layout, "2026-11-24", quality_score=[4.5, 2.0], avg_mos=[4.1, 3.0], dropped_calls=[0, 1],
             customer_name=["Jane Doe", "John Roe"], customer_phone=["+15551234567", "+15557654321"])
    fs = pafs.LocalFileSystem()
    result = tasks.customer_360_day(fs, fs, fs, layout, date(2026, 11, 24))
    table = pq.read_table(result["path"])
    assert "customer_name" not in table.column_names and "customer_phone" not in table.column_names
    assert set(QUALITY_SCHEMA.names) <= set(table.column_names)
    assert result["quality_only"] == 2


def test_a_quality_source_missing_an_allowlisted_column_is_a_schema_error(tmp_path):
    import pyarrow.fs as pafs
    from callcenter import tasks
    from callcenter.customer_360 import SchemaError

    layout = _layout(tmp_path)
    _quality(tmp_path, layout, "2026-11-24", quality_score=[4.5, 2.0])
    fs = pafs.LocalFileSystem()
    with pytest.raises(SchemaError, match="avg_mos, dropped_calls"):
        tasks.customer_360_day(fs, fs, fs, layout, date(2026, 11, 24))


def test_an_export_failing_three_runs_in_a_row_goes_to_dead_letter(tmp_path):
    import json
    import os

    import pyarrow.fs as pafs
    from callcenter import tasks
    from callcenter.layout import MAX_EXPORT_FAILURES

    layout = _layout(tmp_path)
    os.makedirs(f"{layout.incoming}/2026")
    export = f"{layout.incoming}/2026/calls.jsonl"
    with open(export, "w") as f:
        f.write('{"customer_phone": "+15551234567"}\n')
    fs = pafs.LocalFileSystem()
    error = ValueError("record 1: +15551234567 is not a call")
    assert MAX_EXPORT_FAILURES == 3
    assert tasks.record_failure(fs, layout, export, error) is None
    tasks.clear_failures(fs, layout, export)  # a success in between ends the streak
    assert tasks.record_failure(fs, layout, export, error) is None
    assert tasks.record_failure(fs, layout, export, error) is None
    assert os.path.exists(export) and tasks.pending_exports(fs, layout) == [export]
    moved = tasks.record_failure(fs, layout, export, error)
    assert moved == f"{layout.dead_letter}/2026/calls.jsonl" and os.path.exists(moved)
    assert tasks.pending_exports(fs, layout) == []  # no longer retried
    with open(f"{moved}.reason.json") as f:
        reason = f.read()
    assert json.loads(reason) == {"error": "ValueError", "failures": 3}
    assert "5551234567" not in reason
    assert os.listdir(layout.failed) == []
