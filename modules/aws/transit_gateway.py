"""A Transit Gateway joining one hub VPC and its spokes, with routing decided here, not by defaults.

- Default association/propagation are off: an attachment reaches nothing until
  this construct says so.
- Hub route table: the hub attachment; every spoke propagates into it (return
  paths for egress and shared services).
- One route table per spoke: the default route goes to the hub (egress through
  the hub's NAT), the hub CIDR propagates, a peer spoke propagates only if the
  pair is allowed, and every other spoke's CIDR is blackholed, so traffic cannot
  detour through the hub VPC to reach it.
- VPC side: spokes send everything to the gateway; the hub sends spoke CIDRs to it.
- Each attachment sits in its VPC's dedicated /28 attachment subnets (Vpc ``transit_subnets``),
  never in the workload subnets (AWS Transit Gateway design best practices).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ec2_transit_gateway import Ec2TransitGateway
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route import Ec2TransitGatewayRoute
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table import Ec2TransitGatewayRouteTable
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table_association import (
    Ec2TransitGatewayRouteTableAssociation,
)
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table_propagation import (
    Ec2TransitGatewayRouteTablePropagation,
)
from cdktf_cdktf_provider_aws.ec2_transit_gateway_vpc_attachment import Ec2TransitGatewayVpcAttachment
from cdktf_cdktf_provider_aws.route import Route
from constructs import Construct

from modules.aws.vpc import Vpc


@dataclass(frozen=True)
class TransitGatewayProps:
    name: str
    hub: Vpc
    spokes: dict[str, Vpc]
    #: Unordered spoke pairs allowed to reach each other.
    spoke_routes: tuple[tuple[str, str], ...] = ()
    #: BGP ASN of the Amazon side (the cross-cloud fabric's); None keeps AWS's default 64512.
    amazon_side_asn: int | None = None


class TransitGateway(Construct):
    def __init__(self, scope: Construct, id_: str, props: TransitGatewayProps):
        super().__init__(scope, id_)
        allowed = {frozenset(pair) for pair in props.spoke_routes}
        self.tgw = Ec2TransitGateway(
            self, "tgw",
            description=f"{props.name} hub-and-spoke",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            auto_accept_shared_attachments="disable",
            dns_support="enable",
            amazon_side_asn=props.amazon_side_asn,
            tags={"Name": props.name},
        )
        self.id = self.tgw.id
        #: Attachment name ("hub" or a spoke) -> its route table (the fabric adds VPN routes to them).
        self.route_tables: dict[str, Ec2TransitGatewayRouteTable] = {}
        hub_attachment = self._attach("hub", props.hub, props.name)
        spoke_attachments = {name: self._attach(name, vpc, props.name) for name, vpc in props.spokes.items()}
        #: "hub" or a spoke -> its VPC attachment id (the fabric propagates some into its VPN route table).
        self.attachment_ids = {"hub": hub_attachment.id, **{n: a.id for n, a in spoke_attachments.items()}}

        hub_table = self._table("hub", props.name, hub_attachment)
        for name, attachment in spoke_attachments.items():
            self._propagate(f"hub-from-{name}", hub_table, attachment)

        for name, attachment in spoke_attachments.items():
            table = self._table(name, props.name, attachment)
            Ec2TransitGatewayRoute(
                self, f"{name}-default-via-hub",
                transit_gateway_route_table_id=table.id, destination_cidr_block="0.0.0.0/0",
                transit_gateway_attachment_id=hub_attachment.id,
            )
            self._propagate(f"{name}-from-hub", table, hub_attachment)
            for peer, peer_vpc in props.spokes.items():
                if peer == name:
                    continue
                if frozenset((name, peer)) in allowed:
                    self._propagate(f"{name}-from-{peer}", table, spoke_attachments[peer])
                else:
                    Ec2TransitGatewayRoute(
                        self, f"{name}-blackhole-{peer}",
                        transit_gateway_route_table_id=table.id, destination_cidr_block=peer_vpc.cidr, blackhole=True,
                    )

        for name, vpc in props.spokes.items():
            for index, table_id in enumerate(vpc.route_table_ids):
                Route(
                    self, f"{name}-rt{index}-default", route_table_id=table_id, destination_cidr_block="0.0.0.0/0",
                    transit_gateway_id=self.id, depends_on=[spoke_attachments[name]],
                )
            for index, table_id in enumerate(props.hub.route_table_ids):
                Route(
                    self, f"hub-rt{index}-to-{name}", route_table_id=table_id, destination_cidr_block=vpc.cidr,
                    transit_gateway_id=self.id, depends_on=[hub_attachment],
                )

    def _attach(self, name: str, vpc: Vpc, prefix: str) -> Ec2TransitGatewayVpcAttachment:
        if not vpc.transit_subnet_ids:
            raise ValueError(f"{prefix}-{name}: build the VPC with transit_subnets=True to attach it")
        return Ec2TransitGatewayVpcAttachment(
            self, f"{name}-attachment",
            transit_gateway_id=self.tgw.id, vpc_id=vpc.vpc_id, subnet_ids=vpc.transit_subnet_ids,
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            dns_support="enable",
            tags={"Name": f"{prefix}-{name}"},
        )

    def _table(self, name: str, prefix: str, attachment) -> Ec2TransitGatewayRouteTable:
        table = Ec2TransitGatewayRouteTable(self, f"{name}-rt", transit_gateway_id=self.tgw.id, tags={"Name": f"{prefix}-{name}"})
        self.route_tables[name] = table
        Ec2TransitGatewayRouteTableAssociation(
            self, f"{name}-association", transit_gateway_attachment_id=attachment.id, transit_gateway_route_table_id=table.id
        )
        return table

    def _propagate(self, id_: str, table, attachment) -> None:
        Ec2TransitGatewayRouteTablePropagation(
            self, id_, transit_gateway_attachment_id=attachment.id, transit_gateway_route_table_id=table.id
        )
