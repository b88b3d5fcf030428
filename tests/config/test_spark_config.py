"""The environment files' ``spark`` section (issue 12): off in local, on elsewhere, defaults equal to the
measured thresholds the DAGs use, and one exact error line per bad value."""

from __future__ import annotations

import hashlib

import pytest

from environments.schema import SparkThresholds, load_environment, load_environments
from tests.config.test_schema import only_problem, write_env
from tests.modules.aws.spark_support import engine_choice


def test_spark_is_off_in_local_and_on_in_the_cloud_environments():
    assert {e.name: e.spark.enabled for e in load_environments()} == {
        "dev": True, "local": False, "prod": True, "staging": True,
    }


def test_schema_defaults_are_the_dags_measured_thresholds():
    measured = engine_choice().Thresholds()
    defaults = SparkThresholds()
    assert (defaults.max_worker_bytes, defaults.max_worker_days) == (measured.max_worker_bytes, measured.max_worker_days)


@pytest.mark.parametrize("field,value,rule", [
    ("max_worker_bytes", 0, "Input should be greater than 0"),
    ("max_worker_days", -1, "Input should be greater than 0"),
])
def test_thresholds_must_be_positive(tmp_path, field, value, rule):
    path = write_env(tmp_path, lambda d: d["spark"]["thresholds"].update({field: value}))
    assert only_problem(path) == f"{path}: spark.thresholds.{field}: {value}: {rule}"


def test_release_label_must_be_emr_7(tmp_path):
    path = write_env(tmp_path, lambda d: d["spark"]["aws"].update(release_label="emr-6.15.0"))
    assert only_problem(path) == (
        f"{path}: spark.aws.release_label: 'emr-6.15.0': must be an EMR 7.x release label like emr-7.8.0 (Spark 3.5)"
    )


def test_spark_needs_vaults_private_address(tmp_path):
    path = write_env(tmp_path, lambda d: d["vault"].update(private_ips=[]))
    assert only_problem(path) == (
        f"{path}: spark.enabled: True: Spark jobs read the masking key from Vault: set vault.private_ips"
    )


def test_spark_needs_a_gcp_data_spoke(tmp_path):
    def mutate(d):
        d["gcp"]["network"]["spokes"] = {"workloads": d["gcp"]["network"]["spokes"]["workloads"]}
    path = write_env(tmp_path, mutate)
    assert only_problem(path) == (
        f"{path}: gcp.network.spokes: ['workloads']: Spark's Dataproc batches run in a 'data' spoke: add one"
    )


def test_disabled_spark_needs_no_vault_address(tmp_path):
    def mutate(d):
        d["vault"]["private_ips"] = []
        d["spark"] = {"enabled": False, "reason": "not yet"}
    path = write_env(tmp_path, mutate)
    assert load_environment(path).spark.enabled is False


def test_the_derived_spark_service_account_id_is_checked(tmp_path, monkeypatch):
    contracts = tmp_path / "contracts"  # an active domain needs a data contract (schema _contract_problems)
    contracts.mkdir()
    (contracts / "calls.yaml").write_text("domain: calls\n")
    monkeypatch.setenv("CLOUD_CONDUCTOR_CONTRACTS_DIR", str(contracts))

    def mutate(d):
        d["prefix"] = "abcdefgh"
        d["domains"] = d["domains"][:1]
        d["domains"][0]["name"] = "calls"  # the pipeline account (<prefix><env>-calls) still fits
    path = write_env(tmp_path, mutate, name="stagingeu1")
    assert only_problem(path) == (
        f"{path}: prefix: 'abcdefgh': derived gcp_service_account name 'abcdefghstagingeu1-spark-"
        f"{hashlib.sha256(b'calls').hexdigest()[:6]}' is illegal: "
        "GCP service account ids are 6-30 lowercase letters, digits and '-', starting with a letter"
    )
