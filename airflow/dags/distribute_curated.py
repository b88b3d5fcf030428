"""distribute_curated (on each curated update): copy curated call-record
partitions from S3 to the domain's GCS bucket and Azure container.

partitions_to_copy -> to_gcs / to_azure (one mapped task per partition and cloud) -> verify

- Which partitions: the `partitions` param if given, else those named by the
  triggering curated-asset events; every curated partition only with an explicit
  `full_resync: true`. An event without partitions copies nothing (a full-lake
  resync is never a side effect). At most MAX_BATCH partitions per run, oldest
  first; carry_over announces the rest on the DAG's backlog asset, which schedules
  the next run for them (none is dropped).
- The copies share the memory-heavy pool (HEAVY_POOL) with the other DAGs' big tasks.
- A failed copy fails its own mapped task only; verify fails the run (no retry:
  a verification mismatch is re-copied by a new run, not by re-verifying).
- Every file is written to a temporary `_copying/` name, SHA-256-checked by reading
  it back, and only then committed to its final name; a failed or mismatched copy
  leaves the previous good file in place (callcenter/distribute.py).
- A re-run overwrites the partition and removes files the source no longer has,
  so it never duplicates; a source partition left empty by a re-export empties
  the copies too.
- verify compares each copy's row count, read back from its Parquet footers,
  with the source's, and fails the run on a mismatch.
"""

from __future__ import annotations

from airflow.sdk import Asset, Param, dag, task
from callcenter.alerts import deadline
from callcenter.layout import (
    AWS_CONN_ID,
    CURATED_ASSET,
    DISTRIBUTE_BACKLOG_ASSET,
    HEAVY_POOL,
)
from callcenter.runtime import DAG_ARGS, REST_KEY, TAGS, carry_over_task

CURATED = Asset(CURATED_ASSET)
BACKLOG = Asset(DISTRIBUTE_BACKLOG_ASSET)


@dag(
    dag_id="distribute_curated",
    schedule=CURATED | BACKLOG,  # either: a new ingest, or what an earlier run carried over
    **DAG_ARGS,
    deadline=deadline(120),  # SNS alert if a run is unfinished by then: the copies lag curated
    tags=[*TAGS, "distribute"],
    params={"partitions": Param([], type="array", description="call_date=YYYY-MM-DD names; empty: see doc"),
            "full_resync": Param(False, type="boolean", description="copy every curated partition")},
    doc_md=__doc__,
)
def distribute_curated() -> None:
    @task
    def partitions_to_copy(params: dict | None = None, triggering_asset_events=None, ti=None) -> list[str]:
        from callcenter import runtime, tasks

        wanted = runtime.partitions_wanted(
            params, triggering_asset_events,
            lambda: tasks.curated_partitions(runtime.filesystem(AWS_CONN_ID), runtime.layout()))
        print(f"{len(wanted)} partition(s) to copy")
        return runtime.take_batch(wanted, "partitions", ti)

    @task(max_active_tis_per_dagrun=4, pool=HEAVY_POOL)
    def to_gcs(partition: str) -> dict:
        from callcenter.runtime import copy_partition_to

        return copy_partition_to("gcs", partition)

    @task(max_active_tis_per_dagrun=4, pool=HEAVY_POOL)
    def to_azure(partition: str) -> dict:
        from callcenter.runtime import copy_partition_to

        return copy_partition_to("azure", partition)

    @task
    def verify(gcs: list[dict], azure: list[dict]) -> dict:
        from airflow.sdk.exceptions import AirflowFailException
        from callcenter.runtime import collected

        summary: dict = {}
        for result in [*collected(gcs), *collected(azure)]:
            # rows: read back from the copies' Parquet footers after the commit and the
            # prune; source_rows: from the S3 files' footers. Deterministic, so no retry.
            where = f"{result['cloud']} {result['partition']}"
            if result["rows"] != result["source_rows"]:
                raise AirflowFailException(f"{where}: {result['rows']} rows in the copy != "
                                           f"{result['source_rows']} in the source")
            if result["verified"] != result["files"]:
                raise AirflowFailException(f"{where}: {result['verified']} of {result['files']} files verified")
            cloud = summary.setdefault(result["cloud"], {"partitions": 0, "files": 0, "bytes": 0, "verified": 0,
                                                         "rows": 0, "source_rows": 0, "pruned": 0})
            for k in ("files", "bytes", "verified", "rows", "source_rows", "pruned"):
                cloud[k] += result[k]
            cloud["partitions"] += 1
        print(f"copied and verified: {summary}")
        return summary

    partitions = partitions_to_copy()
    carry_over_task(BACKLOG)(partitions[REST_KEY])
    verify(to_gcs.expand(partition=partitions), to_azure.expand(partition=partitions))


distribute_curated()
