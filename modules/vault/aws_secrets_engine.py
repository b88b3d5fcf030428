"""The AWS secrets engine: short-lived STS credentials, one role per data domain.

Why ``federation_token``: Vault calls sts:GetFederationToken with the role's
inline policy, so a domain gets temporary credentials limited to the
intersection of that policy and the engine's own IAM user; no IAM users or
access keys are created per lease, and STS ends them on its own even if Vault
never revokes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_vault.aws_secret_backend import AwsSecretBackend
from cdktf_cdktf_provider_vault.aws_secret_backend_role import AwsSecretBackendRole
from constructs import Construct

from modules.vault.lease import LeaseTtl

#: STS refuses federation tokens shorter than 15 minutes.
STS_MIN_SECONDS = 900


@dataclass(frozen=True)
class AwsSecretsEngineProps:
    path: str
    region: str
    #: The engine's own IAM credentials: tokens of sensitive variables, never literals.
    access_key: str
    secret_key: str
    lease: LeaseTtl
    description: str = "Short-lived AWS credentials per data domain"


@dataclass(frozen=True)
class AwsDomainResources:
    """What one domain may touch. Values are ARNs (usually cross-stack references)."""

    bucket_arns: tuple[str, ...]
    kms_key_arn: str
    crawler_arns: tuple[str, ...]
    #: kms:ViaService pins key use to S3 in this region.
    region: str


def domain_policy_document(resources: AwsDomainResources) -> str:
    """The IAM policy of a domain's credentials: named actions on named resources only, never ``*``."""
    statements = [
        {
            "Sid": "ListDomainBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": list(resources.bucket_arns),
        },
        {
            "Sid": "ReadWriteDomainObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{arn}/*" for arn in resources.bucket_arns],
        },
        {
            "Sid": "UseLakeKeyThroughS3",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": [resources.kms_key_arn],
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{resources.region}.amazonaws.com"}},
        },
    ]
    if resources.crawler_arns:
        statements.append(
            {
                "Sid": "RunDomainCrawler",
                "Effect": "Allow",
                "Action": ["glue:StartCrawler", "glue:GetCrawler"],
                "Resource": list(resources.crawler_arns),
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=None)


@dataclass(frozen=True)
class AwsSecretsRoleProps:
    name: str
    resources: AwsDomainResources


class AwsSecretsEngine(Construct):
    def __init__(self, scope: Construct, id_: str, props: AwsSecretsEngineProps):
        super().__init__(scope, id_)
        if props.lease.default_seconds < STS_MIN_SECONDS:
            raise ValueError(f"AWS STS credentials live at least {STS_MIN_SECONDS}s; lease default is {props.lease.default_seconds}s")
        self._lease = props.lease
        self.path = props.path
        self.backend = AwsSecretBackend(
            self,
            "backend",
            path=props.path,
            description=props.description,
            region=props.region,
            access_key=props.access_key,
            secret_key=props.secret_key,
            **props.lease.mount_args(),
            # The operator supplies the key once, then `vault write -f <path>/config/rotate-root` replaces it
            # with one only Vault knows. Vault reports the new key id, so without this a later plan would
            # write the dead bootstrap key back. Re-bootstrapping is `vault write <path>/config/root` (docs/vault.md).
            lifecycle=TerraformResourceLifecycle(ignore_changes=["access_key", "secret_key"]),
        )

    def add_role(self, id_: str, props: AwsSecretsRoleProps) -> str:
        """Add a domain's role; returns the API path its credentials are read from."""
        AwsSecretBackendRole(
            self,
            id_,
            backend=self.backend.path,
            name=props.name,
            credential_type="federation_token",
            policy_document=domain_policy_document(props.resources),
            default_sts_ttl=self._lease.default_seconds,
            max_sts_ttl=self._lease.max_seconds,
        )
        return f"{self.path}/creds/{props.name}"
