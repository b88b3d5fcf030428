"""One VPC: private subnets across AZs, optional public egress (IGW + NAT), a closed
default security group, and flow logs to a KMS-encrypted CloudWatch log group.

Subnets are carved from the VPC CIDR in a fixed order (private first, then
public), so adding an AZ appends subnets instead of renumbering existing ones.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc as AwsVpc
from constructs import Construct

from modules.aws.policy_document import Statement
from modules.aws.service_role import ServiceRole, ServiceRoleProps

#: Each subnet is 1/16 of the VPC (a /20 of a /16); the public ones start at slot 8.
_SUBNET_BITS = 4
_PUBLIC_SLOT = 8


@dataclass(frozen=True)
class VpcProps:
    name: str
    cidr: str
    #: Full AZ names, e.g. ("eu-west-1a", "eu-west-1b").
    availability_zones: tuple[str, ...]
    account_id: str
    region: str
    flow_log_key_arn: str
    flow_log_retention_days: int = 365
    #: The hub: public subnets, an internet gateway and a NAT gateway for everyone's egress.
    public_egress: bool = False


class Vpc(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpcProps):
        super().__init__(scope, id_)
        self.cidr = props.cidr
        self.vpc = AwsVpc(
            self, "vpc", cidr_block=props.cidr, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": props.name},
        )
        self.vpc_id = self.vpc.id
        # Nothing may use the default group: it is emptied of every rule.
        DefaultSecurityGroup(self, "default-sg-closed", vpc_id=self.vpc_id, ingress=[], egress=[])

        slots = list(ipaddress.ip_network(props.cidr).subnets(prefixlen_diff=_SUBNET_BITS))
        self.private_route_table = RouteTable(self, "private-rt", vpc_id=self.vpc_id, tags={"Name": f"{props.name}-private"})
        self.private_subnet_ids = [
            self._subnet(f"private-{az}", str(slots[i]), az, self.private_route_table, f"{props.name}-private-{az}")
            for i, az in enumerate(props.availability_zones)
        ]
        self.route_table_ids = [self.private_route_table.id]
        self.public_route_table = None
        if props.public_egress:
            self._public_egress(props, slots)
        self._flow_logs(props)

    def _subnet(self, id_: str, cidr: str, az: str, table: RouteTable, name: str) -> str:
        subnet = Subnet(
            self, id_, vpc_id=self.vpc_id, cidr_block=cidr, availability_zone=az,
            map_public_ip_on_launch=False, tags={"Name": name},
        )
        RouteTableAssociation(self, f"{id_}-rt", subnet_id=subnet.id, route_table_id=table.id)
        return subnet.id

    def _public_egress(self, props: VpcProps, slots: list) -> None:
        igw = InternetGateway(self, "igw", vpc_id=self.vpc_id, tags={"Name": props.name})
        self.public_route_table = RouteTable(self, "public-rt", vpc_id=self.vpc_id, tags={"Name": f"{props.name}-public"})
        Route(self, "public-default", route_table_id=self.public_route_table.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        public = [
            self._subnet(f"public-{az}", str(slots[_PUBLIC_SLOT + i]), az, self.public_route_table, f"{props.name}-public-{az}")
            for i, az in enumerate(props.availability_zones)
        ]
        eip = Eip(self, "nat-eip", domain="vpc", tags={"Name": f"{props.name}-nat"})
        nat = NatGateway(self, "nat", subnet_id=public[0], allocation_id=eip.allocation_id, tags={"Name": props.name})
        Route(self, "private-default", route_table_id=self.private_route_table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
        self.route_table_ids.append(self.public_route_table.id)

    def _flow_logs(self, props: VpcProps) -> None:
        group = CloudwatchLogGroup(
            self, "flow-log-group",
            name=f"/vpc/{props.name}/flow-logs",
            kms_key_id=props.flow_log_key_arn,
            retention_in_days=props.flow_log_retention_days,
        )
        role = ServiceRole(
            self, "flow-log-role",
            ServiceRoleProps(
                name=f"{props.name}-flow-logs",
                services=("vpc-flow-logs.amazonaws.com",),
                account_id=props.account_id,
                description=f"Delivers {props.name} flow logs to its log group",
                statements=(
                    Statement(
                        "WriteFlowLogs",
                        ("logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"),
                        (group.arn, f"{group.arn}:*"),
                    ),
                ),
            ),
        )
        FlowLog(
            self, "flow-log",
            vpc_id=self.vpc_id, traffic_type="ALL", log_destination_type="cloud-watch-logs",
            log_destination=group.arn, iam_role_arn=role.arn, max_aggregation_interval=60,
            tags={"Name": props.name},
        )
