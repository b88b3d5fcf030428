"""Hub-and-spoke VNet peering, both directions, with optional gateway transit through the hub."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.virtual_network_peering import VirtualNetworkPeering
from constructs import Construct


@dataclass(frozen=True)
class VnetRef:
    #: The plain name, for the peering names.
    label: str
    #: The name as a reference (so the peering waits for its VNet) and the VNet id.
    name: str
    id: str
    resource_group: str


@dataclass(frozen=True)
class HubPeeringProps:
    hub: VnetRef
    spoke: VnetRef
    #: The hub shares its VPN/ExpressRoute gateway; requires that gateway to exist in the hub.
    gateway_transit: bool = False
    #: What the peering waits for: with gateway transit, the hub's VPN gateway (Azure refuses
    #: use_remote_gateways while the remote VNet has no gateway).
    after: tuple = ()


class HubPeering(Construct):
    def __init__(self, scope: Construct, id_: str, props: HubPeeringProps):
        super().__init__(scope, id_)
        hub, spoke = props.hub, props.spoke
        self.hub_to_spoke = VirtualNetworkPeering(
            self, "hub-to-spoke", name=f"{hub.label}-to-{spoke.label}", resource_group_name=hub.resource_group,
            virtual_network_name=hub.name, remote_virtual_network_id=spoke.id,
            allow_virtual_network_access=True, allow_forwarded_traffic=True,
            allow_gateway_transit=props.gateway_transit, use_remote_gateways=False,
        )
        self.spoke_to_hub = VirtualNetworkPeering(
            self, "spoke-to-hub", name=f"{spoke.label}-to-{hub.label}", resource_group_name=spoke.resource_group,
            virtual_network_name=spoke.name, remote_virtual_network_id=hub.id,
            allow_virtual_network_access=True, allow_forwarded_traffic=True,
            use_remote_gateways=props.gateway_transit, allow_gateway_transit=False,
            depends_on=list(props.after) or None,
        )
