"""A private endpoint for one sub-resource of a PaaS resource, registered in its private DNS zone."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.private_endpoint import (
    PrivateEndpoint as AzPrivateEndpoint,
)
from cdktf_cdktf_provider_azurerm.private_endpoint import (
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from constructs import Construct


@dataclass(frozen=True)
class PrivateEndpointProps:
    name: str
    location: str
    resource_group: str
    subnet_id: str
    target_id: str
    #: e.g. "blob", "dfs", "vault".
    subresource: str
    dns_zone_id: str


class PrivateEndpoint(Construct):
    def __init__(self, scope: Construct, id_: str, props: PrivateEndpointProps):
        super().__init__(scope, id_)
        self.endpoint = AzPrivateEndpoint(
            self,
            "endpoint",
            name=props.name,
            location=props.location,
            resource_group_name=props.resource_group,
            subnet_id=props.subnet_id,
            private_service_connection=PrivateEndpointPrivateServiceConnection(
                name=props.name,
                private_connection_resource_id=props.target_id,
                subresource_names=[props.subresource],
                is_manual_connection=False,
            ),
            private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(
                name=props.subresource, private_dns_zone_ids=[props.dns_zone_id]
            ),
        )
        self.id = self.endpoint.id
