"""Route 53 Resolver endpoints in the hub: inbound (other clouds' resolvers ask AWS) and outbound
(AWS forwards the names other clouds answer), with their own security group.

DNS is UDP and TCP 53 (TCP for large answers). Inbound answers only the peer clouds' ranges; outbound
may only send DNS to them. Each endpoint needs at least two IPs in different AZs (Route 53 Resolver
developer guide, "Values that you specify when you create or edit inbound endpoints").
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.route53_resolver_endpoint import (
    Route53ResolverEndpoint,
    Route53ResolverEndpointIpAddress,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

DNS_PROTOCOLS = ("udp", "tcp")


@dataclass(frozen=True)
class ResolverEndpointsProps:
    name: str
    vpc_id: str
    #: Two or more subnets in different AZs (one endpoint IP each), and their CIDRs in the same order.
    subnet_ids: tuple[str, ...]
    subnet_cidrs: tuple[str, ...]
    #: Ranges allowed to query inbound, and the only destinations outbound may forward to.
    peer_cidrs: tuple[str, ...]

#: Host number of each endpoint IP in its subnet: fixed, so the peer clouds' forwarders name known addresses.
INBOUND_HOST, OUTBOUND_HOST = 53, 54


class ResolverEndpoints(Construct):
    def __init__(self, scope: Construct, id_: str, props: ResolverEndpointsProps):
        super().__init__(scope, id_)
        if len(props.subnet_ids) < 2:
            raise ValueError(f"{props.name}: Resolver endpoints need subnets in two AZs")
        group = SecurityGroup(
            self, "sg", name=f"{props.name}-resolver", vpc_id=props.vpc_id,
            description=f"DNS between {props.name}'s Resolver endpoints and the peer clouds' resolvers",
            tags={"Name": f"{props.name}-resolver"},
        )
        for cidr_index, cidr in enumerate(props.peer_cidrs):
            for protocol in DNS_PROTOCOLS:
                VpcSecurityGroupIngressRule(
                    self, f"in-{protocol}-{cidr_index}", security_group_id=group.id, ip_protocol=protocol,
                    from_port=53, to_port=53, cidr_ipv4=cidr, description="DNS queries from a peer cloud's resolver",
                )
                VpcSecurityGroupEgressRule(
                    self, f"out-{protocol}-{cidr_index}", security_group_id=group.id, ip_protocol=protocol,
                    from_port=53, to_port=53, cidr_ipv4=cidr, description="DNS forwarded to a peer cloud's resolver",
                )
        def ips(host: int) -> list[str]:
            return [str(ipaddress.ip_network(cidr)[host]) for cidr in props.subnet_cidrs]

        #: The inbound endpoint's IPs: the targets of the peer clouds' forwarders.
        self.inbound_ips = ips(INBOUND_HOST)
        self.outbound_ips = ips(OUTBOUND_HOST)
        endpoints = {"inbound": self.inbound_ips, "outbound": self.outbound_ips}
        built = {
            direction: Route53ResolverEndpoint(
                self, direction, name=f"{props.name}-{direction}", direction=direction.upper(),
                security_group_ids=[group.id], tags={"Name": f"{props.name}-{direction}"},
                ip_address=[Route53ResolverEndpointIpAddress(subnet_id=s, ip=ip) for s, ip in zip(props.subnet_ids, addresses)],
            )
            for direction, addresses in endpoints.items()
        }
        self.security_group_id = group.id
        self.outbound_id = built["outbound"].id
