"""A custom-mode VPC with its one regional subnet: Private Google Access and flow logs always on."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.compute_network import ComputeNetwork
from cdktf_cdktf_provider_google.compute_subnetwork import (
    ComputeSubnetwork,
    ComputeSubnetworkLogConfig,
    ComputeSubnetworkSecondaryIpRange,
)
from constructs import Construct


@dataclass(frozen=True)
class VpcProps:
    name: str
    region: str
    #: The subnet's primary range: the whole range the environment gives this VPC.
    cidr: str
    #: Secondary ranges by name, e.g. GKE pods and services (VPC-native clusters need them).
    secondary_ranges: dict[str, str] = field(default_factory=dict)
    #: Share of flows sampled into VPC flow logs; 0.5 is Google's default trade-off.
    flow_log_sampling: float = 0.5
    #: What must exist first, e.g. the Compute Engine API being enabled.
    after: tuple[ITerraformDependable, ...] = ()


class Vpc(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpcProps):
        super().__init__(scope, id_)
        # Custom mode: subnets come only from the environment's CIDRs, never auto-created;
        # the default internet route stays because Cloud NAT and Private Google Access use it.
        self.network = ComputeNetwork(
            self, "network", name=props.name, auto_create_subnetworks=False, routing_mode="REGIONAL",
            depends_on=list(props.after) or None,
        )
        self.subnet = ComputeSubnetwork(
            self,
            "subnet",
            name=props.name,
            region=props.region,
            network=self.network.self_link,
            ip_cidr_range=props.cidr,
            # Private nodes reach Google APIs (GCS, Artifact Registry) without external IPs.
            private_ip_google_access=True,
            log_config=ComputeSubnetworkLogConfig(
                aggregation_interval="INTERVAL_5_SEC",
                flow_sampling=props.flow_log_sampling,
                metadata="INCLUDE_ALL_METADATA",
            ),
            secondary_ip_range=[
                ComputeSubnetworkSecondaryIpRange(range_name=name, ip_cidr_range=cidr)
                for name, cidr in props.secondary_ranges.items()
            ],
        )
        self.name = props.name
        self.self_link = self.network.self_link
        self.id = self.network.id
        self.subnet_self_link = self.subnet.self_link
