"""Pipeline telemetry (issue 14): the OpenTelemetry SDK's own readers and a real OTLP/HTTP
exchange, never a mock; the counts must equal what the tasks return."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.fs as pafs
import pytest
from callcenter import tasks, telemetry
from callcenter.layout import Layout

DOMAIN = "call_analytics"  # tasks.ingest_export/copy_partition default
from helpers import good_record, line
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from scripts.demo_telemetry import OtlpSink

DAGS = Path(__file__).resolve().parents[3] / "airflow" / "dags"
OTEL_VARIABLES = (*telemetry.ENDPOINT_VARIABLES, telemetry.TEMPORALITY_VARIABLE)


@pytest.fixture(autouse=True)
def fresh_telemetry(monkeypatch):
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    telemetry.reset()
    yield
    telemetry.reset()


def _layout(root: Path) -> Layout:
    return Layout(raw_bucket=f"{root}/raw", curated_bucket=f"{root}/cur", quarantine_bucket=f"{root}/q",
                  gcs_curated_bucket=f"{root}/g", gcs_exports_bucket=f"{root}/ge", azure_container=f"{root}/az",
                  glue_crawler="crawler")


def _run_pipeline(tmp_path: Path, key: bytes) -> tuple[list[dict], list[dict]]:
    """Two exports (one with bad records) ingested, then every curated partition copied."""
    layout = _layout(tmp_path)
    os.makedirs(layout.incoming)
    exports = {
        "a.jsonl": [good_record(call_id=f"a-{i}") for i in range(5)],
        "b.jsonl": [good_record(call_id="b-1"), good_record(call_id="b-2", duration="long"),
                    good_record(call_id="b-3", call_start_time="2026-11-21T08:00:00+00:00")],
    }
    for name, records in exports.items():
        Path(layout.incoming, name).write_text("\n".join(line(r) for r in records) + "\nnot json\n")
    fs = pafs.LocalFileSystem()
    ingests = [tasks.ingest_export(fs, layout, path, key) for path in tasks.pending_exports(fs, layout)]
    copies = [tasks.copy_partition(fs, layout.curated, p, fs, layout.gcs_curated)
              for p in tasks.curated_partitions(fs, layout)]
    return ingests, copies


def _points(reader: InMemoryMetricReader) -> dict[str, list]:
    data = reader.get_metrics_data()
    out: dict[str, list] = {}
    for resource in data.resource_metrics:
        assert resource.resource.attributes["service.name"] == telemetry.SERVICE_NAME
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                out[metric.name] = list(metric.data.data_points)
    return out


def _total(points: list, **attributes: str) -> int:
    return sum(p.value for p in points if attributes.items() <= dict(p.attributes).items())


def test_metrics_equal_the_task_summaries(tmp_path, key):
    reader = InMemoryMetricReader()
    telemetry.use_reader(reader)
    ingests, copies = _run_pipeline(tmp_path, key)
    assert sum(s["quarantined"] for s in ingests) > 0 and len(copies) == 2  # the run exercised every counter

    points = _points(reader)
    for key_, (name, _unit, _text) in telemetry.COUNTERS.items():
        step = "copy" if key_ == "bytes" else "ingest"
        summaries = copies if step == "copy" else ingests
        assert _total(points[name], step=step, domain=DOMAIN, cloud="local") == sum(s[key_] for s in summaries), name
    durations = {dict(p.attributes)["step"]: p for p in points[telemetry.DURATION[0]]}
    assert durations["ingest"].count == len(ingests) and durations["copy"].count == len(copies)
    assert durations["ingest"].sum == pytest.approx(sum(s["seconds"] for s in ingests), abs=1e-6)
    # Only counts and durations leave the task: no path, partition or id in any attribute.
    for series in points.values():
        for point in series:
            assert set(point.attributes) == {"step", "domain", "cloud"}


def test_cloud_attribute_names_the_store_the_step_wrote_to():
    assert telemetry.cloud_of(pafs.S3FileSystem(anonymous=True, region="us-east-1")) == "aws"
    assert telemetry.cloud_of(pafs.GcsFileSystem(anonymous=True)) == "gcp"
    assert telemetry.cloud_of(pafs.LocalFileSystem()) == "local"


def test_otlp_http_export_reaches_a_real_receiver(tmp_path, key, monkeypatch):
    """The SDK's OTLP/HTTP exporter, configured only by OTEL_EXPORTER_OTLP_ENDPOINT, posts
    delta points to a receiver after each task; totals match the summaries."""
    with OtlpSink() as sink:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", sink.url)
        ingests, copies = _run_pipeline(tmp_path, key)
        assert sink.requests == len(ingests) + len(copies)  # flushed at the end of every step
        assert sink.by("pipeline.records.in", step="ingest") == sum(s["records_in"] for s in ingests)
        assert sink.by("pipeline.records.curated", domain=DOMAIN) == sum(s["curated"] for s in ingests)
        assert sink.by("pipeline.records.quarantined") == sum(s["quarantined"] for s in ingests)
        assert sink.by("pipeline.bytes.copied", step="copy", cloud="local") == sum(s["bytes"] for s in copies)
        assert sink.by("pipeline.task.duration", step="copy")[0] == len(copies)
        assert "pipeline.records.in" in sink.table()
        assert f" {DOMAIN} " in sink.table()  # make demo's table shows which domain moved what


def test_an_unreachable_collector_never_fails_the_task(tmp_path, key, monkeypatch):
    with OtlpSink() as sink:
        dead = sink.url  # a port that was listening and is closed again below
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", dead)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1")
    ingests, copies = _run_pipeline(tmp_path, key)
    assert ingests and copies


def test_without_an_endpoint_nothing_is_imported_or_sent():
    """No endpoint: record() returns before importing opentelemetry, so parsing a DAG and running
    a task cost what they did before."""
    code = (
        "import sys, json\n"
        "from callcenter import tasks, telemetry\n"
        "telemetry.record('ingest', {'records_in': 3}, domain='d', cloud='aws', seconds=0.1)\n"
        "print(json.dumps([telemetry.enabled(), sorted(m for m in sys.modules if m.startswith('opentelemetry'))]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=DAGS, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, []]
