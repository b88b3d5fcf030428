"""AWS stacks: <env>-aws-network and <env>-aws-platform."""

from __future__ import annotations

from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.aws.kms_key import KmsKey, KmsKeyProps
from modules.aws.vpc import Vpc, VpcProps
from stacks import providers
from stacks.base import PlatformStack


class AwsNetworkStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "aws-network")
        providers.aws(self)
        self.hub = Vpc(self, "hub", VpcProps(name=f"{naming.base(env.prefix, env.name)}-hub", cidr=env.aws.network.hub_cidr))


class AwsPlatformStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment, network: AwsNetworkStack):
        super().__init__(scope, env, "aws-platform")
        providers.aws(self)
        self.key = KmsKey(
            self, "lake-key",
            KmsKeyProps(alias=f"{naming.base(env.prefix, env.name)}-lake", description=f"{env.name} data lake key"),
        )
