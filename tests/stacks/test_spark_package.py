"""The Spark job's package ships with the DAG bundle under the names the DAG asks EMR for:
spark/callcenter-<sha>.zip (--py-files) and spark/spark_job-<sha>.py (entry point)."""

from __future__ import annotations

import importlib.util
import json
import zipfile

from tests.conftest import REPO, synth_into

SOURCE = REPO / "airflow" / "dags" / "callcenter" / "spark_job.py"


def _job():
    spec = importlib.util.spec_from_file_location("_test_spark_job", SOURCE)
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    return job


def test_dag_bundle_uploads_the_content_addressed_spark_package(tmp_path):
    result = synth_into(tmp_path / "out", envs=["dev"])
    assert result.returncode == 0, result.stderr[-2000:]
    stack = json.loads((tmp_path / "out" / "stacks" / "dev-aws-orchestration" / "cdk.tf.json").read_text())
    objects = {o["key"]: o for o in stack["resource"]["aws_s3_object"].values()}
    zip_name, entry_name = _job().package_names(_job().package_digest(SOURCE.parent))
    assert {f"spark/{zip_name}", f"spark/{entry_name}"} <= set(objects)
    package = objects[f"spark/{zip_name}"]
    assert package["server_side_encryption"] == "aws:kms" and package["kms_key_id"]
    asset = tmp_path / "out" / "stacks" / "dev-aws-orchestration" / package["source"]
    assert "callcenter/spark_job.py" in zipfile.ZipFile(asset).namelist()
