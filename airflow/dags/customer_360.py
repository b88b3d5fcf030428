"""customer_360 (daily): per customer, the day's call metrics from the curated
zone (AWS) full-outer-joined with the day's call-quality table (Azure), written
as one masked Parquet table per day to the domain's GCS exports bucket.

days -> build_day (one mapped task per day) -> summarize

- Which days: the `days` param (YYYY-MM-DD list) if given, else the run's data
  interval day.
- Masked: the join key is the customer id; no name, phone or e-mail is read.
- A re-run rewrites the day's table.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from callcenter.layout import AWS_CONN_ID, AZURE_CONN_ID, GCP_CONN_ID
from callcenter.runtime import DAG_ARGS, TAGS


@dag(
    dag_id="customer_360",
    schedule="@daily",
    **DAG_ARGS,
    tags=[*TAGS, "customer_360"],
    params={"days": Param([], type="array", description="YYYY-MM-DD days; empty: the data interval's day")},
    doc_md=__doc__,
)
def customer_360() -> None:
    @task
    def days(params: dict | None = None, data_interval_start=None, logical_date=None) -> list[str]:
        wanted = list((params or {}).get("days") or [])
        if not wanted:
            anchor = data_interval_start or logical_date
            if anchor is None:
                raise ValueError("no days given and the run has no data interval")
            wanted = [anchor.date().isoformat()]
        return sorted(set(wanted))

    @task(max_active_tis_per_dagrun=4)
    def build_day(day: str) -> dict:
        from datetime import date

        from callcenter import runtime, tasks

        result = tasks.customer_360_day(
            runtime.filesystem(AWS_CONN_ID), runtime.filesystem(AZURE_CONN_ID), runtime.filesystem(GCP_CONN_ID),
            runtime.layout(), date.fromisoformat(day))
        print(f"{day}: {result['rows']} customers (both {result['both']}, calls only {result['calls_only']}, "
              f"quality only {result['quality_only']})")
        return result

    @task
    def summarize(results: list[dict]) -> dict:
        from callcenter.runtime import collected

        results = collected(results)
        return {"days": len(results), "rows": sum(r["rows"] for r in results),
                "paths": [r["path"] for r in results]}

    summarize(build_day.expand(day=days()))


customer_360()
