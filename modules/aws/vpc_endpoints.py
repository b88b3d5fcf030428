"""The VPC endpoints a private workload needs: an S3 gateway endpoint on the given
route tables and interface endpoints (private DNS) behind one security group that
admits HTTPS from the VPC only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct


@dataclass(frozen=True)
class VpcEndpointsProps:
    name: str
    region: str
    vpc_id: str
    vpc_cidr: str
    subnet_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    #: Service suffixes after ``com.amazonaws.<region>.``, e.g. "logs", "airflow.api".
    interface_services: tuple[str, ...]


class VpcEndpoints(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpcEndpointsProps):
        super().__init__(scope, id_)
        VpcEndpoint(
            self, "s3",
            vpc_id=props.vpc_id, service_name=f"com.amazonaws.{props.region}.s3", vpc_endpoint_type="Gateway",
            route_table_ids=list(props.route_table_ids), tags={"Name": f"{props.name}-s3"},
        )
        group = SecurityGroup(
            self, "sg",
            name=f"{props.name}-endpoints", vpc_id=props.vpc_id,
            description=f"HTTPS from {props.name} to its interface endpoints",
            tags={"Name": f"{props.name}-endpoints"},
        )
        VpcSecurityGroupIngressRule(
            self, "https-from-vpc",
            security_group_id=group.id, ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=props.vpc_cidr,
            description="HTTPS from inside the VPC",
        )
        self.security_group_id = group.id
        for service in props.interface_services:
            VpcEndpoint(
                self, service.replace(".", "-"),
                vpc_id=props.vpc_id, service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface", private_dns_enabled=True,
                subnet_ids=list(props.subnet_ids), security_group_ids=[group.id],
                tags={"Name": f"{props.name}-{service}"},
            )
