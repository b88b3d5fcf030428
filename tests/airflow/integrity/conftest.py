"""Load the DAG folder once with a throwaway AIRFLOW_HOME, the way Airflow and MWAA do
(DAG folder on sys.path, .airflowignore honoured, no example DAGs)."""

from __future__ import annotations

import os
import sys
import tempfile
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


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))
