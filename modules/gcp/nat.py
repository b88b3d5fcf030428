"""Cloud Router + Cloud NAT: the only egress for private nodes, which have no external IPs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_router import ComputeRouter
from cdktf_cdktf_provider_google.compute_router_nat import ComputeRouterNat, ComputeRouterNatLogConfig
from constructs import Construct


@dataclass(frozen=True)
class CloudNatProps:
    name: str
    region: str
    network: str
    #: Which NAT events go to Cloud Logging: ERRORS_ONLY keeps volume low, ALL for debugging.
    log_filter: str = "ERRORS_ONLY"


class CloudNat(Construct):
    def __init__(self, scope: Construct, id_: str, props: CloudNatProps):
        super().__init__(scope, id_)
        self.router = ComputeRouter(self, "router", name=props.name, region=props.region, network=props.network)
        self.nat = ComputeRouterNat(
            self,
            "nat",
            name=props.name,
            router=self.router.name,
            region=props.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=ComputeRouterNatLogConfig(enable=True, filter=props.log_filter),
        )
