"""One cross-cloud link seen from GCP: the peer's gateway as an external VPN gateway, two tunnels from the
HA VPN gateway, and a Cloud Router interface + BGP peer per tunnel.

Tunnel n goes to the peer's interface n from HA VPN interface ``gateway_interfaces[n]``. Toward Azure
(two gateway instances) that is (0, 1). Toward AWS it is (0, 0): an AWS VPN connection accepts IKE from its
customer gateway's single IP only, so both tunnels leave interface 0 (two tunnels per link; HA VPN's
99.99% SLA would need a second AWS connection on interface 1, README "Cross-cloud fabric").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_external_vpn_gateway import (
    ComputeExternalVpnGateway,
    ComputeExternalVpnGatewayInterface,
)
from cdktf_cdktf_provider_google.compute_router_interface import ComputeRouterInterface
from cdktf_cdktf_provider_google.compute_router_peer import ComputeRouterPeer
from cdktf_cdktf_provider_google.compute_vpn_tunnel import ComputeVpnTunnel
from constructs import Construct


@dataclass(frozen=True)
class VpnPeerProps:
    name: str
    region: str
    gateway_id: str
    router_name: str
    #: The peer's two public IPs (one per tunnel) and its ASN.
    peer_ips: tuple[str, str]
    peer_asn: int
    inside_cidrs: tuple[str, str]
    #: Per tunnel; sensitive (AWS-generated, or a random_password result).
    shared_secrets: tuple[str, str]
    #: Which host of each /30 the peer holds: 1 (the first usable; AWS's vgw side) or 2.
    peer_host: int = 1
    #: HA VPN interface per tunnel.
    gateway_interfaces: tuple[int, int] = (0, 1)


def tunnel_hosts(cidr: str) -> tuple[str, str]:
    """The two usable addresses of a /30, first then second."""
    first, second = list(ipaddress.ip_network(cidr).hosts())
    return str(first), str(second)


class VpnPeer(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpnPeerProps):
        super().__init__(scope, id_)
        external = ComputeExternalVpnGateway(
            self, "external-gateway", name=props.name, redundancy_type="TWO_IPS_REDUNDANCY",
            interface=[ComputeExternalVpnGatewayInterface(id=i, ip_address=ip) for i, ip in enumerate(props.peer_ips)],
        )
        for n, cidr in enumerate(props.inside_cidrs):
            hosts = tunnel_hosts(cidr)
            peer_ip, gcp_ip = (hosts[0], hosts[1]) if props.peer_host == 1 else (hosts[1], hosts[0])
            tunnel = ComputeVpnTunnel(
                self, f"tunnel-{n}", name=f"{props.name}-{n}", region=props.region, ike_version=2,
                vpn_gateway=props.gateway_id, vpn_gateway_interface=props.gateway_interfaces[n],
                peer_external_gateway=external.id, peer_external_gateway_interface=n,
                shared_secret=props.shared_secrets[n], router=props.router_name,
            )
            interface = ComputeRouterInterface(
                self, f"interface-{n}", name=f"{props.name}-{n}", region=props.region, router=props.router_name,
                ip_range=f"{gcp_ip}/30", vpn_tunnel=tunnel.name,
            )
            ComputeRouterPeer(
                self, f"peer-{n}", name=f"{props.name}-{n}", region=props.region, router=props.router_name,
                interface=interface.name, ip_address=gcp_ip, peer_ip_address=peer_ip, peer_asn=props.peer_asn,
            )
