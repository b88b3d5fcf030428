"""Private DNS zones for private endpoints, linked to the VNets whose resolvers must answer from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktf_cdktf_provider_azurerm.private_dns_zone_virtual_network_link import PrivateDnsZoneVirtualNetworkLink
from constructs import Construct

#: Private Link zone names (Azure docs, "Azure Private Endpoint private DNS zone values").
BLOB_ZONE = "privatelink.blob.core.windows.net"
DFS_ZONE = "privatelink.dfs.core.windows.net"
VAULT_ZONE = "privatelink.vaultcore.azure.net"


@dataclass(frozen=True)
class PrivateDnsProps:
    resource_group: str
    #: Short key -> zone name.
    zones: dict[str, str]
    #: Link name -> VNet id.
    links: dict[str, str] = field(default_factory=dict)


class PrivateDns(Construct):
    def __init__(self, scope: Construct, id_: str, props: PrivateDnsProps):
        super().__init__(scope, id_)
        self.zones = {
            key: PrivateDnsZone(self, f"zone-{key}", name=zone, resource_group_name=props.resource_group)
            for key, zone in props.zones.items()
        }
        for key, zone in self.zones.items():
            for link, vnet_id in props.links.items():
                PrivateDnsZoneVirtualNetworkLink(
                    self, f"link-{key}-{link}", name=link, resource_group_name=props.resource_group,
                    private_dns_zone_name=zone.name, virtual_network_id=vnet_id,
                    registration_enabled=False,  # private-link zones hold endpoint records only
                )
        self.zone_ids = {key: zone.id for key, zone in self.zones.items()}
