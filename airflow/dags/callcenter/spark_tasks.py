"""The Spark branch the DAGs share (issue 12): spark_plan -> a deferrable EMR Serverless
job -> spark_results. A domain's ingest DAG hands it a run's exports, customer_360 its days.
customer_360 also has dataproc_branch (Dataproc Serverless, callcenter/dataproc.py).

Imported by DAG files at parse time: airflow.sdk, the amazon provider's operator module (its
boto3 import is the one allowance of tests/airflow/integrity) and callcenter.layout only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.sdk import task

from callcenter import dataproc
from callcenter.layout import Names

#: The longest a job may run: the deferred wait (triggerer polls every minute), the task's timeout and
#: the job's own cap on either engine (one number: dataproc.JOB_HOURS).
JOB_HOURS = dataproc.JOB_HOURS


def spark_branch(mode: str, items: Any, job_task_id: str, names: Names, *,
                 redact_quarantine: bool = True) -> tuple[Any, Any]:
    """Add spark_plan -> `job_task_id` -> spark_results to the DAG being defined, for `names.domain`
    (its `<domain>_spark` Variable, credentials and layout); returns (plan, results). `results` is
    the list of succeeded summaries. `redact_quarantine`: the worker's quarantine rule for the domain's
    classification (ingest), so both engines write the same quarantine."""

    # multiple_outputs: the operator's fields read plan["..."], which pulls one XCom per key.
    @task(task_id="spark_plan", multiple_outputs=True)
    def spark_plan(items: list[str], run_id=None) -> dict:
        from airflow.sdk import Variable

        from callcenter import credentials, runtime, spark_job
        from callcenter.engine_choice import SparkSettings

        # Non-secret settings and paths only: the job reads the masking key from Vault itself.
        return spark_job.emr_plan(SparkSettings.from_variable(names.spark_variable).aws, mode=mode, items=list(items),
                                  run_id=run_id, credentials_json=credentials.portable(credentials.Settings.from_json(
                                      Variable.get(credentials.settings_variable(names.domain)))).to_json(),
                                  layout=runtime.layout(names), redact_quarantine=redact_quarantine)

    plan = spark_plan(items)
    job = EmrServerlessStartJobOperator(
        task_id=job_task_id, aws_conn_id=names.conn_id("aws"), name=job_task_id,
        application_id=plan["application_id"], execution_role_arn=plan["execution_role_arn"],
        job_driver=plan["job_driver"], configuration_overrides=plan["configuration_overrides"],
        # Deferrable: the triggerer polls GetJobRun; no worker slot is held while the job runs.
        deferrable=True, waiter_delay=60, waiter_max_attempts=JOB_HOURS * 60,
        execution_timeout=timedelta(hours=JOB_HOURS),
        # The job stops itself when the task gives up: a timed-out deferred task runs no on_kill, and
        # StartJobRun's own default cap is 12 h (botocore emr-serverless StartJobRunRequest).
        config={"executionTimeoutMinutes": JOB_HOURS * 60})
    results = _results_task("spark_results", mode, names, "aws")(plan)
    job >> results
    return plan, results


def _results_task(task_id: str, mode: str, names: Names, cloud: str) -> Any:
    """The job's summary JSON (on `cloud`'s store) read back: the succeeded items; a failed one fails the
    run, except for ingest, whose all_exports_ingested reports them (as for failed worker tasks)."""

    @task(task_id=task_id)
    def spark_results(plan: dict) -> list[dict]:
        from callcenter import runtime, spark_job

        succeeded, failed = spark_job.split_results(mode, runtime.filesystem(names.domain, cloud), runtime.layout(names),
                                                    plan["summary"])
        if failed and mode != "ingest":
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{len(failed)} item(s) failed on Spark: "
                                       + ", ".join(f"{s.get('day')} ({s['error']})" for s in failed))
        return succeeded

    return spark_results


def dataproc_branch(mode: str, items: Any, names: Names, *, api_url: str = dataproc.API,
                    poll_seconds: float = 60) -> tuple[Any, Any]:
    """Add dataproc_plan -> dataproc_batch -> dataproc_results (Dataproc Serverless, callcenter/dataproc.py)
    for `names.domain`; returns (plan, results). Only customer_360 goes there (its output is on GCS)."""

    @task(task_id="dataproc_plan", multiple_outputs=True)
    def dataproc_plan(items: list[str], dag=None, run_id=None) -> dict:
        from callcenter import credentials, runtime
        from callcenter.engine_choice import SparkSettings

        settings = runtime.credential_settings(names.domain)
        # The batch logs in to Vault with its own service account (gcp_iam); MWAA's login stays the operator's.
        job = credentials.portable(settings, engine="dataproc").to_json()
        plan = dataproc.dataproc_plan(SparkSettings.from_variable(names.spark_variable).gcp,
                                      runtime.filesystem(names.domain, "gcp"), credentials_json=job,
                                      layout=runtime.layout(names), items=list(items), mode=mode, dag_id=dag.dag_id,
                                      run_id=run_id, domain=names.domain)
        return {**plan, "settings": settings.to_json()}

    plan = dataproc_plan(items)
    job = dataproc.DataprocBatchOperator(task_id="dataproc_batch", plan=plan, settings_json=plan["settings"],
                                         api_url=api_url, poll_seconds=poll_seconds, job_hours=JOB_HOURS)
    results = _results_task("dataproc_results", mode, names, "gcp")(plan)
    job >> results
    return plan, results
