"""Customer 360: call metrics per customer joined with the call-quality table.

Full outer join on purpose: a customer with calls but no quality score yet, and
a quality score for a customer with no calls in this window, are both facts the
analysts want to see, not rows to drop.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from callcenter.dedup import first_occurrence

METRIC_COLUMNS = ("calls", "total_duration_s", "avg_duration_s", "avg_sentiment", "last_call_time")

#: The only columns read from the Azure call-quality source (CONTRACT.md): ids and
#: scores. Anything else the source grows (a name, a phone number) is never read.
QUALITY_SCHEMA = pa.schema([
    ("customer_id", pa.string()),
    ("quality_score", pa.float64()),
    ("avg_mos", pa.float64()),
    ("dropped_calls", pa.int32()),
])


class SchemaError(ValueError):
    """An input table lacks a column the join needs."""


def _require(table: pa.Table, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise SchemaError(f"{name} is missing column(s) {', '.join(missing)}")


def call_metrics(calls: pa.Table) -> pa.Table:
    """One row per customer_id from curated call records. With a call_id column
    (the DAG always reads it), a call present more than once (two exports raced,
    or data curated before ingest deduplicated) counts once (review V6)."""
    _require(calls, ("customer_id", "duration", "sentiment", "call_start_time"), "calls")
    if "call_id" in calls.column_names:
        calls = calls.filter(pa.array(first_occurrence(calls.column("call_id"))))
    # Cast to the curated types so an empty or loosely typed input (e.g. an
    # all-null column inferred as `null`) still joins on a string key.
    calls = pa.table(
        {
            "customer_id": calls.column("customer_id").cast(pa.string()),
            "duration": calls.column("duration").cast(pa.int64()),
            "sentiment": calls.column("sentiment").cast(pa.float64()),
            "call_start_time": calls.column("call_start_time").cast(pa.timestamp("us", tz="UTC")),
        }
    )
    grouped = calls.group_by("customer_id").aggregate(
        [
            ("customer_id", "count"),
            ("duration", "sum"),
            ("duration", "mean"),
            ("sentiment", "mean"),
            ("call_start_time", "max"),
        ]
    )
    return pa.table(
        {
            "customer_id": grouped.column("customer_id"),
            "calls": grouped.column("customer_id_count"),
            "total_duration_s": grouped.column("duration_sum"),
            "avg_duration_s": grouped.column("duration_mean"),
            "avg_sentiment": grouped.column("sentiment_mean"),
            "last_call_time": grouped.column("call_start_time_max"),
        }
    )


def customer_360(calls: pa.Table, call_quality: pa.Table) -> pa.Table:
    """Full outer join of per-customer call metrics with `call_quality` (one row
    per customer_id; any other columns are carried through).

    `has_calls` / `has_quality` say which side a row came from, so consumers do
    not have to infer it from nulls. Customers with quality but no calls get
    calls = 0 and total_duration_s = 0, the other metrics stay null (unknown).
    """
    _require(call_quality, ("customer_id",), "call_quality")
    call_quality = call_quality.set_column(
        call_quality.column_names.index("customer_id"), "customer_id",
        call_quality.column("customer_id").cast(pa.string()),
    )
    dupes = call_quality.group_by("customer_id").aggregate([("customer_id", "count")])
    if len(dupes) != len(call_quality):
        raise SchemaError("call_quality has more than one row per customer_id")
    clashing = [c for c in call_quality.column_names if c in METRIC_COLUMNS]
    if clashing:
        raise SchemaError(f"call_quality column(s) {', '.join(clashing)} clash with call metrics")
    metrics = call_metrics(calls)
    metrics = metrics.append_column("has_calls", pa.repeat(pa.scalar(True), len(metrics)))
    quality = call_quality.append_column("has_quality", pa.repeat(pa.scalar(True), len(call_quality)))
    joined = metrics.join(quality, keys="customer_id", join_type="full outer", coalesce_keys=True)
    fixes = {
        "has_calls": pc.fill_null(joined.column("has_calls"), False),
        "has_quality": pc.fill_null(joined.column("has_quality"), False),
        "calls": pc.fill_null(joined.column("calls"), 0),
        "total_duration_s": pc.fill_null(joined.column("total_duration_s"), 0),
    }
    for name, col in fixes.items():
        joined = joined.set_column(joined.column_names.index(name), name, col)
    return joined.sort_by("customer_id")
