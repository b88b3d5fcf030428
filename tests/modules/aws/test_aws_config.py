"""The AWS and orchestration knobs of the environment schema: each bad value is one clear line."""

from __future__ import annotations

import copy

import pytest
import yaml

from environments.schema import ENVIRONMENTS_DIR, ConfigError, load_environment


def load_with(tmp_path, edit):
    data = copy.deepcopy(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
    edit(data)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_environment(path)


def problem(tmp_path, edit) -> str:
    with pytest.raises(ConfigError) as error:
        load_with(tmp_path, edit)
    (line,) = str(error.value).splitlines()
    return line.split(": ", 1)[1]


def test_defaults_keep_every_guard_on(tmp_path):
    aws = load_with(tmp_path, lambda d: None).aws
    assert aws.budget.enabled and aws.tls_only_buckets.enabled and aws.bucket_events.enabled
    assert aws.protect_stateful is False
    assert aws.network.availability_zones == ["a", "b"] and aws.network.spoke_routes == []
    assert aws.network.flow_log_retention_days == 365


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda d: d["aws"]["network"].update(spoke_routes=[["data", "nope"]]),
         "spoke_routes name spokes that do not exist: ['nope']"),
        (lambda d: d["aws"]["network"].update(spoke_routes=[["data"]]), "at least 2 items"),
        (lambda d: d["aws"]["network"].update(availability_zones=["a", "a"]), "availability_zones must be distinct"),
        (lambda d: d["aws"]["network"].update(availability_zones=["a"]), "at least 2 items"),
        (lambda d: d["aws"]["network"].update(availability_zones=["a", "1"]), "must be one AZ letter"),
        (lambda d: d["aws"]["network"].update(flow_log_retention_days=30), "365"),
        (lambda d: d["aws"].update(budget={"enabled": False}), "a disabled feature must give its reason"),
        (lambda d: d["orchestration"].update(startup_script="nope.sh"), "no such file under airflow/"),
        (lambda d: d["orchestration"].update(schedulers=1), "greater than or equal to 2"),
    ],
)
def test_bad_aws_values_are_one_line_each(tmp_path, edit, expected):
    assert expected in problem(tmp_path, edit)
