"""The Azure secrets engine: short-lived service principals, one role per data domain.

Each lease creates a service principal holding one data-plane role on the
domain's blob container only, and Vault deletes it when the lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_vault.azure_secret_backend import AzureSecretBackend
from cdktf_cdktf_provider_vault.azure_secret_backend_role import (
    AzureSecretBackendRole,
    AzureSecretBackendRoleAzureRoles,
)
from constructs import Construct

from modules.vault.lease import LeaseTtl

#: Read, write and delete blobs in the scoped container; no account keys, no management plane.
CONTAINER_ROLE = "Storage Blob Data Contributor"


@dataclass(frozen=True)
class AzureSecretsEngineProps:
    path: str
    subscription_id: str
    tenant_id: str
    #: The engine's own app registration: tokens of sensitive variables, never literals.
    client_id: str
    client_secret: str
    lease: LeaseTtl
    description: str = "Short-lived Azure service principals per data domain"


@dataclass(frozen=True)
class AzureSecretsRoleProps:
    name: str
    #: Resource ids of the domain's containers (usually cross-stack references).
    container_ids: tuple[str, ...]


class AzureSecretsEngine(Construct):
    def __init__(self, scope: Construct, id_: str, props: AzureSecretsEngineProps):
        super().__init__(scope, id_)
        self.path = props.path
        self._lease = props.lease
        self.backend = AzureSecretBackend(
            self,
            "backend",
            path=props.path,
            description=props.description,
            subscription_id=props.subscription_id,
            tenant_id=props.tenant_id,
            client_id=props.client_id,
            client_secret=props.client_secret,
            **props.lease.mount_args(),
            # After `rotate-root` only Vault holds the live secret; a changed variable must not overwrite it.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["client_secret"]),
        )

    def add_role(self, id_: str, props: AzureSecretsRoleProps) -> str:
        """Add a domain's role; returns the API path its credentials are read from."""
        if not props.container_ids:
            raise ValueError(f"role {props.name}: needs at least one container to scope")
        AzureSecretBackendRole(
            self,
            id_,
            backend=self.backend.path,
            role=props.name,
            azure_roles=[AzureSecretBackendRoleAzureRoles(role_name=CONTAINER_ROLE, scope=scope) for scope in props.container_ids],
            ttl=str(self._lease.default_seconds),
            max_ttl=str(self._lease.max_seconds),
        )
        return f"{self.path}/creds/{props.name}"
