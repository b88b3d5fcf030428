"""A VPC. (Foundation skeleton: the AWS platform issue grows this into the hub-and-spoke network.)"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.vpc import Vpc as AwsVpc
from constructs import Construct


@dataclass(frozen=True)
class VpcProps:
    name: str
    cidr: str


class Vpc(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpcProps):
        super().__init__(scope, id_)
        self.vpc = AwsVpc(
            self, "vpc", cidr_block=props.cidr, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": props.name},
        )
        self.vpc_id = self.vpc.id
