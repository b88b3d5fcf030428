"""One tunnel from the Azure hub's VPN gateway to a peer's public IP: a local network gateway (the peer's
address and BGP peer) and an IPsec connection with BGP, an explicit IKEv2 policy and custom APIPA addresses.

The IPsec policy matches the AWS tunnel options (modules/aws/vpn_link.py) and is within GCP's supported
ciphers; Azure accepts GCMAES256 for IPsec only with GCMAES256 integrity (Azure docs, "IPsec/IKE policy").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.local_network_gateway import (
    LocalNetworkGateway,
    LocalNetworkGatewayBgpSettings,
)
from cdktf_cdktf_provider_azurerm.virtual_network_gateway_connection import (
    VirtualNetworkGatewayConnection,
    VirtualNetworkGatewayConnectionCustomBgpAddresses,
    VirtualNetworkGatewayConnectionIpsecPolicy,
)
from constructs import Construct

IPSEC_POLICY = dict(
    ike_encryption="AES256", ike_integrity="SHA256", dh_group="DHGroup14",
    ipsec_encryption="GCMAES256", ipsec_integrity="GCMAES256", pfs_group="PFS2048", sa_lifetime=3600,
)


@dataclass(frozen=True)
class VpnSiteProps:
    name: str
    location: str
    resource_group: str
    gateway_id: str
    peer_ip: str
    peer_asn: int
    peer_bgp_ip: str
    #: Sensitive.
    shared_key: str
    #: The gateway's APIPA address this connection uses on instance 0 and on instance 1.
    bgp_addresses: tuple[str, str]


class VpnSite(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpnSiteProps):
        super().__init__(scope, id_)
        where = dict(location=props.location, resource_group_name=props.resource_group)
        site = LocalNetworkGateway(
            self, "local-gateway", name=props.name, gateway_address=props.peer_ip,
            bgp_settings=LocalNetworkGatewayBgpSettings(asn=props.peer_asn, bgp_peering_address=props.peer_bgp_ip),
            **where,
        )
        VirtualNetworkGatewayConnection(
            self, "connection", name=props.name, type="IPsec", connection_protocol="IKEv2",
            virtual_network_gateway_id=props.gateway_id, local_network_gateway_id=site.id, enable_bgp=True,
            shared_key=props.shared_key, ipsec_policy=VirtualNetworkGatewayConnectionIpsecPolicy(**IPSEC_POLICY),
            custom_bgp_addresses=VirtualNetworkGatewayConnectionCustomBgpAddresses(
                primary=props.bgp_addresses[0], secondary=props.bgp_addresses[1],
            ),
            **where,
        )
