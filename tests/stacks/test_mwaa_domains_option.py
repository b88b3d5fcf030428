"""Which domains an environment runs reaches Airflow as data (issue 13): MWAA's `callcenter.domains`
option holds the environment's ACTIVE domains with owner and classification; retired domains are
absent (tests/stacks/test_domain_retirement.py), and every option obeys MWAA's key/value rules."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from environments.schema import ENVIRONMENTS_DIR, load_environment
from stacks.mwaa_options import (
    DOMAINS_OPTION,
    MWAA_KEY_MAX,
    MWAA_KEY_PATTERN,
    MWAA_VALUE_MAX,
    MWAA_VALUE_PATTERN,
    domains_option,
)

ENVS = ("dev", "staging", "prod")  # local has no MWAA environment (its orchestration stack holds the bundle only)


def options(stacks, env_name: str) -> dict[str, str]:
    return stacks[f"{env_name}-aws-orchestration"].only("aws_mwaa_environment")["airflow_configuration_options"]


DOMAIN_PY = Path(__file__).resolve().parents[2] / "airflow" / "dags" / "callcenter" / "domain.py"


def _domain_module():
    """airflow/dags/callcenter/domain.py, loaded on its own: stdlib only at import time (pyarrow is lazy)."""
    spec = importlib.util.spec_from_file_location("callcenter_domain_probe", DOMAIN_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def test_the_option_is_the_variable_the_dags_read():
    """MWAA writes `section.key` to the containers as AIRFLOW__SECTION__KEY; domain.configured() reads that."""
    section, key = DOMAINS_OPTION.split(".")
    assert _domain_module().DOMAINS_ENV == f"AIRFLOW__{section.upper()}__{key.upper()}"


@pytest.mark.parametrize("env_name", ENVS)
def test_what_mwaa_passes_is_what_the_dags_configure(stacks, env_name, monkeypatch):
    """Round trip: the synthesized value, read back by domain.configured(), names the active domains."""
    domain = _domain_module()
    monkeypatch.setenv(domain.DOMAINS_ENV, options(stacks, env_name)[DOMAINS_OPTION])
    env = load_environment(ENVIRONMENTS_DIR / f"{env_name}.yaml")
    assert domain.configured() == {
        d.name: {"owner": d.owner, "classification": d.classification} for d in env.active_domains
    }


@pytest.mark.parametrize("env_name", ENVS)
def test_mwaa_gets_the_active_domains_with_owner_and_classification(stacks, env_name):
    env = load_environment(ENVIRONMENTS_DIR / f"{env_name}.yaml")
    value = options(stacks, env_name)[DOMAINS_OPTION]
    assert json.loads(value) == {
        d.name: {"owner": d.owner, "classification": d.classification} for d in env.domains if not d.retired
    }
    assert set(json.loads(value)) >= {"call_analytics", "agent_performance"}
    assert " " not in value  # compact: MWAA shows options in its console, one line


@pytest.mark.parametrize("env_name", ENVS)
def test_every_option_obeys_mwaa_rules(stacks, env_name):
    for key, value in options(stacks, env_name).items():
        assert re.fullmatch(MWAA_KEY_PATTERN, key) and len(key) <= MWAA_KEY_MAX, key
        assert re.fullmatch(MWAA_VALUE_PATTERN, value) and len(value) <= MWAA_VALUE_MAX, key


def test_a_non_ascii_owner_could_not_break_the_value():
    """The schema's slug rule keeps owners ASCII; the JSON escapes anything else all the same."""
    env = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
    odd = env.model_copy(update={"domains": [env.domains[0].model_copy(update={"owner": "équipe"})]})
    value = domains_option(odd)
    assert re.fullmatch(MWAA_VALUE_PATTERN, value) and json.loads(value)[env.domains[0].name]["owner"] == "équipe"
