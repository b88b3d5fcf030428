"""Azure stacks: <env>-azure-network and <env>-azure-platform."""

from __future__ import annotations

from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.azure.resource_group import ResourceGroup, ResourceGroupProps
from stacks import providers
from stacks.base import PlatformStack


class AzureNetworkStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "azure-network")
        providers.azurerm(self)
        self.group = ResourceGroup(
            self, "network-rg",
            ResourceGroupProps(name=f"{naming.base(env.prefix, env.name)}-network", location=env.azure.location),
        )


class AzurePlatformStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment, network: AzureNetworkStack):
        super().__init__(scope, env, "azure-platform")
        providers.azurerm(self)
        self.group = ResourceGroup(
            self, "lake-rg",
            ResourceGroupProps(name=f"{naming.base(env.prefix, env.name)}-lake", location=env.azure.location),
        )
