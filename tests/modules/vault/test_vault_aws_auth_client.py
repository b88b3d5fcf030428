"""The <env>-vault AWS auth client: Vault forwards MWAA's login to its region's STS endpoint, requires the
replay-protection header, and resolves the bound role (iam:GetRole) only after the client config exists."""

from __future__ import annotations

import json

import pytest

from environments import naming
from environments.schema import load_environments
from modules.vault.aws_iam_auth import identity_policy, regional_sts_endpoint

ENVIRONMENTS = {env.name: env for env in load_environments()}


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_auth_client_pins_the_regional_sts_endpoint_and_the_server_id_header(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-vault"]
    client = stack.only("vault_aws_auth_backend_client")
    backend = next(n for n, b in stack.resources("vault_auth_backend").items() if b["type"] == "aws")
    assert client["backend"] == f"${{vault_auth_backend.{backend}.path}}"
    assert client["sts_region"] == env.aws.region
    assert client["sts_endpoint"] == f"https://sts.{env.aws.region}.amazonaws.com"
    # A client must not choose the region: Vault would then follow whatever scope it signed.
    assert client["use_sts_region_from_client"] is False
    assert client["iam_server_id_header_value"] == naming.vault_iam_server_id(env.vault.address)
    assert client["iam_server_id_header_value"] and "." in client["iam_server_id_header_value"]
    # No static AWS keys in config or state: Vault's own credential chain (no environment sets aws_identity).
    assert "access_key" not in client and "secret_key" not in client
    assert env.vault.aws_identity is None and "role_arn" not in client


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_role_resolution_waits_for_the_client_config(stacks, env_name):
    stack = stacks[f"{env_name}-vault"]
    client = next(iter(stack.resources("vault_aws_auth_backend_client")))
    roles = stack.resources("vault_aws_auth_backend_role").values()
    assert len(roles) == 1 + len(ENVIRONMENTS[env_name].domains)  # Airflow's login, then one per domain
    for role in roles:
        assert role["resolve_aws_unique_ids"] is True
        assert f"vault_aws_auth_backend_client.{client}" in role["depends_on"]


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_the_policy_vaults_identity_needs_is_an_output_scoped_to_the_mwaa_role(stacks, env_name):
    stack = stacks[f"{env_name}-vault"]
    output = stack.doc["output"]["vault-aws-identity-policy"]
    policy = json.loads(output["value"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["iam:GetRole"] and statement["Effect"] == "Allow"
    mwaa, *pipelines = statement["Resource"]  # the MWAA role, then each domain's pipeline role (bound roles only)
    assert mwaa.startswith("${data.terraform_remote_state.cross-stack-reference-input-") and "mwaa-execution-role" in mwaa
    env = ENVIRONMENTS[env_name]  # each domain's pipeline role, and its Spark job role where Spark is on
    assert len(pipelines) == len(env.domains) * (2 if env.spark.enabled else 1)
    assert all("pipeline-role-" in arn or "spark-job-" in arn for arn in pipelines)


def test_helpers():
    assert regional_sts_endpoint("eu-west-1") == "https://sts.eu-west-1.amazonaws.com"
    assert json.loads(identity_policy(("arn:aws:iam::1:role/r",)))["Statement"][0]["Resource"] == ["arn:aws:iam::1:role/r"]
    with pytest.raises(ValueError, match="no host name"):
        naming.vault_iam_server_id("not-a-url")


def test_workload_identity_knob_gives_vault_an_assumed_role(tmp_path):
    import copy

    import yaml

    from environments.schema import ENVIRONMENTS_DIR
    from tests.conftest import synth_environment

    data = copy.deepcopy(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
    data.update(name="vaultwif", prefix="ccw")
    data["vault"]["aws_identity"] = {"role_arn": "arn:aws:iam::111111111111:role/vault-aws-auth", "audience": "vault-dev"}
    env, stacks = synth_environment(data, "vaultwif", tmp_path)
    client = stacks["vaultwif-vault"].only("vault_aws_auth_backend_client")
    assert (client["role_arn"], client["identity_token_audience"], client["identity_token_ttl"]) == (
        "arn:aws:iam::111111111111:role/vault-aws-auth", "vault-dev", 3600,
    )
    assert "access_key" not in client and "secret_key" not in client


def test_workload_identity_role_must_be_an_iam_role_arn():
    from pydantic import ValidationError

    from environments.schema import VaultAwsIdentity

    with pytest.raises(ValidationError, match="must be an IAM role ARN"):
        VaultAwsIdentity(role_arn="arn:aws:iam::111111111111:user/someone", audience="vault")
