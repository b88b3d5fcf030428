"""The vault modules on their own: secure defaults, and the unsafe inputs they refuse."""

from __future__ import annotations

import json

import pytest

import modules  # noqa: F401  (first: registers the provider packages lazily)

# isort: split
from cdktf import TerraformStack
from cdktf import Testing as CdktfTesting  # renamed: pytest would try to collect "Test*" classes
from cdktf_cdktf_provider_vault.provider import VaultProvider

from modules.vault.aws_iam_auth import AwsIamAuth, AwsIamAuthProps, AwsIamAuthRoleProps
from modules.vault.aws_secrets_engine import (
    AwsDomainResources,
    AwsSecretsEngine,
    AwsSecretsEngineProps,
    domain_policy_document,
)
from modules.vault.kubernetes_auth import KubernetesAuth, KubernetesAuthProps, KubernetesAuthRoleProps
from modules.vault.lease import LeaseTtl
from modules.vault.policy import PathRule, render_hcl

LEASE = LeaseTtl(3600, 14400)


def stack() -> TerraformStack:
    scope = TerraformStack(CdktfTesting.app(), "test")
    VaultProvider(scope, "vault", address="https://vault.example:8200")
    return scope


def test_policy_hcl_is_one_block_per_rule():
    text = render_hcl((PathRule("kv/data/a/*"), PathRule("kv/metadata/a/*", ("read", "list"))))
    assert text == (
        'path "kv/data/a/*" {\n  capabilities = ["read"]\n}\n\n'
        'path "kv/metadata/a/*" {\n  capabilities = ["read", "list"]\n}\n'
    )


@pytest.mark.parametrize(
    "path, capabilities",
    [
        ("kv/data/a/*", ("sudo",)),
        ("kv/data/a/*", ()),
        ("*", ("read",)),
        ("+/creds/x", ("read",)),
        ("sys/mounts", ("read",)),
        ("auth/token/create", ("update",)),
        ('kv/data/"x"', ("read",)),
    ],
)
def test_policy_rules_refuse_sudo_root_globs_and_sys(path, capabilities):
    with pytest.raises(ValueError):
        PathRule(path, capabilities)


@pytest.mark.parametrize("default, maximum", [(7200, 14400), (3600, 2764800), (3600, 60), (0, 60)])
def test_lease_bounds(default, maximum):
    with pytest.raises(ValueError):
        LeaseTtl(default, maximum)


def test_aws_engine_refuses_leases_sts_cannot_issue():
    with pytest.raises(ValueError, match="900"):
        AwsSecretsEngine(stack(), "aws", AwsSecretsEngineProps(path="aws", region="eu-west-1", access_key="${var.a}",
                                                                secret_key="${var.s}", lease=LeaseTtl(300, 600)))


def test_domain_iam_policy_names_actions_and_resources():
    document = json.loads(domain_policy_document(AwsDomainResources(
        bucket_arns=("arn:aws:s3:::b1",), kms_key_arn="arn:aws:kms:eu-west-1:111111111111:key/k",
        crawler_arns=("arn:aws:glue:eu-west-1:111111111111:crawler/c",), region="eu-west-1",
    )))
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["ReadWriteDomainObjects"]["Resource"] == ["arn:aws:s3:::b1/*"]
    assert statements["UseLakeKeyThroughS3"]["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert all("*" not in action for s in document["Statement"] for action in s["Action"])


def test_aws_iam_auth_refuses_wildcard_principals():
    auth = AwsIamAuth(stack(), "aws-auth", AwsIamAuthProps(path="aws", lease=LEASE, sts_region="eu-west-1", server_id_header="vault.example"))
    with pytest.raises(ValueError, match="wildcard"):
        auth.add_role("r", AwsIamAuthRoleProps(name="r", principal_arns=("arn:aws:iam::111111111111:role/*",), policies=("p",)))


@pytest.mark.parametrize("accounts, namespaces", [(("*",), ("ns",)), (("sa",), ("*",)), ((), ("ns",))])
def test_kubernetes_auth_refuses_unbound_roles(accounts, namespaces):
    auth = KubernetesAuth(stack(), "k8s", KubernetesAuthProps(path="kubernetes", host="https://h", ca_cert="pem", lease=LEASE))
    with pytest.raises(ValueError, match="explicitly"):
        auth.add_role("r", KubernetesAuthRoleProps(name="r", service_accounts=accounts, namespaces=namespaces, policies=("p",)))
