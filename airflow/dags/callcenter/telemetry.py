"""OpenTelemetry metrics of the pipelines: what each task moved, per domain and cloud.

Off unless an OTLP endpoint is configured through the SDK's own variables
(OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT; on MWAA export
them from the startup script). Off means nothing from opentelemetry is imported, so
a DAG file's parse time and a task's cost do not change. On, each task exports its
counts over OTLP/HTTP when it records them, to a collector (ops/otel/) that forwards
them to CloudWatch, Cloud Monitoring or Azure Monitor.

The SDK and exporter are the ones the MWAA image already ships for Airflow's own
metrics (opentelemetry-sdk / -exporter-otlp-proto-http 1.44.0, image BOM). This module
uses its own MeterProvider, never the global one, so Airflow's metrics are untouched.
Only counts and durations leave the task: no paths, ids or record content.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

METER = "cloud_conductor.pipelines"
SERVICE_NAME = "cloud-conductor-pipelines"
#: The SDK's standard variables; either one switches telemetry on.
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
TEMPORALITY_VARIABLE = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"

#: summary key -> (instrument name, unit, description). Units are UCUM, as the
#: OpenTelemetry semantic conventions ask ("{record}" is an annotation, "By" bytes).
COUNTERS = {
    "records_in": ("pipeline.records.in", "{record}", "Records read from the exports"),
    "curated": ("pipeline.records.curated", "{record}", "Records published to the curated zone"),
    "quarantined": ("pipeline.records.quarantined", "{record}", "Records sent to quarantine"),
    "bytes": ("pipeline.bytes.copied", "By", "Bytes copied to another cloud, verified"),
}
DURATION = ("pipeline.task.duration", "s", "Wall time of one pipeline step")

#: Which cloud a pyarrow filesystem reaches; anything else (the local disk) is "local".
_CLOUD_OF_FILESYSTEM = {"S3FileSystem": "aws", "GcsFileSystem": "gcp", "AzureFileSystem": "azure"}

_state: dict[str, Any] = {}  # "provider" and "instruments" once set up; "off" when no endpoint


def enabled() -> bool:
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def cloud_of(fs: object) -> str:
    return _CLOUD_OF_FILESYSTEM.get(type(fs).__name__, "local")


def use_reader(reader: Any) -> None:
    """Send the metrics to `reader` instead of OTLP: a test's InMemoryMetricReader,
    or a PeriodicExportingMetricReader around the console exporter."""
    _install([reader])


def reset() -> None:
    """Forget the provider (shut down first), so the next record() reads the environment again."""
    provider = _state.get("provider")
    _state.clear()
    if provider is not None:
        provider.shutdown()


def _install(readers: list[Any]) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource

    reset()
    # Resource.create also reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (e.g. deployment.environment).
    provider = MeterProvider(metric_readers=readers, resource=Resource.create({"service.name": SERVICE_NAME}))
    meter = provider.get_meter(METER)
    instruments = {key: meter.create_counter(name, unit=unit, description=text)
                   for key, (name, unit, text) in COUNTERS.items()}
    name, unit, text = DURATION
    instruments["seconds"] = meter.create_histogram(name, unit=unit, description=text)
    _state.update(provider=provider, instruments=instruments)


def _otlp_readers() -> list[Any]:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter,
    )
    from opentelemetry.sdk.metrics import Counter, Histogram
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        PeriodicExportingMetricReader,
    )

    # Delta unless the operator chose otherwise: a task is a short-lived process, so a
    # cumulative series would start afresh in every task and the CloudWatch EMF exporter
    # drops the first point of a cumulative series (it needs two to compute a delta).
    delta = None if os.environ.get(TEMPORALITY_VARIABLE) else {
        Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
    # The exporter reads the endpoint, headers, timeout and TLS settings from OTEL_EXPORTER_OTLP_*.
    # A long interval: record() flushes at the end of each step; the timer only covers a crash.
    return [PeriodicExportingMetricReader(OTLPMetricExporter(preferred_temporality=delta),
                                          export_interval_millis=300_000)]


def record(step: str, summary: Mapping[str, Any], *, domain: str, cloud: str, seconds: float) -> None:
    """Count a finished step: the summary's records_in/curated/quarantined/bytes (those
    present) and its duration, with attributes step, domain and cloud. Exports at once,
    because a task process may end without running exit handlers. Never raises: a
    telemetry outage must not fail a pipeline."""
    if "instruments" not in _state:
        if _state.get("off") or not enabled():
            _state["off"] = True
            return
        _install(_otlp_readers())
    attributes = {"step": step, "domain": domain, "cloud": cloud}
    instruments = _state["instruments"]
    try:
        for key in COUNTERS:
            if key in summary:
                instruments[key].add(int(summary[key]), attributes)
        instruments["seconds"].record(float(seconds), attributes)
        _state["provider"].force_flush(timeout_millis=10_000)
    except Exception as error:  # noqa: BLE001 - see the docstring; one line, no record content
        print(f"telemetry: metrics not exported ({type(error).__name__})")


__all__ = ["COUNTERS", "DURATION", "cloud_of", "enabled", "record", "reset", "use_reader"]
