"""An Azure DNS Private Resolver in the hub: an inbound endpoint on a fixed IP (the other clouds forward
the lake's and Key Vault's names to it) and an outbound endpoint with a forwarding ruleset (names another
cloud answers), linked to every VNet whose clients ask for them.

Both endpoints need their own subnet delegated to Microsoft.Network/dnsResolvers, /28 at least
(Azure docs, "Azure DNS Private Resolver": subnet restrictions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_azurerm.private_dns_resolver import PrivateDnsResolver
from cdktf_cdktf_provider_azurerm.private_dns_resolver_dns_forwarding_ruleset import (
    PrivateDnsResolverDnsForwardingRuleset,
)
from cdktf_cdktf_provider_azurerm.private_dns_resolver_forwarding_rule import (
    PrivateDnsResolverForwardingRule,
    PrivateDnsResolverForwardingRuleTargetDnsServers,
)
from cdktf_cdktf_provider_azurerm.private_dns_resolver_inbound_endpoint import (
    PrivateDnsResolverInboundEndpoint,
    PrivateDnsResolverInboundEndpointIpConfigurations,
)
from cdktf_cdktf_provider_azurerm.private_dns_resolver_outbound_endpoint import (
    PrivateDnsResolverOutboundEndpoint,
)
from cdktf_cdktf_provider_azurerm.private_dns_resolver_virtual_network_link import (
    PrivateDnsResolverVirtualNetworkLink,
)
from cdktf_cdktf_provider_azurerm.subnet import (
    Subnet,
    SubnetDelegation,
    SubnetDelegationServiceDelegation,
)
from cdktf_cdktf_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from constructs import Construct

from modules.azure.nsg import InboundAllow, Nsg, NsgProps

DELEGATION = "Microsoft.Network/dnsResolvers"


@dataclass(frozen=True)
class DnsResolverProps:
    name: str
    location: str
    resource_group: str
    vnet_id: str
    vnet_name: str
    inbound_cidr: str
    outbound_cidr: str
    #: The inbound endpoint's fixed address (inside inbound_cidr).
    inbound_ip: str
    #: Domain -> resolver IPs in another cloud.
    forwards: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: VNet label -> id linked to the ruleset (where clients resolve).
    linked_vnets: dict[str, str] = field(default_factory=dict)
    #: Ranges whose resolvers may query the inbound endpoint (DNS, UDP and TCP 53); all else is denied.
    dns_clients: tuple[str, ...] = ()


class DnsResolver(Construct):
    def __init__(self, scope: Construct, id_: str, props: DnsResolverProps):
        super().__init__(scope, id_)
        where = dict(location=props.location)

        def subnet(direction: str, cidr: str, allows: tuple[InboundAllow, ...]) -> Subnet:
            built = Subnet(
                self, f"{direction}-subnet", name=f"dns-resolver-{direction}", resource_group_name=props.resource_group,
                virtual_network_name=props.vnet_name, address_prefixes=[cidr], default_outbound_access_enabled=False,
                delegation=[SubnetDelegation(name=DELEGATION, service_delegation=SubnetDelegationServiceDelegation(
                    name=DELEGATION, actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                ))],
            )
            # Deny-by-default NSG on each endpoint subnet (supported on resolver subnets); inbound allows DNS only.
            nsg = Nsg(self, f"{direction}-nsg", NsgProps(
                name=f"{props.name}-{direction}-nsg", location=props.location, resource_group=props.resource_group,
                allows=allows,
            ))
            SubnetNetworkSecurityGroupAssociation(
                self, f"{direction}-nsg-association", subnet_id=built.id, network_security_group_id=nsg.id,
            )
            return built

        dns = InboundAllow(
            name="allow-dns-from-peers", priority=1000, source_prefixes=props.dns_clients, destination_prefix=props.inbound_cidr,
            protocol="*", ports=("53",),
        )

        resolver = PrivateDnsResolver(
            self, "resolver", name=props.name, resource_group_name=props.resource_group, virtual_network_id=props.vnet_id, **where,
        )
        PrivateDnsResolverInboundEndpoint(
            self, "inbound", name=f"{props.name}-inbound", private_dns_resolver_id=resolver.id,
            ip_configurations=PrivateDnsResolverInboundEndpointIpConfigurations(
                subnet_id=subnet("inbound", props.inbound_cidr, (dns,) if props.dns_clients else ()).id, private_ip_allocation_method="Static",
                private_ip_address=props.inbound_ip,
            ),
            **where,
        )
        self.inbound_ip = props.inbound_ip
        outbound = PrivateDnsResolverOutboundEndpoint(
            self, "outbound", name=f"{props.name}-outbound", private_dns_resolver_id=resolver.id,
            subnet_id=subnet("outbound", props.outbound_cidr, ()).id, **where,
        )
        if not props.forwards:
            return
        ruleset = PrivateDnsResolverDnsForwardingRuleset(
            self, "ruleset", name=f"{props.name}-ruleset", resource_group_name=props.resource_group,
            private_dns_resolver_outbound_endpoint_ids=[outbound.id], **where,
        )
        for domain, targets in props.forwards.items():
            key = domain.replace(".", "-")
            PrivateDnsResolverForwardingRule(
                self, f"rule-{key}", name=key, dns_forwarding_ruleset_id=ruleset.id, domain_name=f"{domain}.", enabled=True,
                target_dns_servers=[PrivateDnsResolverForwardingRuleTargetDnsServers(ip_address=ip, port=53) for ip in targets],
            )
        for label, vnet_id in props.linked_vnets.items():
            PrivateDnsResolverVirtualNetworkLink(
                self, f"link-{label}", name=f"{props.name}-{label}", dns_forwarding_ruleset_id=ruleset.id, virtual_network_id=vnet_id,
            )
