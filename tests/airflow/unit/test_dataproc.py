"""customer_360's Dataproc Serverless branch (callcenter/dataproc.py) against real Airflow.

Faked only at the Google API and Vault boundaries (no GCP and no Vault GCP engine here): a local
HTTP server answers Dataproc REST v1 batches create/get with the API's shapes (Operation, Batch.state,
409 ALREADY_EXISTS for a taken batch id), and a local Vault answers the domain's token login and its GCP
engine's impersonated-account token. Everything between them (the branch, the plan, the operator, its
deferral to the trigger, the triggerer's poll, the results step) is the code the DAG runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyarrow.fs as pafs
import pytest
from airflow_probe import DAGS, airflow_home, run_script, write_dag
from callcenter import dataproc, spark_job
from callcenter.engine_choice import GcpSpark, SparkSettings, SparkSettingsError
from fake_http import JsonHandler, serving

ROLE = "call-analytics"
DOMAIN_TOKEN = "hvs.domain-token-made-up"
GCP_TOKEN = "ya29.made-up-dataproc"
KEY_HEX = bytes(range(32)).hex()
PARENT = "projects/ccd-dev/locations/europe-west1"
PLUGINS = DAGS.parent / "plugins"
sys.path.insert(0, str(PLUGINS))  # as MWAA does (plugins.zip): the trigger module lives there


class Fakes(JsonHandler):
    """Vault (/v1/gcp/...) and Dataproc (/v1/projects/...) on one local port."""

    batches: dict[str, dict] = {}
    polls: dict[str, int] = {}
    creates: list[dict] = []
    summary_root: Path | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        url = urlparse(self.path)
        if url.path == f"/v1/gcp/impersonated-account/{ROLE}/token":
            if self.headers.get("X-Vault-Token") != DOMAIN_TOKEN:
                return self.send_json(403, {"errors": ["permission denied"]})
            return self.send_json(200, {"data": {"token": GCP_TOKEN, "expires_at_seconds": int(time.time()) + 3600,
                                             "token_ttl": 3599}})
        if self.headers.get("Authorization") != f"Bearer {GCP_TOKEN}":
            return self.send_json(401, {"error": {"status": "UNAUTHENTICATED", "message": "no token"}})
        name = url.path.removeprefix("/v1/")
        if name not in Fakes.batches:
            return self.send_json(404, {"error": {"status": "NOT_FOUND", "message": name}})
        batch = Fakes.batches[name]
        Fakes.polls[name] = Fakes.polls.get(name, 0) + 1
        if Fakes.polls[name] >= 3 and batch["state"] == "PENDING":  # the third look (a trigger poll) sees it end
            batch["state"] = "SUCCEEDED"
            self._write_summary(batch)
        return self.send_json(200, batch)

    def _write_summary(self, batch: dict) -> None:
        """What the job would write: one summary per day (spark_job.write_summary's shape)."""
        args = batch.get("pysparkBatch", {}).get("args", [])
        if "--summary" not in args:
            return
        days = args[args.index("--summary") + 2:]
        summaries = [{"day": d, "path": f"e/customer_360/call_date={d}/customer_360.parquet", "rows": 3} for d in days]
        target = Path(args[args.index("--summary") + 1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"summaries": summaries}))

    def do_POST(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        if self.headers.get("Authorization") != f"Bearer {GCP_TOKEN}":
            return self.send_json(401, {"error": {"status": "UNAUTHENTICATED", "message": "no token"}})
        query = parse_qs(url.query)
        ident = query["batchId"][0]
        name = f"{url.path.removeprefix('/v1/')}/{ident}"
        body = self.json_body()
        Fakes.creates.append({"name": name, "query": query, "body": body})
        if name in Fakes.batches:
            return self.send_json(409, {"error": {"status": "ALREADY_EXISTS", "message": f"Batch {name} already exists"}})
        Fakes.batches[name] = {**body, "name": name, "state": "PENDING", "stateMessage": ""}
        return self.send_json(200, {"name": f"{url.path.removeprefix('/v1/')}/operations/op-{ident}", "done": False})


@pytest.fixture(scope="module")
def fake_url():
    with serving(Fakes) as host:
        yield f"http://{host}"


def settings_json(vault_url: str, token_file: Path) -> str:
    """The domain's credentials settings: a token login (stand-in) and the GCP engine's token path."""
    token_file.write_text(DOMAIN_TOKEN)
    return json.dumps({"domain": "call_analytics", "masking_key_path": "domains/call-analytics/masking",
                       "vault": {"url": vault_url, "method": "token", "kv_mount": "platform",
                                 "kv_path": "domains/call-analytics", "token_path": str(token_file)},
                       "clouds": {"gcp": {"engine": "gcp", "path": f"gcp/impersonated-account/{ROLE}/token"}}})


#: The shape the stacks write (modules/spark_image.dataproc_image_uri).
IMAGE = "europe-west1-docker.pkg.dev/ccd-dev/ccd-dev-spark/spark-job:dataproc-2.2-0123456789abcdef"
KMS_KEY = "projects/ccd-dev/locations/europe-west1/keyRings/ccd-dev-platform/cryptoKeys/lake"


def gcp_section(staging: Path) -> dict:
    return {"project": "ccd-dev", "region": "europe-west1",
            "service_account": "ccddev-spark-abc123@ccd-dev.iam.gserviceaccount.com",
            "subnetwork": "projects/ccd-dev/regions/europe-west1/subnetworks/ccd-dev-data",
            "staging_bucket": str(staging), "container_image": IMAGE, "kms_key": KMS_KEY}


# --------------------------------------------------------------------------- the Variable


def test_the_variable_picks_dataproc_only_when_it_says_so_and_has_a_gcp_section(tmp_path) -> None:
    aws = {"application_id": "a", "execution_role_arn": "r", "code_uri": "s3://c/spark/", "log_uri": "s3://l/"}
    both = {"thresholds": {"max_worker_days": 7}, "aws": aws, "gcp": gcp_section(tmp_path), "cross_cloud": True}
    assert SparkSettings.from_json(json.dumps(both)).route(0, 30, other_clouds=True, dataproc_ok=True) == "emr"
    chosen = SparkSettings.from_json(json.dumps({**both, "engine": "dataproc"}))
    assert chosen.route(0, 30, other_clouds=True, dataproc_ok=True) == "dataproc"
    assert chosen.route(0, 3, other_clouds=True, dataproc_ok=True) == "worker"  # small: stays in the worker
    assert chosen.route(0, 30) == "emr"  # ingest (S3 in, S3 out) never goes to Dataproc
    closed = SparkSettings.from_json(json.dumps({**both, "engine": "dataproc", "cross_cloud": False}))
    assert closed.route(0, 30, other_clouds=True, dataproc_ok=True) == "worker"  # Azure unreachable
    with pytest.raises(SparkSettingsError, match=r"call_analytics_spark.engine: 'dataproc' needs a gcp section"):
        SparkSettings.from_json(json.dumps({**both, "gcp": None, "engine": "dataproc"}))
    with pytest.raises(SparkSettingsError, match=r"\.engine: 'glue' must be one of emr, dataproc"):
        SparkSettings.from_json(json.dumps({**both, "engine": "glue"}))


@pytest.mark.parametrize("image", [
    "docker.io/library/python:3.12",                                   # Dataproc pulls from Artifact Registry only
    "europe-west1-docker.pkg.dev/ccd-dev/ccd-dev-spark/spark-job",     # no tag: "latest", whatever it is then
    "",
])
def test_a_container_image_dataproc_cannot_pull_is_one_clear_error(tmp_path, image) -> None:
    text = json.dumps({"aws": None, "engine": "dataproc", "gcp": {**gcp_section(tmp_path), "container_image": image}})
    with pytest.raises(SparkSettingsError, match=r"^call_analytics_spark\.gcp(\.container_image)?: .*(container_image|non-empty)"):
        SparkSettings.from_json(text)
    # A Variable exported before the image (and key) existed: fine while the engine is EMR, one line for Dataproc.
    for field, rule in (("container_image", "the job's image \\(make spark-image\\)"), ("kms_key", "the lake key")):
        missing = {k: v for k, v in gcp_section(tmp_path).items() if k != field}
        assert getattr(SparkSettings.from_json(json.dumps({"aws": None, "gcp": missing})).gcp, field) is None
        with pytest.raises(SparkSettingsError, match=rf"^call_analytics_spark\.gcp\.{field}: missing, and 'dataproc' "
                                                     rf"batches need {rule}"):
            SparkSettings.from_json(json.dumps({"aws": None, "gcp": missing, "engine": "dataproc"}))


# --------------------------------------------------------------------------- the plan


def test_plan_publishes_the_code_once_and_builds_the_batch_with_no_secret(tmp_path) -> None:
    from callcenter.layout import Layout

    gcp = GcpSpark(**gcp_section(tmp_path / "staging"))
    (tmp_path / "staging").mkdir()
    layout = Layout(raw_bucket="r", curated_bucket="c", quarantine_bucket="q", gcs_curated_bucket="gc",
                    gcs_exports_bucket="e", azure_container="a", glue_crawler="g")
    fs = pafs.LocalFileSystem()
    plan = dataproc.dataproc_plan(gcp, fs, credentials_json='{"vault": "non-secret"}', layout=layout,
                                  items=["2026-11-01", "2026-11-02"], mode="customer_360", dag_id="customer_360",
                                  run_id="backfill__1", domain="call_analytics")
    zip_name, entry_name = spark_job.package_names(spark_job.package_digest())
    batch = plan["batch"]
    assert batch["pysparkBatch"]["mainPythonFileUri"] == f"gs://{tmp_path}/staging/spark/{entry_name}"
    assert batch["pysparkBatch"]["pythonFileUris"] == [f"gs://{tmp_path}/staging/spark/{zip_name}"]
    runtime = batch["runtimeConfig"]
    assert runtime["version"] == "2.2"
    # The job's own image, and its interpreter for the driver and the Python workers (the stock runtime
    # image has no hvac and another pyarrow: tests/modules/gcp/test_dataproc_image.py checks the image).
    assert runtime["containerImage"] == IMAGE
    assert runtime["properties"] == {"spark.sql.session.timeZone": "UTC", "spark.pyspark.python": dataproc.IMAGE_PYTHON,
                                     "spark.pyspark.driver.python": dataproc.IMAGE_PYTHON}
    assert batch["environmentConfig"]["executionConfig"] == {
        "serviceAccount": gcp.service_account, "subnetworkUri": gcp.subnetwork, "stagingBucket": gcp.staging_bucket,
        "kmsKey": KMS_KEY, "ttl": "21600s"}  # the batch ends itself when the waiting task would time out (6 h)
    args = batch["pysparkBatch"]["args"]
    assert args[args.index("--stores") + 1] == "gcs" and args[-2:] == ["2026-11-01", "2026-11-02"]
    assert plan["parent"] == PARENT and plan["summary"].startswith(f"{tmp_path}/staging/spark/_summaries/")
    published = tmp_path / "staging" / "spark" / zip_name
    assert published.stat().st_size > 0 and (tmp_path / "staging" / "spark" / entry_name).exists()
    before = published.stat().st_mtime_ns
    again = dataproc.dataproc_plan(gcp, fs, credentials_json="{}", layout=layout, items=["2026-11-01"],
                                   mode="customer_360", dag_id="customer_360", run_id="backfill__1", domain="call_analytics")
    assert published.stat().st_mtime_ns == before  # content-addressed: present, not rewritten
    assert again["batch_id"] == plan["batch_id"]  # the same run: the same batch id
    other = dataproc.batch_id("customer_360", "customer_360", "backfill__2")
    assert other != plan["batch_id"] and 4 <= len(other) <= 40 and other.replace("-", "").isalnum() and other.islower()
    assert KEY_HEX not in json.dumps(plan)


def test_the_job_reads_curated_calls_from_their_gcs_copy_on_dataproc() -> None:
    from callcenter.layout import Layout

    layout = Layout(raw_bucket="r", curated_bucket="c", quarantine_bucket="q", gcs_curated_bucket="gc",
                    gcs_exports_bucket="e", azure_container="a", glue_crawler="g")
    assert spark_job.job_layout(layout, "gcs").curated == layout.gcs_curated
    assert spark_job.job_layout(layout, "s3") == layout
    assert spark_job.main(["--mode", "ingest", "--stores", "gcs", "--settings", "{}", "--layout", "{}",
                           "--summary", "s", "x"]) == 2  # ingest is the S3 lake's: refused in one line


# --------------------------------------------------------------------------- operator and trigger


def test_a_retry_finds_the_runs_batch_instead_of_starting_a_second(fake_url, tmp_path) -> None:
    from airflow.sdk.exceptions import TaskDeferred

    settings = settings_json(fake_url, tmp_path / "token")
    plan = {"parent": PARENT, "batch_id": "customer-360-retry0000000000000000", "batch": {"labels": {}}}
    first = dataproc.DataprocBatchOperator(task_id="b", plan=plan, settings_json=settings, api_url=f"{fake_url}/v1")
    with pytest.raises(TaskDeferred) as deferred:
        first.execute({})
    retry = dataproc.DataprocBatchOperator(task_id="b", plan=plan, settings_json=settings, api_url=f"{fake_url}/v1")
    with pytest.raises(TaskDeferred):
        retry.execute({})
    name = f"{PARENT}/batches/customer-360-retry0000000000000000"
    assert [c["name"] for c in Fakes.creates if c["name"] == name] == [name, name]  # two creates ...
    assert list(Fakes.batches).count(name) == 1  # ... one batch (the second got 409 and waits for it)
    assert Fakes.creates[-1]["query"]["requestId"] == ["customer-360-retry0000000000000000"]
    trigger = deferred.value.trigger
    path, kwargs = trigger.serialize()
    assert path == "dataproc_trigger.DataprocBatchTrigger" and GCP_TOKEN not in json.dumps(kwargs)
    trigger.poll_seconds = 0.01

    async def first_event():
        async for event in trigger.run():
            return event.payload

    assert asyncio.run(first_event())["state"] == "SUCCEEDED"
    Fakes.batches[name]["state"], Fakes.batches[name]["stateMessage"] = "FAILED", "Job failed: out of memory"
    from airflow.sdk.exceptions import AirflowException

    with pytest.raises(AirflowException, match="ended FAILED: Job failed: out of memory"):
        retry.execute({})  # a retry of a failed batch fails with its message, without waiting


# --------------------------------------------------------------------------- the branch in Airflow

PROBE_DAG = '''
import json, os
import pyarrow.fs as pafs
from airflow.sdk import dag, task
from callcenter import dataproc, runtime, spark_job
from callcenter.engine_choice import SparkSettings

SPARK = os.environ["PROBE_SPARK"]

@dag(dag_id="probe_dataproc", schedule=None, **runtime.dag_args("probe"))
def probe_dataproc():
    @task.branch
    def choose_engine(params=None):  # customer_360's choose_engine
        engine = SparkSettings.from_json(SPARK).route(0, days=len(params["days"]), other_clouds=True, dataproc_ok=True)
        return {"emr": "spark_plan", "dataproc": "dataproc_plan"}.get(engine, "build_day")

    @task
    def build_day():
        return "worker"

    @task(task_id="dataproc_plan", multiple_outputs=True)
    def plan(params=None, dag=None, run_id=None):
        from callcenter.layout import Layout
        layout = Layout(**{f: "b" for f in Layout.__dataclass_fields__ if f != "dataset"})
        out = dataproc.dataproc_plan(SparkSettings.from_json(SPARK).gcp, pafs.LocalFileSystem(),
                                     credentials_json=os.environ["PROBE_JOB_SETTINGS"], layout=layout,
                                     items=params["days"], mode="customer_360", dag_id=dag.dag_id, run_id=run_id,
                                     domain="call_analytics")
        return {**out, "settings": os.environ["PROBE_SETTINGS"]}

    @task(task_id="dataproc_results")
    def results(plan):
        succeeded, failed = spark_job.split_results("customer_360", pafs.LocalFileSystem(), None, plan["summary"])
        return [s["day"] for s in succeeded]

    p = plan()
    choose_engine() >> [build_day(), p]
    dataproc.DataprocBatchOperator(task_id="dataproc_batch", plan=p, settings_json=p["settings"],
                                   api_url=os.environ["PROBE_API"], poll_seconds=1) >> results(p)

probe_dataproc()
'''

RUN = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

dag = DagBag(dag_folder=sys.argv[1]).dags["probe_dataproc"]
out = []
for days in json.loads(sys.argv[2]):
    run = dag.test(run_conf={"days": days})
    with create_session() as s:
        states = {t.task_id: str(t.state) for t in s.query(TaskInstance).filter_by(run_id=run.run_id)}
        days_done = s.query(XComModel.value).filter_by(run_id=run.run_id, task_id="dataproc_results").scalar()
    out.append({"state": str(run.state), "tasks": states, "results": days_done})
print("RESULT " + json.dumps(out, default=str))
'''


def test_small_run_stays_in_the_worker_a_backfill_starts_a_deferred_dataproc_batch(fake_url, tmp_path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    spark = {"thresholds": {"max_worker_days": 2}, "aws": None, "gcp": gcp_section(staging), "cross_cloud": True,
             "engine": "dataproc"}
    settings = settings_json(fake_url, tmp_path / "token")
    env = airflow_home(tmp_path, write_dag(tmp_path, "probe_dataproc", PROBE_DAG), PROBE_SPARK=json.dumps(spark),
                       PROBE_SETTINGS=settings, PROBE_JOB_SETTINGS=json.dumps({"vault": "portable, non-secret"}),
                       PROBE_API=f"{fake_url}/v1", PYTHONPATH=os.pathsep.join([str(DAGS), str(PLUGINS)]),
                       CALLCENTER_RETRY_DELAY_SECONDS="1")
    before = len(Fakes.creates)
    small, backfill = run_script(env, RUN, str(tmp_path / "dags"),
                                 json.dumps([["2026-11-01"], ["2026-11-01", "2026-11-02", "2026-11-03"]]))

    assert small["state"] == "success", small
    assert small["tasks"] == {"choose_engine": "success", "build_day": "success", "dataproc_plan": "skipped",
                              "dataproc_batch": "skipped", "dataproc_results": "skipped"}
    assert backfill["state"] == "success", backfill
    assert backfill["tasks"] == {"choose_engine": "success", "build_day": "skipped", "dataproc_plan": "success",
                                 "dataproc_batch": "success", "dataproc_results": "success"}  # deferred, then done
    assert "2026-11-03" in str(backfill["results"])  # the results step read the batch's summary
    created = Fakes.creates[before:]
    assert len(created) == 1  # only the backfill reached the Dataproc API
    body = created[0]["body"]
    assert body["environmentConfig"]["executionConfig"]["serviceAccount"] == spark["gcp"]["service_account"]
    assert body["pysparkBatch"]["args"][-3:] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert KEY_HEX not in json.dumps(body) and DOMAIN_TOKEN not in json.dumps(body) and GCP_TOKEN not in json.dumps(body)
    assert os.listdir(staging / "spark")  # the code was published where the batch reads it


def test_the_triggerer_imports_the_trigger_with_only_the_plugins_folder_on_its_path() -> None:
    """Airflow 3's triggerer imports the class path and adds no DAG folder (triggerer_job_runner
    get_trigger_by_classpath); MWAA puts the plugins folder on sys.path."""
    code = ("import dataproc_trigger, importlib.util; assert importlib.util.find_spec('callcenter') is None;"
            "dataproc_trigger.dags_importable(); import callcenter.dataproc; print('ok')")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(PLUGINS)}
    run = subprocess.run([sys.executable, "-c", code], env=env, cwd=PLUGINS, capture_output=True, text=True, check=False)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]
