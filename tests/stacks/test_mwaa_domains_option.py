"""Which domains an environment runs reaches Airflow as data (issue 13): MWAA's `callcenter.domains`
option holds the environment's ACTIVE domains with owner and classification; retired domains are
absent (tests/stacks/test_domain_retirement.py), and every option obeys MWAA's key/value rules."""

from __future__ import annotations

import json
import re

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

ENVS = ("dev", "staging", "prod")


def options(stacks, env_name: str) -> dict[str, str]:
    return stacks[f"{env_name}-aws-orchestration"].only("aws_mwaa_environment")["airflow_configuration_options"]


def test_the_option_is_the_variable_the_design_names():
    """domain.configured() reads AIRFLOW__CALLCENTER__DOMAINS (Airflow's AIRFLOW__<SECTION>__<KEY> mapping)."""
    section, key = DOMAINS_OPTION.split(".")
    assert f"AIRFLOW__{section.upper()}__{key.upper()}" == "AIRFLOW__CALLCENTER__DOMAINS"


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
