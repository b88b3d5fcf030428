"""The network picture is drawn from the synthesized stacks, shows every hub-and-spoke link
Terraform builds, and the committed picture in docs/ matches the current stacks."""

from __future__ import annotations

import re

import pytest

from environments.schema import load_environments
from scripts.network_diagram import build_model, dot_digest, render, to_dot
from tests.conftest import REPO, require_tool

ENVIRONMENTS = {env.name: env for env in load_environments()}
#: The environment whose picture README shows.
PICTURED = "prod"


@pytest.fixture(scope="module")
def models(synth_root):
    return {name: build_model(synth_root / "stacks", name) for name in ("dev", "staging", "prod")}


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_every_aws_vpc_is_attached_to_the_transit_gateway(models, env_name):
    model = models[env_name]
    vpcs = {a for a in model.containers if a[1] == "aws_vpc"}
    attached = {end for (a, b, label, _) in model.links if label == "TGW attachment" for end in (a, b)}
    assert len(vpcs) == 1 + len(ENVIRONMENTS[env_name].aws.network.spokes)
    assert vpcs <= attached, sorted(vpcs - attached)


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_gcp_and_azure_spokes_reach_their_hub(models, env_name):
    model = models[env_name]
    env = ENVIRONMENTS[env_name]
    ncc = {end for (a, b, label, _) in model.links if label == "NCC spoke" for end in (a, b) if end[1] != "google_network_connectivity_hub"}
    assert len(ncc) == 1 + len(env.gcp.network.spokes)  # the hub VPC is the centre group's spoke
    peered = {end for (a, b, label, _) in model.links if label.startswith("peering") for end in (a, b)
              if end[1] == "azurerm_virtual_network"}
    assert len(peered) == 1 + len(env.azure.network.spokes)


def test_parts_sit_in_the_network_that_holds_them(models):
    model = models["prod"]
    where = {label: container for _a, (label, container) in model.nodes.items()}
    assert model.containers[where["MWAA"]].startswith("ccp-prod-orchestration")
    assert model.containers[where["GKE (private)"]].startswith("ccp-prod-workloads")


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_cross_cloud_vpn_links_follow_the_environment(models, env_name):
    """Each cloud pair the fabric joins has an IPsec link between the two clouds' gateways, found by
    following Terraform references across stacks; an environment without the fabric has none."""
    model = models[env_name]
    fabric = getattr(ENVIRONMENTS[env_name], "fabric", None)
    pairs = {frozenset({model.cloud(a), model.cloud(b)}) for (a, b, label, _) in model.links
             if label.startswith("IPsec") and model.cloud(a) != model.cloud(b)}
    if fabric is None or not fabric.enabled:
        assert pairs == set()
    else:
        assert pairs == {frozenset(p) for p in (("aws", "gcp"), ("aws", "azure"), ("gcp", "azure"))}


def test_committed_picture_matches_the_stacks(models):
    svg = (REPO / "docs" / f"network-{PICTURED}.svg").read_text()
    found = re.search(r"network-diagram dot-sha256: ([0-9a-f]{64})", svg)
    assert found, "docs picture has no digest marker: regenerate it with make diagram"
    assert found.group(1) == dot_digest(to_dot(models[PICTURED])), (
        f"docs/network-{PICTURED}.svg is stale: run make diagram ENV={PICTURED} and commit it"
    )


def test_render_writes_an_svg_with_its_digest(models, tmp_path):
    require_tool("dot")
    dot = to_dot(models["dev"])
    out = tmp_path / "net.svg"
    render(dot, out)
    text = out.read_text()
    assert "<svg" in text and dot_digest(dot) in text
    assert "Transit Gateway" in text and "NCC hub" in text


def test_dns_forwarding_reaches_the_other_clouds_resolvers(models):
    """Forwarders name their targets by literal IP; the picture ties each IP to the resolver that holds it."""
    model = models["prod"]
    fabric = ENVIRONMENTS["prod"].fabric
    pairs: dict[frozenset, str] = {}
    for a, b, label, _ in model.links:
        if label.startswith("DNS: "):
            key = frozenset({model.cloud(a), model.cloud(b)})
            pairs[key] = pairs.get(key, "") + " " + label
    to_azure = pairs[frozenset({"aws", "azure"})]
    assert all(name in to_azure for name in fabric.dns.to_azure), to_azure
    vault_host = ENVIRONMENTS["prod"].vault.address.split("//")[1].split(":")[0]
    assert vault_host in pairs[frozenset({"aws", "gcp"})]


def test_vpn_links_count_tunnels_not_resources(models):
    """Both ends of a link are built (an AWS connection of 2 tunnels, 2 GCP tunnels): 2 tunnels, not 3."""
    model = models["prod"]
    counts = {frozenset({model.cloud(a), model.cloud(b)}): n for (a, b, label, _), n in model.links.items()
              if label.startswith("IPsec")}
    assert counts == {frozenset(p): 2 for p in (("aws", "gcp"), ("aws", "azure"), ("gcp", "azure"))}
