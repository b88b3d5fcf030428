"""A data domain's pipeline service account, for Vault's GCP engine to impersonate.

Why an impersonated account and not a roleset: a roleset makes Vault create and
key service accounts itself, so the engine's own account needs project-wide
``roles/iam.serviceAccountAdmin`` and ``serviceAccountKeyAdmin``, which can mint a
key for any account in the project (deployer, GKE nodes): a project takeover
path. Here the account is created by Terraform with object access on the domain's
buckets only, and the engine's account gets ``roles/iam.serviceAccountTokenCreator``
on this one account and nothing else (Vault GCP secrets engine docs,
"Impersonated accounts"). No key is ever created for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

#: Object read/write/list; no bucket or IAM administration (GCS IAM roles reference).
BUCKET_ROLE = "roles/storage.objectUser"
#: generateAccessToken on this account only: what the engine needs to impersonate it.
TOKEN_CREATOR_ROLE = "roles/iam.serviceAccountTokenCreator"


@dataclass(frozen=True)
class DomainPipelineAccountProps:
    account_id: str
    domain: str
    project: str
    #: The domain's bucket names (or references).
    bucket_names: tuple[str, ...]
    #: Vault's GCP engine service account e-mail: the one principal that may mint tokens for this account.
    engine_service_account: str


class DomainPipelineAccount(Construct):
    def __init__(self, scope: Construct, id_: str, props: DomainPipelineAccountProps):
        super().__init__(scope, id_)
        if not props.bucket_names:
            raise ValueError(f"pipeline account {props.account_id}: needs at least one bucket to bind")
        self.account = ServiceAccount(
            self, "account", account_id=props.account_id, project=props.project,
            display_name=f"{props.domain} pipeline (impersonated by Vault)",
        )
        member = f"serviceAccount:{self.account.email}"
        for index, bucket in enumerate(props.bucket_names):
            StorageBucketIamMember(self, f"bucket-{index}", bucket=bucket, role=BUCKET_ROLE, member=member)
        ServiceAccountIamMember(
            self, "vault-token-creator", service_account_id=self.account.name, role=TOKEN_CREATOR_ROLE,
            member=f"serviceAccount:{props.engine_service_account}",
        )
        self.email = self.account.email
