"""Put airflow/dags on sys.path the way Airflow and MWAA do, so tests import
`callcenter` exactly as the DAG files will."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[3] / "airflow" / "dags"
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))

TEST_KEY = bytes(range(32))  # tests only; the real key comes from Vault


@pytest.fixture
def key() -> bytes:
    return TEST_KEY
