"""VPC peering between two networks. Peering is only active once both sides exist, so both are made here."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.compute_network_peering import ComputeNetworkPeering
from constructs import Construct


@dataclass(frozen=True)
class PeeringProps:
    #: Peering names are ``<a_name>-to-<b_name>`` and the reverse.
    a_name: str
    a_network: str
    b_name: str
    b_network: str
    #: GCP refuses concurrent peering operations on one network; chain peerings of a shared hub.
    after: tuple[ITerraformDependable, ...] = ()


class Peering(Construct):
    def __init__(self, scope: Construct, id_: str, props: PeeringProps):
        super().__init__(scope, id_)
        self.forward = ComputeNetworkPeering(
            self, "forward", name=f"{props.a_name}-to-{props.b_name}", network=props.a_network,
            peer_network=props.b_network, export_custom_routes=True, import_custom_routes=True,
            depends_on=list(props.after) or None,
        )
        self.reverse = ComputeNetworkPeering(
            self, "reverse", name=f"{props.b_name}-to-{props.a_name}", network=props.b_network,
            peer_network=props.a_network, export_custom_routes=True, import_custom_routes=True,
            depends_on=[self.forward],
        )
