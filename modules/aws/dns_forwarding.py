"""Route 53 Resolver forwarding rules (names answered by another cloud's resolver) associated with the VPCs
whose clients ask for them, and private hosted zones for names AWS answers itself (Vault's host, and
googleapis.com -> private.googleapis.com when GCS is reached over the VPN)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.route53_record import Route53Record
from cdktf_cdktf_provider_aws.route53_resolver_rule import (
    Route53ResolverRule,
    Route53ResolverRuleTargetIp,
)
from cdktf_cdktf_provider_aws.route53_resolver_rule_association import (
    Route53ResolverRuleAssociation,
)
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone, Route53ZoneVpc
from constructs import Construct


@dataclass(frozen=True)
class Record:
    name: str
    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ForwardingProps:
    name: str
    outbound_endpoint_id: str
    #: Domain -> the peer resolver IPs that answer it.
    forwards: dict[str, tuple[str, ...]]
    #: VPC label -> VPC id: where the rules apply (a rule only answers in associated VPCs).
    vpc_ids: dict[str, str]
    #: Private hosted zones this VPC set answers itself: zone name -> its records.
    zones: dict[str, tuple[Record, ...]] = field(default_factory=dict)


class DnsForwarding(Construct):
    def __init__(self, scope: Construct, id_: str, props: ForwardingProps):
        super().__init__(scope, id_)
        self.rule_ids: dict[str, str] = {}
        for domain, targets in props.forwards.items():
            key = domain.replace(".", "-")
            rule = Route53ResolverRule(
                self, f"rule-{key}", name=f"{props.name}-{key}", domain_name=domain, rule_type="FORWARD",
                resolver_endpoint_id=props.outbound_endpoint_id,
                target_ip=[Route53ResolverRuleTargetIp(ip=ip, port=53) for ip in targets],
            )
            self.rule_ids[domain] = rule.id
            for vpc, vpc_id in props.vpc_ids.items():
                Route53ResolverRuleAssociation(self, f"assoc-{key}-{vpc}", resolver_rule_id=rule.id, vpc_id=vpc_id)
        self.zone_ids: dict[str, str] = {}
        for zone_name, records in props.zones.items():
            key = zone_name.replace(".", "-")
            zone = Route53Zone(
                self, f"zone-{key}", name=zone_name, comment=f"{props.name}: answered privately in its VPCs",
                vpc=[Route53ZoneVpc(vpc_id=vpc_id) for vpc_id in props.vpc_ids.values()],
            )
            for index, record in enumerate(records):
                Route53Record(
                    self, f"{key}-{index}", zone_id=zone.zone_id, name=record.name, type=record.type, ttl=300,
                    records=list(record.values),
                )
            self.zone_ids[zone_name] = zone.zone_id
