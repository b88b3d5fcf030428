"""Schema rules the GCP and Azure platforms add: each one fails with its exact one-line error."""

from __future__ import annotations

import pytest

from environments import naming
from environments.schema import load_environments
from tests.config.test_schema import only_problem, problems, write_env


def test_gke_rbac_group_must_be_the_name_gke_requires(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(rbac_security_group="k8s-admins@cloudconductor.example"))
    assert only_problem(path) == (
        f"{path}: gcp.gke.rbac_security_group: 'k8s-admins@cloudconductor.example': "
        "must be gke-security-groups@<your Workspace domain> (the group name GKE requires)"
    )


def test_gke_must_live_in_an_existing_spoke(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(network_spoke="batch"))
    line = only_problem(path)
    # The cross-field rule reports at the gcp section (its value is the whole section, elided here).
    assert line.startswith(f"{path}: gcp: {{")
    assert line.endswith(": gke.network_spoke 'batch' is not one of network.spokes ['data', 'workloads']")


def test_gcp_connectivity_is_ncc_or_peering(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["network"].update(connectivity="vpn"))
    assert only_problem(path) == f"{path}: gcp.network.connectivity: 'vpn': Input should be 'ncc' or 'peering'"


def test_azure_needs_a_data_spoke_for_the_lake_endpoints(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"]["network"].update(spokes={"analytics": "10.31.0.0/16"}))
    assert only_problem(path).endswith(
        ": spokes must include 'data' (the lake's private endpoints live there)"
    )
    assert only_problem(path).startswith(f"{path}: azure.network: ")


def test_key_vault_operator_ranges_must_be_public(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(deployer={"network": "cidrs", "cidrs": ["10.99.0.0/24"]}))
    assert only_problem(path) == (
        f"{path}: azure.deployer.cidrs[0]: '10.99.0.0/24': "
        "must be a public IPv4 range (Key Vault firewall rules take public addresses only)"
    )


def test_storage_replication_is_an_enum(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(storage_replication="GRS_PLUS"))
    assert only_problem(path) == (
        f"{path}: azure.storage_replication: 'GRS_PLUS': "
        "Input should be 'LRS', 'ZRS', 'GRS', 'RAGRS', 'GZRS' or 'RAGZRS'"
    )


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_cloud_budget_must_be_positive(tmp_path, cloud):
    path = write_env(tmp_path, lambda d: d[cloud].update(budget_usd=0))
    assert only_problem(path) == f"{path}: {cloud}.budget_usd: 0: Input should be greater than 0"


def test_gcp_spoke_overlapping_an_azure_spoke_is_rejected(tmp_path):
    """The clouds are interconnected, so a GCP spoke may not reuse an Azure range."""
    path = write_env(tmp_path, lambda d: d["gcp"]["network"]["spokes"].update(data="10.31.0.0/16"))
    assert only_problem(path) == (
        f"{path}: azure.network.spokes.data: '10.31.0.0/16': overlaps gcp.network.spokes.data (10.31.0.0/16); "
        "every hub and spoke must be disjoint"
    )


def test_derived_gcp_firewall_rule_names_are_checked(tmp_path):
    """A long prefix and spoke name make '<prefix>-<env>-<spoke>-allow-gke-control-plane' exceed 63 characters."""
    spoke = "analytics_workloads_europe_x"

    def mutate(d):
        d["prefix"] = "ccdplat1"
        d["gcp"]["network"]["spokes"][spoke] = "10.23.0.0/16"

    path = write_env(tmp_path, mutate)
    derived = naming.gcp_resource("ccdplat1", "dev", spoke, naming.GCP_GKE_CONTROL_PLANE_RULE)
    assert len(derived) > 63
    assert only_problem(path) == (
        f"{path}: prefix: 'ccdplat1': derived gcp_resource name '{derived}' is illegal: "
        "GCP resource names are 1-63 lowercase letters, digits and '-', starting with a letter "
        "and not ending with '-' (RFC 1035)"
    )


def test_derived_gke_and_key_vault_names_are_checked(tmp_path):
    """An 8-character prefix and a 30-character environment break the GKE cluster (40) and Key Vault (24)
    limits, and each is reported on its own line."""
    name = "a_very_long_environment_name_x"
    path = write_env(tmp_path, lambda d: d.update(prefix="ccdplat1"), name=name)
    lines = problems(path)
    cluster, vault = naming.gke_cluster("ccdplat1", name), naming.azure_key_vault("ccdplat1", name)
    assert (
        f"{path}: prefix: 'ccdplat1': derived gke_cluster name '{cluster}' is illegal: "
        "GKE cluster names are 1-40 lowercase letters, digits and '-', starting with a letter"
    ) in lines
    assert (
        f"{path}: prefix: 'ccdplat1': derived azure_key_vault name '{vault}' is illegal: "
        "Azure Key Vault names are 3-24 letters, digits and single hyphens, "
        "starting with a letter and ending with a letter or digit"
    ) in lines


@pytest.mark.parametrize(
    "kind, good, bad",
    [
        ("gcp_resource", "ccd-dev-hub-nat", "ccd-dev-hub-"),
        ("gke_cluster", "ccd-dev-gke", "1cd-dev-gke"),
        ("gcp_service_account", "ccddev-gke", "ccd"),
        ("azure_key_vault", "ccddev-kv", "ccd--kv"),
    ],
)
def test_name_rules_accept_and_reject(kind, good, bad):
    rule = naming.NAME_RULES[kind]
    assert rule.problem(good) is None
    assert rule.problem(bad) == rule.text


def test_tight_names_fit_whenever_the_storage_account_fits():
    """The service account (30) and Key Vault (24) names use the storage account's compact form,
    so an environment whose storage account name is legal never fails on them."""
    for env in load_environments():
        assert naming.NAME_RULES["gcp_service_account"].problem(
            naming.gcp_service_account_id(env.prefix, env.name, naming.GKE_NODES_SA_PURPOSE)) is None
        assert naming.NAME_RULES["azure_key_vault"].problem(naming.azure_key_vault(env.prefix, env.name)) is None
    longest = "ab" + "c" * 18  # prefix + env, 20 characters: the storage account's limit minus 'lake'
    assert naming.NAME_RULES["azure_storage_account"].problem(f"{longest}lake") is None
    assert naming.NAME_RULES["gcp_service_account"].problem(f"{longest}-{naming.GKE_NODES_SA_PURPOSE}") is None
    assert naming.NAME_RULES["azure_key_vault"].problem(f"{longest}-kv") is None


def test_a_private_endpoint_admits_only_internal_authorized_networks(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(
        private_endpoint=True, master_authorized_networks=[{"name": "corp", "cidr": "35.190.0.0/24"}]))
    line = only_problem(path)
    assert line.startswith(f"{path}: gcp.gke: {{")
    assert line.endswith(
        ": master_authorized_networks ['35.190.0.0/24'] are not internal (RFC 1918) ranges, "
        "which a private endpoint requires"
    )


def test_a_public_endpoint_may_admit_external_networks(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(
        private_endpoint=False, master_authorized_networks=[{"name": "corp", "cidr": "35.190.0.0/24"}]))
    assert load_environments(tmp_path)[0].gcp.gke.master_authorized_networks[0].cidr == "35.190.0.0/24"
    assert path.exists()
