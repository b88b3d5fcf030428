"""Every DAG imports cleanly and states its owner, tags, retries and schedule;
parse times are reported; ruff's AIR rules pass; DAG files import nothing heavy."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.airflow.integrity.conftest import DAGS, REPO, SHIPPED

DAG_FILES = sorted(DAGS.glob("*.py"))
HEAVY = ("pyarrow", "duckdb", "boto3", "botocore", "google.cloud", "azure.storage", "hvac", "numpy", "pandas")
CONTRACTS = sorted(p.stem for p in (DAGS / "domains").glob("*.yaml"))


def _expected(domains: list[str]) -> set[str]:
    """Per domain its ingest and distribute DAG (<dataset>_...); customer_360 with call_analytics."""
    import yaml

    out = set()
    for name in domains:
        dataset = yaml.safe_load((DAGS / "domains" / f"{name}.yaml").read_text(encoding="utf-8"))["dataset"]
        out |= {f"{dataset}_ingest", f"{dataset}_distribute"}
    return out | ({"customer_360"} if "call_analytics" in domains else set())


def test_the_shipped_dag_ids():
    """The ids the README, the demo and the alerts name (call_records_ingest kept its id)."""
    assert _expected(["call_analytics", "agent_performance"]) == {
        "call_records_ingest", "call_records_distribute", "customer_360", "agent_events_ingest",
        "agent_events_distribute"}


def test_every_dag_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == _expected(sorted(SHIPPED))


def test_unset_option_gives_every_contract(bag_for):
    """A bare local Airflow (no callcenter.domains) shows every contract's DAGs."""
    bag = bag_for(None)
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == _expected(CONTRACTS)


@pytest.mark.parametrize("domain", CONTRACTS)
def test_one_configured_domain_gets_only_its_dags(bag_for, domain):
    bag = bag_for({domain: {"owner": f"{domain}-team", "classification": "internal"}})
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == _expected([domain])
    for dag in bag.dags.values():
        assert domain in dag.tags and "internal" in dag.tags
        assert {t.owner for t in dag.tasks} == {f"{domain}-team"}


def test_a_domain_without_contract_is_skipped_not_an_import_error(bag_for):
    bag = bag_for({"no_such_domain": {"owner": "x", "classification": "pii"}, **SHIPPED})
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == _expected(sorted(SHIPPED))


def test_each_dag_file_defines_a_dag(bag_for):
    files = {Path(dag.fileloc).name for dag in bag_for(None).dags.values()}
    assert files == {p.name for p in DAG_FILES}


def test_owner_tags_and_retries(dagbag):
    for dag in dagbag.dags.values():
        domain = next(d for d in SHIPPED if d in dag.tags)
        owner, classification = SHIPPED[domain]["owner"], SHIPPED[domain]["classification"]
        assert ("pii-masked" if classification == "pii" else classification) in dag.tags, dag.dag_id
        assert dag.catchup is False
        assert dag.max_active_runs == 1
        for task in dag.tasks:
            assert task.owner == owner, task.task_id
            assert task.retries >= 2, task.task_id
            assert task.retry_exponential_backoff >= 2, task.task_id
            assert timedelta(0) < task.retry_delay <= timedelta(minutes=5), task.task_id
            assert task.max_retry_delay is not None and task.max_retry_delay >= task.retry_delay, task.task_id
            assert task.execution_timeout is not None, task.task_id


def _names(domain: str):
    import yaml
    from callcenter.layout import Names

    return Names(domain, yaml.safe_load((DAGS / "domains" / f"{domain}.yaml").read_text(encoding="utf-8"))["dataset"])


@pytest.mark.parametrize("domain", sorted(SHIPPED))
def test_schedules_are_explicit(dagbag, domain):
    names = _names(domain)
    assert dagbag.dags[names.ingest_dag_id].schedule == "@hourly"
    # distribute: a new ingest of ITS domain, or the rest an earlier run carried over (runtime.carry_over)
    objects = [asset.name for asset in dagbag.dags[names.distribute_dag_id].schedule.objects]
    assert objects == [f"{domain}.curated_{names.dataset}", f"{domain}.{names.dataset}_distribute_backlog"]
    # details of customer_360's in test_schedules.py
    from airflow.sdk import AssetOrTimeSchedule

    assert isinstance(dagbag.dags["customer_360"].timetable, AssetOrTimeSchedule)


@pytest.mark.parametrize("domain", sorted(SHIPPED))
def test_ingest_emits_the_asset_its_distribute_waits_for(dagbag, domain):
    names = _names(domain)
    reconcile = dagbag.dags[names.ingest_dag_id].get_task("reconcile")
    assert [o.name for o in reconcile.outlets] == [names.curated_asset]


def test_ingest_reads_only_the_contracts_formats(dagbag):
    """agent_performance ships CSV: its find_exports keeps .csv; call_analytics's JSON lines only."""
    import inspect

    def suffixes(dag_id: str) -> set[str]:
        find = dagbag.dags[dag_id].get_task("find_exports").python_callable
        return set(inspect.getclosurevars(find).nonlocals["suffixes"])

    assert suffixes("agent_events_ingest") == {".csv", ".jsonl", ".json", ".ndjson"}  # formats: [csv, jsonl]
    assert suffixes("call_records_ingest") == {".jsonl", ".json", ".ndjson"}  # formats: [jsonl]


@pytest.mark.parametrize("domain", sorted(SHIPPED))
def test_one_failed_export_does_not_hold_back_the_others(dagbag, domain):
    """reconcile publishes the succeeded exports (all_done); a later task turns the run red."""
    dag = dagbag.dags[_names(domain).ingest_dag_id]
    assert dag.get_task("reconcile").trigger_rule == "all_done"
    check = dag.get_task("all_exports_ingested")
    assert check.trigger_rule == "all_done"
    assert {"reconcile", "ingest_export", "find_exports"} <= check.upstream_task_ids


def test_parse_time_is_reported(capsys):
    """Printed, not asserted: parse time depends on the machine."""
    from airflow.dag_processing.dagbag import DagBag

    lines = []
    for path in DAG_FILES:
        started = time.perf_counter()
        bag = DagBag(dag_folder=str(path))
        elapsed = time.perf_counter() - started
        assert bag.import_errors == {}
        lines.append(f"  {path.name:28s} {elapsed * 1000:7.1f} ms")
    with capsys.disabled():
        print("\nDAG parse times (DagBag per file, airflow.sdk already imported):\n" + "\n".join(lines))


def test_dag_files_import_nothing_heavy_at_top_level():
    """Parsing runs every few seconds on the scheduler; pyarrow & co load only in tasks.

    One allowance: the deferrable EMR Serverless operator's own module (issue 12) is loaded
    before the baseline; it brings boto3 (0.13 s measured with bytecode) and nothing else
    of ours may add more."""
    code = (
        "import sys, json, runpy; import airflow.sdk;"
        "import airflow.providers.amazon.aws.operators.emr; before = set(sys.modules);"
        f"sys.path.insert(0, {str(DAGS)!r});"
        f"[runpy.run_path(p) for p in {[str(p) for p in DAG_FILES]!r}];"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    env = {"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin",
           "AIRFLOW_HOME": str(Path(__import__("os").environ["AIRFLOW_HOME"]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    new = json.loads(result.stdout.strip().splitlines()[-1])
    heavy = [m for m in new if m.split(".")[0] in {h.split(".")[0] for h in HEAVY} and
             any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "callcenter.layout" in new and "callcenter.runtime" in new


def test_ruff_airflow_rules_are_clean():
    ruff = REPO / ".venv-airflow" / "bin" / "ruff"
    result = subprocess.run([str(ruff), "check", "--select", "AIR", "--output-format", "concise", str(DAGS)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dag_id", ["call_records_ingest", "agent_events_ingest"])
def test_ingest_branches_between_worker_and_deferrable_spark(dagbag, dag_id):
    """Issue 12: one branch per run; the Spark wait is deferred (no worker slot); both
    engines feed the same reconcile, which runs whichever branch was skipped."""
    from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator

    dag = dagbag.dags[dag_id]
    assert dag.get_task("choose_engine").downstream_task_ids == {"ingest_export", "spark_plan"}
    spark = dag.get_task("spark_ingest")
    assert isinstance(spark, EmrServerlessStartJobOperator) and spark.deferrable is True
    assert spark.waiter_delay * spark.waiter_max_attempts <= spark.execution_timeout.total_seconds()
    # The job cancels itself when the task gives up (a timed-out deferred task runs no on_kill).
    assert spark.config["executionTimeoutMinutes"] * 60 == spark.execution_timeout.total_seconds()
    assert spark.downstream_task_ids == {"spark_results"}
    reconcile = dag.get_task("reconcile")
    assert {"ingest_export", "spark_results"} <= reconcile.upstream_task_ids
    assert reconcile.trigger_rule == "all_done"
    assert dag.get_task("all_exports_ingested").trigger_rule == "all_done"
    # Both engines quarantine by the domain's classification: the worker task and the Spark plan close over
    # the same rule (call_analytics is pii: drop free text; agent_performance internal: keep it, redacted).
    rules = {task_id: inspect.getclosurevars(dag.get_task(task_id).python_callable).nonlocals["redact_quarantine"]
             for task_id in ("ingest_export", "spark_plan")}
    assert rules == dict.fromkeys(rules, dag_id == "call_records_ingest")


def test_customer_360_branches_a_backfill_to_spark(dagbag):
    from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
    from callcenter.dataproc import DataprocBatchOperator

    dag = dagbag.dags["customer_360"]
    assert dag.get_task("choose_engine").downstream_task_ids == {"build_day", "spark_plan", "dataproc_plan"}
    job = dag.get_task("spark_build")
    assert isinstance(job, EmrServerlessStartJobOperator) and job.deferrable is True
    # Dataproc (the Variable's "engine": "dataproc"): the batch's wait is deferred to the triggerer too.
    batch = dag.get_task("dataproc_batch")
    assert isinstance(batch, DataprocBatchOperator) and batch.execution_timeout.total_seconds() == 6 * 3600
    assert dag.get_task("dataproc_results").upstream_task_ids == {"dataproc_batch", "dataproc_plan"}
    assert dag.get_task("summarize").upstream_task_ids == {"build_day", "spark_results", "dataproc_results"}
    assert dag.get_task("summarize").trigger_rule == "none_failed_min_one_success"


@pytest.mark.parametrize("domain", sorted(SHIPPED))
def test_each_dag_documents_its_domain_and_steps(dagbag, domain):
    names = _names(domain)
    ingest, distribute = dagbag.dags[names.ingest_dag_id].doc_md, dagbag.dags[names.distribute_dag_id].doc_md
    assert f"Domain **{domain}**" in ingest and "find_exports -> choose_engine -> ingest_export" in ingest
    assert f"`domains/{domain}.yaml`" in distribute and "partitions_to_copy -> to_gcs / to_azure" in distribute
    assert "find_exports" not in distribute


def test_a_broken_contract_costs_only_its_own_domains_dags(tmp_path):
    """One team's bad contract must not take the other domains' DAGs down (one file builds them all)."""
    import shutil

    dags = tmp_path / "dags"
    shutil.copytree(DAGS, dags, ignore=shutil.ignore_patterns("__pycache__"))
    (dags / "domains" / "broken_domain.yaml").write_text(
        "domain: broken_domain\ndataset: broken\nformats: [jsonl]\npartition: {field: t, column: d}\n"
        "fields:\n  - {name: t, type: timestamp, required: true}\n  - {name: mail, type: email, pii: true}\n",
        encoding="utf-8")  # pii without a mask: a contract error
    code = ("import json, sys; from airflow.dag_processing.dagbag import DagBag; "
            f"b = DagBag(dag_folder={str(dags)!r}); print(json.dumps([sorted(b.dag_ids), list(b.import_errors)]))")
    env = {"AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(dags),
           "AIRFLOW_HOME": str(Path(__import__("os").environ["AIRFLOW_HOME"]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    dag_ids, errors = json.loads(result.stdout.strip().splitlines()[-1])
    assert errors == [] and set(dag_ids) == _expected(CONTRACTS)
    assert "domain broken_domain: no DAGs: " in result.stdout + result.stderr
    assert "mail" in (result.stdout + result.stderr).split("domain broken_domain: no DAGs: ")[1].splitlines()[0]
