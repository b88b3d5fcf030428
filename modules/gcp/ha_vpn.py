"""The GCP hub's HA VPN gateway and its Cloud Router: the GCP end of every cross-cloud link.

The router advertises custom ranges only (the hub and spoke ranges, plus Private Google Access's
199.36.153.8/30 when GCS is reached over the VPN), never "all subnets" by default, so a peer learns
exactly what it may reach (Cloud Router docs, "Advertise custom IP ranges").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_ha_vpn_gateway import ComputeHaVpnGateway
from cdktf_cdktf_provider_google.compute_router import (
    ComputeRouter,
    ComputeRouterBgp,
    ComputeRouterBgpAdvertisedIpRanges,
)
from constructs import Construct

#: private.googleapis.com (Private Google Access for on-premises hosts, GCP docs).
PRIVATE_GOOGLE_ACCESS_RANGE = "199.36.153.8/30"


@dataclass(frozen=True)
class HaVpnProps:
    name: str
    region: str
    network: str
    asn: int
    #: Ranges the router advertises to every peer.
    advertised_ranges: tuple[str, ...]


class HaVpn(Construct):
    def __init__(self, scope: Construct, id_: str, props: HaVpnProps):
        super().__init__(scope, id_)
        self.gateway = ComputeHaVpnGateway(
            self, "gateway", name=f"{props.name}-vpn", region=props.region, network=props.network, stack_type="IPV4_ONLY",
        )
        self.router = ComputeRouter(
            self, "router", name=f"{props.name}-vpn-router", region=props.region, network=props.network,
            bgp=ComputeRouterBgp(
                asn=props.asn, advertise_mode="CUSTOM",
                advertised_ip_ranges=[ComputeRouterBgpAdvertisedIpRanges(range=r) for r in props.advertised_ranges],
            ),
        )
        self.gateway_id = self.gateway.id
        self.router_name = self.router.name
        #: The gateway's two public IPs (interface 0, interface 1): the peers' customer/local gateways.
        self.public_ips = tuple(self.gateway.vpn_interfaces.get(i).ip_address for i in (0, 1))
