"""What a run cannot take (beyond MAX_BATCH) is carried over, never dropped: the picking
task returns the batch and pushes the rest; carry_over announces the rest on the DAG's
own backlog asset, which schedules the DAG again; the next run takes it up.

Against real Airflow: a probe DAG built from the same runtime pieces as distribute_curated
and customer_360 (take_batch, carry_over_task) runs with more items than its limit; the
rest lands as the backlog asset event's extra and queues the DAG's next run
(AssetDagRunQueue); a run with nothing left emits no event (no endless empty runs)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from airflow_probe import airflow_home, run_script, write_dag
from callcenter import runtime
from callcenter.layout import BACKLOG_KEY, Names

DISTRIBUTE_BACKLOG_ASSET = Names("call_analytics", "call_records").distribute_backlog_asset
CUSTOMER_360_BACKLOG_ASSET = "call_analytics.customer_360_backlog"

PROBE_DAG = '''
from airflow.sdk import Asset, dag, task
from callcenter import runtime

BACKLOG = Asset("probe.backlog")


@dag(dag_id="probe_backlog", schedule=BACKLOG, **runtime.DAG_ARGS)
def probe_backlog():
    @task
    def pick(params=None, triggering_asset_events=None, ti=None):
        wanted = set((params or {}).get("items") or []) | runtime.event_partitions(
            triggering_asset_events, runtime.BACKLOG_KEY)
        take, rest = runtime.split_batch(wanted, "items", limit=4)
        ti.xcom_push(key=runtime.REST_KEY, value=rest)
        return take

    @task
    def work(item):
        return item

    picked = pick()
    runtime.carry_over_task(BACKLOG)(picked[runtime.REST_KEY])
    work.expand(item=picked)


probe_backlog()
'''

RUN = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

dag = DagBag(dag_folder=sys.argv[1]).dags["probe_backlog"]
out = []
for items in (["i%02d" % n for n in range(10)], ["only"]):
    run = dag.test(run_conf={"items": items})
    with create_session() as s:
        states = {t.task_id: str(t.state) for t in s.query(TaskInstance).filter_by(run_id=run.run_id)
                  if t.task_id == "carry_over"}
        worked = sorted(t.map_index for t in s.query(TaskInstance).filter_by(run_id=run.run_id, task_id="work"))
        events = [e.extra for e in s.query(AssetEvent).order_by(AssetEvent.id)]
        queued = [(q.target_dag_id, s.get(AssetModel, q.asset_id).name) for q in s.query(AssetDagRunQueue)]
        s.query(AssetDagRunQueue).delete()
    out.append({"state": str(run.state), "carry_over": states["carry_over"], "worked": len(worked),
                "events": events, "queued": queued})
print("RESULT " + json.dumps(out))
'''


def test_the_rest_is_announced_on_the_backlog_asset_and_queues_the_next_run(tmp_path):
    # Unpaused, as a deployed DAG is: Airflow queues asset-triggered runs of unpaused DAGs only.
    env = airflow_home(tmp_path, write_dag(tmp_path, "probe_backlog", PROBE_DAG),
                       AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False")
    first, second = run_script(env, RUN, str(tmp_path / "dags"))
    assert (first["state"], first["carry_over"], first["worked"]) == ("success", "success", 4)
    assert first["events"] == [{BACKLOG_KEY: ["i04", "i05", "i06", "i07", "i08", "i09"]}]  # none dropped
    assert first["queued"] == [["probe_backlog", "probe.backlog"]]  # the next run is on its way
    # Nothing left over: skipped, no new event, nothing queued (and the run is still green).
    assert (second["state"], second["carry_over"], second["worked"]) == ("success", "skipped", 1)
    assert second["events"] == first["events"] and second["queued"] == []


def _events(**extra_by_asset: dict) -> dict:
    return {name: [SimpleNamespace(extra=extra)] for name, extra in extra_by_asset.items()}


def test_distribute_takes_an_earlier_runs_backlog_with_the_new_partitions():
    events = _events(curated={"partitions": ["call_date=2026-11-20"]},
                     backlog={BACKLOG_KEY: ["call_date=2020-01-01", "call_date=2020-01-02"]})
    assert runtime.partitions_wanted({}, events, lambda: pytest.fail("no resync")) == {
        "call_date=2026-11-20", "call_date=2020-01-01", "call_date=2020-01-02"}


def test_split_batch_keeps_every_item():
    items = [f"call_date=2026-01-{d:02d}" for d in range(1, 30)]
    take, rest = runtime.split_batch(reversed(items), "days", limit=10)
    assert take + rest == sorted(items) and len(take) == 10


def test_late_days_are_no_longer_cut_at_the_batch_size():
    from datetime import date, timedelta

    today = date(2026, 11, 25)
    days = [f"call_date={(today - timedelta(days=n)).isoformat()}" for n in range(1, 4)]
    assert runtime.late_days(_events(curated={"partitions": days}), today, lateness_days=3) == sorted(
        d.removeprefix("call_date=") for d in days)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag
    from airflow_probe import DAGS

    return DagBag(dag_folder=str(DAGS))


@pytest.mark.parametrize(("dag_id", "picker", "asset"), [
    ("call_records_distribute", "partitions_to_copy", DISTRIBUTE_BACKLOG_ASSET),
    ("customer_360", "days", CUSTOMER_360_BACKLOG_ASSET),
])
def test_both_dags_carry_their_rest_over_on_an_asset_they_are_scheduled_on(dagbag, dag_id, picker, asset):
    dag = dagbag.dags[dag_id]
    carry = dag.get_task("carry_over")
    assert [o.name for o in carry.outlets] == [asset]
    assert carry.upstream_task_ids == {picker}
    condition = dag.timetable.asset_condition  # an SDK AssetAny, or its serialized form inside AssetOrTime
    assert type(condition).__name__.endswith("AssetAny")  # either asset schedules a run
    scheduled_on = ({a.name for _, a in condition.iter_assets()} if hasattr(condition, "iter_assets")
                    else {a.name for a in condition.objects})
    assert asset in scheduled_on
