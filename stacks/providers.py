"""Provider configuration, one function per cloud; only stacks call these."""

from __future__ import annotations

from cdktf import TerraformVariable

from stacks.base import PlatformStack

# Services a local AWS stand-in must answer for; the provider sends each to the endpoint.
_LOCAL_AWS_SERVICES = (
    "cloudwatch", "ec2", "glue", "iam", "kms", "logs", "s3", "sns", "sqs", "sts", "budgets", "mwaa", "events",
)


def aws(stack: PlatformStack):
    from cdktf_cdktf_provider_aws.provider import AwsProvider

    env = stack.env
    if env.aws.endpoint is None:
        # allowed_account_ids stops a plan made for one environment touching another's account.
        return AwsProvider(stack, "aws", region=env.aws.region, allowed_account_ids=[env.aws.account_id])
    # A local stand-in (moto): the port can change per run, so it is a variable
    # (TF_VAR_aws_endpoint) whose default comes from the environment file.
    endpoint = TerraformVariable(
        stack, "aws_endpoint", type="string", default=env.aws.endpoint,
        description="Base URL of the local AWS stand-in",
    ).string_value
    return AwsProvider(
        stack,
        "aws",
        region=env.aws.region,
        endpoints=[{service: endpoint for service in _LOCAL_AWS_SERVICES}],
        s3_use_path_style=True,
        skip_credentials_validation=True,
        # The stand-in answers sts:GetCallerIdentity; without the account id the provider builds
        # ARNs like arn:aws:glue:<region>::crawler/x, and tags/policies never converge on re-plan.
        skip_requesting_account_id=False,
        skip_metadata_api_check="true",
    )


def google(stack: PlatformStack):
    from cdktf_cdktf_provider_google.provider import GoogleProvider

    gcp = stack.env.gcp
    return GoogleProvider(
        stack, "google", project=gcp.project_id, region=gcp.region,
        # billingbudgets.googleapis.com refuses user credentials without a quota project (403 "requires a
        # quota project"; terraform-provider-google#7948): send X-Goog-User-Project from billing_project.
        # The deployer needs serviceusage.services.use on it (README, "GCP deployer roles").
        billing_project=gcp.billing_project or gcp.project_id, user_project_override=True,
    )


def azurerm(stack: PlatformStack):
    from cdktf_cdktf_provider_azurerm.provider import (
        AzurermProvider,
        AzurermProviderFeatures,
        AzurermProviderFeaturesStorage,
    )

    env = stack.env
    return AzurermProvider(
        stack,
        "azurerm",
        # The lake account's data plane is closed (public access off): the provider must manage it
        # through Resource Manager only, never by calling the blob/queue endpoints.
        features=[AzurermProviderFeatures(storage=[AzurermProviderFeaturesStorage(data_plane_available=False)])],
        subscription_id=env.azure.subscription_id,
        tenant_id=env.azure.tenant_id,
        # Entra ID for data-plane calls: storage accounts have shared-key access off.
        storage_use_azuread=True,
    )


def vault(stack: PlatformStack):
    from cdktf_cdktf_provider_vault.provider import VaultProvider

    # The token comes from VAULT_TOKEN (or the operator's login) at plan time, never from code.
    return VaultProvider(stack, "vault", address=stack.env.vault.address)
