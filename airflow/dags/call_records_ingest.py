"""call_records_ingest (hourly): raw JSON-lines call exports on S3 -> masked,
date-partitioned Parquet in the curated zone; malformed records -> quarantine.

find_exports -> choose_engine -> ingest_export (one mapped task per new export) ---------> reconcile -> start_crawler
                              +-> spark_plan -> spark_ingest (EMR Serverless) -> spark_results -/   (and -> all_exports_ingested)

- Engine per run (issue 12): choose_engine totals the pending exports' bytes; above the
  threshold of the `call_analytics_spark` Variable (and only where it names an EMR
  Serverless application) the batch goes to one Spark job, else each export to a
  mapped worker task. The job runs the same ingest_export per export and writes a
  summary JSON; spark_results reads it back, so reconcile and the asset event are
  the same for both engines. spark_ingest is deferrable: while the job runs, the
  wait sits in the triggerer and holds no worker slot.

- One failed export does not hold back the others: reconcile runs when every
  export is done (trigger rule all_done), totals the succeeded ones and announces
  their partitions; all_exports_ingested then fails the run, so it shows red while
  the good exports are already published and distributed. The failed export has
  no marker and is retried by the next run; after MAX_EXPORT_FAILURES failed
  runs in a row it is moved to the raw zone's dead_letter/ with a reason file
  (exception class only) and no longer retried.
- At most MAX_BATCH exports per run, oldest first; the rest go to the next runs.
- Reconciliation errors fail at once (AirflowFailException): a retry cannot fix them.

- Data contract and masking: airflow/dags/callcenter/CONTRACT.md.
- Reconciliation: records in == curated + quarantined per batch, per export and
  per run, or the task fails and nothing of that export is published.
- Only paths and counts travel through XCom; the masking key is read from Vault
  inside the task that uses it.
- Emits the curated asset (with the touched partitions) that schedules distribute_curated.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, TriggerRule, dag, task
from callcenter.alerts import deadline
from callcenter.layout import AWS_CONN_ID, CURATED_ASSET, HEAVY_POOL
from callcenter.runtime import DAG_ARGS, TAGS

# The deferrable EMR Serverless operator pulls in boto3 at parse time (measured 0.13 s with bytecode).
from callcenter.spark_tasks import spark_branch

CURATED = Asset(CURATED_ASSET)


@dag(
    dag_id="call_records_ingest",
    schedule="@hourly",
    **DAG_ARGS,
    deadline=deadline(120),  # SNS alert if a run is unfinished by then: hourly exports are piling up
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
        return paths  # already oldest first and at most MAX_BATCH

    @task.branch
    def choose_engine(paths: list[str]) -> str:
        from callcenter import runtime
        from callcenter.engine_choice import SparkSettings

        size = sum(i.size or 0 for i in runtime.filesystem(AWS_CONN_ID).get_file_info(paths)) if paths else 0
        engine = SparkSettings.from_variable().engine(size, days=1)
        print(f"{len(paths)} export(s), {size} bytes: {engine}")
        return "spark_plan" if engine == "spark" else "ingest_export"

    # Each export is validated, masked and published on its own; at most two at a
    # time per run, because each one holds a batch of records in memory; across DAGs the
    # memory-heavy pool bounds them per environment class (scripts/airflow_pools.py).
    @task(max_active_tis_per_dagrun=2, pool=HEAVY_POOL)
    def ingest_export(path: str, ti=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException
        from callcenter import runtime, tasks

        fs, layout = runtime.filesystem(AWS_CONN_ID), runtime.layout()
        try:
            with runtime.fail_fast():
                summary = tasks.ingest_export(fs, layout, path, runtime.masking_key())
        except Exception as exc:
            # The run's last attempt (retry only while try_number <= max_tries, Airflow 3.3.1
            # models/taskinstance.py is_eligible_to_retry) or a no-retry error: count it; at
            # MAX_EXPORT_FAILURES runs in a row the export goes to dead_letter/.
            if isinstance(exc, AirflowFailException) or ti is None or ti.try_number > ti.max_tries:
                moved = tasks.record_failure(fs, layout, path, exc.__cause__ or exc)
                if moved:
                    raise AirflowFailException(f"{path} failed {type(exc).__name__} too often; "
                                               f"moved to {moved}") from exc
            raise
        print(f"in={summary['records_in']} curated={summary['curated']} quarantined={summary['quarantined']} "
              f"reasons={summary['reasons']}")
        return summary

    def _succeeded(summaries: list[dict] | None, spark: list[dict] | None) -> list[dict]:
        """The branch not taken was skipped and left no XCom (None or an empty sequence)."""
        from callcenter import runtime

        return (runtime.collected(summaries) if summaries else []) + list(spark or [])

    # all_done: a failed export's map index stored no XCom, so `summaries` holds only
    # the succeeded exports (see runtime.collected); they are published regardless.
    @task(outlets=[CURATED], trigger_rule=TriggerRule.ALL_DONE)
    def reconcile(summaries: list[dict], spark: list[dict] | None = None, outlet_events=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException
        from callcenter import runtime, tasks

        succeeded = _succeeded(summaries, spark)
        if not succeeded:  # skipped: no asset event, so nothing downstream runs for nothing
            raise AirflowSkipException("no export was ingested")
        with runtime.fail_fast():
            totals = tasks.reconcile_totals(succeeded)
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

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def all_exports_ingested(paths: list[str], summaries: list[dict], spark: list[dict] | None = None) -> int:
        from callcenter import tasks

        failed = tasks.failed_exports(paths, _succeeded(summaries, spark))
        if failed:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{len(failed)} of {len(paths)} export(s) failed, retried next run: "
                                       + ", ".join(failed))
        return len(paths)

    paths = find_exports()
    engine = choose_engine(paths)
    summaries = ingest_export.expand(path=paths)
    plan, spark = spark_branch("ingest", paths, "spark_ingest")
    engine >> [summaries, plan]
    totals = reconcile(summaries, spark)
    start_crawler(totals)
    totals >> all_exports_ingested(paths, summaries, spark)


call_records_ingest()
