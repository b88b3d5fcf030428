"""The DAGs' steps (callcenter.tasks, .stores, .layout) on a local filesystem: the
cases the stand-in runs do not reach (new export versions, stale copies, broken
totals, bad config). Fast: no stand-ins, no Airflow."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from tests.airflow.e2e import conftest  # noqa: F401 - puts airflow/dags on sys.path


@pytest.fixture
def layout(tmp_path):
    from callcenter.layout import Layout

    names = ("raw", "curated", "quarantine", "gcs-curated", "gcs-exports", "azure")
    roots = {n: tmp_path / n for n in names}
    for root in roots.values():
        root.mkdir()
    return Layout(raw_bucket=str(roots["raw"]), curated_bucket=str(roots["curated"]),
                  quarantine_bucket=str(roots["quarantine"]), gcs_curated_bucket=str(roots["gcs-curated"]),
                  gcs_exports_bucket=str(roots["gcs-exports"]), azure_container=str(roots["azure"]),
                  glue_crawler="crawler")


def _export(layout, name: str, lines: list[dict]) -> Path:
    path = Path(layout.incoming) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_pending_exports_skips_ingested_and_sees_new_versions(layout):
    from callcenter import tasks

    from tests.airflow.unit.helpers import good_record

    fs = pafs.LocalFileSystem()
    first = _export(layout, "a.jsonl", [good_record()])
    _export(layout, "notes.txt", [{}])  # not an export
    assert tasks.pending_exports(fs, layout) == [str(first)]
    summary = tasks.ingest_export(fs, layout, str(first), bytes(range(32)))
    assert (summary["records_in"], summary["curated"], summary["quarantined"]) == (1, 1, 0)
    assert tasks.pending_exports(fs, layout) == []
    assert tasks.pending_exports(fs, layout, reprocess=True) == [str(first)]
    _export(layout, "a.jsonl", [good_record(), good_record(call_id="call-2")])  # a new version
    assert tasks.pending_exports(fs, layout) == [str(first)]


def test_reconcile_totals_fails_when_counts_do_not_add_up():
    from callcenter.ingest import ReconciliationError
    from callcenter.tasks import reconcile_totals

    ok = {"source": "a", "records_in": 3, "curated": 2, "quarantined": 1, "reasons": {"bad_email": 1},
          "partitions": ["call_date=2026-11-20"]}
    totals = reconcile_totals([ok, {**ok, "source": "b", "partitions": ["call_date=2026-11-21"]}])
    assert (totals["exports"], totals["records_in"], totals["reasons"]) == (2, 6, {"bad_email": 2})
    assert totals["partitions"] == ["call_date=2026-11-20", "call_date=2026-11-21"]
    with pytest.raises(ReconciliationError, match="records_in=3 != curated=1"):
        reconcile_totals([{**ok, "curated": 1}])
    with pytest.raises(ReconciliationError, match="no reason"):
        reconcile_totals([{**ok, "reasons": {}}])


def test_copy_partition_overwrites_prunes_and_checks_names(layout):
    from callcenter.tasks import copy_partition

    from tests.airflow.unit.distribute_helpers import parquet_bytes

    fs = pafs.LocalFileSystem()
    src = Path(layout.curated) / "call_date=2026-11-20"
    src.mkdir(parents=True)
    (src / "part-a.parquet").write_bytes(parquet_bytes(10))
    (src / "_staging").mkdir()
    (src / "_staging" / "part-x.parquet").write_bytes(b"half-written")
    dst = Path(layout.gcs_curated) / "call_date=2026-11-20"
    dst.mkdir(parents=True)
    (dst / "part-old.parquet").write_bytes(b"stale")
    (dst / "part-a.parquet").write_bytes(b"old content")
    result = copy_partition(fs, layout.curated, "call_date=2026-11-20", fs, layout.gcs_curated)
    assert result == {"partition": "call_date=2026-11-20", "files": 1, "bytes": len(parquet_bytes(10)),
                      "verified": 1, "rows": 10, "source_rows": 10, "pruned": 1}
    assert sorted(p.name for p in dst.iterdir() if p.is_file()) == ["part-a.parquet"]
    assert (dst / "part-a.parquet").read_bytes() == parquet_bytes(10)
    for bad in ("../call_date=2026-11-20", "2026-11-20", "call_date=2026-11-20/x"):
        with pytest.raises(ValueError, match="not a partition"):
            copy_partition(fs, layout.curated, bad, fs, layout.gcs_curated)


def test_layout_variable_must_name_every_store(layout):
    from callcenter.layout import Layout

    assert Layout.from_json(layout.to_json()) == layout
    data = json.loads(layout.to_json())
    del data["glue_crawler"]
    with pytest.raises(ValueError, match="lacks glue_crawler"):
        Layout.from_json(json.dumps(data))
