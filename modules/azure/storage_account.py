"""An ADLS Gen2 lake account: hierarchical namespace, Entra ID only, CMK with infrastructure encryption,
private network only, blob and container soft delete, lifecycle tiering to Cool, Cold and Archive, and
(where the environment protects stateful resources) a delete lock.

Recoverability with a hierarchical namespace: blob versioning, change feed and point-in-time restore are
not supported on HNS accounts (Azure docs, "Blob Storage feature support in Azure Storage accounts"), and
azurerm refuses `versioning_enabled` with `is_hns_enabled` *after* creating the account
(storage_account_resource.go, resourceStorageAccountCreate: "`versioning_enabled` can't be true when
`is_hns_enabled` is true"), which leaves it tainted. Point-in-time restore also needs versioning ("can't be
set when `versioning_enabled` is false"). What HNS does support, and what this account uses: soft delete for
blobs (and directories) and for containers, plus a CanNotDelete management lock on the account itself."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.management_lock import ManagementLock
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountSasPolicy,
)
from cdktf_cdktf_provider_azurerm.storage_container import StorageContainer
from cdktf_cdktf_provider_azurerm.storage_container_immutability_policy import StorageContainerImmutabilityPolicy
from cdktf_cdktf_provider_azurerm.storage_management_policy import (
    StorageManagementPolicy,
    StorageManagementPolicyRule,
    StorageManagementPolicyRuleActions,
    StorageManagementPolicyRuleActionsBaseBlob,
    StorageManagementPolicyRuleFilters,
)
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from modules.terraform_extras import time_sleep

#: What the account's identity needs on the vault to wrap and unwrap its data key, and nothing else.
CMK_USER = "Key Vault Crypto Service Encryption User"


@dataclass(frozen=True)
class BlobTiering:
    """Days after creation; the same meaning as the environment's storage.tiering."""

    cool_after_days: int
    cold_after_days: int
    archive_after_days: int


@dataclass(frozen=True)
class LakeAccountProps:
    name: str
    location: str
    resource_group: str
    replication: str
    key_vault_id: str
    #: Versionless key id: the account follows key rotation.
    key_id: str
    #: Subnets allowed through the account firewall (service endpoint Microsoft.Storage required).
    allowed_subnet_ids: tuple[str, ...]
    #: Key (e.g. the data domain) -> container name.
    containers: dict[str, str]
    tiering: BlobTiering
    soft_delete_days: int = 14
    #: A CanNotDelete lock on the account and Terraform's prevent_destroy (prod): deleting the account, from
    #: Terraform, the portal or the CLI, first needs the lock removed by someone allowed to.
    protect: bool = False
    #: How long to let the identity's role assignment propagate before the account uses the key (Azure RBAC
    #: is eventually consistent; a CMK create in the same minute fails intermittently).
    rbac_wait: str = "60s"
    #: User-delegation SAS tokens live at most this long (DD.HH:MM:SS).
    sas_expiration: str = "00.01:00:00"
    #: Container key -> days: read-only containers (a retired domain's). See ``_read_only``.
    read_only_containers: dict[str, int] = field(default_factory=dict)


def tiering_rule(t: BlobTiering) -> StorageManagementPolicyRule:
    return StorageManagementPolicyRule(
        name="tiering",
        enabled=True,
        filters=StorageManagementPolicyRuleFilters(blob_types=["blockBlob"]),
        actions=StorageManagementPolicyRuleActions(
            base_blob=StorageManagementPolicyRuleActionsBaseBlob(
                tier_to_cool_after_days_since_creation_greater_than=t.cool_after_days,
                tier_to_cold_after_days_since_creation_greater_than=t.cold_after_days,
                tier_to_archive_after_days_since_creation_greater_than=t.archive_after_days,
            ),
            # No version action: an HNS account keeps no blob versions (see the module docstring).
        ),
    )


class LakeAccount(Construct):
    def __init__(self, scope: Construct, id_: str, props: LakeAccountProps):
        super().__init__(scope, id_)
        # A user-assigned identity exists before the account, so the CMK can be set at creation
        # (with infrastructure encryption, which cannot be turned on later).
        self.identity = UserAssignedIdentity(
            self, "identity", name=f"{props.name}-cmk", location=props.location, resource_group_name=props.resource_group
        )
        grant = RoleAssignment(
            self, "cmk-user", scope=props.key_vault_id, role_definition_name=CMK_USER,
            principal_id=self.identity.principal_id,
        )
        rbac = time_sleep(self, "rbac-propagation", create_duration=props.rbac_wait, triggers={"cmk_user": grant.id})
        self.account = StorageAccount(
            self,
            "account",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type=props.replication,
            access_tier="Hot",
            is_hns_enabled=True,
            https_traffic_only_enabled=True,
            min_tls_version="TLS1_2",
            allow_nested_items_to_be_public=False,
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            local_user_enabled=False,
            sftp_enabled=False,
            cross_tenant_replication_enabled=False,
            allowed_copy_scope="PrivateLink",
            infrastructure_encryption_enabled=True,
            public_network_access_enabled=False,
            identity=StorageAccountIdentity(type="UserAssigned", identity_ids=[self.identity.id]),
            # No network path from the runner to the vault is needed here: azurerm resolves the vault through
            # Resource Manager (expandAccountCustomerManagedKey), and the storage service reaches the key as a
            # trusted service (the vault's bypass AzureServices).
            customer_managed_key=StorageAccountCustomerManagedKey(
                key_vault_key_id=props.key_id, user_assigned_identity_id=self.identity.id
            ),
            # Kept even with public access off: if someone turns it on, only the data spoke gets in.
            network_rules=StorageAccountNetworkRules(
                default_action="Deny", bypass=["AzureServices", "Logging", "Metrics"],
                virtual_network_subnet_ids=list(props.allowed_subnet_ids),
            ),
            sas_policy=StorageAccountSasPolicy(expiration_period=props.sas_expiration, expiration_action="Block"),
            blob_properties=StorageAccountBlobProperties(
                # Off, and said so: HNS accounts support no versioning (module docstring); soft delete below.
                versioning_enabled=False,
                delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(days=props.soft_delete_days),
                container_delete_retention_policy=StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
                    days=props.soft_delete_days
                ),
            ),
            depends_on=[rbac],
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if props.protect else None,
        )
        self.id = self.account.id
        if props.protect:
            # CanNotDelete, not ReadOnly: a read-only lock would also block the management-plane writes the
            # platform needs (containers, lifecycle policy, diagnostics). It does not guard blob data, which
            # soft delete covers.
            ManagementLock(
                self, "delete-lock", name=f"{props.name}-no-delete", scope=self.account.id, lock_level="CanNotDelete",
                notes="The lake account of a protected environment; remove this lock deliberately before deleting it.",
            )
        self.name = self.account.name
        # Containers through the management plane (storage_account_id), which works with the
        # account's data plane closed to the Terraform runner. On an HNS account a container is a filesystem.
        self.containers = {
            key: StorageContainer(
                self, f"container-{key}", name=name, storage_account_id=self.account.id,
                container_access_type="private",
            )
            for key, name in props.containers.items()
        }
        self.container_ids = {key: c.id for key, c in self.containers.items()}
        for key, days in props.read_only_containers.items():
            self._read_only(key, props.containers[key], days)
        StorageManagementPolicy(self, "lifecycle", storage_account_id=self.account.id, rule=[tiering_rule(props.tiering)])

    def _read_only(self, key: str, name: str, days: int) -> None:
        """Data plane: a container-level time-based retention policy (WORM), UNLOCKED, refuses Delete Blob, Put
        Blob over an existing blob, metadata and property writes for blobs younger than ``days``, to everyone,
        yet an administrator can still delete the policy for the final deletion. Container-level WORM is
        supported on hierarchical-namespace accounts; version-level WORM is not, and needs versioning (Azure
        docs, "Container-level WORM policies for immutable blob data"; "Version-level WORM policies").
        Management plane: a CanNotDelete lock on the container, which a management lock never extends to blob
        data (Azure docs, "Lock your resources", "Considerations before applying your locks"); it still holds
        where the account carries no lock of its own (an unprotected environment)."""
        container = self.containers[key]
        # Created through storage_account_id, a container's id IS its Resource Manager id (azurerm
        # storage_container_resource.go, create: d.SetId(commonids.NewStorageContainerID(...).ID())), which is what
        # the policy's storage_container_resource_manager_id validates (commonids.ValidateStorageContainerID).
        StorageContainerImmutabilityPolicy(
            self, f"immutability-{key}", storage_container_resource_manager_id=container.id,
            immutability_period_in_days=days, locked=False,
        )
        ManagementLock(
            self, f"read-only-lock-{key}", name=f"{name}-no-delete", scope=container.id,
            lock_level="CanNotDelete",
            notes="A retired domain's data: read-only; delete this lock and the immutability policy only for the final deletion.",
        )
