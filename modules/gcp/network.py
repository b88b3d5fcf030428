"""A custom-mode VPC network. (Foundation skeleton: the GCP issue adds subnets, NCC, NAT, firewall.)"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_network import ComputeNetwork
from constructs import Construct


@dataclass(frozen=True)
class NetworkProps:
    name: str


class Network(Construct):
    def __init__(self, scope: Construct, id_: str, props: NetworkProps):
        super().__init__(scope, id_)
        # Custom mode: subnets come only from the environment's CIDRs, never auto-created.
        self.network = ComputeNetwork(self, "network", name=props.name, auto_create_subnetworks=False)
        self.self_link = self.network.self_link
