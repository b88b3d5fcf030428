"""The cross-cloud fabric: <env>-aws-fabric, <env>-gcp-fabric, <env>-azure-fabric (README, "Cross-cloud fabric").

The network stacks own each hub's gateway (TGW, HA VPN + Cloud Router, Azure VPN gateway) and resolver; these
stacks hold what depends on a peer's gateway, so no cycle crosses the network stacks. Deploy order follows
the references: networks -> aws-fabric (AWS generates the tunnel keys) -> gcp-fabric (generates the
GCP<->Azure keys) -> azure-fabric.
"""

from __future__ import annotations

from urllib.parse import urlparse

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route import Ec2TransitGatewayRoute
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table import (
    Ec2TransitGatewayRouteTable,
)
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table_propagation import (
    Ec2TransitGatewayRouteTablePropagation,
)
from cdktf_cdktf_provider_aws.route import Route
from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.aws.dns_forwarding import DnsForwarding, ForwardingProps, Record
from modules.aws.vpn_link import VpnLink, VpnLinkProps
from modules.azure.vpn_site import VpnSite, VpnSiteProps
from modules.gcp.dns_ranges import DNS_FORWARDING_SOURCE
from modules.gcp.fabric_dns import PRIVATE_GOOGLEAPIS_IPS, FabricDns, FabricDnsProps
from modules.gcp.ha_vpn import PRIVATE_GOOGLE_ACCESS_RANGE
from modules.gcp.vpn_peer import VpnPeer, VpnPeerProps, tunnel_hosts
from modules.terraform_extras import random_password
from stacks import providers
from stacks.aws import AwsNetworkStack
from stacks.azure import AzureNetworkStack
from stacks.base import PlatformStack
from stacks.gcp import GcpNetworkStack


def vault_host(env: Environment) -> str:
    return urlparse(env.vault.address).hostname or ""


def gcp_ranges(env: Environment) -> tuple[str, ...]:
    """What the GCP hub advertises (stacks/gcp.py): hub, spokes, Cloud DNS's forwarding source, PGA's range."""
    net = env.gcp.network
    private = (PRIVATE_GOOGLE_ACCESS_RANGE,) if env.fabric.gcs_access == "private" else ()
    return (net.hub_cidr, *net.spokes.values(), DNS_FORWARDING_SOURCE, *private)


def azure_ranges(env: Environment) -> tuple[str, ...]:
    net = env.azure.network
    return (net.hub_cidr, *net.spokes.values())


class AwsFabricStack(PlatformStack):
    """Customer gateways and VPN connections on the TGW toward GCP and Azure, their TGW routing, and DNS."""

    def __init__(self, scope: Construct, env: Environment, aws: AwsNetworkStack, gcp: GcpNetworkStack,
                 azure: AzureNetworkStack):
        super().__init__(scope, env, "aws-fabric")
        providers.aws(self)
        fabric = env.fabric
        tgw, resolver = aws.transit_gateway, aws.resolver
        # The AWS spokes that talk to the other clouds (MWAA's); every other spoke blackholes the peers.
        cross_cloud = tuple(fabric.aws_spokes)
        assert fabric.asn and fabric.tunnels and tgw and resolver and gcp.vpn and azure.vpn_gateway  # schema + network stacks
        name = lambda *parts: naming.aws_resource(env.prefix, env.name, *parts)  # noqa: E731
        # The VPN attachments' own table: the peers reach the hub (resolver, Vault) and the cross-cloud spokes only.
        vpn_table = Ec2TransitGatewayRouteTable(self, "vpn-rt", transit_gateway_id=tgw.id, tags={"Name": name("tgw", "vpn")})
        for source in ("hub", *cross_cloud):
            Ec2TransitGatewayRouteTablePropagation(
                self, f"vpn-from-{source}", transit_gateway_route_table_id=vpn_table.id,
                transit_gateway_attachment_id=tgw.attachment_ids[source],
            )
        learners = {t: tgw.route_tables[t].id for t in ("hub", *cross_cloud)}
        peers = {
            "gcp": (gcp.vpn.public_ips[0], fabric.asn.gcp, fabric.tunnels.aws_gcp),
            "azure": (azure.vpn_gateway.public_ips[0], fabric.asn.azure, fabric.tunnels.aws_azure),
        }
        self.links = {
            peer: VpnLink(self, f"vpn-{peer}", VpnLinkProps(
                name=name("vpn", peer), transit_gateway_id=tgw.id, peer_ip=ip, peer_asn=asn,
                inside_cidrs=(cidrs[0], cidrs[1]), association_table_id=vpn_table.id, propagate_to=learners,
            ))
            for peer, (ip, asn, cidrs) in peers.items()
        }
        remote = gcp_ranges(env) + azure_ranges(env)
        # Spokes that must not reach the other clouds: their default route leads to the hub, and the hub
        # VPC routes the peers' ranges back to the TGW, so without a blackhole they would detour through it.
        for spoke in aws.spokes:
            if spoke in cross_cloud:
                continue
            for index, cidr in enumerate(remote):
                Ec2TransitGatewayRoute(
                    self, f"{spoke}-blackhole-{index}", transit_gateway_route_table_id=tgw.route_tables[spoke].id,
                    destination_cidr_block=cidr, blackhole=True,
                )
        # The hub VPC (Resolver endpoints, Vault) reaches the peers through the TGW.
        for t, table_id in enumerate(aws.hub.route_table_ids):
            for index, cidr in enumerate(remote):
                Route(self, f"hub-rt{t}-to-peer-{index}", route_table_id=table_id, destination_cidr_block=cidr,
                      transit_gateway_id=tgw.id)

        # DNS: Azure's private-link names go to its resolver; Vault's name and (PGA) googleapis.com answer here.
        zones = {}
        if env.vault.private_ips:
            host = vault_host(env)
            zones[host] = (Record(host, "A", tuple(env.vault.private_ips)),)
        if fabric.gcs_access == "private":
            zones["googleapis.com"] = (
                Record("private.googleapis.com", "A", PRIVATE_GOOGLEAPIS_IPS),
                Record("*.googleapis.com", "CNAME", ("private.googleapis.com",)),
            )
        clients = {"hub": aws.hub.vpc_id, **{s: aws.spokes[s].vpc_id for s in cross_cloud}}
        assert azure.dns_resolver
        DnsForwarding(self, "dns", ForwardingProps(
            name=name("fabric"), outbound_endpoint_id=resolver.outbound_id,
            forwards={domain: (azure.dns_resolver.inbound_ip,) for domain in fabric.dns.to_azure},
            vpc_ids=clients, zones=zones,
        ))
        for peer, link in self.links.items():
            for n, key in enumerate(link.preshared_keys, start=1):
                # Operators read them with `terraform output`; Terraform never prints a sensitive output.
                TerraformOutput(self, f"{peer}-tunnel{n}-psk", value=key, sensitive=True)


class GcpFabricStack(PlatformStack):
    """External VPN gateways, tunnels, Cloud Router interfaces and BGP peers toward AWS and Azure, and the
    Cloud DNS forwarding zones for the names those clouds answer."""

    def __init__(self, scope: Construct, env: Environment, gcp: GcpNetworkStack, aws: AwsNetworkStack,
                 aws_fabric: AwsFabricStack, azure: AzureNetworkStack):
        super().__init__(scope, env, "gcp-fabric")
        providers.google(self)
        fabric = env.fabric
        assert fabric.asn and fabric.tunnels and gcp.vpn and azure.vpn_gateway and azure.dns_resolver and aws.resolver
        name = lambda *parts: naming.gcp_resource(env.prefix, env.name, *parts)  # noqa: E731
        where = dict(region=env.gcp.region, gateway_id=gcp.vpn.gateway_id, router_name=gcp.vpn.router_name)
        aws_link = aws_fabric.links["gcp"]
        VpnPeer(self, "aws", VpnPeerProps(
            name=name("to", "aws"), peer_ips=aws_link.tunnel_outside_ips, peer_asn=fabric.asn.aws,
            inside_cidrs=tuple(fabric.tunnels.aws_gcp), shared_secrets=aws_link.preshared_keys,
            peer_host=1, gateway_interfaces=(0, 0), **where,
        ))
        # GCP<->Azure: no side generates a key, so Terraform does (random_password, sensitive).
        self.azure_keys = tuple(random_password(self, f"azure-psk-{n}").attribute("result") for n in range(2))
        VpnPeer(self, "azure", VpnPeerProps(
            name=name("to", "azure"), peer_ips=azure.vpn_gateway.public_ips, peer_asn=fabric.asn.azure,
            inside_cidrs=tuple(fabric.tunnels.gcp_azure), shared_secrets=self.azure_keys, peer_host=2,
            gateway_interfaces=(0, 1), **where,
        ))
        forwards = {domain: (azure.dns_resolver.inbound_ip,) for domain in fabric.dns.to_azure}
        if env.vault.private_ips:
            forwards[vault_host(env)] = tuple(aws.resolver.inbound_ips)
        FabricDns(self, "dns", FabricDnsProps(
            name=name("fabric"), networks=tuple(v.self_link for v in gcp.vpcs.values()), forwards=forwards,
        ))


class AzureFabricStack(PlatformStack):
    """Local network gateways and connections from the Azure hub's VPN gateway toward AWS and GCP."""

    def __init__(self, scope: Construct, env: Environment, azure: AzureNetworkStack, aws_fabric: AwsFabricStack,
                 gcp: GcpNetworkStack, gcp_fabric: GcpFabricStack):
        super().__init__(scope, env, "azure-fabric")
        providers.azurerm(self)
        fabric, az = env.fabric, env.azure
        assert fabric.asn and fabric.tunnels and azure.vpn_gateway and gcp.vpn
        name = lambda *parts: naming.azure_resource(env.prefix, env.name, *parts)  # noqa: E731
        where = dict(location=az.location, resource_group=azure.group.name, gateway_id=azure.vpn_gateway.id)
        gcp_azure = [tunnel_hosts(c) for c in fabric.tunnels.gcp_azure]
        # Instance 1's APIPA address (GCP tunnel 1's Azure host): the secondary every connection names.
        secondary = gcp_azure[1][1]
        link = aws_fabric.links["azure"]
        for n, cidr in enumerate(fabric.tunnels.aws_azure):
            aws_host, azure_host = tunnel_hosts(cidr)
            VpnSite(self, f"aws-{n}", VpnSiteProps(
                name=name("to", "aws", str(n)), peer_ip=link.tunnel_outside_ips[n], peer_asn=fabric.asn.aws,
                peer_bgp_ip=aws_host, shared_key=link.preshared_keys[n], bgp_addresses=(azure_host, secondary), **where,
            ))
        for n, (gcp_host, azure_host) in enumerate(gcp_azure):
            VpnSite(self, f"gcp-{n}", VpnSiteProps(
                name=name("to", "gcp", str(n)), peer_ip=gcp.vpn.public_ips[n], peer_asn=fabric.asn.gcp,
                peer_bgp_ip=gcp_host, shared_key=gcp_fabric.azure_keys[n],
                bgp_addresses=(gcp_azure[0][1], secondary), **where,
            ))
