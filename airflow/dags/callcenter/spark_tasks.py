"""The Spark branch the DAGs share (issue 12): spark_plan -> a deferrable EMR Serverless
job -> spark_results. A domain's ingest DAG hands it a run's exports, customer_360 its days.

Imported by DAG files at parse time: airflow.sdk, the amazon provider's operator module (its
boto3 import is the one allowance of tests/airflow/integrity) and callcenter.layout only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.amazon.aws.operators.emr import EmrServerlessStartJobOperator
from airflow.sdk import task

from callcenter.layout import Names

#: The longest a job may run: the deferred wait (triggerer polls every minute) and the task's timeout.
JOB_HOURS = 6


def spark_branch(mode: str, items: Any, job_task_id: str, names: Names) -> tuple[Any, Any]:
    """Add spark_plan -> `job_task_id` -> spark_results to the DAG being defined, for `names.domain`
    (its `<domain>_spark` Variable, credentials and layout); returns (plan, results). `results` is
    the list of succeeded summaries."""

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
                                  layout=runtime.layout(names))

    @task(task_id="spark_results")
    def spark_results(plan: dict) -> list[dict]:
        from callcenter import runtime, spark_job

        succeeded, failed = spark_job.split_results(mode, runtime.filesystem(names.domain, "aws"), runtime.layout(names),
                                                    plan["summary"])
        if failed and mode != "ingest":  # ingest: the run's all_exports_ingested reports them
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(f"{len(failed)} item(s) failed on Spark: "
                                       + ", ".join(f"{s.get('day')} ({s['error']})" for s in failed))
        return succeeded

    plan = spark_plan(items)
    job = EmrServerlessStartJobOperator(
        task_id=job_task_id, aws_conn_id=names.conn_id("aws"), name=job_task_id,
        application_id=plan["application_id"], execution_role_arn=plan["execution_role_arn"],
        job_driver=plan["job_driver"], configuration_overrides=plan["configuration_overrides"],
        # Deferrable: the triggerer polls GetJobRun; no worker slot is held while the job runs.
        deferrable=True, waiter_delay=60, waiter_max_attempts=JOB_HOURS * 60,
        execution_timeout=timedelta(hours=JOB_HOURS))
    results = spark_results(plan)
    job >> results
    return plan, results
