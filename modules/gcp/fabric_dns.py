"""Cloud DNS for the cross-cloud fabric: an inbound server policy on the hub (peers may query GCP), forwarding
zones for names another cloud answers, and the private googleapis.com and pkg.dev zones for Private Google Access.

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
class PrivateAccessZone:
    dns_name: str
    #: The name that holds the VIP's A records; every other name in the zone is a CNAME to it.
    vip_name: str
    description: str


#: Zone id -> the names Private Google Access answers with the VIP. Artifact Registry's hosts
#: (<region>-docker.pkg.dev: the Spark job's Dataproc image, GKE's images) are not under googleapis.com and
#: resolve to public addresses by default; the same VIP serves them (Artifact Registry, "Configure DNS for
#: registry domains": a pkg.dev zone, *.pkg.dev a CNAME).
PRIVATE_ACCESS_ZONES = {
    "googleapis": PrivateAccessZone("googleapis.com.", "private.googleapis.com.",
                                    "Private Google Access: every API via private.googleapis.com"),
    "pkg-dev": PrivateAccessZone("pkg.dev.", "pkg.dev.", "Private Google Access: Artifact Registry via the same VIP"),
}


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
            for zone_id, zone in PRIVATE_ACCESS_ZONES.items():
                managed = DnsManagedZone(
                    self, zone_id, name=f"{props.name}-{zone_id}", dns_name=zone.dns_name, visibility="private",
                    private_visibility_config=visibility, description=zone.description,
                )
                DnsRecordSet(self, f"{zone_id}-a", managed_zone=managed.name, name=zone.vip_name, type="A", ttl=300,
                             rrdatas=list(PRIVATE_GOOGLEAPIS_IPS))
                DnsRecordSet(self, f"{zone_id}-cname", managed_zone=managed.name, name=f"*.{zone.dns_name}",
                             type="CNAME", ttl=300, rrdatas=[zone.vip_name])
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
