"""One VPC: private subnets across AZs, optional public egress (IGW + NAT), a closed
default security group, and flow logs to a KMS-encrypted CloudWatch log group.

Subnets are carved from the VPC CIDR in a fixed order (private first, then
public, then /28 Transit Gateway attachment subnets in the last slot), so adding
an AZ appends subnets instead of renumbering existing ones.

Egress (the hub only): one NAT gateway, or one per AZ with one private route
table per AZ, so losing an AZ cuts only that AZ's egress and no traffic crosses
AZs to reach a NAT (AWS NAT gateway docs: a NAT gateway is zonal; aws-ia
hub-and-spoke builds one per AZ).
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
#: Transit Gateway attachment subnets: /28s from the last slot. AWS asks for a small dedicated
#: subnet per AZ (TGW design best practices), so workload subnets keep their own NACLs and IPs.
_TRANSIT_PREFIX = 28


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
    #: With public_egress: one NAT gateway and one private route table per AZ (high availability).
    nat_per_az: bool = False
    #: Dedicated /28 subnets per AZ for a Transit Gateway attachment (only when a gateway attaches).
    transit_subnets: bool = False


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
        transit = list(slots[-1].subnets(new_prefix=_TRANSIT_PREFIX))
        azs = props.availability_zones
        per_az = props.public_egress and props.nat_per_az
        #: AZ -> its private route table (one shared table unless egress is per AZ).
        shared = None if per_az else self._table("private-rt", f"{props.name}-private")
        self.private_route_tables = {
            az: self._table(f"private-rt-{az}", f"{props.name}-private-{az}") if per_az else shared for az in azs
        }
        self.private_subnet_ids = [
            self._subnet(f"private-{az}", str(slots[i]), az, self.private_route_tables[az], f"{props.name}-private-{az}")
            for i, az in enumerate(azs)
        ]
        #: Their CIDRs, in the same order (fixed addresses such as Resolver endpoint IPs are picked from them).
        self.private_subnet_cidrs = [str(slots[i]) for i in range(len(azs))]
        # Attachment subnets share their AZ's private table: what arrives from the gateway leaves the
        # way the AZ's workloads do (spokes: local; hub: the AZ's NAT).
        self.transit_subnet_ids = [
            self._subnet(f"transit-{az}", str(transit[i]), az, self.private_route_tables[az], f"{props.name}-transit-{az}")
            for i, az in enumerate(azs)
            if props.transit_subnets
        ]
        self.route_table_ids = [t.id for t in self._distinct_private_tables().values()]
        self.public_route_table = None
        if props.public_egress:
            self._public_egress(props, slots)
        self._flow_logs(props)

    def _distinct_private_tables(self) -> dict[str, RouteTable]:
        """Each private table once, keyed by the first AZ using it (compared as objects: every
        ``.id`` read is a fresh token string, so ids cannot be deduplicated)."""
        first: dict[int, tuple[str, RouteTable]] = {}
        for az, table in self.private_route_tables.items():
            first.setdefault(id(table), (az, table))
        return dict(first.values())

    def _table(self, id_: str, name: str) -> RouteTable:
        return RouteTable(self, id_, vpc_id=self.vpc_id, tags={"Name": name})

    def _subnet(self, id_: str, cidr: str, az: str, table: RouteTable, name: str) -> str:
        subnet = Subnet(
            self, id_, vpc_id=self.vpc_id, cidr_block=cidr, availability_zone=az,
            map_public_ip_on_launch=False, tags={"Name": name},
        )
        RouteTableAssociation(self, f"{id_}-rt", subnet_id=subnet.id, route_table_id=table.id)
        return subnet.id

    def _public_egress(self, props: VpcProps, slots: list) -> None:
        igw = InternetGateway(self, "igw", vpc_id=self.vpc_id, tags={"Name": props.name})
        self.public_route_table = self._table("public-rt", f"{props.name}-public")
        Route(self, "public-default", route_table_id=self.public_route_table.id, destination_cidr_block="0.0.0.0/0", gateway_id=igw.id)
        public = {
            az: self._subnet(f"public-{az}", str(slots[_PUBLIC_SLOT + i]), az, self.public_route_table, f"{props.name}-public-{az}")
            for i, az in enumerate(props.availability_zones)
        }
        # One NAT per distinct private table, in that table's AZ (the first AZ for the shared table);
        # a single NAT keeps its original ids, so dev/staging state is not replaced.
        self.nat_gateway_ids = []
        for az, table in self._distinct_private_tables().items():
            suffix = f"-{az}" if props.nat_per_az else ""
            eip = Eip(self, f"nat-eip{suffix}", domain="vpc", tags={"Name": f"{props.name}-nat{suffix}"})
            nat = NatGateway(self, f"nat{suffix}", subnet_id=public[az], allocation_id=eip.allocation_id, tags={"Name": f"{props.name}{suffix}"})
            Route(self, f"private-default{suffix}", route_table_id=table.id, destination_cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)
            self.nat_gateway_ids.append(nat.id)
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
