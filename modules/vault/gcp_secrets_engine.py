"""The GCP secrets engine: short-lived OAuth access tokens, one impersonated account per data domain.

Why impersonated accounts, not rolesets: a roleset has Vault create and key its
own service accounts, so the engine's account needs project-wide service-account
and key admin, which can mint keys for any account in the project (review #16).
An impersonated account is a pre-created service account (modules/gcp/
domain_pipeline_account.py, object access on the domain's buckets only) on which
the engine holds only ``roles/iam.serviceAccountTokenCreator``; Vault answers
``<mount>/impersonated-account/<name>/token`` with an OAuth token that expires on
its own (Vault GCP secrets engine API: ``token``, ``expires_at_seconds``,
``token_ttl``). No key is ever minted.

The engine's bootstrap key goes in through ``credentials_wo`` (write-only, vault
provider >= 5.0, Terraform >= 1.11): it reaches Vault but is never stored in the
state (review #18). Bump ``credentials_version`` to send a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.gcp_secret_backend import GcpSecretBackend
from cdktf_cdktf_provider_vault.gcp_secret_impersonated_account import GcpSecretImpersonatedAccount
from constructs import Construct

from modules.vault.lease import LeaseTtl

STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
#: Dataproc's REST API accepts only this scope (Dataproc REST reference, "Authorization scopes"); what the token
#: may do stays bounded by the account's IAM grants (its buckets, creating/reading batches as its Spark account).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class GcpSecretsEngineProps:
    path: str
    #: The engine's service-account key JSON: a sensitive (ephemeral) variable's token, never a literal.
    credentials: str
    lease: LeaseTtl
    #: Write-only attributes are sent only when this changes: bump it to rotate the bootstrap key.
    credentials_version: int = 1
    description: str = "Short-lived GCP access tokens per data domain"


@dataclass(frozen=True)
class GcpImpersonatedAccountProps:
    name: str
    #: The domain's pre-created pipeline service account (a cross-stack reference).
    service_account_email: str
    #: OAuth scopes of the minted tokens: storage only, plus cloud-platform where the domain's DAGs submit
    #: Dataproc batches (callcenter/dataproc.py).
    scopes: tuple[str, ...] = (STORAGE_SCOPE,)


class GcpSecretsEngine(Construct):
    def __init__(self, scope: Construct, id_: str, props: GcpSecretsEngineProps):
        super().__init__(scope, id_)
        self.path = props.path
        self._lease = props.lease
        self.backend = GcpSecretBackend(
            self,
            "backend",
            path=props.path,
            description=props.description,
            credentials_wo=props.credentials,
            credentials_wo_version=props.credentials_version,
            **props.lease.mount_args(),
        )

    def add_impersonated_account(self, id_: str, props: GcpImpersonatedAccountProps) -> str:
        """Add a domain's impersonated account; returns the API path its tokens are read from."""
        GcpSecretImpersonatedAccount(
            self,
            id_,
            backend=self.backend.path,
            impersonated_account=props.name,
            service_account_email=props.service_account_email,
            token_scopes=list(props.scopes),
            ttl=str(self._lease.default_seconds),
        )
        return f"{self.path}/impersonated-account/{props.name}/token"
