"""Dataproc Serverless batches from the DAGs (issue 12, GCP): a deferrable operator, its trigger and the
batch the DAG submits (customer_360's Spark branch where the `<domain>_spark` Variable says "dataproc").

    dataproc_plan (a task: publish the code, build the batch) -> DataprocBatchOperator (create, defer)
        -> DataprocBatchTrigger (triggerer polls the batch; no worker slot held; airflow/plugins/
           dataproc_trigger.py, as the triggerer imports it) -> dataproc_results

Why not the google provider's DataprocCreateBatchOperator: its connection authenticates with
Application Default Credentials, a key file or a workload-identity-federation file only (provider docs,
"Google Cloud Connection"), and none of them is the domain's identity here: a task gets the domain's
short-lived token from Vault's GCP engine (callcenter.credentials), never a key. And
apache-airflow-providers-google 22.3.0 adds 117 packages to the lock (ray, litellm, openai,
google-cloud-aiplatform, scipy, ...), installed on every MWAA container start within its 9-minute limit
(review M8; tests/config/test_airflow_version.py). So this module speaks Dataproc's REST API v1
(projects.locations.batches create/get; cloud-platform scope) with `requests`, already in the image.

Idempotent on retry: the batch id is derived from the DAG run, and is also the create's requestId, so a
retried task (or a worker lost mid-wait) finds the batch it started (HTTP 409 ALREADY_EXISTS, or the same
operation for the same requestId) and waits for it instead of starting a second one; a batch that already
FAILED fails the retry with its message (a new run gets a new id).

Imported by DAG files at parse time: stdlib and airflow only (tests/airflow/integrity).
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow.fs as pafs

    from callcenter.engine_choice import GcpSpark
    from callcenter.layout import Layout

#: Dataproc's REST root (Dataproc REST reference v1, "projects.locations.batches").
API = "https://dataproc.googleapis.com/v1"
#: Dataproc Serverless runtime 2.2 = Spark 3.5, the line PySpark is pinned to (EMR 7.x runs it too).
RUNTIME_VERSION = "2.2"
#: The interpreter of the job's image (spark/image/dataproc.Dockerfile: python:3.12-slim-bookworm), named
#: per batch for the driver and the executors' Python workers as well as by the image's PYSPARK_PYTHON.
IMAGE_PYTHON = "/usr/local/bin/python3.12"
#: Batch.State values after which nothing changes.
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED")
#: Refresh the Vault-issued access token this long before it expires (a batch may run 6 h, a token 1 h).
TOKEN_MARGIN_SECONDS = 300
#: The longest a batch may run: its ttl, and the operator's wait and timeout (as spark_tasks.JOB_HOURS).
JOB_HOURS = 6
#: Under the code bucket: the content-addressed package, as under EMR's code_uri.
CODE_PREFIX = "spark"


class DataprocError(RuntimeError):
    """A Dataproc answer the DAG cannot use (one line: method, resource, HTTP status and Google's message)."""


def batch_id(mode: str, dag_id: str, run_id: str) -> str:
    """A run's batch id: the same on every retry of the run, another for every run. Dataproc: 4-63
    characters of [a-z0-9-]; 40 at most here, so it is also a valid requestId (letters, digits, _ and -, <= 40)."""
    digest = hashlib.sha256(f"{dag_id}\0{run_id}".encode()).hexdigest()[:24]
    return f"{mode.replace('_', '-')[:14]}-{digest}"


def code_uris(gcp: GcpSpark, digest: str) -> tuple[str, str]:
    """(entry point, pyFiles zip) in the domain's staging bucket, named by the package's content hash."""
    from callcenter.spark_job import package_names

    zip_name, entry_name = package_names(digest)
    base = f"gs://{gcp.staging_bucket}/{CODE_PREFIX}"
    return f"{base}/{entry_name}", f"{base}/{zip_name}"


def publish_code(fs: pafs.FileSystem, gcp: GcpSpark, digest: str | None = None) -> tuple[str, str]:
    """Upload the DAG's own copy of the job code to the staging bucket unless that version is there.
    Content-addressed: a code change is a new name, a running batch keeps its version, and what the
    batch runs is exactly what this DAG shipped (the digest is recomputed from the same files)."""
    import tempfile
    from pathlib import Path

    from callcenter import spark_job

    digest = digest or spark_job.package_digest()
    uris = code_uris(gcp, digest)
    paths = [uri.removeprefix("gs://") for uri in uris]
    if all(info.type.name == "File" for info in fs.get_file_info(paths)):
        return uris
    with tempfile.TemporaryDirectory() as tmp:
        zip_file, entry_file = spark_job.build_package(Path(tmp))
        fs.create_dir(paths[0].rsplit("/", 1)[0], recursive=True)  # a no-op on GCS; local stores need it
        for local, path in ((entry_file, paths[0]), (zip_file, paths[1])):
            with fs.open_output_stream(path) as out:
                out.write(local.read_bytes())
    return uris


def summary_path(gcp: GcpSpark, name: str) -> str:
    """Where a batch writes its summary: the domain's staging bucket (its network reaches GCS only)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return f"{gcp.staging_bucket}/{CODE_PREFIX}/_summaries/{safe}.json"


def batch_body(gcp: GcpSpark, *, entry_uri: str, zip_uri: str, args: list[str], labels: dict[str, str]) -> dict:
    """The Batch resource (Dataproc REST v1: pysparkBatch, runtimeConfig, environmentConfig.executionConfig)."""
    return {
        "pysparkBatch": {"mainPythonFileUri": entry_uri, "pythonFileUris": [zip_uri], "args": args},
        # The job's own image: runtime 2.2's stock image has no hvac and another pyarrow than the lock's, so
        # masking there would differ from the worker's (Dataproc mounts Spark and the JDK into it).
        # Curated timestamps are UTC (spark_engine.process checks the same setting).
        "runtimeConfig": {"version": RUNTIME_VERSION, "containerImage": gcp.container_image, "properties": {
            "spark.sql.session.timeZone": "UTC",
            "spark.pyspark.python": IMAGE_PYTHON, "spark.pyspark.driver.python": IMAGE_PYTHON,
        }},
        "environmentConfig": {"executionConfig": {
            # The domain's own batch account: its Vault login (gcp auth) gets the domain's policy only.
            "serviceAccount": gcp.service_account,
            "subnetworkUri": gcp.subnetwork,
            "stagingBucket": gcp.staging_bucket,
            # The batch's disks and Dataproc's writes under the lake key ("Use CMEK with Serverless for Apache
            # Spark"; the stack grants Compute Engine's and Dataproc's agents on it).
            "kmsKey": gcp.kms_key,
            # Dataproc terminates the batch after this (ExecutionConfig.ttl, 10 min..14 days): it never
            # outlives the task that waits for it, as a timed-out deferred task runs no on_kill.
            "ttl": f"{JOB_HOURS * 3600}s",
        }},
        "labels": labels,
    }


def dataproc_plan(gcp: GcpSpark | None, fs: pafs.FileSystem, *, credentials_json: str, layout: Layout,
                  items: list[str], mode: str, dag_id: str, run_id: str, domain: str) -> dict[str, Any]:
    """What customer_360's dataproc_plan task returns (XCom: names and non-secret settings only) and the
    operator submits. `credentials_json` is the job's portable settings (its own gcp_iam Vault login)."""
    if gcp is None:
        raise ValueError("the spark Variable has no gcp section: this environment has no Dataproc to run on")
    for name in ("container_image", "kms_key"):
        if getattr(gcp, name) is None:
            raise ValueError(f"the spark Variable's gcp section names no {name}: a batch needs it")
    entry_uri, zip_uri = publish_code(fs, gcp)
    ident = batch_id(mode, dag_id, run_id)
    summary = summary_path(gcp, ident)
    args = ["--mode", mode, "--stores", "gcs", "--settings", credentials_json, "--layout", layout.to_json(),
            "--summary", summary, *items]
    labels = {"domain": domain.replace("_", "-"), "dag": dag_id.replace("_", "-")[:63]}
    return {"parent": f"projects/{gcp.project}/locations/{gcp.region}", "batch_id": ident, "summary": summary,
            "batch": batch_body(gcp, entry_uri=entry_uri, zip_uri=zip_uri, args=args, labels=labels)}


# --------------------------------------------------------------------------- the API


class Batches:
    """Dataproc batches as the domain: each call carries the domain's Vault-issued access token
    (Vault GCP engine, impersonated account; refreshed before it expires)."""

    def __init__(self, settings_json: str, api_url: str = API):
        self.settings_json = settings_json
        self.api_url = api_url.rstrip("/")
        self._token: tuple[str, int] | None = None

    def _headers(self) -> dict[str, str]:
        if self._token is None or self._token[1] - TOKEN_MARGIN_SECONDS < time.time():
            from callcenter import credentials

            settings = credentials.Settings.from_json(self.settings_json)
            extra = credentials.connection(credentials.vault_client(settings), settings, "gcp").extra_dejson
            if not extra.get("access_token"):
                raise DataprocError(f"{credentials.settings_variable(settings.domain)}: clouds.gcp gives no access token")
            self._token = (extra["access_token"], int(extra.get("expires_at_seconds") or time.time() + 600))
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _call(self, method: str, resource: str, **kwargs: Any) -> tuple[int, dict]:
        import requests

        answer = requests.request(method, f"{self.api_url}/{resource}", headers=self._headers(), timeout=60, **kwargs)
        body = answer.json() if answer.content else {}
        if answer.status_code >= 400 and answer.status_code != 409:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise DataprocError(f"dataproc {method} {resource}: HTTP {answer.status_code} "
                                f"{error.get('status', '')} {error.get('message', '')}".strip())
        return answer.status_code, body

    def create(self, parent: str, ident: str, batch: dict) -> dict:
        """Create the batch, or find the one this run already created; returns the Batch."""
        status, _ = self._call("POST", f"{parent}/batches", params={"batchId": ident, "requestId": ident}, json=batch)
        if status == 409:
            print(f"batch {ident} exists (a retry of this run): waiting for it")
        return self.get(f"{parent}/batches/{ident}")

    def get(self, name: str) -> dict:
        return self._call("GET", name)[1]


def outcome(batch: dict) -> dict[str, str]:
    """The event/return payload of a finished batch (no secret: name, state, Google's state message)."""
    return {"name": batch.get("name", ""), "state": batch.get("state", ""), "message": batch.get("stateMessage", "")}


class DataprocBatchOperator(BaseOperator):
    """Create the run's batch (or find it on a retry) and defer the wait to DataprocBatchTrigger.
    `plan` is dataproc_plan's XCom; `settings_json` the domain's credentials settings (MWAA's login)."""

    template_fields = ("plan", "settings_json")

    def __init__(self, *, plan: Any, settings_json: Any, api_url: str = API, poll_seconds: float = 60,
                 job_hours: int = JOB_HOURS, **kwargs: Any):
        kwargs.setdefault("execution_timeout", timedelta(hours=job_hours))
        super().__init__(**kwargs)
        self.plan, self.settings_json, self.api_url = plan, settings_json, api_url
        self.poll_seconds, self.job_hours = poll_seconds, job_hours

    def execute(self, context: Any) -> dict[str, str]:
        plan = self.plan
        batch = Batches(self.settings_json, self.api_url).create(plan["parent"], plan["batch_id"], plan["batch"])
        if batch.get("state") in TERMINAL:
            return self.execute_complete(context, outcome(batch))
        from dataproc_trigger import DataprocBatchTrigger  # airflow/plugins: on sys.path in every component

        self.defer(trigger=DataprocBatchTrigger(batch["name"], self.settings_json, self.api_url, self.poll_seconds),
                   method_name="execute_complete", timeout=timedelta(hours=self.job_hours))
        raise AssertionError("defer() returns only by raising")  # pragma: no cover

    def execute_complete(self, context: Any, event: dict[str, str]) -> dict[str, str]:
        if event.get("state") != "SUCCEEDED":
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException(f"dataproc batch {event.get('name')} ended {event.get('state')}: {event.get('message')}")
        print(f"dataproc batch {event['name']} succeeded")
        return event
