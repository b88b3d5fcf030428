"""A Key Vault for customer-managed keys: RBAC only, purge protection, no public network by default,
and one HSM-backed key that rotates itself."""

from __future__ import annotations

from dataclasses import dataclass

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

#: Lets the Terraform principal create and rotate keys (data plane, RBAC model).
CRYPTO_OFFICER = "Key Vault Crypto Officer"


@dataclass(frozen=True)
class KeyVaultProps:
    name: str
    location: str
    resource_group: str
    tenant_id: str
    #: Object id of the principal running Terraform (it creates the key).
    admin_object_id: str
    key_name: str
    #: Public ranges allowed to the data plane; empty means private endpoint only.
    allowed_cidrs: tuple[str, ...] = ()
    soft_delete_days: int = 90
    #: ISO 8601 durations: a new key version every year, each version valid two years.
    rotate_after: str = "P1Y"
    expire_after: str = "P2Y"


class KeyVault(Construct):
    def __init__(self, scope: Construct, id_: str, props: KeyVaultProps):
        super().__init__(scope, id_)
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
            public_network_access_enabled=bool(props.allowed_cidrs),
            network_acls=KeyVaultNetworkAcls(
                default_action="Deny", bypass="AzureServices", ip_rules=list(props.allowed_cidrs)
            ),
        )
        self.id = self.vault.id
        admin = RoleAssignment(
            self, "terraform-crypto-officer", scope=self.vault.id, role_definition_name=CRYPTO_OFFICER,
            principal_id=props.admin_object_id,
        )
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
            depends_on=[admin],
        )
        #: Versionless: consumers follow rotation automatically.
        self.key_versionless_id = self.key.versionless_id
