"""GCP stacks: <env>-gcp-network and <env>-gcp-platform."""

from __future__ import annotations

from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.gcp.kms import KeyRing, KeyRingProps
from modules.gcp.network import Network, NetworkProps
from stacks import providers
from stacks.base import PlatformStack


class GcpNetworkStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "gcp-network")
        providers.google(self)
        self.hub = Network(self, "hub", NetworkProps(name=f"{naming.base(env.prefix, env.name)}-hub"))


class GcpPlatformStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment, network: GcpNetworkStack):
        super().__init__(scope, env, "gcp-platform")
        providers.google(self)
        self.key_ring = KeyRing(
            self, "key-ring", KeyRingProps(name=f"{naming.base(env.prefix, env.name)}-lake", location=env.gcp.region)
        )
