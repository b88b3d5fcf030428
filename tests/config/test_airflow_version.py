"""MWAA runs the Airflow release that the bundled requirements pin, in every environment."""

from __future__ import annotations

import re

from environments.schema import MWAA_AIRFLOW_VERSIONS, load_environments
from tests.conftest import REPO


def pinned_airflow() -> str:
    text = (REPO / "airflow" / "requirements.txt").read_text()
    match = re.search(r"^apache-airflow==(\S+)$", text, re.M)
    assert match, "airflow/requirements.txt must pin apache-airflow=="
    return match.group(1)


def test_requirements_pin_a_release_mwaa_offers():
    assert pinned_airflow() in MWAA_AIRFLOW_VERSIONS


def test_every_environment_runs_the_pinned_release():
    versions = {env.name: env.orchestration.airflow_version for env in load_environments()}
    assert set(versions.values()) == {pinned_airflow()}, versions
