"""<env>-aws-orchestration: the MWAA environment from config, and the bundle it runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from environments import naming
from environments.schema import load_environments
from tests.modules.aws.support import by_path, knob_stacks, logical, ref

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]
REMOTE = "${data.terraform_remote_state.cross-stack-reference-input-"
AIRFLOW_DAGS = Path(__file__).resolve().parents[3] / "airflow" / "dags"


def bundle_keys() -> set[str]:
    """What the bundle must ship from airflow/dags (read here independently of modules/aws/dag_bundle.py)."""
    return {
        p.relative_to(AIRFLOW_DAGS).as_posix() for p in AIRFLOW_DAGS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def orchestration(stacks, env_name):
    return stacks[f"{env_name}-aws-orchestration"]


@pytest.mark.parametrize("env_name", CLOUD)
def test_mwaa_environment_follows_the_environment_file(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], orchestration(stacks, env_name)
    o = env.orchestration
    mwaa = stack.only("aws_mwaa_environment")
    assert mwaa["name"] == naming.mwaa_environment(env.prefix, env.name)
    assert mwaa["airflow_version"] == o.airflow_version
    assert (mwaa["environment_class"], mwaa["min_workers"], mwaa["max_workers"], mwaa["schedulers"]) == (
        o.environment_class, o.min_workers, o.max_workers, o.schedulers,
    )
    assert mwaa["webserver_access_mode"] == "PRIVATE_ONLY" == o.webserver_access
    assert mwaa["logging_configuration"] == {
        kind: {"enabled": True, "log_level": o.log_level}
        for kind in ("dag_processing_logs", "scheduler_logs", "task_logs", "webserver_logs", "worker_logs")
    }
    assert mwaa["dag_s3_path"] == "dags"
    platform, network = f"{REMOTE}{env_name}-aws-platform.outputs.", f"{REMOTE}{env_name}-aws-network.outputs."
    assert mwaa["execution_role_arn"].startswith(platform) and "mwaa-execution-role" in mwaa["execution_role_arn"]
    assert mwaa["kms_key"].startswith(platform) and "lake-key" in mwaa["kms_key"]
    assert mwaa["source_bucket_arn"].startswith(platform) and "dag-bucket" in mwaa["source_bucket_arn"]
    subnets = mwaa["network_configuration"]["subnet_ids"]
    azs = [f"{env.aws.region}{z}" for z in env.aws.network.availability_zones[:2]]
    assert len(subnets) == 2 and all(s.startswith(network) for s in subnets)
    assert all(f"spoke-orchestration_private-{az}" in s for s, az in zip(subnets, azs))


@pytest.mark.parametrize("env_name", CLOUD)
def test_mwaa_security_group_admits_only_itself(stacks, env_name):
    stack = orchestration(stacks, env_name)
    group = ref("aws_security_group", logical(stack, "aws_security_group", "mwaa/sg"), "id")
    assert stack.only("aws_mwaa_environment")["network_configuration"]["security_group_ids"] == [group]
    (ingress,) = stack.resources("aws_vpc_security_group_ingress_rule").values()
    assert ingress["referenced_security_group_id"] == group and "cidr_ipv4" not in ingress
    egress = by_path(stack, "aws_vpc_security_group_egress_rule")
    vault_port = int(ENVIRONMENTS[env_name].vault.address.rsplit(":", 1)[1])
    assert set(egress) == {"mwaa/to-self", "mwaa/tcp-443-out", f"mwaa/tcp-{vault_port}-out"}
    assert all(e["ip_protocol"] == "tcp" for p, e in egress.items() if p != "mwaa/to-self")


@pytest.mark.parametrize("env_name", CLOUD)
def test_requirements_are_pinned_by_object_version(stacks, env_name):
    stack = orchestration(stacks, env_name)
    mwaa = stack.only("aws_mwaa_environment")
    objects = by_path(stack, "aws_s3_object")
    requirements = logical(stack, "aws_s3_object", "dag-bundle/object-requirements.txt")
    assert objects["dag-bundle/object-requirements.txt"]["key"] == mwaa["requirements_s3_path"] == "requirements.txt"
    assert mwaa["requirements_s3_object_version"] == ref("aws_s3_object", requirements, "version_id")
    # The lock ships content-addressed inside plugins.zip (pinned with it), where the uploaded requirements'
    # --constraint line points; no lock object of its own, which a deploy could delete under a pinned version.
    assert not [o["key"] for o in objects.values() if "constraints" in o["key"]]
    uploaded = (stack.path / objects["dag-bundle/object-requirements.txt"]["source"]).read_text().splitlines()[0]
    assert re.fullmatch(r'--constraint "/usr/local/airflow/plugins/constraints-[0-9a-f]{16}\.txt"', uploaded)
    assert mwaa["plugins_s3_object_version"] == ref("aws_s3_object", logical(stack, "aws_s3_object", "dag-bundle/object-plugins.zip"), "version_id")


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_every_bundled_file_is_one_kms_encrypted_object_in_the_dag_bucket(stacks, env_name):
    stack = orchestration(stacks, env_name)
    keys = {o["key"] for o in stack.resources("aws_s3_object").values()}
    assert {f"dags/{k}" for k in bundle_keys()} <= keys
    for body in stack.resources("aws_s3_object").values():
        assert body["server_side_encryption"] == "aws:kms" and "lake-key" in body["kms_key_id"]
        assert "dag-bucket" in body["bucket"] and len(body["source_hash"]) == 64


def test_local_has_no_mwaa_and_says_why(stacks):
    mwaa = ENVIRONMENTS["local"].orchestration.mwaa
    assert not mwaa.enabled and "moto has no MWAA" in mwaa.reason
    assert not orchestration(stacks, "local").resources("aws_mwaa_environment")


def test_orchestration_knobs():
    env, stacks = knob_stacks()
    mwaa = stacks[f"{env.name}-aws-orchestration"].only("aws_mwaa_environment")
    assert (mwaa["environment_class"], mwaa["min_workers"], mwaa["max_workers"], mwaa["schedulers"]) == ("mw1.large", 3, 7, 3)
    assert mwaa["webserver_access_mode"] == "PUBLIC_ONLY"
    assert {c["log_level"] for c in mwaa["logging_configuration"].values()} == {"WARNING"}


@pytest.mark.parametrize("env_name", CLOUD)
def test_secrets_backend_options_come_from_config_and_naming(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    options = orchestration(stacks, env_name).only("aws_mwaa_environment")["airflow_configuration_options"]
    assert options["secrets.backend"] == "regional_sts_vault.RegionalStsVaultBackend"
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "url": env.vault.address, "auth_type": "aws_iam", "auth_mount_point": naming.VAULT_AWS_AUTH_MOUNT,
        "role_id": naming.vault_airflow_role(env.name), "region": env.aws.region, "mount_point": env.vault.kv_mount,
        "iam_server_id_header": naming.vault_iam_server_id(env.vault.address),
        "kv_engine_version": 2, "connections_path": "airflow/connections", "variables_path": "airflow/variables",
        "verify": "/usr/local/airflow/plugins/vault-ca.pem",  # vault.ca_file, shipped in plugins.zip
    }
