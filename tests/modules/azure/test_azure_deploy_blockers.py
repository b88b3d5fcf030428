"""Issue 10, Azure deploy-time blockers, asserted on the synthesized JSON of every deployed environment:
the lake account is a configuration azurerm accepts with HNS, the Key Vault key can be reached and waits for
what it needs, and dev's vault and lake are disposable while prod's are protected."""

from __future__ import annotations

import re

import pytest

from environments.schema import load_environments
from tests.modules.gcp.support import knob_stacks, ref

ENVIRONMENTS = {e.name: e for e in load_environments() if e.azure.terraform.enabled}
ENV_NAMES = sorted(ENVIRONMENTS)
CRYPTO_OFFICER = "Key Vault Crypto Officer"
CMK_USER = "Key Vault Crypto Service Encryption User"


def platform(stacks, name):
    return stacks[f"{name}-azure-platform"]


def logical(stack, rtype: str) -> tuple[str, dict]:
    (item,) = stack.resources(rtype).items()
    return item


def role_assignment_id(stack, role: str) -> str:
    (key,) = [k for k, v in stack.resources("azurerm_role_assignment").items() if v["role_definition_name"] == role]
    return key


def sleep_triggered_by(stack, role: str) -> tuple[str, dict]:
    """The time_sleep whose triggers name the role assignment of ``role``."""
    assignment = ref("azurerm_role_assignment", role_assignment_id(stack, role), "id")
    (found,) = [(k, v) for k, v in stack.resources("time_sleep").items() if assignment in v.get("triggers", {}).values()]
    return found


def seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([sm])", duration)
    assert match, duration
    return int(match[1]) * (60 if match[2] == "m" else 1)


# --------------------------------------------------------------------------- 1. lake account (review #1)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lake_account_is_a_configuration_azurerm_accepts_with_hns(stacks, env_name):
    # azurerm resourceStorageAccountCreate: versioning with HNS is an error raised after the account exists;
    # restore_policy needs versioning; change feed is not supported on HNS accounts.
    (_, account) = logical(platform(stacks, env_name), "azurerm_storage_account")
    blob = account["blob_properties"]
    assert account["is_hns_enabled"] is True
    assert blob["versioning_enabled"] is False
    assert "restore_policy" not in blob and not blob.get("change_feed_enabled", False)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lake_recoverability_is_blob_and_container_soft_delete(stacks, env_name):
    (_, account) = logical(platform(stacks, env_name), "azurerm_storage_account")
    blob = account["blob_properties"]
    assert blob["delete_retention_policy"]["days"] >= 7
    assert blob["container_delete_retention_policy"]["days"] == blob["delete_retention_policy"]["days"]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lifecycle_policy_has_no_version_actions_on_an_account_without_versions(stacks, env_name):
    (_, policy) = logical(platform(stacks, env_name), "azurerm_storage_management_policy")
    assert all("version" not in rule["actions"] for rule in policy["rule"])


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lake_account_is_locked_exactly_where_the_environment_protects_stateful_resources(stacks, env_name):
    stack = platform(stacks, env_name)
    account_id, account = logical(stack, "azurerm_storage_account")
    locks = list(stack.resources("azurerm_management_lock").values())
    if ENVIRONMENTS[env_name].azure.protect_stateful:
        assert [(lock["scope"], lock["lock_level"]) for lock in locks] == [
            (ref("azurerm_storage_account", account_id, "id"), "CanNotDelete")
        ]
        assert account["lifecycle"] == {"prevent_destroy": True}
    else:
        assert locks == [] and "lifecycle" not in account


def test_prod_is_the_protected_environment():
    assert {n: e.azure.protect_stateful for n, e in ENVIRONMENTS.items()} == {
        "dev": False, "prod": True, "staging": False,
    }


# --------------------------------------------------------------------------- 2. key reachability (review #2, #26)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_shipped_environments_run_terraform_inside_the_network_and_keep_the_vault_closed(stacks, env_name):
    assert ENVIRONMENTS[env_name].azure.deployer.network == "in_vnet"
    (_, vault) = logical(platform(stacks, env_name), "azurerm_key_vault")
    assert vault["public_network_access_enabled"] is False
    assert vault["network_acls"] == {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": []}


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_key_waits_for_the_vault_endpoint_with_its_dns_zone_group_and_for_rbac(stacks, env_name):
    stack = platform(stacks, env_name)
    vault_id, _ = logical(stack, "azurerm_key_vault")
    (_, key) = logical(stack, "azurerm_key_vault_key")
    (endpoint_id,) = [
        k for k, e in stack.resources("azurerm_private_endpoint").items()
        if e["private_service_connection"]["private_connection_resource_id"] == ref("azurerm_key_vault", vault_id, "id")
    ]
    endpoint = stack.resources("azurerm_private_endpoint")[endpoint_id]
    assert endpoint["private_service_connection"]["subresource_names"] == ["vault"]
    # The zone group is a block of the endpoint: azurerm creates it within the endpoint's own create.
    (zone,) = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
    assert "private-dns_zone-vault_" in zone
    sleep_id, sleep = sleep_triggered_by(stack, CRYPTO_OFFICER)
    assert sorted(key["depends_on"]) == sorted([f"azurerm_private_endpoint.{endpoint_id}", f"time_sleep.{sleep_id}"])
    # The endpoint's A record can lag its create (azurerm#18659): the same wait starts after the endpoint too.
    assert sleep["triggers"]["endpoint"] == ref("azurerm_private_endpoint", endpoint_id, "id")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_rbac_propagation_waits_a_minute_after_each_role_it_guards(stacks, env_name):
    stack = platform(stacks, env_name)
    for role in (CRYPTO_OFFICER, CMK_USER):
        _, sleep = sleep_triggered_by(stack, role)
        assert seconds(sleep["create_duration"]) >= 30  # AVM's default; we wait 60 s
    assert stack.doc["terraform"]["required_providers"]["time"]["source"] == "hashicorp/time"
    assert "time" not in stack.doc.get("provider", {})  # hashicorp/time needs no configuration


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_cmk_account_waits_for_its_identity_role_to_propagate(stacks, env_name):
    stack = platform(stacks, env_name)
    sleep_id, _ = sleep_triggered_by(stack, CMK_USER)
    (key_id, _) = logical(stack, "azurerm_key_vault_key")
    (_, account) = logical(stack, "azurerm_storage_account")
    assert account["depends_on"] == [f"time_sleep.{sleep_id}"]
    # ...and, through the key reference, on the key (which itself waits for the officer role).
    assert account["customer_managed_key"]["key_vault_key_id"] == ref("azurerm_key_vault_key", key_id, "versionless_id")


def test_deployer_cidrs_open_the_vault_to_exactly_those_ranges_and_the_key_skips_the_endpoint():
    _, stacks = knob_stacks()  # azure.deployer: {network: cidrs, cidrs: [20.30.40.0/24]}
    stack = stacks["alt-azure-platform"]
    (_, vault) = logical(stack, "azurerm_key_vault")
    assert vault["public_network_access_enabled"] is True
    assert vault["network_acls"] == {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": ["20.30.40.0/24"]}
    (_, key) = logical(stack, "azurerm_key_vault_key")
    sleep_id, sleep = sleep_triggered_by(stack, CRYPTO_OFFICER)
    assert key["depends_on"] == [f"time_sleep.{sleep_id}"]
    assert set(sleep["triggers"]) == {"crypto_officer"}  # nothing waits for an endpoint the runner does not use


# --------------------------------------------------------------------------- 3. disposable dev vault (review #30)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_purge_protection_stays_on_and_retention_follows_protect_stateful(stacks, env_name):
    # Azure Storage CMK requires soft delete and purge protection on the key's vault, so dev cannot turn it
    # off; dev holds its vault name 7 days (Key Vault's minimum) instead of 90.
    (_, vault) = logical(platform(stacks, env_name), "azurerm_key_vault")
    assert vault["purge_protection_enabled"] is True
    assert vault["soft_delete_retention_days"] == (90 if ENVIRONMENTS[env_name].azure.protect_stateful else 7)


@pytest.mark.parametrize(
    ("network", "cidrs", "days", "rule"),
    [
        ("cidrs", (), 7, "deployer_network 'cidrs' needs deployer_cidrs"),
        ("in_vnet", ("20.30.40.1/32",), 7, "deployer_cidrs are only used with deployer_network 'cidrs'"),
        ("in_vnet", (), 6, "soft_delete_days must be 7-90"),
    ],
)
def test_key_vault_props_refuse_what_azure_would(network, cidrs, days, rule):
    from modules.azure.key_vault import KeyVaultProps, VaultEndpoint

    with pytest.raises(ValueError, match=re.escape(rule)):
        KeyVaultProps(
            name="kv", location="westeurope", resource_group="rg", tenant_id="t", admin_object_id="o", key_name="k",
            endpoint=VaultEndpoint(name="pe", subnet_id="s", dns_zone_id="z"),
            deployer_network=network, deployer_cidrs=cidrs, soft_delete_days=days,
        )
