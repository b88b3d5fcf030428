"""The GCP secrets engine: short-lived OAuth access tokens, one roleset per data domain.

Why a roleset with ``access_token``: Vault owns one service account per roleset,
bound only on that domain's buckets, and hands out OAuth tokens that expire on
their own (at most an hour). ``service_account_key`` rolesets would mint
long-lived JSON keys, so they are not offered.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_vault.gcp_secret_backend import GcpSecretBackend
from cdktf_cdktf_provider_vault.gcp_secret_roleset import GcpSecretRoleset, GcpSecretRolesetBinding
from constructs import Construct

from modules.vault.lease import LeaseTtl

#: Object read/write/list on the bound bucket; no bucket or IAM administration.
BUCKET_ROLE = "roles/storage.objectUser"
STORAGE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"


@dataclass(frozen=True)
class GcpSecretsEngineProps:
    path: str
    #: The engine's service-account key JSON: a sensitive variable's token, never a literal.
    credentials: str
    lease: LeaseTtl
    description: str = "Short-lived GCP access tokens per data domain"


@dataclass(frozen=True)
class GcpSecretsRolesetProps:
    name: str
    project: str
    #: Bucket names (usually cross-stack references).
    bucket_names: tuple[str, ...]


class GcpSecretsEngine(Construct):
    def __init__(self, scope: Construct, id_: str, props: GcpSecretsEngineProps):
        super().__init__(scope, id_)
        self.path = props.path
        self.backend = GcpSecretBackend(
            self,
            "backend",
            path=props.path,
            description=props.description,
            credentials=props.credentials,
            **props.lease.mount_args(),
            # After `rotate-root` only Vault holds the live key; a changed variable must not overwrite it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["credentials"]),
        )

    def add_roleset(self, id_: str, props: GcpSecretsRolesetProps) -> str:
        """Add a domain's roleset; returns the API path its tokens are read from."""
        if not props.bucket_names:
            raise ValueError(f"roleset {props.name}: needs at least one bucket to bind")
        GcpSecretRoleset(
            self,
            id_,
            backend=self.backend.path,
            roleset=props.name,
            project=props.project,
            secret_type="access_token",
            token_scopes=[STORAGE_SCOPE],
            binding=[
                GcpSecretRolesetBinding(resource=f"//storage.googleapis.com/projects/_/buckets/{name}", roles=[BUCKET_ROLE])
                for name in props.bucket_names
            ],
        )
        return f"{self.path}/roleset/{props.name}/token"
