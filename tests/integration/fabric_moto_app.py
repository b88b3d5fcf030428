"""A small app with the AWS fabric's modules against a local AWS stand-in (tests/integration/test_fabric_moto.py).

Run as ``python -m tests.integration.fabric_moto_app <outdir>``. It builds the AWS half of one VPN link
(customer gateway + VPN connection on a Transit Gateway, its TGW route table association and propagation)
and the hub's Resolver endpoints and a forwarding rule, with the same modules the fabric stacks use, on a
throwaway VPC. The provider's endpoint is the Terraform variable ``aws_endpoint`` (TF_VAR_aws_endpoint).
Private hosted zones are left out: moto answers their VPC association differently on refresh, so a second
plan is never empty (README, "Cross-cloud fabric").
"""

from __future__ import annotations

import sys

import modules  # noqa: F401  (first: installs lazy provider loading before any binding import)

# isort: split
from cdktf import App, LocalBackend, TerraformStack, TerraformVariable
from cdktf_cdktf_provider_aws.ec2_transit_gateway import Ec2TransitGateway
from cdktf_cdktf_provider_aws.ec2_transit_gateway_route_table import Ec2TransitGatewayRouteTable
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderEndpoints
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc

from modules.aws.dns_forwarding import DnsForwarding, ForwardingProps
from modules.aws.resolver import ResolverEndpoints, ResolverEndpointsProps
from modules.aws.vpn_link import VpnLink, VpnLinkProps

STACK = "fabric-moto"
HUB = "10.10.0.0/16"
SUBNETS = ("10.10.0.0/20", "10.10.16.0/20")
PEER_IP = "203.0.113.10"  # TEST-NET-3: documentation address, never routed
INSIDE = ("169.254.10.0/30", "169.254.10.4/30")
AZURE_RESOLVER = "10.30.255.196"


def build(outdir: str) -> None:
    app = App(outdir=outdir)
    stack = TerraformStack(app, STACK)
    LocalBackend(stack, path="terraform.tfstate")
    endpoint = TerraformVariable(stack, "aws_endpoint", type="string").string_value
    AwsProvider(
        stack, "aws", region="eu-west-1", skip_credentials_validation=True, skip_metadata_api_check="true",
        endpoints=[AwsProviderEndpoints(ec2=endpoint, route53=endpoint, route53_resolver=endpoint, sts=endpoint)],
    )
    vpc = Vpc(stack, "hub", cidr_block=HUB)
    subnets = [
        Subnet(stack, f"subnet-{n}", vpc_id=vpc.id, cidr_block=cidr, availability_zone=f"eu-west-1{'ab'[n]}")
        for n, cidr in enumerate(SUBNETS)
    ]
    tgw = Ec2TransitGateway(
        stack, "tgw", amazon_side_asn=64512, default_route_table_association="disable",
        default_route_table_propagation="disable",
    )
    table = Ec2TransitGatewayRouteTable(stack, "vpn-rt", transit_gateway_id=tgw.id)
    VpnLink(stack, "vpn-gcp", VpnLinkProps(
        name="moto-vpn-gcp", transit_gateway_id=tgw.id, peer_ip=PEER_IP, peer_asn=64513, inside_cidrs=INSIDE,
        association_table_id=table.id, propagate_to={"vpn": table.id},
    ))
    resolver = ResolverEndpoints(stack, "resolver", ResolverEndpointsProps(
        name="moto-hub", vpc_id=vpc.id, subnet_ids=tuple(s.id for s in subnets), subnet_cidrs=SUBNETS,
        peer_cidrs=("35.199.192.0/19", "10.30.0.0/16"),
    ))
    DnsForwarding(stack, "dns", ForwardingProps(
        name="moto-fabric", outbound_endpoint_id=resolver.outbound_id,
        forwards={"blob.core.windows.net": (AZURE_RESOLVER,)}, vpc_ids={"hub": vpc.id},
    ))
    app.synth()


if __name__ == "__main__":
    build(sys.argv[1])
