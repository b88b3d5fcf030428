"""Every configured domain's pipelines, generated from its contract (domains/<domain>.yaml)
and the environment (MWAA option callcenter.domains, callcenter.domain.configured()):
a domain gets DAGs here only where it is configured AND has a contract file.

<dataset>_ingest (hourly): raw exports (the contract's formats: JSON lines, CSV) on S3 ->
masked, date-partitioned Parquet in the curated zone; malformed records -> quarantine.

find_exports -> choose_engine -> ingest_export (one mapped task per new export) ---------> reconcile -> start_crawler
                              +-> spark_plan -> spark_ingest (EMR Serverless) -> spark_results -/   (and -> all_exports_ingested)

- Engine per run (issue 12): choose_engine totals the pending exports' bytes; above the
  threshold of the `<domain>_spark` Variable (and only where it names an EMR Serverless
  application) the batch goes to one Spark job, else each export to a mapped worker task.
  spark_ingest is deferrable: while the job runs, the wait sits in the triggerer.
- One failed export does not hold back the others: reconcile runs when every export is done
  (all_done), totals the succeeded ones and announces their partitions; all_exports_ingested
  then fails the run. The failed export is retried by the next run; after MAX_EXPORT_FAILURES
  failed runs in a row it moves to the raw zone's dead_letter/ with a reason file.
- At most MAX_BATCH exports per run, oldest first. Reconciliation errors fail at once.
- Masking per the contract (airflow/dags/callcenter/CONTRACT.md); the quarantine keeps pii fields
  only masked and no contact in any field, and a `pii` domain's keeps no free text. Only paths and
  counts travel through XCom; the masking key
  is read from the domain's Vault subtree inside the task that uses it.
- Emits the domain's curated asset (with the touched partitions) that schedules distribute.

<dataset>_distribute (on each curated update): copy curated partitions from S3 to the
domain's GCS bucket and Azure container.

partitions_to_copy -> to_gcs / to_azure (one mapped task per partition and cloud) -> verify

- Which partitions: the `partitions` param, else those named by the triggering curated-asset
  events; every partition only with `full_resync: true`. At most MAX_BATCH per run; carry_over
  announces the rest on the DAG's backlog asset, which schedules the next run for them.
- Every file is written to a temporary name, SHA-256-checked by reading it back, then committed;
  a re-run overwrites the partition and prunes files the source no longer has.
- verify compares each copy's row count (Parquet footers) with the source's; a mismatch fails.

Parse cost: one YAML read per contract (cached) and no pyarrow: the contract's Arrow schema is
built lazily, inside tasks.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import Asset, Param, TriggerRule, dag, task
from callcenter import domain as domains
from callcenter.alerts import deadline
from callcenter.layout import HEAVY_POOL, Names
from callcenter.runtime import REST_KEY, carry_over_task, dag_args, tags

# The deferrable EMR Serverless operator pulls in boto3 at parse time (measured 0.13 s with bytecode).
from callcenter.spark_tasks import spark_branch

log = logging.getLogger(__name__)

#: Each DAG's doc: its part of the module docstring (paragraphs 1-3 ingest, 4-6 distribute).
_PARTS = __doc__.split("\n\n")
INGEST_DOC, DISTRIBUTE_DOC = "\n\n".join(_PARTS[1:4]), "\n\n".join(_PARTS[4:7])


def ingest_dag(contract: Any, owner: str, classification: str) -> Any:
    """The domain's `<dataset>_ingest` DAG (contract: callcenter.domain.DomainContract)."""
    names = Names(contract.domain, contract.dataset)
    curated = Asset(names.curated_asset)
    # The raw folder may hold other files; exports are the suffixes of the contract's formats.
    suffixes = tuple(s for s, fmt in domains.SUFFIX_FORMATS.items() if fmt in contract.formats)
    redact_quarantine = classification == "pii"

    @dag(
        dag_id=names.ingest_dag_id,
        schedule="@hourly",
        **dag_args(owner),
        deadline=deadline(120),  # SNS alert if a run is unfinished by then: hourly exports are piling up
        tags=tags(names.domain, classification, "ingest"),
        params={"reprocess": Param(False, type="boolean", description="ingest every export again, not only new ones")},
        doc_md=f"Domain **{names.domain}** ({classification}), contract `domains/{names.domain}.yaml`.\n\n{INGEST_DOC}",
    )
    def ingest() -> None:
        @task
        def find_exports(params: dict | None = None) -> list[str]:
            from callcenter import runtime, tasks

            paths = tasks.pending_exports(runtime.filesystem(names.domain, "aws"), runtime.layout(names),
                                          reprocess=bool((params or {}).get("reprocess")), suffixes=suffixes)
            print(f"{len(paths)} export(s) to ingest")
            return paths  # already oldest first and at most MAX_BATCH

        @task.branch
        def choose_engine(paths: list[str]) -> str:
            from callcenter import runtime
            from callcenter.engine_choice import SparkSettings

            fs = runtime.filesystem(names.domain, "aws")
            size = sum(i.size or 0 for i in fs.get_file_info(paths)) if paths else 0
            engine = SparkSettings.from_variable(names.spark_variable).engine(size, days=1)
            print(f"{len(paths)} export(s), {size} bytes: {engine}")
            return "spark_plan" if engine == "spark" else "ingest_export"

        # Each export is validated, masked and published on its own; at most two at a time per
        # run, because each one holds a batch of records in memory; across DAGs and domains the
        # memory-heavy pool bounds them per environment class (scripts/airflow_pools.py).
        @task(max_active_tis_per_dagrun=2, pool=HEAVY_POOL)
        def ingest_export(path: str, ti=None) -> dict:
            from airflow.sdk.exceptions import AirflowFailException
            from callcenter import runtime, tasks

            fs, layout = runtime.filesystem(names.domain, "aws"), runtime.layout(names)
            try:
                with runtime.fail_fast():
                    summary = tasks.ingest_export(fs, layout, path, runtime.masking_key(names.domain),
                                                  contract=domains.load(names.domain),
                                                  redact_quarantine=redact_quarantine)
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
            print(f"in={summary['records_in']} curated={summary['curated']} "
                  f"quarantined={summary['quarantined']} reasons={summary['reasons']}")
            return summary

        def _succeeded(summaries: list[dict] | None, spark: list[dict] | None) -> list[dict]:
            """The branch not taken was skipped and left no XCom (None or an empty sequence)."""
            from callcenter import runtime

            return (runtime.collected(summaries) if summaries else []) + list(spark or [])

        # all_done: a failed export's map index stored no XCom, so `summaries` holds only
        # the succeeded exports (see runtime.collected); they are published regardless.
        @task(outlets=[curated], trigger_rule=TriggerRule.ALL_DONE)
        def reconcile(summaries: list[dict], spark: list[dict] | None = None, outlet_events=None) -> dict:
            from airflow.sdk.exceptions import AirflowSkipException
            from callcenter import runtime, tasks

            succeeded = _succeeded(summaries, spark)
            if not succeeded:  # skipped: no asset event, so nothing downstream runs for nothing
                raise AirflowSkipException("no export was ingested")
            with runtime.fail_fast():
                totals = tasks.reconcile_totals(succeeded)
            if outlet_events is not None:
                outlet_events[curated].extra = {"partitions": totals["partitions"]}
            print(f"reconciled: in={totals['records_in']} = curated {totals['curated']} "
                  f"+ quarantined {totals['quarantined']}")
            return totals

        @task
        def start_crawler(totals: dict) -> str:
            if not totals["curated"]:
                return "nothing curated"
            from airflow.providers.amazon.aws.hooks.glue_crawler import GlueCrawlerHook
            from callcenter import runtime

            client = GlueCrawlerHook(aws_conn_id=names.conn_id("aws")).glue_client
            try:
                client.start_crawler(Name=runtime.layout(names).glue_crawler)
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
        plan, spark = spark_branch("ingest", paths, "spark_ingest", names, redact_quarantine=redact_quarantine)
        engine >> [summaries, plan]
        totals = reconcile(summaries, spark)
        start_crawler(totals)
        totals >> all_exports_ingested(paths, summaries, spark)

    return ingest()


def distribute_dag(contract: Any, owner: str, classification: str) -> Any:
    """The domain's `<dataset>_distribute` DAG, scheduled on its curated asset or its own backlog."""
    names = Names(contract.domain, contract.dataset)
    backlog = Asset(names.distribute_backlog_asset)
    column = contract.partition_column

    @dag(
        dag_id=names.distribute_dag_id,
        schedule=Asset(names.curated_asset) | backlog,  # either: a new ingest, or what an earlier run carried over
        **dag_args(owner),
        deadline=deadline(120),  # SNS alert if a run is unfinished by then: the copies lag curated
        tags=tags(names.domain, classification, "distribute"),
        params={"partitions": Param([], type="array", description=f"{column}=YYYY-MM-DD names; empty: see doc"),
                "full_resync": Param(False, type="boolean", description="copy every curated partition")},
        doc_md=f"Domain **{names.domain}** ({classification}), contract `domains/{names.domain}.yaml`.\n\n{DISTRIBUTE_DOC}",
    )
    def distribute() -> None:
        @task
        def partitions_to_copy(params: dict | None = None, triggering_asset_events=None, ti=None) -> list[str]:
            from callcenter import runtime, tasks

            wanted = runtime.partitions_wanted(
                params, triggering_asset_events,
                lambda: tasks.curated_partitions(runtime.filesystem(names.domain, "aws"), runtime.layout(names),
                                                 column))
            print(f"{len(wanted)} partition(s) to copy")
            return runtime.take_batch(wanted, "partitions", ti)

        @task(max_active_tis_per_dagrun=4, pool=HEAVY_POOL)
        def to_gcs(partition: str) -> dict:
            from callcenter.runtime import copy_partition_to

            return copy_partition_to(names, "gcs", partition)

        @task(max_active_tis_per_dagrun=4, pool=HEAVY_POOL)
        def to_azure(partition: str) -> dict:
            from callcenter.runtime import copy_partition_to

            return copy_partition_to(names, "azure", partition)

        @task
        def verify(gcs: list[dict], azure: list[dict]) -> dict:
            from callcenter.runtime import verify_copies

            return verify_copies(gcs, azure)

        partitions = partitions_to_copy()
        carry_over_task(backlog)(partitions[REST_KEY])
        verify(to_gcs.expand(partition=partitions), to_azure.expand(partition=partitions))

    return distribute()


def build() -> dict[str, Any]:
    """{dag_id: DAG} of every configured domain that has a contract file. A contract that fails to load
    costs only its own domain's DAGs (one logged line naming file, field, value and rule), never the
    other domains' (`make test` refuses such a contract before it ships)."""
    out: dict[str, Any] = {}
    for name, settings in domains.configured().items():
        try:
            contract = domains.load(name)
        except domains.ContractError as error:
            log.error("domain %s: no DAGs: %s", name, error)
            continue
        owner, classification = settings["owner"], settings["classification"]
        for factory in (ingest_dag, distribute_dag):
            built = factory(contract, owner, classification)
            out[built.dag_id] = built
    return out


# Module globals, where the DAG processor looks for DAGs.
globals().update(build())
