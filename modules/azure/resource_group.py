"""A resource group. (Foundation skeleton: the Azure issue builds the network and lake in it.)"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup as AzResourceGroup
from constructs import Construct


@dataclass(frozen=True)
class ResourceGroupProps:
    name: str
    location: str


class ResourceGroup(Construct):
    def __init__(self, scope: Construct, id_: str, props: ResourceGroupProps):
        super().__init__(scope, id_)
        self.group = AzResourceGroup(self, "group", name=props.name, location=props.location)
        self.name = self.group.name
