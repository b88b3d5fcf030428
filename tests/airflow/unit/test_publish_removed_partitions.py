"""A re-export that no longer has rows for a day names that day too (review D8):
the summary and the asset event's partitions are written + emptied, so
distribute re-syncs the emptied partition; removed_partitions reports it."""

from __future__ import annotations

import pyarrow.fs as pafs
from callcenter import tasks
from callcenter.layout import Layout
from helpers import good_record, line, run


def export(days: list[str]) -> str:
    return "\n".join(line(good_record(call_id=f"c{i}", call_start_time=f"{d}T23:30:00Z"))
                     for i, d in enumerate(days)) + "\n"


def test_result_names_partitions_the_source_left(tmp_path, key) -> None:
    first = run(export(["2026-11-20", "2026-11-21"]).splitlines(), tmp_path, key)
    assert first.partitions == ["call_date=2026-11-20", "call_date=2026-11-21"] and first.removed_partitions == []
    # a timezone fix moves the 20th's call to the 22nd
    second = run(export(["2026-11-22", "2026-11-21"]).splitlines(), tmp_path, key)
    assert second.removed_partitions == ["call_date=2026-11-20"]
    assert second.partitions == ["call_date=2026-11-20", "call_date=2026-11-21", "call_date=2026-11-22"]
    assert not list((tmp_path / "curated" / "call_date=2026-11-20").glob("*.parquet"))


def test_summary_and_run_totals_carry_the_emptied_partition(tmp_path, key) -> None:
    root = str(tmp_path)
    layout = Layout(raw_bucket=f"{root}/raw", curated_bucket=f"{root}/cur", quarantine_bucket=f"{root}/q",
                    gcs_curated_bucket=f"{root}/g", gcs_exports_bucket=f"{root}/ge", azure_container=f"{root}/az",
                    glue_crawler="crawler")
    fs = pafs.LocalFileSystem()
    path = f"{layout.incoming}/day.jsonl"
    fs.create_dir(layout.incoming, recursive=True)
    for days in (["2026-11-20"], ["2026-11-21"]):
        with fs.open_output_stream(path) as out:
            out.write(export(days).encode())
        summary = tasks.ingest_export(fs, layout, path, key)
    assert summary["removed_partitions"] == ["call_date=2026-11-20"]
    assert summary["partitions"] == ["call_date=2026-11-20", "call_date=2026-11-21"]
    assert summary["read_back"] == {"curated": 1, "quarantined": 0}
    # the asset event's extra["partitions"] is the run totals' partitions
    assert tasks.reconcile_totals([summary])["partitions"] == ["call_date=2026-11-20", "call_date=2026-11-21"]
