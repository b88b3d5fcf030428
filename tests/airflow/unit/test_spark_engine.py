"""Spark path == in-worker path, row for row (issue 12). local[2], small data.

Locally a missing pyspark or Java skips; in CI (CI=true) it fails.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from helpers import curated, good_record, line, quarantined, run

from tests.conftest import require

KEY = bytes(range(32))


@pytest.fixture(scope="session")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the venv
        require(False, f"pyspark is not installed: {error}")
    require(shutil.which("java") is not None, "java is not on PATH (Spark needs Java 17)")
    # Python workers import callcenter as the driver does; on EMR/Dataproc the
    # package ships with the job (--py-files / packed venv) instead.
    dags = str(Path(__file__).resolve().parents[3] / "airflow" / "dags")
    # Workers must be this interpreter (this venv), not whatever `python3` is on PATH.
    # SPARK_WORKER_PYTHON: another interpreter for the workers (make spark-image-env: the images' pins).
    os.environ["PYSPARK_PYTHON"] = os.environ.get("SPARK_WORKER_PYTHON") or sys.executable
    session = (SparkSession.builder.master("local[2]").appName("test-spark-engine")
               .config("spark.executorEnv.PYTHONPATH", dags)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.bindAddress", "127.0.0.1")
               .getOrCreate())
    yield session
    session.stop()
    # py4j's client closes from __del__ at interpreter exit and logs at INFO after pytest has closed the
    # stream, which prints a "--- Logging error ---" trace into an otherwise green run.
    logging.getLogger("py4j").setLevel(logging.WARNING)


def _lines(day: int) -> list[str]:
    good = [line(good_record(call_id=f"c{day}-{i}", customer_id=f"cust-{i % 3}", duration=10 * i + day,
                             sentiment=i / 10, call_start_time=f"2026-11-{day:02d}T0{i}:00:00+00:00",
                             notes=f"call me at 555-123-{4000 + i} or x{i}@example.com"))
            for i in range(6)]
    bad = ["{not json", "[1, 2]", "", line(good_record(call_id=f"bad{day}", duration="long")),
           line(good_record(call_id=f"pii{day}", customer_id="jane@example.com"))]
    return good[:3] + bad + good[3:]


def _write_exports(tmp: Path) -> list[Path]:
    paths = []
    for day in (20, 21):
        p = tmp / "in" / f"export-{day}.jsonl"
        p.parent.mkdir(parents=True, exist_ok=True)
        data = ("\n".join(_lines(day)) + "\n").encode() + b"\xff\xfe broken utf8\n"
        p.write_bytes(data)
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory):
    from callcenter import spark_engine as se

    tmp = tmp_path_factory.mktemp("spark")
    paths = _write_exports(tmp)
    files = se.read_exports(spark, [str(p) for p in paths])
    spark_ids = [r.path for r in files.select("path").collect()]
    bkey = spark.sparkContext.broadcast(KEY)  # tests: broadcast; clouds: Vault on the executor
    out = se.process(spark, files, lambda: bkey.value).cache()
    worker_cur, worker_q = [], []
    for p in paths:
        sid = next(s for s in spark_ids if s.endswith(p.name))
        w = tmp / f"w-{p.stem}"
        run(p.read_bytes(), w, KEY, source_id=sid)
        worker_cur.append(curated(w).select(se.CURATED_SCHEMA.names).cast(se.CURATED_SCHEMA))
        worker_q += quarantined(w)
    return se, out, pa.concat_tables(worker_cur), worker_q


def test_curated_identical_row_for_row(both):
    se, out, worker, _ = both
    got = se.to_arrow(se.curated(out)).cast(se.CURATED_SCHEMA)
    assert got.num_rows == worker.num_rows == 12
    assert got.schema.names == se.CURATED_SCHEMA.names
    assert got.sort_by("call_id").to_pylist() == worker.sort_by("call_id").to_pylist()
    # masked for real: no raw e-mail/phone in the curated output
    assert "example.com" not in str(got.column("notes_redacted").to_pylist())


def test_quarantine_identical_including_malformed(both):
    se, out, _, worker_q = both
    got = se.quarantine_records(out)
    key = lambda r: (r["source"], r["line"])
    assert sorted(got, key=key) == sorted(worker_q, key=key)
    reasons = {r["reason"] for r in got}
    assert {"invalid_json", "not_an_object", "invalid_utf8"} <= reasons
    assert any("pii_in:customer_id" in r for r in reasons), reasons
    assert len(got) == 2 * 5  # per file: {not json, [1,2], bad duration, pii id, bad utf8}; blank is no record


def test_refuses_non_utc_session(spark):
    from callcenter import spark_engine as se

    spark.conf.set("spark.sql.session.timeZone", "Europe/Berlin")
    try:
        with pytest.raises(ValueError, match="UTC"):
            se.process(spark, spark.createDataFrame([], "path string, content binary"), lambda: KEY)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_customer_360_parity(spark, both):
    from callcenter.customer_360 import customer_360

    se, out, worker, _ = both
    quality = pa.table({"customer_id": ["cust-0", "cust-9"], "csat": [4.5, 2.0]})
    expected = customer_360(worker, quality)
    got = se.to_arrow(se.customer_360(se.curated(out), spark.createDataFrame(quality.to_pylist(), "customer_id string, csat double")))
    assert got.schema.names == expected.schema.names
    assert got.num_rows == expected.num_rows == 4
    exp_rows, got_rows = expected.to_pylist(), got.to_pylist()
    for e, g in zip(exp_rows, got_rows, strict=True):
        for col in ("avg_duration_s", "avg_sentiment"):
            assert g[col] == pytest.approx(e[col]) if e[col] is not None else g[col] is None
            e.pop(col), g.pop(col)
        assert g == e
    assert got.column("last_call_time").type == pa.timestamp("us", tz="UTC")
    assert exp_rows[-1]["customer_id"] == "cust-9" and exp_rows[-1]["has_calls"] is False
    assert datetime(2026, 11, 21, tzinfo=UTC) < max(r["last_call_time"] for r in got_rows if r["has_calls"])


def test_customer_360_on_spark_counts_a_call_curated_twice_once(spark, both):
    """Two exports raced past the ingest's duplicate check: the same call_id in two files."""
    from callcenter.customer_360 import customer_360

    se, out, worker, _ = both
    quality = pa.table({"customer_id": ["cust-0"], "csat": [4.5]})
    calls = se.curated(out)
    twice = calls.unionByName(calls.limit(3))
    got = se.to_arrow(se.customer_360(twice, spark.createDataFrame(quality.to_pylist(), "customer_id string, csat double")))
    expected = customer_360(pa.concat_tables([worker, worker.slice(0, 3)]), quality)
    assert got.column("calls").to_pylist() == expected.column("calls").to_pylist()
    assert sum(got.column("calls").to_pylist()) == worker.num_rows


def test_customer_360_refuses_clashing_quality_columns(spark, both):
    from callcenter.customer_360 import SchemaError

    se, out, _, _ = both
    clash = spark.createDataFrame([("cust-0", 3)], "customer_id string, calls int")
    with pytest.raises(SchemaError, match="calls"):
        se.customer_360(se.curated(out), clash)
