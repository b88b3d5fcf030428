"""A VNet with one workload subnet behind a deny-inbound NSG.

The subnet takes the first half of the VNet's range; the second half stays free
for what a hub may need later (GatewaySubnet, AzureFirewallSubnet).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.subnet import Subnet
from cdktf_cdktf_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from cdktf_cdktf_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct

from modules.azure.nsg import InboundAllow, Nsg, NsgProps


def first_half(cidr: str) -> str:
    network = ipaddress.ip_network(cidr)
    return str(next(network.subnets(prefixlen_diff=1)))


@dataclass(frozen=True)
class VnetProps:
    name: str
    location: str
    resource_group: str
    cidr: str
    #: Service endpoints on the subnet, e.g. Microsoft.Storage for a storage firewall rule.
    service_endpoints: tuple[str, ...] = ()
    inbound_allows: tuple[InboundAllow, ...] = ()


class Vnet(Construct):
    def __init__(self, scope: Construct, id_: str, props: VnetProps):
        super().__init__(scope, id_)
        self.vnet = VirtualNetwork(
            self, "vnet", name=props.name, location=props.location, resource_group_name=props.resource_group,
            address_space=[props.cidr],
        )
        self.subnet_cidr = first_half(props.cidr)
        self.subnet = Subnet(
            self, "subnet", name="workloads", resource_group_name=props.resource_group,
            virtual_network_name=self.vnet.name, address_prefixes=[self.subnet_cidr],
            service_endpoints=list(props.service_endpoints) or None,
            # NSG rules also apply to private endpoints in this subnet.
            private_endpoint_network_policies="Enabled",
            # No implicit internet egress: outbound needs an explicit NAT or firewall.
            default_outbound_access_enabled=False,
        )
        self.nsg = Nsg(self, "nsg", NsgProps(
            name=f"{props.name}-nsg", location=props.location, resource_group=props.resource_group,
            allows=props.inbound_allows,
        ))
        SubnetNetworkSecurityGroupAssociation(self, "nsg-association", subnet_id=self.subnet.id, network_security_group_id=self.nsg.id)
        self.id = self.vnet.id
        self.name = self.vnet.name
        self.label = props.name
        self.subnet_id = self.subnet.id
