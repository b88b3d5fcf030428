"""Network Connectivity Center in a star: the hub VPC in the center group, every spoke VPC at the edge.

Edge spokes reach the center and not each other, which is hub-and-spoke without
the transitive-peering limit of VPC peering.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.network_connectivity_hub import NetworkConnectivityHub
from cdktf_cdktf_provider_google.network_connectivity_spoke import (
    NetworkConnectivitySpoke,
    NetworkConnectivitySpokeLinkedVpcNetwork,
)
from constructs import Construct


@dataclass(frozen=True)
class NccStarProps:
    name: str
    #: VPC self links.
    center: str
    edges: dict[str, str]
    #: What must exist first, e.g. the Network Connectivity API being enabled.
    after: tuple[ITerraformDependable, ...] = ()


class NccStar(Construct):
    def __init__(self, scope: Construct, id_: str, props: NccStarProps):
        super().__init__(scope, id_)
        self.hub = NetworkConnectivityHub(
            self, "hub", name=props.name, policy_mode="PRESET", preset_topology="STAR",
            description="Hub-and-spoke: spokes reach the hub VPC, not each other",
            depends_on=list(props.after) or None,
        )
        members = {"hub": ("center", props.center), **{name: ("edge", link) for name, link in props.edges.items()}}
        self.spokes = {
            name: NetworkConnectivitySpoke(
                self,
                f"spoke-{name}",
                name=f"{props.name}-{name}".replace("_", "-"),
                hub=self.hub.id,
                location="global",  # VPC spokes are global resources
                # STAR creates the two groups with the hub; a spoke names its group by full id.
                group=f"{self.hub.id}/groups/{group}",
                linked_vpc_network=NetworkConnectivitySpokeLinkedVpcNetwork(uri=link),
            )
            for name, (group, link) in members.items()
        }
