"""The VPC endpoints a private workload needs: an S3 gateway endpoint on the given
route tables and interface endpoints (private DNS) behind one security group that
admits HTTPS from the VPC only.

Data perimeter (S3 gateway endpoint): S3 is reached only for buckets of the
environment's own account, by identities of that account (``aws:ResourceAccount``
and ``aws:PrincipalAccount``), plus the one AWS-owned bucket MWAA cannot run
without: ECR's image-layer bucket ``prod-<region>-starport-layer-bucket`` (ECR user
guide, "Minimum Amazon S3 bucket permissions"), fetched through URLs ECR presigns,
so neither account condition can hold there.

The interface endpoints keep the default (full) policy: MWAA's Celery queue (sqs),
its images (ecr.*) and its service endpoints (airflow.*) live in AWS-owned
accounts, so ``aws:ResourceAccount`` would break the environment (MWAA user guide,
"Security in your VPC"), and logs/monitoring/kms/sts calls are already limited by
the execution role's own policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.aws.policy_document import Condition, Statement, policy_json

#: The S3 actions any role of the platform is granted (MWAA's DAG bucket reads, the DAGs' zone
#: read/write, the crawler); an endpoint policy only intersects with those grants, it never adds.
S3_ACTIONS = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation", "s3:GetBucketVersioning",
    "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration",
)


def s3_endpoint_policy(account_id: str, region: str) -> str:
    """Own account's buckets by own identities, and ECR's layer bucket for MWAA's images."""
    anyone = (("AWS", ("*",)),)
    return policy_json([
        Statement(
            "OwnAccountBucketsOnly", S3_ACTIONS, ("*",), principals=anyone,
            conditions=(
                Condition("StringEquals", "aws:ResourceAccount", (account_id,)),
                Condition("StringEquals", "aws:PrincipalAccount", (account_id,)),
            ),
        ),
        Statement(
            "EcrImageLayers", ("s3:GetObject",), (f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*",),
            principals=anyone,
        ),
    ])


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
    #: The environment's account: the only one whose buckets the S3 endpoint reaches.
    account_id: str


def s3_gateway_endpoint(scope: Construct, *, name: str, vpc_id: str, region: str, account_id: str,
                        route_table_ids: Sequence[str]) -> VpcEndpoint:
    """The VPC's S3 gateway endpoint (id ``s3`` in `scope`), limited to this account's buckets by its policy."""
    return VpcEndpoint(
        scope, "s3",
        vpc_id=vpc_id, service_name=f"com.amazonaws.{region}.s3", vpc_endpoint_type="Gateway",
        route_table_ids=list(route_table_ids), policy=s3_endpoint_policy(account_id, region),
        tags={"Name": f"{name}-s3"},
    )


class VpcEndpoints(Construct):
    def __init__(self, scope: Construct, id_: str, props: VpcEndpointsProps):
        super().__init__(scope, id_)
        s3_gateway_endpoint(self, name=props.name, vpc_id=props.vpc_id, region=props.region,
                            account_id=props.account_id, route_table_ids=props.route_table_ids)
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
