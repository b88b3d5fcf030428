"""The tag aspect: every taggable resource on every cloud, with domain scopes and explicit tags winning."""

from __future__ import annotations

import json

import modules  # noqa: F401  (lazy provider loading)
from cdktf import Aspects, TerraformStack
from cdktf import Testing as CdktfTesting  # renamed: pytest would try to collect "Test*" classes
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_google.provider import GoogleProvider
from cdktf_cdktf_provider_google.storage_bucket import StorageBucket
from cdktf_cdktf_provider_vault.mount import Mount
from cdktf_cdktf_provider_vault.provider import VaultProvider
from constructs import Construct
from modules.tagging import TagAspect, scope_tags


def synth(build) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="eu-west-1")
    GoogleProvider(stack, "google", project="p")
    VaultProvider(stack, "vault", address="https://vault.example")
    Aspects.of(stack).add(TagAspect({"environment": "dev", "owner": "platform", "domain": "platform"}))
    build(stack)
    return json.loads(CdktfTesting.synth(stack))["resource"]


def test_tags_reach_aws_and_gcp_resources_but_not_untaggable_ones():
    def build(stack):
        S3Bucket(stack, "bucket", bucket="b")
        StorageBucket(stack, "gcs", name="g", location="EU")
        Mount(stack, "kv", path="kv", type="kv-v2")

    resources = synth(build)
    expected = {"environment": "dev", "owner": "platform", "domain": "platform"}
    assert resources["aws_s3_bucket"]["bucket"]["tags"] == expected
    assert resources["google_storage_bucket"]["gcs"]["labels"] == expected
    assert "tags" not in resources["vault_mount"]["kv"] and "labels" not in resources["vault_mount"]["kv"]


def test_domain_scope_overrides_stack_tags_and_explicit_tags_win():
    def build(stack):
        domain = Construct(stack, "call-analytics")
        scope_tags(domain, {"domain": "call_analytics", "classification": "pii"})
        S3Bucket(domain, "raw", bucket="r", tags={"owner": "call-team"})
        IamRole(stack, "role", assume_role_policy="{}")

    resources = synth(build)
    assert next(iter(resources["aws_s3_bucket"].values()))["tags"] == {
        "environment": "dev",
        "owner": "call-team",
        "domain": "call_analytics",
        "classification": "pii",
    }
    assert next(iter(resources["aws_iam_role"].values()))["tags"]["domain"] == "platform"


def test_resources_whose_tag_attribute_means_something_else():
    from cdktf_cdktf_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
    from cdktf_cdktf_provider_vault.azure_secret_backend_role import AzureSecretBackendRole

    def build(stack):
        MonitoringNotificationChannel(stack, "mail", type="email", labels={"email_address": "ops@example.com"})
        AzureSecretBackendRole(stack, "role", role="r", backend="azure")

    resources = synth(build)
    channel = resources["google_monitoring_notification_channel"]["mail"]
    assert channel["labels"] == {"email_address": "ops@example.com"}
    assert channel["user_labels"] == {"environment": "dev", "owner": "platform", "domain": "platform"}
    assert "tags" not in resources["vault_azure_secret_backend_role"]["role"]
