"""The fabric section: every rule fails with its exact one-line error (file, field, value, rule)."""

from __future__ import annotations

import pytest

from environments.schema import load_environment
from tests.config.test_schema import only_problem, write_env


def _tunnels(d, link, cidrs):
    d["fabric"]["tunnels"][link] = cidrs


def test_shipped_fabric_loads_typed(tmp_path):
    env = load_environment(write_env(tmp_path, lambda d: None))
    assert env.fabric.enabled and env.fabric.asn.aws == 64512 and env.fabric.gcs_access == "private"
    assert env.fabric.tunnels.aws_azure == ["169.254.21.0/30", "169.254.21.4/30"]
    assert "blob.core.windows.net" in env.fabric.dns.to_azure


@pytest.mark.parametrize("asn", [65535, 64511, 7224, 4294967295])
def test_asn_must_be_private(tmp_path, asn):
    path = write_env(tmp_path, lambda d: d["fabric"]["asn"].update(gcp=asn))
    assert only_problem(path) == f"{path}: fabric.asn.gcp: {asn}: must be a private ASN: 64512-65534 or 4200000000-4294967294"


def test_asns_must_be_unique(tmp_path):
    path = write_env(tmp_path, lambda d: d["fabric"]["asn"].update(azure=64512))
    assert only_problem(path) == f"{path}: fabric.asn.azure: 64512: ASNs must be unique (also fabric.asn.aws)"


@pytest.mark.parametrize("asn", [65515, 65517, 65520])
def test_azure_reserved_asn_refused(tmp_path, asn):
    path = write_env(tmp_path, lambda d: d["fabric"]["asn"].update(azure=asn))
    assert only_problem(path) == f"{path}: fabric.asn.azure: {asn}: is reserved by Azure (65515, 65517-65520)"


@pytest.mark.parametrize("cidr,rule", [
    ("169.254.10.0/29", "must be a /30 inside 169.254.0.0/16"),
    ("10.0.0.0/30", "must be a /30 inside 169.254.0.0/16"),
    ("169.254.10.1/30", "must be an IPv4 CIDR block with no host bits set, e.g. 169.254.10.0/30"),
    ("169.254.5.0/30", "is one of AWS's reserved tunnel inside ranges (169.254.0-5.0/30, 169.254.169.252/30)"),
    ("169.254.169.252/30", "is one of AWS's reserved tunnel inside ranges (169.254.0-5.0/30, 169.254.169.252/30)"),
])
def test_tunnel_cidr_rules(tmp_path, cidr, rule):
    path = write_env(tmp_path, lambda d: _tunnels(d, "aws_gcp", [cidr, "169.254.10.4/30"]))
    assert only_problem(path) == f"{path}: fabric.tunnels.aws_gcp[0]: '{cidr}': {rule}"


def test_azure_links_must_use_apipa_range(tmp_path):
    path = write_env(tmp_path, lambda d: _tunnels(d, "gcp_azure", ["169.254.30.0/30", "169.254.22.4/30"]))
    assert only_problem(path) == (
        f"{path}: fabric.tunnels.gcp_azure[0]: '169.254.30.0/30': "
        "an Azure link's /30 must be inside 169.254.21.0-169.254.22.255 (Azure APIPA BGP range)"
    )


def test_tunnels_must_not_overlap(tmp_path):
    path = write_env(tmp_path, lambda d: _tunnels(d, "gcp_azure", ["169.254.21.4/30", "169.254.22.4/30"]))
    assert only_problem(path) == (
        f"{path}: fabric.tunnels.gcp_azure[0]: '169.254.21.4/30': "
        "overlaps fabric.tunnels.aws_azure[1]; every tunnel /30 must be distinct"
    )


def test_two_tunnels_per_link(tmp_path):
    path = write_env(tmp_path, lambda d: _tunnels(d, "aws_gcp", ["169.254.10.0/30"]))
    assert only_problem(path) == f"{path}: fabric.tunnels.aws_gcp: ['169.254.10.0/30']: needs exactly 2 tunnel /30s"


def test_enabled_fabric_needs_its_settings(tmp_path):
    path = write_env(tmp_path, lambda d: d["fabric"].pop("tunnels"))
    assert only_problem(path).endswith(": an enabled fabric needs asn and tunnels")


def test_disabled_fabric_needs_a_reason(tmp_path):
    path = write_env(tmp_path, lambda d: d.update(fabric={"enabled": False}))
    assert only_problem(path).endswith(": a disabled feature must give its reason")


def test_fabric_needs_the_transit_gateway(tmp_path):
    path = write_env(tmp_path, lambda d: d["aws"]["network"].update(transit_gateway={"enabled": False, "reason": "x"}))
    assert only_problem(path) == (
        f"{path}: fabric.enabled: True: the AWS VPN links terminate on the Transit Gateway: "
        "aws.network.transit_gateway must be enabled"
    )


def test_gcs_access_is_private_or_internet(tmp_path):
    path = write_env(tmp_path, lambda d: d["fabric"].update(gcs_access="psc"))
    assert only_problem(path) == f"{path}: fabric.gcs_access: 'psc': Input should be 'private' or 'internet'"


def test_vault_private_ip_must_be_routed(tmp_path):
    path = write_env(tmp_path, lambda d: d["vault"].update(private_ips=["192.168.9.9"]))
    assert only_problem(path) == (
        f"{path}: vault.private_ips[0]: '192.168.9.9': must be inside one of the environment's hub or spoke ranges"
    )


def test_cross_cloud_spokes_must_exist(tmp_path):
    path = write_env(tmp_path, lambda d: d["fabric"].update(aws_spokes=["analytics"]))
    assert only_problem(path) == (
        f"{path}: fabric.aws_spokes[0]: 'analytics': is not one of aws.network.spokes ['data', 'orchestration']"
    )
