"""What call_records_ingest relies on, checked against real Airflow (dag.test on a
throwaway SQLite): a failed map index is simply absent from the list an all_done
downstream receives, that task's asset event is still emitted, and only a failing
leaf task turns the run red (an all_done leaf that succeeds would leave it green)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[3] / "airflow" / "dags"

PROBE_DAG = '''
from datetime import UTC, datetime

from airflow.sdk import Asset, TriggerRule, dag, task

OUT = Asset("probe.curated")


@dag(dag_id="probe", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), default_args={"retries": 0})
def probe():
    @task
    def find():
        return ["a", "bad", "c"]

    @task
    def ingest(path):
        if path == "bad":
            raise OSError("store down")
        return {"source": path}

    @task(outlets=[OUT], trigger_rule=TriggerRule.ALL_DONE)
    def reconcile(summaries, outlet_events=None):
        from callcenter.runtime import collected

        got = collected(summaries)
        outlet_events[OUT].extra = {"sources": [s["source"] for s in got]}
        return got

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def all_ingested(paths, summaries):
        from airflow.sdk.exceptions import AirflowFailException
        from callcenter import runtime, tasks

        failed = tasks.failed_exports(paths, runtime.collected(summaries))
        if failed:
            raise AirflowFailException(f"failed: {failed}")

    paths = find()
    summaries = ingest.expand(path=paths)
    reconcile(summaries) >> all_ingested(paths, summaries)


probe()
'''

RUN = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.asset import AssetEvent
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

bag = DagBag(dag_folder=sys.argv[1])
run = bag.dags["probe"].test()
with create_session() as s:
    rows = s.query(XComModel).filter_by(dag_id="probe", run_id=run.run_id, task_id="reconcile").all()
    events = [e.extra for e in s.query(AssetEvent).all()]
    print("RESULT " + json.dumps({"state": str(run.state), "reconcile": [XComModel.deserialize_value(r) for r in rows],
                                  "events": events}))
'''


def test_a_failed_map_index_is_absent_and_the_run_is_still_red(tmp_path):
    dag_file = tmp_path / "dags" / "probe.py"
    dag_file.parent.mkdir()
    dag_file.write_text(PROBE_DAG)
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "home"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(dag_file.parent), "PYTHONPATH": str(DAGS)}
    airflow = Path(sys.executable).parent / "airflow"
    migrate = subprocess.run([str(airflow), "db", "migrate"], env=env, capture_output=True, text=True, check=False)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    run = subprocess.run([sys.executable, "-c", RUN, str(dag_file)], env=env, capture_output=True, text=True,
                         check=False)
    lines = [x for x in run.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, (run.stdout + run.stderr)[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    assert result["reconcile"] == [[{"source": "a"}, {"source": "c"}]]
    assert result["events"] == [{"sources": ["a", "c"]}]  # the good exports were announced
    assert result["state"] == "failed"  # ... and the run is red
