"""Load the DAG folder with a throwaway AIRFLOW_HOME, the way Airflow and MWAA do
(DAG folder on sys.path, .airflowignore honoured, no example DAGs), for a given
`callcenter.domains` option (AIRFLOW__CALLCENTER__DOMAINS, what MWAA passes)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DAGS = REPO / "airflow" / "dags"
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))

# Before anything imports airflow: its settings are read once, at first import.
_HOME = tempfile.mkdtemp(prefix="airflow-integrity-")
os.environ.setdefault("AIRFLOW_HOME", _HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
DOMAINS_ENV = "AIRFLOW__CALLCENTER__DOMAINS"
#: The shipped domains as environments/dev.yaml configures them (owner, classification).
SHIPPED = {"call_analytics": {"owner": "call-analytics-team", "classification": "pii"},
           "agent_performance": {"owner": "workforce-team", "classification": "internal"}}


@contextmanager
def domains_option(value: dict | None) -> Iterator[None]:
    """AIRFLOW__CALLCENTER__DOMAINS set to `value` (None: unset) for the duration."""
    before = os.environ.pop(DOMAINS_ENV, None)
    if value is not None:
        os.environ[DOMAINS_ENV] = json.dumps(value, separators=(",", ":"))
    try:
        yield
    finally:
        os.environ.pop(DOMAINS_ENV, None)
        if before is not None:
            os.environ[DOMAINS_ENV] = before


@pytest.fixture(scope="session")
def bag_for() -> Callable[[dict | None], object]:
    """DagBag of the whole folder as an Airflow with that domains option would parse it (cached)."""
    from airflow.dag_processing.dagbag import DagBag

    cache: dict[str, object] = {}

    def load(value: dict | None) -> object:
        key = json.dumps(value, sort_keys=True)
        if key not in cache:
            with domains_option(value):
                cache[key] = DagBag(dag_folder=str(DAGS))
        return cache[key]

    return load


@pytest.fixture(scope="session")
def dagbag(bag_for):
    """The shipped domains configured as in the environment files."""
    return bag_for(SHIPPED)
