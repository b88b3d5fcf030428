"""The engine branch against real Airflow: a small run stays in the worker task, a large
one goes to the deferrable EmrServerlessStartJobOperator. Faked only at the cloud API:
moto_server's emr-serverless answers CreateApplication/GetApplication/StartJobRun/GetJobRun
(job state SUCCESS), for the operator's boto3 call and its trigger's aiobotocore poll alike.

The probe DAG is composed of call_records_ingest's pieces (SparkSettings.engine,
spark_job.emr_plan, the same operator arguments), with local files as the pending exports."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import boto3
from airflow_probe import DAGS, airflow_home, moto, run_script, write_dag  # noqa: F401 (moto: a fixture)

from tests.airflow.unit.test_spark_job import CREDENTIALS
from tests.conftest import require

REGION = "eu-west-1"
KEY_HEX = bytes(range(32)).hex()

PROBE_DAG = '''
import os
from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.sdk import dag, task
from callcenter import runtime

@dag(dag_id="probe_engine", schedule=None, **runtime.DAG_ARGS)
def probe_engine():
    @task.branch
    def choose_engine(params=None):
        from callcenter.engine_choice import SparkSettings
        size = sum(os.path.getsize(p) for p in params["paths"])
        engine = SparkSettings.from_json(os.environ["PROBE_SPARK"]).engine(size, days=1)
        return "spark_plan" if engine == "spark" else "ingest_export"

    @task
    def ingest_export():
        return "worker"

    @task(multiple_outputs=True)  # operator fields read plan["..."]: one XCom per key
    def spark_plan(params=None, run_id=None):
        from callcenter import spark_job
        from callcenter.engine_choice import SparkSettings
        from callcenter.layout import Layout
        layout = Layout(**{f: "b" for f in Layout.__dataclass_fields__})
        return spark_job.emr_plan(SparkSettings.from_json(os.environ["PROBE_SPARK"]).aws, items=params["paths"],
                                  run_id=run_id, credentials_json=os.environ["PROBE_CREDENTIALS"], layout=layout)

    plan = spark_plan()
    choose_engine() >> [ingest_export(), plan]
    EmrServerlessStartJobOperator(
        task_id="spark_ingest", aws_conn_id="probe_aws", name="call_records_ingest",
        application_id=plan["application_id"], execution_role_arn=plan["execution_role_arn"],
        job_driver=plan["job_driver"], configuration_overrides=plan["configuration_overrides"],
        deferrable=True, waiter_delay=1, waiter_max_attempts=30)

probe_engine()
'''

RUN = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

dag = DagBag(dag_folder=sys.argv[1]).dags["probe_engine"]
out = []
for paths in json.loads(sys.argv[2]):
    run = dag.test(run_conf={"paths": paths})
    with create_session() as s:
        states = {t.task_id: str(t.state) for t in s.query(TaskInstance).filter_by(run_id=run.run_id)}
    out.append({"state": str(run.state), "tasks": states})
print("RESULT " + json.dumps(out))
'''


def test_small_run_stays_in_the_worker_large_run_starts_a_deferred_emr_job(tmp_path, moto):  # noqa: F811
    # The amazon provider's triggers poll through aiobotocore; MWAA's image ships it
    # (airflow/mwaa-image-packages.txt: aiobotocore==3.9.0), the local Airflow venv must too.
    aio = importlib.util.find_spec("aiobotocore")
    require(aio is not None, "aiobotocore is not installed: the deferrable EMR trigger cannot poll")
    emr = boto3.client("emr-serverless", region_name=REGION, endpoint_url=moto.url,
                       aws_access_key_id="moto", aws_secret_access_key="moto")
    app = emr.create_application(name="dev-call-analytics", releaseLabel="emr-7.5.0", type="SPARK")["applicationId"]
    spark = {"thresholds": {"max_worker_bytes": 1000, "max_worker_days": 7},
             "aws": {"application_id": app, "execution_role_arn": "arn:aws:iam::123456789012:role/dev-ca-spark-job",
                     "code_uri": "s3://dev-dags/spark/", "log_uri": "s3://dev-logs/spark/"}}
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(b"{}\n" * 10)  # 30 bytes
    large.write_bytes(b"{}\n" * 1000)  # 3000 bytes > max_worker_bytes
    conn = {"conn_type": "aws", "login": "moto", "password": "moto",
            "extra": {"endpoint_url": moto.url, "region_name": REGION}}
    env = airflow_home(tmp_path, write_dag(tmp_path, "probe_engine", PROBE_DAG),
                       AIRFLOW_CONN_PROBE_AWS=json.dumps(conn), PROBE_SPARK=json.dumps(spark),
                       PROBE_CREDENTIALS=CREDENTIALS, CALLCENTER_RETRY_DELAY_SECONDS="1",
                       PYTHONPATH=os.pathsep.join([str(DAGS), str(Path(aio.origin).parents[1])]))
    worker_run, spark_run = run_script(env, RUN, str(tmp_path / "dags"), json.dumps([[str(small)], [str(large)]]))

    assert worker_run["state"] == "success"
    assert worker_run["tasks"] == {"choose_engine": "success", "ingest_export": "success",
                                   "spark_plan": "skipped", "spark_ingest": "skipped"}
    assert spark_run["state"] == "success"
    assert spark_run["tasks"] == {"choose_engine": "success", "ingest_export": "skipped",
                                  "spark_plan": "success", "spark_ingest": "success"}  # deferred, then completed

    runs = emr.list_job_runs(applicationId=app)["jobRuns"]
    assert len(runs) == 1  # only the large run reached the cloud API
    job = emr.get_job_run(applicationId=app, jobRunId=runs[0]["id"])["jobRun"]
    submit = job["jobDriver"]["sparkSubmit"]
    assert submit["entryPointArguments"][-1] == str(large)
    assert KEY_HEX not in json.dumps(job, default=str)  # what AWS received holds no key material
