"""Run the call-center DAGs through real Airflow on this machine.

Airflow runs in a child process with its own AIRFLOW_HOME (SQLite, migrated first)
and the Vault secrets backend pointed at the local OpenBao, so the DAGs resolve
connections and variables exactly as on MWAA. Each DAG runs with `dag.test()`:
the real scheduler loop, task runner, retries and XCom, in one process.

    python scripts/demo_airflow.py run PLAN.json RESULT.json   (internal: the child)

PLAN is a list of {"dag_id", "conf"}; RESULT gets, per run, its state, every task
instance's state and try number, and the return values (XCom: counts and paths).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "airflow" / "dags"
AIRFLOW_BIN = REPO / ".venv-airflow" / "bin"


def airflow_env(home: Path, backend_kwargs: dict[str, Any], *, retry_delay_s: float | None = None,
                domains: str | None = None) -> dict[str, str]:
    """`domains`: the callcenter.domains option as MWAA gets it (stacks/mwaa_options.domains_option);
    None leaves it unset (every contract's DAGs)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__SECRETS__BACKEND": "airflow.providers.hashicorp.secrets.vault.VaultBackend",
        "AIRFLOW__SECRETS__BACKEND_KWARGS": json.dumps(backend_kwargs),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(DAGS), str(REPO)]),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.pop("AIRFLOW__CALLCENTER__DOMAINS", None)
    if domains is not None:
        env["AIRFLOW__CALLCENTER__DOMAINS"] = domains
    if retry_delay_s is not None:
        env["CALLCENTER_RETRY_DELAY_SECONDS"] = str(retry_delay_s)
    return env


def migrate(env: dict[str, str], log: Path) -> float:
    """`airflow db migrate` (idempotent: a second demo reuses the database)."""
    started = time.monotonic()
    with log.open("ab") as out:
        result = subprocess.run([str(AIRFLOW_BIN / "airflow"), "db", "migrate"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed; see {log}")
    return time.monotonic() - started


def run_dags(env: dict[str, str], plan: list[dict[str, Any]], workdir: Path, log: Path,
             on_line: Callable[[str], None] | None = None, timeout: float = 1200) -> list[dict[str, Any]]:
    """Run the plan in one child process (Airflow's start-up cost is paid once);
    lines the child prints with a '>>' prefix are passed to on_line (progress)."""
    plan_file, result_file = workdir / "plan.json", workdir / "result.json"
    plan_file.write_text(json.dumps(plan))
    result_file.unlink(missing_ok=True)
    with log.open("ab") as out:
        child = subprocess.Popen([str(AIRFLOW_BIN / "python"), __file__, "run", str(plan_file), str(result_file)],
                                 env=env, stdout=subprocess.PIPE, stderr=out, start_new_session=True)
        try:
            assert child.stdout is not None
            deadline = time.monotonic() + timeout
            for raw in child.stdout:
                out.write(raw)
                line = raw.decode("utf-8", "replace").rstrip()
                if line.startswith(">> ") and on_line is not None:
                    on_line(line[3:])
                if time.monotonic() > deadline:
                    raise TimeoutError(f"DAG runs exceeded {timeout:.0f} s")
            child.wait(timeout=60)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, 9)
                child.wait()
    if not result_file.is_file():
        raise RuntimeError(f"Airflow child exited with {child.returncode} before reporting; see {log}")
    return json.loads(result_file.read_text())


# --------------------------------------------------------------------------- the child


def _run_one(dag_id: str, conf: dict[str, Any]) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    # The whole folder: a domain's DAGs are generated (domain_pipelines.py), not one file per DAG id.
    bag = DagBag(dag_folder=str(DAGS))
    if dag_id not in bag.dags:
        raise RuntimeError(f"{dag_id} did not load: {bag.import_errors}")
    dag = bag.dags[dag_id]
    # Airflow 3.3.1's dag.test() round-trips the DAG through serialization in memory, so `deadline` keeps the
    # alert definitions where DagRun.update_state expects the ids that only SerializedDagModel.write_dag
    # assigns (models/serialized_dag.py _generate_deadline_uuids): a run that succeeds then fails with
    # "'dict' object has no attribute 'hex'". The scheduler reads the DAG from the database, ids included.
    dag.deadline = None
    started = time.monotonic()
    run = dag.test(run_conf=conf or None)
    seconds = time.monotonic() - started
    tasks, returns = [], {}
    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run.run_id).all()
        for ti in sorted(tis, key=lambda t: (t.task_id, t.map_index)):
            tasks.append({"task_id": ti.task_id, "map_index": ti.map_index, "state": str(ti.state),
                          "try_number": ti.try_number})
        for row in session.query(XComModel).filter_by(dag_id=dag_id, run_id=run.run_id, key="return_value").all():
            value = XComModel.deserialize_value(row)
            returns.setdefault(row.task_id, []).append({"map_index": row.map_index, "value": value})
    for values in returns.values():
        values.sort(key=lambda v: v["map_index"])
    return {"dag_id": dag_id, "run_id": run.run_id, "state": str(run.state), "seconds": round(seconds, 1),
            "tasks": tasks, "returns": {k: [v["value"] for v in vs] for k, vs in returns.items()}}


def _child(plan_file: str, result_file: str) -> int:
    plan = json.loads(Path(plan_file).read_text())
    results = []
    for step in plan:
        print(f">> running {step['dag_id']}", flush=True)
        result = _run_one(step["dag_id"], step.get("conf") or {})
        results.append(result)
        print(f">> {step['dag_id']}: {result['state']} in {result['seconds']:.0f} s", flush=True)
        if result["state"] != "success" and step.get("stop_on_failure", True):
            break
    Path(result_file).write_text(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        sys.exit(_child(sys.argv[2], sys.argv[3]))
    print("usage: demo_airflow.py run PLAN.json RESULT.json (internal; use scripts/demo.py)", file=sys.stderr)
    sys.exit(2)
