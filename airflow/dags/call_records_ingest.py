"""call_records_ingest (hourly): raw JSON-lines call exports on S3 -> masked,
date-partitioned Parquet in the curated zone; malformed records -> quarantine.

find_exports -> ingest_export (one mapped task per new export) -> reconcile -> start_crawler

- Data contract and masking: airflow/dags/callcenter/CONTRACT.md.
- Reconciliation: records in == curated + quarantined per batch, per export and
  per run, or the task fails and nothing of that export is published.
- Only paths and counts travel through XCom; the masking key is read from Vault
  inside the task that uses it.
- Emits the curated asset (with the touched partitions) that schedules distribute_curated.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from callcenter.layout import AWS_CONN_ID, CURATED_ASSET
from callcenter.runtime import DAG_ARGS, TAGS

CURATED = Asset(CURATED_ASSET)


@dag(
    dag_id="call_records_ingest",
    schedule="@hourly",
    **DAG_ARGS,
    tags=[*TAGS, "ingest"],
    params={"reprocess": Param(False, type="boolean", description="ingest every export again, not only new ones")},
    doc_md=__doc__,
)
def call_records_ingest() -> None:
    @task
    def find_exports(params: dict | None = None) -> list[str]:
        from callcenter import runtime, tasks

        paths = tasks.pending_exports(runtime.filesystem(AWS_CONN_ID), runtime.layout(),
                                      reprocess=bool((params or {}).get("reprocess")))
        print(f"{len(paths)} export(s) to ingest")
        return paths

    # Each export is validated, masked and published on its own; at most two at a
    # time, because each one holds a batch of records in memory.
    @task(max_active_tis_per_dagrun=2)
    def ingest_export(path: str) -> dict:
        from callcenter import runtime, tasks

        summary = tasks.ingest_export(runtime.filesystem(AWS_CONN_ID), runtime.layout(), path,
                                      runtime.masking_key())
        print(f"in={summary['records_in']} curated={summary['curated']} quarantined={summary['quarantined']} "
              f"reasons={summary['reasons']}")
        return summary

    @task(outlets=[CURATED])
    def reconcile(summaries: list[dict], outlet_events=None) -> dict:
        from callcenter import runtime, tasks

        totals = tasks.reconcile_totals(runtime.collected(summaries))
        if outlet_events is not None:
            outlet_events[CURATED].extra = {"partitions": totals["partitions"]}
        print(f"reconciled: in={totals['records_in']} = curated {totals['curated']} "
              f"+ quarantined {totals['quarantined']}")
        return totals

    @task
    def start_crawler(totals: dict) -> str:
        if not totals["curated"]:
            return "nothing curated"
        from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
        from callcenter import runtime

        client = GlueCrawlerHook(aws_conn_id=AWS_CONN_ID).glue_client
        try:
            client.start_crawler(Name=runtime.layout().glue_crawler)
        except client.exceptions.CrawlerRunningException:
            return "already running"  # it will pick up the new partitions too
        return "started"

    start_crawler(reconcile(ingest_export.expand(path=find_exports())))


call_records_ingest()
