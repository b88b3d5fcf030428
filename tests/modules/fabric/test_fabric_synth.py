"""The cross-cloud fabric as synthesized for dev: links, keys, routes and DNS (issue 10, "The cross-cloud fabric")."""

from __future__ import annotations

import ipaddress
import json

import pytest

from environments.schema import load_environments
from stacks.azure import hub_fabric_subnets

ENV = next(e for e in load_environments() if e.name == "dev")
FABRIC = ENV.fabric


def values(stack, rtype):
    return list(stack.resources(rtype).values())


@pytest.fixture(scope="module")
def aws_fabric(stacks):
    return stacks["dev-aws-fabric"]


def test_fabric_stacks_only_where_enabled(stacks):
    assert {"dev-aws-fabric", "dev-gcp-fabric", "dev-azure-fabric"} <= set(stacks)
    assert not any(name.startswith("local-") and name.endswith("-fabric") for name in stacks)


def test_deploy_order_comes_from_the_references(synth_root):
    deps = {k: set(v.get("dependencies", [])) for k, v in json.loads((synth_root / "manifest.json").read_text())["stacks"].items()}
    assert {"dev-aws-network", "dev-gcp-network", "dev-azure-network"} <= deps["dev-aws-fabric"]
    assert "dev-aws-fabric" in deps["dev-gcp-fabric"]
    assert {"dev-aws-fabric", "dev-gcp-fabric"} <= deps["dev-azure-fabric"]
    assert not any("fabric" in d for d in deps["dev-aws-network"] | deps["dev-gcp-network"] | deps["dev-azure-network"])


def test_transit_gateway_speaks_the_configured_asn(stacks):
    assert stacks["dev-aws-network"].only("aws_ec2_transit_gateway")["amazon_side_asn"] == FABRIC.asn.aws


def test_vpn_connections_on_the_tgw_with_bgp_config_cidrs_and_strong_ikev2(aws_fabric):
    connections = values(aws_fabric, "aws_vpn_connection")
    assert len(connections) == 2
    inside = sorted((c["tunnel1_inside_cidr"], c["tunnel2_inside_cidr"]) for c in connections)
    assert inside == sorted([tuple(FABRIC.tunnels.aws_azure), tuple(FABRIC.tunnels.aws_gcp)])
    for c in connections:
        assert c["transit_gateway_id"].startswith("${data.terraform_remote_state.")
        assert c["static_routes_only"] is False
        for n in (1, 2):
            assert c[f"tunnel{n}_ike_versions"] == ["ikev2"]
            assert set(c[f"tunnel{n}_phase1_encryption_algorithms"]) == {"AES256"}
            assert min(c[f"tunnel{n}_phase1_dh_group_numbers"]) >= 14
            assert f"tunnel{n}_preshared_key" not in c  # AWS generates the keys


def test_customer_gateways_are_the_peer_gateways(aws_fabric):
    gateways = {g["bgp_asn"]: g["ip_address"] for g in values(aws_fabric, "aws_customer_gateway")}
    assert set(gateways) == {str(FABRIC.asn.gcp), str(FABRIC.asn.azure)}
    assert "dev-gcp-network" in gateways[str(FABRIC.asn.gcp)] and "vpn_interfaces" in gateways[str(FABRIC.asn.gcp)]
    assert "dev-azure-network" in gateways[str(FABRIC.asn.azure)]


def test_preshared_keys_leave_only_as_sensitive_outputs(stacks, aws_fabric):
    outputs = aws_fabric.doc["output"]
    psk = {k: v for k, v in outputs.items() if "preshared_key" in json.dumps(v["value"])}
    assert len(psk) >= 4 and all(v["sensitive"] is True for v in psk.values())
    random_keys = stacks["dev-gcp-fabric"].doc["output"]
    assert random_keys and all(v["sensitive"] is True for v in random_keys.values())
    passwords = stacks["dev-gcp-fabric"].resources("random_password").values()
    assert len(passwords) == 2 and all(p["length"] >= 32 for p in passwords)
    assert stacks["dev-gcp-fabric"].doc["terraform"]["required_providers"]["random"]["source"] == "hashicorp/random"


def test_vpn_routes_reach_the_hub_and_orchestration_only(stacks, aws_fabric):
    tables = {k: v for k, v in stacks["dev-aws-network"].resources("aws_ec2_transit_gateway_route_table").items()}
    props = values(aws_fabric, "aws_ec2_transit_gateway_route_table_propagation")
    into_spokes = [p for p in props if "vpn_connection" in p["transit_gateway_attachment_id"]]
    # 2 links x (hub + orchestration) tables.
    assert len(into_spokes) == 4
    targets = {p["transit_gateway_route_table_id"] for p in into_spokes}
    assert len(targets) == 2 and not any("spoke-data" in t or "data-rt" in t for t in targets), targets
    # the VPN table learns the hub and orchestration attachments only
    vpn_sources = [p for p in props if "vpn_connection" not in p["transit_gateway_attachment_id"]]
    assert len(vpn_sources) == 2
    assert tables  # the network stack still owns the per-spoke tables


def test_data_spoke_blackholes_the_peer_clouds(aws_fabric):
    holes = [r for r in values(aws_fabric, "aws_ec2_transit_gateway_route") if r.get("blackhole")]
    remote = {ENV.gcp.network.hub_cidr, *ENV.gcp.network.spokes.values(), ENV.azure.network.hub_cidr,
              *ENV.azure.network.spokes.values(), "199.36.153.8/30", "35.199.192.0/19"}
    assert {r["destination_cidr_block"] for r in holes} == remote
    assert len(holes) == len(remote) * (len(ENV.aws.network.spokes) - 1)


def test_resolver_endpoints_in_the_hub_with_fixed_ips_and_dns_only_from_peer_hubs(stacks):
    net = stacks["dev-aws-network"]
    endpoints = {e["direction"]: e for e in values(net, "aws_route53_resolver_endpoint")}
    assert set(endpoints) == {"INBOUND", "OUTBOUND"}
    inbound_ips = [a["ip"] for a in endpoints["INBOUND"]["ip_address"]]
    assert len(inbound_ips) == 2 and all(ipaddress.ip_address(ip) in ipaddress.ip_network(ENV.aws.network.hub_cidr) for ip in inbound_ips)
    rules = values(net, "aws_vpc_security_group_ingress_rule") + values(net, "aws_vpc_security_group_egress_rule")
    dns = [r for r in rules if r.get("from_port") == 53]
    # Cloud DNS forwards from 35.199.192.0/19, Azure's outbound endpoint from its hub.
    assert {r["cidr_ipv4"] for r in dns} == {"35.199.192.0/19", ENV.azure.network.hub_cidr}
    assert all(r["to_port"] == 53 for r in dns)


def test_azure_names_forward_to_the_azure_resolver(aws_fabric):
    _, inbound, _ = hub_fabric_subnets(ENV.azure.network.hub_cidr)
    azure_resolver = str(ipaddress.ip_network(inbound)[4])
    rules = {r["domain_name"]: r for r in values(aws_fabric, "aws_route53_resolver_rule")}
    assert set(rules) == set(FABRIC.dns.to_azure)
    assert all(r["target_ip"] == [{"ip": azure_resolver, "port": 53}] and r["rule_type"] == "FORWARD" for r in rules.values())
    # each rule applies in the hub and the orchestration spoke
    assert len(values(aws_fabric, "aws_route53_resolver_rule_association")) == 2 * len(rules)


def test_vault_name_and_googleapis_answer_privately(aws_fabric):
    zones = {z["name"] for z in values(aws_fabric, "aws_route53_zone")}
    assert zones == {"vault.dev.cloudconductor.internal", "googleapis.com"}
    records = {(r["name"], r["type"]): r["records"] for r in values(aws_fabric, "aws_route53_record")}
    assert records[("vault.dev.cloudconductor.internal", "A")] == ENV.vault.private_ips
    assert records[("*.googleapis.com", "CNAME")] == ["private.googleapis.com"]
    assert records[("private.googleapis.com", "A")] == ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]


def test_gcp_router_advertises_exactly_its_ranges_and_private_google_access(stacks):
    router = stacks["dev-gcp-network"].resources("google_compute_router")["ha-vpn_router_C767D70D"]
    bgp = router["bgp"]
    assert bgp["asn"] == FABRIC.asn.gcp and bgp["advertise_mode"] == "CUSTOM"
    assert {r["range"] for r in bgp["advertised_ip_ranges"]} == {
        ENV.gcp.network.hub_cidr, *ENV.gcp.network.spokes.values(), "199.36.153.8/30", "35.199.192.0/19"}
    stacks["dev-gcp-network"].only("google_compute_ha_vpn_gateway")
    assert stacks["dev-gcp-network"].only("google_dns_policy")["enable_inbound_forwarding"] is True


def test_gcp_tunnels_and_bgp_peers(stacks):
    gcp = stacks["dev-gcp-fabric"]
    tunnels = {t["name"]: t for t in values(gcp, "google_compute_vpn_tunnel")}
    assert len(tunnels) == 4 and all(t["ike_version"] == 2 for t in tunnels.values())
    # Toward AWS both tunnels leave interface 0 (the customer gateway's one IP); toward Azure 0 and 1.
    assert [tunnels[f"ccd-dev-to-aws-{n}"]["vpn_gateway_interface"] for n in (0, 1)] == [0, 0]
    assert [tunnels[f"ccd-dev-to-azure-{n}"]["vpn_gateway_interface"] for n in (0, 1)] == [0, 1]
    peers = {p["name"]: p for p in values(gcp, "google_compute_router_peer")}
    aws0 = peers["ccd-dev-to-aws-0"]
    first, second = ipaddress.ip_network(FABRIC.tunnels.aws_gcp[0]).hosts()
    assert (aws0["peer_ip_address"], aws0["ip_address"], aws0["peer_asn"]) == (str(first), str(second), FABRIC.asn.aws)
    az1 = peers["ccd-dev-to-azure-1"]
    first, second = ipaddress.ip_network(FABRIC.tunnels.gcp_azure[1]).hosts()
    assert (az1["ip_address"], az1["peer_ip_address"], az1["peer_asn"]) == (str(first), str(second), FABRIC.asn.azure)
    forwards = {z["dns_name"] for z in values(gcp, "google_dns_managed_zone")}
    assert forwards == {f"{d}." for d in FABRIC.dns.to_azure} | {"vault.dev.cloudconductor.internal."}


def test_azure_gateway_active_active_with_apipa_in_range(stacks):
    gw = stacks["dev-azure-network"].only("azurerm_virtual_network_gateway")
    assert gw["active_active"] is True and gw["enable_bgp"] is True and gw["vpn_type"] == "RouteBased"
    assert gw["bgp_settings"]["asn"] == FABRIC.asn.azure
    apipa = [a for p in gw["bgp_settings"]["peering_addresses"] for a in p["apipa_addresses"]]
    assert len(apipa) == 4
    assert all(ipaddress.ip_address("169.254.21.0") <= ipaddress.ip_address(a) <= ipaddress.ip_address("169.254.22.255") for a in apipa)
    subnets = {s["name"] for s in values(stacks["dev-azure-network"], "azurerm_subnet")}
    assert {"GatewaySubnet", "dns-resolver-inbound", "dns-resolver-outbound"} <= subnets


def test_private_dns_zones_are_linked_to_every_vnet(stacks):
    net = stacks["dev-azure-network"]
    zones = values(net, "azurerm_private_dns_zone")
    links = values(net, "azurerm_private_dns_zone_virtual_network_link")
    vnets = 1 + len(ENV.azure.network.spokes)
    assert len(links) == len(zones) * vnets
    assert len({link["virtual_network_id"] for link in links}) == vnets


def test_spokes_use_the_hub_gateway_once_it_exists(stacks):
    peerings = values(stacks["dev-azure-network"], "azurerm_virtual_network_peering")
    spoke_side = [p for p in peerings if p["use_remote_gateways"]]
    assert len(spoke_side) == len(ENV.azure.network.spokes)
    assert all(any("virtual_network_gateway" in d for d in p["depends_on"]) for p in spoke_side)


def test_azure_resolver_admits_dns_from_the_peer_resolvers_only(stacks):
    rules = [r for nsg in values(stacks["dev-azure-network"], "azurerm_network_security_group")
             for r in nsg.get("security_rule", []) if r["name"] == "allow-dns-from-peers"]
    assert len(rules) == 1 and rules[0]["destination_port_ranges"] == ["53"]
    assert {ENV.aws.network.hub_cidr, "35.199.192.0/19"} <= set(rules[0]["source_address_prefixes"])


def test_lake_endpoints_admit_mwaa_over_the_vpn(stacks):
    rules = [r for nsg in values(stacks["dev-azure-network"], "azurerm_network_security_group")
             for r in nsg.get("security_rule", []) if r["name"] == "allow-https-from-platform"]
    assert len(rules) == 1 and rules[0]["destination_port_ranges"] == ["443"]
    sources = set(rules[0]["source_address_prefixes"])
    assert ENV.aws.network.spokes["orchestration"] in sources and ENV.aws.network.spokes["data"] not in sources


def test_azure_forwards_vault_to_the_aws_resolver(stacks):
    rules = values(stacks["dev-azure-network"], "azurerm_private_dns_resolver_forwarding_rule")
    assert [r["domain_name"] for r in rules] == ["vault.dev.cloudconductor.internal."]
    assert all(ipaddress.ip_address(t["ip_address"]) in ipaddress.ip_network(ENV.aws.network.hub_cidr) for t in rules[0]["target_dns_servers"])


def test_azure_connections_ikev2_bgp_and_generated_keys(stacks):
    az = stacks["dev-azure-fabric"]
    connections = values(az, "azurerm_virtual_network_gateway_connection")
    assert len(connections) == 4
    for c in connections:
        assert c["enable_bgp"] is True and c["connection_protocol"] == "IKEv2"
        assert c["ipsec_policy"]["ike_encryption"] == "AES256" and c["ipsec_policy"]["dh_group"] == "DHGroup14"
        assert c["shared_key"].startswith("${data.terraform_remote_state.")
    sites = {s["name"]: s for s in values(az, "azurerm_local_network_gateway")}
    aws_host = str(next(ipaddress.ip_network(FABRIC.tunnels.aws_azure[0]).hosts()))
    assert sites["ccd-dev-to-aws-0"]["bgp_settings"] == {"asn": FABRIC.asn.aws, "bgp_peering_address": aws_host}


def test_gcs_over_the_internet_drops_private_google_access(tmp_path):
    """gcs_access: internet: no 199.36.153.8/30 advertisement, no googleapis.com zones on either side."""
    import copy

    from tests.config.test_schema import DEV
    from tests.conftest import synth_environment

    data = copy.deepcopy(DEV)
    data["name"] = "gcsnet"
    data["fabric"]["gcs_access"] = "internet"
    _, built = synth_environment(data, "gcsnet", tmp_path)
    router = next(r for k, r in built["gcsnet-gcp-network"].resources("google_compute_router").items() if k.startswith("ha-vpn"))
    assert "199.36.153.8/30" not in {r["range"] for r in router["bgp"]["advertised_ip_ranges"]}
    assert not [z for z in values(built["gcsnet-gcp-network"], "google_dns_managed_zone") if z["dns_name"] == "googleapis.com."]
    assert {z["name"] for z in values(built["gcsnet-aws-fabric"], "aws_route53_zone")} == {"vault.dev.cloudconductor.internal"}
