"""Cloud DNS for the cross-cloud fabric: an inbound server policy on the hub (peers may query GCP), forwarding
zones for names another cloud answers, and the private googleapis.com zone for Private Google Access.

Private Google Access over the VPN (GCP docs, "Configure Private Google Access for on-premises hosts"):
``googleapis.com`` answers ``private.googleapis.com`` (199.36.153.8/30) for every name, so GCS traffic goes
to the range the Cloud Router advertises instead of Google's public addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_google.dns_managed_zone import (
    DnsManagedZone,
    DnsManagedZoneForwardingConfig,
    DnsManagedZoneForwardingConfigTargetNameServers,
    DnsManagedZonePrivateVisibilityConfig,
    DnsManagedZonePrivateVisibilityConfigNetworks,
)
from cdktf_cdktf_provider_google.dns_policy import DnsPolicy, DnsPolicyNetworks
from cdktf_cdktf_provider_google.dns_record_set import DnsRecordSet
from constructs import Construct

PRIVATE_GOOGLEAPIS_IPS = ("199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11")


@dataclass(frozen=True)
class FabricDnsProps:
    name: str
    #: VPC self links that see the zones (hub and spokes).
    networks: tuple[str, ...]
    #: The VPC that gets the inbound forwarding policy (None: no policy here).
    inbound_network: str | None = None
    private_google_access: bool = False
    #: Domain -> resolver IPs in another cloud that answer it (reached over the VPN: private routing).
    forwards: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _zone_name(domain: str) -> str:
    return domain.rstrip(".").replace(".", "-")


class FabricDns(Construct):
    def __init__(self, scope: Construct, id_: str, props: FabricDnsProps):
        super().__init__(scope, id_)
        visibility = DnsManagedZonePrivateVisibilityConfig(
            networks=[DnsManagedZonePrivateVisibilityConfigNetworks(network_url=n) for n in props.networks]
        )
        if props.inbound_network:
            DnsPolicy(
                self, "inbound", name=f"{props.name}-inbound", enable_inbound_forwarding=True, enable_logging=True,
                networks=[DnsPolicyNetworks(network_url=props.inbound_network)],
            )
        if props.private_google_access:
            zone = DnsManagedZone(
                self, "googleapis", name=f"{props.name}-googleapis", dns_name="googleapis.com.", visibility="private",
                private_visibility_config=visibility, description="Private Google Access: every API via private.googleapis.com",
            )
            DnsRecordSet(self, "googleapis-a", managed_zone=zone.name, name="private.googleapis.com.", type="A", ttl=300,
                         rrdatas=list(PRIVATE_GOOGLEAPIS_IPS))
            DnsRecordSet(self, "googleapis-cname", managed_zone=zone.name, name="*.googleapis.com.", type="CNAME", ttl=300,
                         rrdatas=["private.googleapis.com."])
        for domain, targets in props.forwards.items():
            DnsManagedZone(
                self, f"forward-{_zone_name(domain)}", name=f"{props.name}-{_zone_name(domain)}", dns_name=f"{domain}.",
                visibility="private", private_visibility_config=visibility, description=f"{domain}: answered by a peer cloud",
                forwarding_config=DnsManagedZoneForwardingConfig(target_name_servers=[
                    # private: reach the target through the VPC's routes (the VPN), not the internet.
                    DnsManagedZoneForwardingConfigTargetNameServers(ipv4_address=ip, forwarding_path="private")
                    for ip in targets
                ]),
            )
