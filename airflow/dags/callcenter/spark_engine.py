"""The call-record kernel on Spark: a thin adapter, not a second implementation.

Each export file is one row of `spark.read.format("binaryFile")`; inside
`mapInArrow` the executor splits it with the same `iter_line_batches` and runs
the same per-batch code as the in-worker path (`ingest._ingest_batch`: decode,
parse, validate, mask, quarantine, reconcile per batch). So line numbers,
reason codes and masked values are the worker's by construction, and a test
compares them row for row. The unit of parallelism is a file (an hourly
export); a backfill of N days is N*24 files spread over the executors. A single
file must stay under Spark's 2 GiB binary row limit.

The masking key never travels in job arguments or XCom: the partition function
calls `key_source()` on the executor. In tests that is a broadcast variable set
on the driver; on EMR Serverless / Dataproc the job reads the key from Vault
with its own identity (callcenter.credentials) inside that callable.

pyspark is imported lazily so the DAG files that import callcenter never need it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from callcenter.contract import CURATED_SCHEMA
from callcenter.customer_360 import METRIC_COLUMNS, SchemaError
from callcenter.ingest import _NO_TIMER, IngestResult, _ingest_batch, reconcile
from callcenter.masking import check_key
from callcenter.reader import DEFAULT_BATCH_BYTES, FieldExtractor, iter_line_batches

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import DataFrame, SparkSession

# Curated columns plus where a row came from; quarantine rows carry their JSON
# record (the exact line the worker writes) and nulls in the curated columns.
SOURCE_COLUMN, QUARANTINE_COLUMN = "source", "quarantine_record"
OUTPUT_SCHEMA = pa.schema(
    [f.with_nullable(True) for f in CURATED_SCHEMA]
    + [pa.field(SOURCE_COLUMN, pa.string()), pa.field(QUARANTINE_COLUMN, pa.string())]
)


class _Collect:
    """Stands in for the Parquet writer and the quarantine stream of ingest()."""

    def __init__(self) -> None:
        self.tables: list[pa.Table] = []
        self.quarantine = io.BytesIO()

    def write(self, table: pa.Table) -> None:
        self.tables.append(table)


def kernel_file(source_id: str, content: bytes, key: bytes,
                batch_bytes: int = DEFAULT_BATCH_BYTES) -> Iterator[pa.RecordBatch]:
    """One whole export -> OUTPUT_SCHEMA batches (curated rows, then quarantine rows).

    Raises ReconciliationError like ingest() when records would be lost.
    """
    check_key(key)
    result, sink = IngestResult(source_id=source_id), _Collect()
    extractor = FieldExtractor(threads=1)
    try:
        for lb in iter_line_batches(io.BytesIO(content), batch_bytes):
            _ingest_batch(lb, result, sink, extractor, sink.quarantine, key, _NO_TIMER)
    finally:
        extractor.close()
    reconcile(result.records_in, result.curated, result.quarantined, source_id)
    for table in sink.tables:
        n = table.num_rows
        table = table.append_column(SOURCE_COLUMN, pa.repeat(pa.scalar(source_id), n))
        table = table.append_column(QUARANTINE_COLUMN, pa.nulls(n, pa.string()))
        yield from table.cast(OUTPUT_SCHEMA).to_batches()
    records = sink.quarantine.getvalue().decode("utf-8").splitlines()
    if records:
        n = len(records)
        cols: dict[str, pa.Array] = {f.name: pa.nulls(n, f.type) for f in OUTPUT_SCHEMA}
        cols[SOURCE_COLUMN] = pa.repeat(pa.scalar(source_id), n).cast(pa.string())
        cols[QUARANTINE_COLUMN] = pa.array(records, pa.string())
        yield pa.RecordBatch.from_pydict(cols, schema=OUTPUT_SCHEMA)


def _spark_schema() -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(OUTPUT_SCHEMA)


def process(spark: SparkSession, files: DataFrame, key_source: Callable[[], bytes],
            batch_bytes: int = DEFAULT_BATCH_BYTES) -> DataFrame:
    """`files`: a binaryFile DataFrame (path, content). Returns OUTPUT_SCHEMA rows;
    split them with curated()/quarantine(). The session must run in UTC so that
    call_start_time round-trips (spark.sql.session.timeZone=UTC)."""
    if spark.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ValueError("spark.sql.session.timeZone must be UTC: curated timestamps are UTC")

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        key = key_source()  # on the executor, once per partition
        for batch in batches:
            paths, contents = batch.column("path").to_pylist(), batch.column("content")
            for i, path in enumerate(paths):
                yield from kernel_file(path, contents[i].as_py(), key, batch_bytes)

    return files.select("path", "content").mapInArrow(run, _spark_schema())


def read_exports(spark: SparkSession, paths: list[str]) -> DataFrame:
    return spark.read.format("binaryFile").load(paths)


def curated(out: DataFrame) -> DataFrame:
    return out.where(out[QUARANTINE_COLUMN].isNull()).select(*CURATED_SCHEMA.names)


def quarantine(out: DataFrame) -> DataFrame:
    """The worker's quarantine JSONL lines, one string per record (`source` included)."""
    return out.where(out[QUARANTINE_COLUMN].isNotNull()).select(SOURCE_COLUMN, QUARANTINE_COLUMN)


def customer_360(calls: DataFrame, call_quality: DataFrame) -> DataFrame:
    """callcenter.customer_360.customer_360 as a Spark job over many days of
    curated calls: same columns, order, types and null rules."""
    from pyspark.sql import functions as F

    if "customer_id" not in call_quality.columns:
        raise SchemaError("call_quality is missing column(s) customer_id")
    clashing = [c for c in call_quality.columns if c in METRIC_COLUMNS]
    if clashing:
        raise SchemaError(f"call_quality column(s) {', '.join(clashing)} clash with call metrics")
    quality = call_quality.withColumn("customer_id", F.col("customer_id").cast("string"))
    if quality.groupBy("customer_id").count().where("count > 1").limit(1).count():
        raise SchemaError("call_quality has more than one row per customer_id")
    if "call_id" in calls.columns:  # a call curated twice counts once, as in call_metrics (review V6)
        calls = calls.dropDuplicates(["call_id"])
    metrics = calls.groupBy(F.col("customer_id").cast("string").alias("customer_id")).agg(
        F.count(F.lit(1)).alias("calls"),
        F.sum(F.col("duration").cast("long")).alias("total_duration_s"),
        F.avg(F.col("duration").cast("long")).alias("avg_duration_s"),
        F.avg(F.col("sentiment").cast("double")).alias("avg_sentiment"),
        F.max("call_start_time").alias("last_call_time"),
    ).withColumn("has_calls", F.lit(True))
    quality = quality.withColumn("has_quality", F.lit(True))
    joined = metrics.join(quality, on="customer_id", how="full_outer")
    left = [c for c in metrics.columns]
    right = [c for c in quality.columns if c != "customer_id"]
    fills = {"has_calls": False, "has_quality": False, "calls": 0, "total_duration_s": 0}
    cols = [F.coalesce(F.col(c), F.lit(fills[c])).alias(c) if c in fills else F.col(c) for c in left + right]
    return joined.select(*cols).orderBy(F.col("customer_id").asc_nulls_last())


def to_arrow(df: DataFrame) -> pa.Table:
    """Collect through Arrow (DataFrame.toArrow arrives only in Spark 4)."""
    batches = df._collect_as_arrow()
    schema = batches[0].schema if batches else None
    return pa.Table.from_batches(batches, schema=schema)


def quarantine_records(df: DataFrame) -> list[dict[str, Any]]:
    return [json.loads(r[QUARANTINE_COLUMN]) for r in quarantine(df).collect()]
