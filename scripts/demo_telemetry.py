"""A local OTLP/HTTP metrics receiver for `make demo` and the telemetry tests.

It stands in for the OpenTelemetry Collector of ops/otel/: the pipelines' tasks export
to it exactly as on a cloud (OTEL_EXPORTER_OTLP_ENDPOINT, protobuf over HTTP, POST
/v1/metrics), and it adds up what arrives so the demo can print it next to its summary.
Binds 127.0.0.1 on a free port; decodes with opentelemetry-proto (in the Airflow venv).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

METRICS_PATH = "/v1/metrics"  # the OTLP/HTTP path (OpenTelemetry protocol specification)

#: (metric name, sorted attribute items) -> value: the sum of a counter, or [count, sum] of a histogram.
Totals = dict[tuple[str, tuple[tuple[str, str], ...]], Any]


def _attributes(point: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((kv.key, kv.value.string_value) for kv in point.attributes))


class OtlpSink:
    """Receives OTLP/HTTP metrics and keeps their totals. Delta points add up; a cumulative
    point replaces the previous one of its series (its value already holds the earlier ones)."""

    def __init__(self) -> None:
        self.totals: Totals = defaultdict(int)
        self.requests = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != METRICS_PATH or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_error(404 if self.path != METRICS_PATH else 415)
                    return
                sink.receive(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # quiet: the demo prints its own lines
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def receive(self, body: bytes) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
            ExportMetricsServiceRequest,
        )
        from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

        request = ExportMetricsServiceRequest.FromString(body)
        cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
        with self._lock:
            self.requests += 1
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        kind = metric.WhichOneof("data")
                        data = getattr(metric, kind)
                        for point in data.data_points:
                            key = (metric.name, _attributes(point))
                            replace = data.aggregation_temporality == cumulative
                            if kind == "sum":
                                value = point.as_int if point.HasField("as_int") else point.as_double
                                self.totals[key] = value if replace else self.totals[key] + value
                            elif kind == "histogram":
                                count, total = (0, 0.0) if replace else (self.totals[key] or (0, 0.0))
                                self.totals[key] = (count + point.count, total + point.sum)

    def by(self, metric: str, **attributes: str) -> Any:
        """The total of `metric` over every series whose attributes include `attributes`."""
        values = [v for (name, attrs), v in self.totals.items()
                  if name == metric and attributes.items() <= dict(attrs).items()]
        if values and isinstance(values[0], tuple):
            return (sum(v[0] for v in values), sum(v[1] for v in values))
        return sum(values)

    def table(self) -> str:
        """One line per metric and (domain, step, cloud): what the demo prints next to its summary."""
        rows = []
        for (name, attrs), value in sorted(self.totals.items()):
            a = dict(attrs)
            shown = f"{value[0]} runs, {value[1]:.2f} s" if isinstance(value, tuple) else f"{value:,}"
            rows.append(f"  {name:<30} {a.get('domain', ''):<18} {a.get('step', ''):<7} {a.get('cloud', ''):<6} "
                        f"{shown:>16}")
        header = (f"  {'metric (OTLP, via ' + METRICS_PATH + ')':<30} {'domain':<18} {'step':<7} {'cloud':<6} "
                  f"{'total':>16}")
        return "\n".join([header, *rows]) if rows else "  no metrics received"
