"""The DAGs' failure alerts find the environment's SNS topic: MWAA passes the topic ARN (a
cross-stack reference to <env>-aws-platform's alerts topic) as a custom Airflow option, which
MWAA writes to the containers as the environment variable callcenter/alerts.py reads."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from stacks.mwaa_options import ALERTS_TOPIC_OPTION

ALERTS_PY = Path(__file__).resolve().parents[3] / "airflow" / "dags" / "callcenter" / "alerts.py"
REMOTE = "${data.terraform_remote_state.cross-stack-reference-input-"


def _topic_env() -> str:
    spec = importlib.util.spec_from_file_location("callcenter_alerts", ALERTS_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # stdlib only at import time
    return module.TOPIC_ENV


def test_the_option_is_the_variable_the_dags_read():
    section, key = ALERTS_TOPIC_OPTION.split(".")
    assert _topic_env() == f"AIRFLOW__{section.upper()}__{key.upper()}"


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_mwaa_passes_the_alerts_topic_to_the_dags(stacks, env_name):
    options = stacks[f"{env_name}-aws-orchestration"].only("aws_mwaa_environment")["airflow_configuration_options"]
    arn = options[ALERTS_TOPIC_OPTION]
    assert arn.startswith(f"{REMOTE}{env_name}-aws-platform.outputs.") and "alerts" in arn
