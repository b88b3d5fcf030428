"""The Azure hub's VPN gateway: GatewaySubnet, two Standard public IPs, and an active-active route-based
VpnGw with BGP and custom APIPA addresses (the Azure end of the AWS and GCP links).

- Active-active: two instances, each with its own public IP (Azure docs, "Active-active VPN gateways").
- Custom APIPA BGP addresses per instance, from 169.254.21.0-169.254.22.255 (Azure docs, "Configure BGP":
  AWS and GCP need link-local BGP peers, and Azure accepts custom ones only in that range).
- Zone-redundant SKU (VpnGw1AZ) with zone-redundant public IPs: Basic IPs are retired for gateways.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.public_ip import PublicIp
from cdktf_cdktf_provider_azurerm.subnet import Subnet
from cdktf_cdktf_provider_azurerm.virtual_network_gateway import (
    VirtualNetworkGateway,
    VirtualNetworkGatewayBgpSettings,
    VirtualNetworkGatewayBgpSettingsPeeringAddresses,
    VirtualNetworkGatewayIpConfiguration,
)
from constructs import Construct

#: Azure requires this exact subnet name for a VPN gateway.
GATEWAY_SUBNET = "GatewaySubnet"
INSTANCES = ("instance-0", "instance-1")


@dataclass(frozen=True)
class VpnGatewayProps:
    name: str
    location: str
    resource_group: str
    vnet_name: str
    #: /27 or larger (Azure's recommendation for GatewaySubnet).
    subnet_cidr: str
    asn: int
    #: Per instance, the APIPA BGP addresses it answers on.
    apipa: tuple[tuple[str, ...], tuple[str, ...]]
    sku: str = "VpnGw1AZ"


class VpnGateway(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpnGatewayProps):
        super().__init__(scope, id_)
        subnet = Subnet(
            self, "subnet", name=GATEWAY_SUBNET, resource_group_name=props.resource_group,
            virtual_network_name=props.vnet_name, address_prefixes=[props.subnet_cidr],
        )
        where = dict(location=props.location, resource_group_name=props.resource_group)
        ips = [
            PublicIp(self, f"ip-{n}", name=f"{props.name}-{n}", allocation_method="Static", sku="Standard",
                     zones=["1", "2", "3"], **where)
            for n in range(2)
        ]
        self.gateway = VirtualNetworkGateway(
            self, "gateway", name=props.name, type="Vpn", vpn_type="RouteBased", active_active=True, enable_bgp=True,
            sku=props.sku, generation="Generation1",
            ip_configuration=[
                VirtualNetworkGatewayIpConfiguration(
                    name=INSTANCES[n], public_ip_address_id=ips[n].id, subnet_id=subnet.id,
                    private_ip_address_allocation="Dynamic",
                )
                for n in range(2)
            ],
            bgp_settings=VirtualNetworkGatewayBgpSettings(
                asn=props.asn,
                peering_addresses=[
                    VirtualNetworkGatewayBgpSettingsPeeringAddresses(ip_configuration_name=INSTANCES[n], apipa_addresses=list(props.apipa[n]))
                    for n in range(2)
                ],
            ),
            **where,
        )
        self.id = self.gateway.id
        #: The two instances' public IPs (instance 0, instance 1).
        self.public_ips = tuple(ip.ip_address for ip in ips)
