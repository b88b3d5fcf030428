"""A distribute DAG's verify task (runtime.verify_copies) compares what the copies hold (row counts read back
from their Parquet footers) with the source, per cloud and partition, and fails the run
without retry on a mismatch; `verified == files` alone no longer passes a short copy."""

from __future__ import annotations

import pytest
from airflow.sdk.exceptions import AirflowFailException
from airflow_probe import DAGS


@pytest.fixture(scope="module")
def verify():
    """The task of call_analytics's DAG, which delegates to runtime.verify_copies (every domain's)."""
    from airflow.dag_processing.dagbag import DagBag
    from callcenter.runtime import verify_copies

    bag = DagBag(dag_folder=str(DAGS / "domain_pipelines.py"))
    assert not bag.import_errors, bag.import_errors
    task = bag.dags["call_records_distribute"].get_task("verify").python_callable
    assert "verify_copies" in task.__code__.co_names
    return verify_copies


def _result(cloud: str, partition: str = "call_date=2026-11-20", **overrides) -> dict:
    return {"cloud": cloud, "partition": partition, "files": 2, "bytes": 100, "verified": 2,
            "rows": 12, "source_rows": 12, "pruned": 0, **overrides}


def test_matching_copies_are_summed_per_cloud(verify) -> None:
    summary = verify(gcs=[_result("gcs"), _result("gcs", "call_date=2026-11-21", pruned=1)],
                     azure=[_result("azure")])
    assert summary["gcs"] == {"partitions": 2, "files": 4, "bytes": 200, "verified": 4,
                              "rows": 24, "source_rows": 24, "pruned": 1}
    assert summary["azure"]["rows"] == summary["azure"]["source_rows"] == 12


def test_a_copy_with_fewer_rows_than_the_source_fails_the_run(verify) -> None:
    """Every file 'verified' and yet a row short: the row counts catch it."""
    with pytest.raises(AirflowFailException, match=r"azure call_date=2026-11-20: 11 rows in the copy != 12"):
        verify(gcs=[_result("gcs")], azure=[_result("azure", rows=11)])


def test_a_file_whose_read_back_differs_fails_the_run(verify) -> None:
    with pytest.raises(AirflowFailException, match="1 of 2 files verified"):
        verify(gcs=[_result("gcs", verified=1)], azure=[])
