"""The memory-heavy pool: which tasks use it, how large it is per MWAA class, and that the
file scripts/airflow_pools.py writes is what real Airflow (`airflow pools import`) creates,
so every pool a DAG task names exists in the metadata DB."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from airflow_probe import DAGS, airflow, airflow_home

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts import airflow_pools

#: Per kind of DAG (every domain's ingest and distribute), the tasks that hold a batch in memory.
HEAVY_TASKS = {"ingest": {"ingest_export"}, "distribute": {"to_gcs", "to_azure"}, "customer_360": {"build_day"}}


def _heavy(dag_id: str) -> set[str]:
    return next((tasks for kind, tasks in HEAVY_TASKS.items() if dag_id.endswith(kind)), set())


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


def test_the_memory_heavy_tasks_and_only_they_share_the_pool(dagbag):
    from callcenter.layout import HEAVY_POOL

    heavy = {(d.dag_id, t) for d in dagbag.dags.values() for t in _heavy(d.dag_id)}
    assert {"call_records_ingest", "call_records_distribute", "customer_360"} <= {d for d, _ in heavy}
    pooled = {(d.dag_id, t.task_id) for d in dagbag.dags.values() for t in d.tasks if t.pool == HEAVY_POOL}
    assert pooled == heavy
    others = {t.pool for d in dagbag.dags.values() for t in d.tasks if (d.dag_id, t.task_id) not in heavy}
    assert others == {"default_pool"}


@pytest.mark.parametrize(("klass", "workers", "slots"), [
    ("mw1.micro", 1, 2),    # 3 GB shared with the scheduler: 1 GB for tasks
    ("mw1.small", 2, 4),    # 2 GB workers: 2 per worker, not the class's 5 default slots
    ("mw1.medium", 3, 18),  # 4 GB: 6 per worker
    ("mw1.large", 1, 14),
    ("mw1.xlarge", 1, 40),  # 24 GB would fit 46: capped at the class's 40 task slots
    ("mw1.2xlarge", 2, 160),
])
def test_slots_follow_the_class_memory_and_worker_count(klass, workers, slots):
    assert airflow_pools.heavy_slots(klass, workers) == slots


def test_every_mwaa_class_the_schema_allows_has_a_size():
    from typing import get_args

    from environments.schema import Orchestration

    assert set(get_args(Orchestration.model_fields["environment_class"].annotation)) == set(airflow_pools.MWAA_CLASSES)


def test_the_generated_pool_exists_in_real_airflow_for_every_task_that_names_it(tmp_path, dagbag):
    from callcenter.layout import HEAVY_POOL

    spec_file = tmp_path / "pools.json"
    assert airflow_pools.main(["--env", "prod", "--out", str(spec_file)]) == 0
    spec = json.loads(spec_file.read_text())
    env = airflow_home(tmp_path, DAGS)
    imported = airflow(env, "pools", "import", str(spec_file))
    assert imported.returncode == 0, imported.stderr[-2000:]
    listed = airflow(env, "pools", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    pools = {p["pool"]: int(p["slots"]) for p in json.loads(listed.stdout)}
    prod = airflow_pools.load_environment(REPO / "environments" / "prod.yaml").orchestration
    assert pools[HEAVY_POOL] == spec[HEAVY_POOL]["slots"] == airflow_pools.heavy_slots(prod.environment_class,
                                                                                         prod.max_workers)
    assert {t.pool for d in dagbag.dags.values() for t in d.tasks} <= set(pools)


def test_mwaa_gets_one_idempotent_bulk_upsert():
    """moto has no MWAA: the request is checked against the Airflow 3 bulk body instead."""
    from airflow.api_fastapi.core_api.datamodels.common import BulkBody
    from airflow.api_fastapi.core_api.datamodels.pools import PoolBody

    calls = []

    class Mwaa:
        def invoke_rest_api(self, **kwargs):
            calls.append(kwargs)
            return {"RestApiStatusCode": 200, "RestApiResponse": {"create": {"success": ["x"]}}}

    env = airflow_pools.load_environment(REPO / "environments" / "dev.yaml")
    airflow_pools.apply_on_mwaa(env, airflow_pools.pool_spec(env), client=Mwaa())
    (call,) = calls
    assert (call["Path"], call["Method"]) == ("/pools", "PATCH")
    body = BulkBody[PoolBody].model_validate(call["Body"])  # what Airflow's bulk_pools route parses
    (action,) = body.actions
    assert action.action.value == "create" and action.action_on_existence.value == "overwrite"


def test_a_bad_environment_is_one_line_and_exit_2(capsys):
    assert airflow_pools.main(["--env", "no-such-env"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no-such-env.yaml" in err
    assert airflow_pools.main(["--env", "local"]) == 2  # no MWAA there: the import file is the way
    assert "mwaa.enabled is false" in capsys.readouterr().err
