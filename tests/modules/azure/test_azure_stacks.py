"""Azure network and platform stacks: every secure default and every knob, asserted on the synthesized JSON."""

from __future__ import annotations

import json

import pytest

from environments import naming
from environments.schema import load_environments
from modules.azure.vnet import first_half
from tests.modules.gcp.support import by_name, knob_stacks, logical_id, ref

ENVIRONMENTS = {e.name: e for e in load_environments() if e.azure.terraform.enabled}
ENV_NAMES = sorted(ENVIRONMENTS)


def network(stacks, name):
    return stacks[f"{name}-azure-network"]


def platform(stacks, name):
    return stacks[f"{name}-azure-platform"]


# --------------------------------------------------------------------------- network


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_hub_and_spoke_vnets_from_the_environment_cidrs(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    expected = {"hub": env.azure.network.hub_cidr, **env.azure.network.spokes}
    vnets = by_name(stack.resources("azurerm_virtual_network"))
    assert {n: v["address_space"] for n, v in vnets.items()} == {
        naming.azure_resource(env.prefix, env.name, k): [cidr] for k, cidr in expected.items()
    }
    # The workload subnets; the fabric's GatewaySubnet and resolver subnets (tests/modules/fabric) are apart.
    subnets = {k: s for k, s in stack.resources("azurerm_subnet").items() if s["name"] == "workloads"}
    assert sorted(s["address_prefixes"][0] for s in subnets.values()) == sorted(first_half(c) for c in expected.values())
    for subnet in subnets.values():
        assert subnet["private_endpoint_network_policies"] == "Enabled"
        assert subnet["default_outbound_access_enabled"] is False


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_subnet_has_an_nsg_that_denies_inbound_by_default(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    # Azure refuses an NSG on GatewaySubnet (VPN Gateway docs); every other subnet has one.
    subnets = {k: s for k, s in stack.resources("azurerm_subnet").items() if s["name"] != "GatewaySubnet"}
    nsgs = stack.resources("azurerm_network_security_group")
    associations = stack.resources("azurerm_subnet_network_security_group_association").values()
    assert sorted(a["subnet_id"] for a in associations) == sorted(ref("azurerm_subnet", k, "id") for k in subnets)
    assert sorted(a["network_security_group_id"] for a in associations) == sorted(
        ref("azurerm_network_security_group", k, "id") for k in nsgs
    )
    for nsg in nsgs.values():
        rules = {r["name"]: r for r in nsg["security_rule"]}
        deny = rules["deny-all-inbound"]
        assert (deny["access"], deny["direction"], deny["priority"]) == ("Deny", "Inbound", 4096)
        assert (deny["protocol"], deny["source_address_prefix"], deny["destination_port_range"]) == ("*", "*", "*")
        for rule in rules.values():
            if rule["access"] == "Allow":
                assert rule.get("source_address_prefix") != "*" and "*" not in rule.get("source_address_prefixes", [])


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_only_the_data_spoke_admits_https_from_the_platform_ranges(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    ranges = [env.azure.network.hub_cidr, *env.azure.network.spokes.values()]
    # With the fabric, the AWS spokes that reach Azure (fabric.aws_spokes) come over the VPN too.
    ranges += [env.aws.network.spokes[s] for s in env.fabric.aws_spokes] if env.fabric.enabled else []
    nsgs = by_name(stack.resources("azurerm_network_security_group"))
    for name, nsg in nsgs.items():
        allows = [r for r in nsg["security_rule"] if r["access"] == "Allow"]
        if "-dns-inbound-nsg" in name:
            continue  # the fabric's resolver: DNS from the peer resolvers (tests/modules/fabric)
        if name == naming.azure_resource(env.prefix, env.name, "data") + "-nsg":
            (allow,) = allows
            assert allow["source_address_prefixes"] == ranges
            assert (allow["protocol"], allow["destination_port_ranges"], allow["priority"]) == ("Tcp", ["443"], 1000)
        else:
            assert allows == []


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_hub_peers_each_spoke_in_both_directions(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    hub = naming.azure_resource(env.prefix, env.name, "hub")
    peerings = by_name(stack.resources("azurerm_virtual_network_peering"))
    spokes = [naming.azure_resource(env.prefix, env.name, s) for s in env.azure.network.spokes]
    assert set(peerings) == {n for s in spokes for n in (f"{hub}-to-{s}", f"{s}-to-{hub}")}
    for name, peering in peerings.items():
        assert peering["allow_virtual_network_access"] is True and peering["allow_forwarded_traffic"] is True
        # The fabric builds the hub's VPN gateway, and with it the spokes use the gateway.
        transit = env.azure.network.gateway_transit or env.fabric.enabled
        if name.startswith(f"{hub}-to-"):
            assert peering["virtual_network_name"].endswith(".name}") and peering["allow_gateway_transit"] is transit
        else:
            assert peering["use_remote_gateways"] is transit


def test_gateway_transit_knob():
    _, stacks = knob_stacks()
    peerings = stacks["alt-azure-network"].resources("azurerm_virtual_network_peering").values()
    assert sorted((p.get("allow_gateway_transit"), p.get("use_remote_gateways")) for p in peerings) == [
        (False, True), (True, False),
    ]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_private_dns_zones_for_blob_and_dfs_are_linked_to_every_vnet(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    zones = by_name(stack.resources("azurerm_private_dns_zone"))
    assert {"privatelink.blob.core.windows.net", "privatelink.dfs.core.windows.net"} <= set(zones)
    vnet_ids = {
        ref("azurerm_virtual_network", logical_id(stack, "azurerm_virtual_network",
                                                  naming.azure_resource(env.prefix, env.name, v)), "id")
        for v in ("hub", *env.azure.network.spokes)
    }
    links = stack.resources("azurerm_private_dns_zone_virtual_network_link").values()
    # Clients resolve in the spokes too: a zone answers only in VNets linked to it (issue 10).
    assert len(links) == len(zones) * len(vnet_ids)
    assert {link["virtual_network_id"] for link in links} == vnet_ids
    assert all(link["registration_enabled"] is False for link in links)


# --------------------------------------------------------------------------- lake


def account_of(stacks, env_name):
    return platform(stacks, env_name).only("azurerm_storage_account")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lake_account_is_adls_gen2_with_every_secure_default(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    a = account_of(stacks, env_name)
    assert a["name"] == naming.azure_storage_account(env.prefix, env.name)
    assert (a["account_kind"], a["account_tier"], a["is_hns_enabled"]) == ("StorageV2", "Standard", True)
    assert a["https_traffic_only_enabled"] is True and a["min_tls_version"] == "TLS1_2"
    assert a["allow_nested_items_to_be_public"] is False
    assert a["shared_access_key_enabled"] is False and a["default_to_oauth_authentication"] is True
    assert a["local_user_enabled"] is False and a["sftp_enabled"] is False
    assert a["cross_tenant_replication_enabled"] is False
    assert a["public_network_access_enabled"] is False
    assert a["infrastructure_encryption_enabled"] is True
    assert a["account_replication_type"] == env.azure.storage_replication == "GZRS"
    assert a["sas_policy"] == {"expiration_period": "00.01:00:00", "expiration_action": "Block"}
    assert a["blob_properties"] == {
        "versioning_enabled": False,
        "delete_retention_policy": {"days": 14},
        "container_delete_retention_policy": {"days": 14},
    }
    assert a["network_rules"]["default_action"] == "Deny"
    assert a["network_rules"]["virtual_network_subnet_ids"] == [
        "${data.terraform_remote_state.cross-stack-reference-input-"
        f"{env_name}-azure-network.outputs.cross-stack-output-azurerm_subnetvnet-data_subnet_2EE93141id}}"
    ]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lake_is_encrypted_with_an_hsm_key_from_a_purge_protected_private_vault(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    a = account_of(stacks, env_name)
    (identity_id,) = stack.resources("azurerm_user_assigned_identity")
    (key_id, key), = stack.resources("azurerm_key_vault_key").items()
    (vault_id, vault), = stack.resources("azurerm_key_vault").items()
    assert a["identity"] == {"type": "UserAssigned", "identity_ids": [ref("azurerm_user_assigned_identity", identity_id, "id")]}
    assert a["customer_managed_key"] == {
        "key_vault_key_id": ref("azurerm_key_vault_key", key_id, "versionless_id"),
        "user_assigned_identity_id": ref("azurerm_user_assigned_identity", identity_id, "id"),
    }
    assert vault["name"] == naming.azure_key_vault(env.prefix, env.name)
    assert vault["purge_protection_enabled"] is True and vault["rbac_authorization_enabled"] is True
    assert vault["public_network_access_enabled"] is False
    assert vault["network_acls"] == {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": []}
    assert vault["sku_name"] == "premium"
    assert (key["key_type"], key["key_size"]) == ("RSA-HSM", 3072)
    assert key["rotation_policy"]["automatic"] == {"time_after_creation": "P1Y"}
    roles = {r["role_definition_name"]: r for r in stack.resources("azurerm_role_assignment").values()}
    assert roles["Key Vault Crypto Service Encryption User"]["principal_id"] == ref(
        "azurerm_user_assigned_identity", identity_id, "principal_id")
    assert all(r["scope"] == ref("azurerm_key_vault", vault_id, "id") for r in roles.values())
    assert set(roles) == {"Key Vault Crypto Service Encryption User", "Key Vault Crypto Officer"}


def test_replication_and_operator_access_knobs():
    _, stacks = knob_stacks()
    stack = stacks["alt-azure-platform"]
    assert stack.only("azurerm_storage_account")["account_replication_type"] == "ZRS"
    vault = stack.only("azurerm_key_vault")
    assert vault["public_network_access_enabled"] is True  # deployer: {network: cidrs}
    assert vault["network_acls"] == {"default_action": "Deny", "bypass": "AzureServices", "ip_rules": ["20.30.40.0/24"]}


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_one_private_container_per_domain_created_through_resource_manager(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    account = ref("azurerm_storage_account", next(iter(stack.resources("azurerm_storage_account"))), "id")
    containers = by_name(stack.resources("azurerm_storage_container"))
    assert set(containers) == {naming.azure_container(d.name) for d in env.domains}
    for container in containers.values():
        assert container["container_access_type"] == "private"
        assert container["storage_account_id"] == account and "storage_account_name" not in container


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_lifecycle_tiers_to_cool_cold_and_archive_from_the_environment(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    t = env.storage.tiering
    (rule,) = stack.only("azurerm_storage_management_policy")["rule"]
    assert rule["actions"] == {
        "base_blob": {
            "tier_to_cool_after_days_since_creation_greater_than": t.warm_after_days,
            "tier_to_cold_after_days_since_creation_greater_than": t.cold_after_days,
            "tier_to_archive_after_days_since_creation_greater_than": t.archive_after_days,
        },
    }
    assert rule["enabled"] is True and rule["filters"] == {"blob_types": ["blockBlob"]}


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_private_endpoints_in_the_data_spoke_for_blob_dfs_and_the_vault(stacks, env_name):
    stack = platform(stacks, env_name)
    endpoints = {e["private_service_connection"]["subresource_names"][0]: e
                 for e in stack.resources("azurerm_private_endpoint").values()}
    assert set(endpoints) == {"blob", "dfs", "vault"}
    subnets = {e["subnet_id"] for e in endpoints.values()}
    assert len(subnets) == 1 and "vnet-data_subnet" in subnets.pop()
    for subresource, endpoint in endpoints.items():
        assert endpoint["private_service_connection"]["is_manual_connection"] is False
        (zone,) = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
        assert f"private-dns_zone-{subresource}_" in zone


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_diagnostics_go_to_the_log_analytics_workspace(stacks, env_name):
    stack = platform(stacks, env_name)
    (workspace_id, workspace), = stack.resources("azurerm_log_analytics_workspace").items()
    assert workspace["local_authentication_enabled"] is False
    settings = stack.resources("azurerm_monitor_diagnostic_setting").values()
    account = ref("azurerm_storage_account", next(iter(stack.resources("azurerm_storage_account"))), "id")
    vault = ref("azurerm_key_vault", next(iter(stack.resources("azurerm_key_vault"))), "id")
    targets = {s["target_resource_id"]: s for s in settings}
    assert set(targets) == {account, f"{account}/blobServices/default", vault}
    for setting in settings:
        assert setting["log_analytics_workspace_id"] == ref("azurerm_log_analytics_workspace", workspace_id, "id")
    assert targets[f"{account}/blobServices/default"]["enabled_log"] == [{"category_group": "allLogs"}]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_budget_notifies_at_80_and_100_percent(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    budget = stack.only("azurerm_consumption_budget_subscription")
    assert budget["subscription_id"] == f"/subscriptions/{env.azure.subscription_id}"
    assert budget["amount"] == env.budget.monthly_usd and budget["time_grain"] == "Monthly"
    assert [(n["threshold"], n["contact_emails"]) for n in budget["notification"]] == [
        (80, env.budget.alert_emails), (100, env.budget.alert_emails),
    ]
    assert budget["lifecycle"] == {"ignore_changes": ["time_period"]}


def test_budget_amount_knob():
    _, stacks = knob_stacks()
    assert stacks["alt-azure-platform"].only("azurerm_consumption_budget_subscription")["amount"] == 700


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_no_wildcard_or_owner_role_assignments(stacks, env_name):
    for assignment in platform(stacks, env_name).resources("azurerm_role_assignment").values():
        assert "*" not in json.dumps(assignment)
        assert assignment["role_definition_name"] not in ("Owner", "Contributor", "User Access Administrator")


def test_provider_never_calls_the_storage_data_plane(stacks):
    for name in ENV_NAMES:
        (provider,) = platform(stacks, name).doc["provider"]["azurerm"]
        assert provider["features"] == [{"storage": [{"data_plane_available": False}]}]
        assert provider["storage_use_azuread"] is True


def test_platform_exposes_what_vault_needs_as_plain_attributes(tmp_path):
    from cdktf import App, Token

    from stacks.azure import AzureNetworkStack, AzurePlatformStack

    env = ENVIRONMENTS["dev"]
    app = App(outdir=str(tmp_path))
    stack = AzurePlatformStack(app, env, AzureNetworkStack(app, env))
    assert Token.is_unresolved(stack.storage_account_id)
    assert stack.storage_account_name == naming.azure_storage_account(env.prefix, env.name)
    assert set(stack.domain_container_ids) == {d.name for d in env.domains}
    assert all(Token.is_unresolved(i) for i in stack.domain_container_ids.values())
    assert stack.container_names == {d.name: naming.azure_container(d.name) for d in env.domains}
