"""customer_360 (daily): per customer, the day's call metrics from the curated
zone (AWS) full-outer-joined with the day's call-quality table (Azure), written
as one masked Parquet table per day to the domain's GCS exports bucket.

days -> choose_engine -> build_day (one mapped task per day) ----------------> summarize
                      +-> spark_plan -> spark_build (EMR Serverless) -> spark_results -/
                      +-> dataproc_plan -> dataproc_batch (Dataproc) -> dataproc_results -/

- Engine per run (issue 12): more days than the `call_analytics_spark` Variable's
  max_worker_days (default 7; a backfill) go to one deferrable EMR Serverless job whose
  executors run the same customer_360_day per day; fewer stay in mapped worker tasks.
  With `"engine": "dataproc"` in the Variable the job is a deferrable Dataproc Serverless
  batch instead (callcenter/dataproc.py), reading curated calls from their GCS copy.

- When: daily at 00:00 UTC for the day that just finished (a CronTriggerTimetable
  with interval=1 day: data interval [yesterday, today), airflow/timetables/trigger.py),
  OR when the curated asset is updated (AssetOrTimeSchedule): late data for a finished
  day re-builds that day.
- Which days: the `days` param (YYYY-MM-DD list) if given; on an asset-triggered run,
  the finished days (< today UTC) named in the events, at most LATENESS_DAYS old;
  else the data interval's day. At most MAX_BATCH days per run, oldest first;
  carry_over announces the rest on the DAG's backlog asset, which schedules the
  next run for them (none is dropped).
- build_day runs in the memory-heavy pool (HEAVY_POOL) shared with the other DAGs.
- Masked: the join key is the customer id; no name, phone or e-mail is read.
- A re-run rewrites the day's table.
- Exists only where call_analytics is configured (callcenter.domain.configured()); owner and
  classification are that domain's.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    CronTriggerTimetable,
    Param,
    TriggerRule,
    dag,
    task,
)
from callcenter import domain as domains
from callcenter.alerts import deadline
from callcenter.layout import BACKLOG_KEY, CUSTOMER_360_DOMAIN, HEAVY_POOL, Names
from callcenter.runtime import REST_KEY, carry_over_task, dag_args, tags

# The deferrable EMR Serverless operator pulls in boto3 at parse time (measured 0.13 s with bytecode).
from callcenter.spark_tasks import dataproc_branch, spark_branch

#: Fires at 00:00 UTC; interval=1 day makes the run's data interval the day that
#: just ended (CronTriggerTimetable's data interval is [run_after - interval, run_after)),
#: so the scheduled run never builds a day still receiving calls.
DAILY = CronTriggerTimetable("0 0 * * *", timezone="UTC", interval=timedelta(days=1))
SETTINGS = domains.configured().get(CUSTOMER_360_DOMAIN)
NAMES = Names(CUSTOMER_360_DOMAIN, domains.load(CUSTOMER_360_DOMAIN).dataset) if SETTINGS else None
BACKLOG = Asset(f"{CUSTOMER_360_DOMAIN}.customer_360_backlog")


def _build():
    @dag(
        dag_id="customer_360",
        #: A list of assets would mean all of them (AssetAll); `|` is any of them.
        schedule=AssetOrTimeSchedule(timetable=DAILY, assets=Asset(NAMES.curated_asset) | BACKLOG),
        **dag_args(SETTINGS["owner"]),
        deadline=deadline(480),  # SNS alert if a run is unfinished by then: past a Spark backfill's 6 h job
        tags=tags(CUSTOMER_360_DOMAIN, SETTINGS["classification"], "customer_360"),
        params={"days": Param([], type="array", description="YYYY-MM-DD days; empty: the data interval's day")},
        doc_md=__doc__,
    )
    def customer_360() -> None:
        _tasks()

    return customer_360()


def _tasks() -> None:
    @task
    def days(params: dict | None = None, triggering_asset_events=None, data_interval_start=None,
             logical_date=None, ti=None) -> list[str]:
        from datetime import UTC, datetime

        from callcenter.runtime import event_partitions, late_days, take_batch

        wanted = list((params or {}).get("days") or [])
        if not wanted and triggering_asset_events:
            wanted = late_days(triggering_asset_events, datetime.now(UTC).date())
            print(f"late data for {len(wanted)} finished day(s) within the lateness window")
            wanted += event_partitions(triggering_asset_events, BACKLOG_KEY)  # an earlier run's rest
        if not wanted and not triggering_asset_events:
            anchor = data_interval_start or logical_date
            if anchor is None:
                raise ValueError("no days given and the run has no data interval")
            wanted = [anchor.date().isoformat()]
        return take_batch(wanted, "days", ti)

    @task.branch
    def choose_engine(days: list[str]) -> str:
        from callcenter.engine_choice import SparkSettings

        # Reads Azure's call quality and writes GCS: Spark only where its network reaches both. Dataproc
        # where the Variable's "engine" says so (the output is on GCS already), else EMR Serverless.
        engine = SparkSettings.from_variable(NAMES.spark_variable).route(0, days=len(days), other_clouds=True,
                                                                          dataproc_ok=True)
        print(f"{len(days)} day(s): {engine}")
        return {"emr": "spark_plan", "dataproc": "dataproc_plan"}.get(engine, "build_day")

    @task(max_active_tis_per_dagrun=4, pool=HEAVY_POOL)
    def build_day(day: str) -> dict:
        from datetime import date

        from callcenter import runtime, tasks

        with runtime.fail_fast():
            result = tasks.customer_360_day(
                runtime.filesystem(NAMES.domain, "aws"), runtime.filesystem(NAMES.domain, "azure"),
                runtime.filesystem(NAMES.domain, "gcp"), runtime.layout(NAMES), date.fromisoformat(day))
        print(f"{day}: {result['rows']} customers (both {result['both']}, calls only {result['calls_only']}, "
              f"quality only {result['quality_only']})")
        return result

    # Whichever branch ran; a failed day (either branch) still fails the run.
    @task(trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
    def summarize(results: list[dict], spark: list[dict] | None = None, dataproc: list[dict] | None = None) -> dict:
        from callcenter.runtime import collected

        results = (collected(results) if results else []) + list(spark or []) + list(dataproc or [])
        return {"days": len(results), "rows": sum(r["rows"] for r in results),
                "paths": [r["path"] for r in results]}

    picked = days()
    carry_over_task(BACKLOG)(picked[REST_KEY])
    built = build_day.expand(day=picked)
    plan, spark = spark_branch("customer_360", picked, "spark_build", NAMES)
    batch_plan, batch = dataproc_branch("customer_360", picked, NAMES)
    choose_engine(picked) >> [built, plan, batch_plan]
    summarize(built, spark, batch)


if SETTINGS is not None:
    customer_360_dag = _build()
