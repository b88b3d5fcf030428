from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from callcenter.customer_360 import SchemaError, customer_360

TS = pa.timestamp("us", tz="UTC")


def calls_table(rows: list[tuple[str, int, float, datetime]]) -> pa.Table:
    return pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "duration": pa.array([r[1] for r in rows], pa.int32()),
            "sentiment": [r[2] for r in rows],
            "call_start_time": pa.array([r[3] for r in rows], TS),
        }
    )


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, tzinfo=UTC)


@pytest.fixture
def result() -> dict[str, dict]:
    calls = calls_table([("a", 10, 0.5, at(1)), ("a", 20, -0.5, at(3)), ("b", 30, 0.1, at(2))])
    quality = pa.table({"customer_id": ["b", "c"], "quality_score": [0.9, 0.4]})
    out = customer_360(calls, quality)
    assert out.column("customer_id").to_pylist() == ["a", "b", "c"]
    return {row["customer_id"]: row for row in out.to_pylist()}


def test_customer_with_calls_only_is_kept(result) -> None:
    a = result["a"]
    assert (a["calls"], a["total_duration_s"], a["avg_duration_s"], a["avg_sentiment"]) == (2, 30, 15.0, 0.0)
    assert a["last_call_time"] == at(3)
    assert (a["has_calls"], a["has_quality"], a["quality_score"]) == (True, False, None)


def test_customer_on_both_sides_is_joined(result) -> None:
    b = result["b"]
    assert (b["calls"], b["quality_score"], b["has_calls"], b["has_quality"]) == (1, 0.9, True, True)


def test_customer_with_quality_only_is_kept_with_zero_calls(result) -> None:
    c = result["c"]
    assert (c["calls"], c["total_duration_s"], c["has_calls"], c["has_quality"]) == (0, 0, False, True)
    assert c["avg_sentiment"] is None and c["last_call_time"] is None
    assert c["quality_score"] == 0.4


def test_no_calls_at_all() -> None:
    out = customer_360(calls_table([]), pa.table({"customer_id": ["x"], "quality_score": [1.0]}))
    assert out.to_pylist()[0]["calls"] == 0


def test_duplicate_quality_rows_are_rejected() -> None:
    with pytest.raises(SchemaError, match="more than one row"):
        customer_360(calls_table([("a", 1, 0.0, at(1))]),
                     pa.table({"customer_id": ["a", "a"], "quality_score": [1.0, 0.5]}))


def test_missing_join_column_is_rejected() -> None:
    with pytest.raises(SchemaError, match="customer_id"):
        customer_360(calls_table([("a", 1, 0.0, at(1))]), pa.table({"id": ["a"]}))
