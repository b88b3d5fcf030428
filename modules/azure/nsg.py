"""A network security group that denies all inbound traffic unless a named rule allows it."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.network_security_group import (
    NetworkSecurityGroup,
    NetworkSecurityGroupSecurityRule,
)
from constructs import Construct

#: The last priority a custom rule can take: the explicit deny sits under every allow and above
#: Azure's default AllowVnetInBound (65000), which would otherwise admit all peered traffic.
DENY_ALL_PRIORITY = 4096


@dataclass(frozen=True)
class InboundAllow:
    name: str
    priority: int
    source_prefixes: tuple[str, ...]
    destination_prefix: str
    protocol: str
    ports: tuple[str, ...]


@dataclass(frozen=True)
class NsgProps:
    name: str
    location: str
    resource_group: str
    allows: tuple[InboundAllow, ...] = ()


def _rule(name: str, priority: int, access: str, **fields) -> NetworkSecurityGroupSecurityRule:
    return NetworkSecurityGroupSecurityRule(
        name=name, priority=priority, direction="Inbound", access=access, source_port_range="*", **fields
    )


class Nsg(Construct):
    def __init__(self, scope: Construct, id_: str, props: NsgProps):
        super().__init__(scope, id_)
        rules = [
            _rule(a.name, a.priority, "Allow", protocol=a.protocol, source_address_prefixes=list(a.source_prefixes),
                  destination_address_prefix=a.destination_prefix, destination_port_ranges=list(a.ports),
                  description=f"{a.name}: explicitly allowed")
            for a in props.allows
        ]
        rules.append(_rule(
            "deny-all-inbound", DENY_ALL_PRIORITY, "Deny", protocol="*", source_address_prefix="*",
            destination_address_prefix="*", destination_port_range="*", description="Deny by default",
        ))
        self.nsg = NetworkSecurityGroup(
            self, "nsg", name=props.name, location=props.location, resource_group_name=props.resource_group,
            security_rule=rules,
        )
        self.id = self.nsg.id
