"""A Key Vault for customer-managed keys: RBAC only, purge protection, no public network by default, its own
private endpoint, and one HSM-backed key that rotates itself.

Creating the key is a data-plane call, so the Terraform runner must reach the vault (ARM cannot create it
for us): either from inside the network through the private endpoint (``in_vnet``), or from public ranges the
firewall admits (``cidrs``). The key waits for that path and for the runner's RBAC role to propagate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.key_vault import KeyVault as AzKeyVault
from cdktf_cdktf_provider_azurerm.key_vault import KeyVaultNetworkAcls
from cdktf_cdktf_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

from modules.azure.private_endpoint import PrivateEndpoint, PrivateEndpointProps
from modules.terraform_extras import time_sleep

#: Lets the Terraform principal create and rotate keys (data plane, RBAC model).
CRYPTO_OFFICER = "Key Vault Crypto Officer"
#: Azure RBAC is eventually consistent: a role assignment can take a minute or more to be honoured by the
#: data plane (403 until then). Azure Verified Modules wait 30-60 s (wait_for_rbac_before_key_operations).
RBAC_PROPAGATION = "60s"
#: Soft-delete retention bounds (Key Vault accepts 7-90 days; the name stays taken while soft-deleted).
MIN_SOFT_DELETE_DAYS, MAX_SOFT_DELETE_DAYS = 7, 90


@dataclass(frozen=True)
class VaultEndpoint:
    """Where the vault's private endpoint goes and which private DNS zone records it."""

    name: str
    subnet_id: str
    #: privatelink.vaultcore.azure.net
    dns_zone_id: str


@dataclass(frozen=True)
class KeyVaultProps:
    name: str
    location: str
    resource_group: str
    tenant_id: str
    #: Object id of the principal running Terraform (it creates the key).
    admin_object_id: str
    key_name: str
    endpoint: VaultEndpoint
    #: How the runner reaches the data plane: ``in_vnet`` (through the private endpoint; the vault admits
    #: no public network) or ``cidrs`` (public network access on, limited to ``deployer_cidrs``).
    deployer_network: Literal["in_vnet", "cidrs"] = "in_vnet"
    deployer_cidrs: tuple[str, ...] = ()
    #: Azure Storage CMK requires soft delete AND purge protection on the vault (customer-managed-keys-overview:
    #: "Key vault requirements"; azurerm's expandAccountCustomerManagedKey refuses the account otherwise: "must
    #: be configured for both Purge Protection and Soft Delete"), so purge protection is never optional here;
    #: a disposable environment shortens the retention instead (the name is held that long after a destroy,
    #: and azurerm's default recover_soft_deleted_key_vaults recovers it if re-created meanwhile).
    soft_delete_days: int = MAX_SOFT_DELETE_DAYS
    #: ISO 8601 durations: a new key version every year, each version valid two years.
    rotate_after: str = "P1Y"
    expire_after: str = "P2Y"
    rbac_wait: str = RBAC_PROPAGATION

    def __post_init__(self) -> None:
        if self.deployer_network == "cidrs" and not self.deployer_cidrs:
            raise ValueError("deployer_network 'cidrs' needs deployer_cidrs (the runner's public egress ranges)")
        if self.deployer_network == "in_vnet" and self.deployer_cidrs:
            raise ValueError("deployer_cidrs are only used with deployer_network 'cidrs'")
        if not MIN_SOFT_DELETE_DAYS <= self.soft_delete_days <= MAX_SOFT_DELETE_DAYS:
            raise ValueError(f"soft_delete_days must be {MIN_SOFT_DELETE_DAYS}-{MAX_SOFT_DELETE_DAYS}")


class KeyVault(Construct):
    def __init__(self, scope: Construct, id_: str, props: KeyVaultProps):
        super().__init__(scope, id_)
        public = props.deployer_network == "cidrs"
        self.vault = AzKeyVault(
            self,
            "vault",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group,
            tenant_id=props.tenant_id,
            sku_name="premium",  # HSM-backed keys
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=props.soft_delete_days,
            # With cidrs, the public endpoint answers only the listed ranges (default_action Deny); the
            # storage account reaches the key as a trusted service (bypass AzureServices) either way.
            public_network_access_enabled=public,
            network_acls=KeyVaultNetworkAcls(
                default_action="Deny", bypass="AzureServices", ip_rules=list(props.deployer_cidrs)
            ),
        )
        self.id = self.vault.id
        self.endpoint = PrivateEndpoint(self, "endpoint", PrivateEndpointProps(
            name=props.endpoint.name, location=props.location, resource_group=props.resource_group,
            subnet_id=props.endpoint.subnet_id, target_id=self.vault.id, subresource="vault",
            dns_zone_id=props.endpoint.dns_zone_id,
        ))
        admin = RoleAssignment(
            self, "terraform-crypto-officer", scope=self.vault.id, role_definition_name=CRYPTO_OFFICER,
            principal_id=props.admin_object_id,
        )
        # An in-VNet runner reaches the vault through its endpoint. azurerm creates the endpoint's private DNS
        # zone group inside the endpoint's own create (private_endpoint_resource.go,
        # createPrivateDnsZoneGroupForPrivateEndpoint), but the A record can still lag it (azurerm#18659), so
        # the same wait covers both the role assignment and the endpoint.
        waits_for = {"crypto_officer": admin.id} if public else {"crypto_officer": admin.id, "endpoint": self.endpoint.id}
        settle = time_sleep(
            self, "rbac-propagation", create_duration=props.rbac_wait, triggers=waits_for,
            depends_on=[admin] if public else [admin, self.endpoint.endpoint],
        )
        reachable = [settle] if public else [settle, self.endpoint.endpoint]
        self.key = KeyVaultKey(
            self,
            "key",
            name=props.key_name,
            key_vault_id=self.vault.id,
            key_type="RSA-HSM",
            key_size=3072,
            key_opts=["wrapKey", "unwrapKey"],
            # A first expiry two years out; the rotation policy then renews versions itself.
            expiration_date=Fn.timeadd(Fn.timestamp(), "17520h"),
            rotation_policy=KeyVaultKeyRotationPolicy(
                expire_after=props.expire_after,
                notify_before_expiry="P30D",
                automatic=KeyVaultKeyRotationPolicyAutomatic(time_after_creation=props.rotate_after),
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["expiration_date"]),
            depends_on=reachable,
        )
        #: Versionless: consumers follow rotation automatically.
        self.key_versionless_id = self.key.versionless_id
