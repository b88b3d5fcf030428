"""A VPC's firewall baseline: every ingress denied and logged, plus the named exceptions."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_firewall import (
    ComputeFirewall,
    ComputeFirewallAllow,
    ComputeFirewallDeny,
    ComputeFirewallLogConfig,
)
from constructs import Construct

DENY_ALL_NAME = "deny-all-ingress"
#: Just above the implied deny (65535), so the rule is explicit, logged, and beaten by any allow.
DENY_ALL_PRIORITY = 65534


@dataclass(frozen=True)
class IngressAllow:
    name: str
    source_ranges: tuple[str, ...]
    protocol: str
    ports: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class FirewallProps:
    #: Rule names are ``<name>-<rule>``.
    name: str
    network: str
    allows: tuple[IngressAllow, ...] = ()


def _logged() -> ComputeFirewallLogConfig:
    return ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA")


class Firewall(Construct):
    def __init__(self, scope: Construct, id_: str, props: FirewallProps):
        super().__init__(scope, id_)
        self.deny_all = ComputeFirewall(
            self,
            "deny-all-ingress",
            name=f"{props.name}-{DENY_ALL_NAME}",
            network=props.network,
            direction="INGRESS",
            priority=DENY_ALL_PRIORITY,
            source_ranges=["0.0.0.0/0"],
            deny=[ComputeFirewallDeny(protocol="all")],
            log_config=_logged(),
            description="Deny by default: only the rules above this one admit traffic",
        )
        self.allows = [
            ComputeFirewall(
                self,
                rule.name,
                name=f"{props.name}-{rule.name}",
                network=props.network,
                direction="INGRESS",
                priority=1000,
                source_ranges=list(rule.source_ranges),
                allow=[ComputeFirewallAllow(protocol=rule.protocol, ports=list(rule.ports))],
                log_config=_logged(),
                description=rule.description,
            )
            for rule in props.allows
        ]
