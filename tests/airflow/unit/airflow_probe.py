"""Run a small DAG file through real Airflow (dag.test on a throwaway SQLite home) and
read back what the metadata DB holds: the pattern test_mapped_failures.py uses, as
one helper for the pool, alert and backlog tests. Also the moto server fixture they
share (import `moto` into a test module to use it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.aws_local import MotoServer

DAGS = Path(__file__).resolve().parents[3] / "airflow" / "dags"
AIRFLOW = Path(sys.executable).parent / "airflow"


def airflow_home(tmp_path: Path, dags_folder: Path, **extra_env: str) -> dict[str, str]:
    """A migrated Airflow home under tmp_path whose DAG folder is `dags_folder`; returns its environment."""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder), "PYTHONPATH": str(DAGS), **extra_env}
    migrate = airflow(env, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    return env


def airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True, check=False, timeout=300)


def run_script(env: dict[str, str], script: str, *args: str) -> dict:
    """Run `script` in the Airflow venv; it prints one line "RESULT <json>", returned parsed."""
    run = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                         check=False, timeout=600)
    lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, (run.stdout + run.stderr)[-4000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def write_dag(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / "dags"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(source)
    return folder


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    """A moto_server on 127.0.0.1 (a free port), stopped by its PID after the module."""
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()
