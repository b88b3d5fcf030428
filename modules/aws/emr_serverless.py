"""Spark on AWS: one EMR Serverless application per environment, and a job execution role per domain.

Why EMR Serverless (issue 12): no cluster to size or patch, billing per vCPU-second and GB-second while
a job runs, and ``auto_stop`` releases every worker after a few idle minutes, so a platform that runs
a backfill a week pays for that week's minutes only. ``maximum_capacity`` caps what all running jobs
together may hold: the bill's ceiling, from the environment file.

Network: the workers get ENIs in the data spoke's private subnets behind a security group with no
ingress and egress to three things only: S3 over HTTPS through the spoke's S3 gateway endpoint
(its prefix list), Vault's private address on Vault's port (the job logs in as its domain and reads
the masking key), and HTTPS to the spoke's own range (interface endpoints, none yet).

Identity: a job runs as its domain's execution role. EMR Serverless assumes it
(``emr-serverless.amazonaws.com``, EMR Serverless user guide "Job runtime roles"), confined to this
account and this application (``aws:SourceAccount``/``aws:SourceArn``, the confused-deputy guard).
The role reads the domain's raw zone and the job code, writes the domain's curated and quarantine
zones and its own log prefix, and uses the lake key for those objects; nothing else, no wildcard action.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.emrserverless_application import (
    EmrserverlessApplication,
    EmrserverlessApplicationAutoStartConfiguration,
    EmrserverlessApplicationAutoStopConfiguration,
    EmrserverlessApplicationImageConfiguration,
    EmrserverlessApplicationMaximumCapacity,
    EmrserverlessApplicationNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import (
    VpcSecurityGroupEgressRule,
)
from constructs import Construct

from modules.aws.policy_document import (
    Condition,
    Statement,
    policy_document,
    same_account,
    service_principal,
)
from modules.aws.vpc_endpoints import s3_gateway_endpoint

#: Where a job's code lives in the DAG bucket (published with the bundle) and, in the domain's
#: quarantine bucket, where its Spark event logs and driver/executor logs go.
CODE_PREFIX = "spark/"
LOG_PREFIX = "spark-logs/"
#: The job code is packed on x86 CI runners (a venv with pyarrow's x86_64 wheels). ARM64 (Graviton) is
#: ~20% cheaper per vCPU-hour (EMR Serverless pricing) once the package is built for aarch64 too.
ARCHITECTURE = "X86_64"
@dataclass(frozen=True)
class SparkNetwork:
    vpc_id: str
    vpc_cidr: str
    subnet_ids: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    #: Vault's private address(es) and port: the only non-AWS destination a job talks to.
    vault_ips: tuple[str, ...]
    vault_port: int
    #: The other clouds' ranges (GCP hub/spokes + Private Google Access, Azure hub/spokes), HTTPS only, when
    #: the data spoke is one of fabric.aws_spokes: customer_360 jobs read Azure and write GCS. Empty: AWS only.
    peer_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmrServerlessProps:
    name: str
    account_id: str
    region: str
    release_label: str
    max_vcpu: int
    max_memory_gb: int
    max_disk_gb: int
    idle_stop_minutes: int
    network: SparkNetwork
    #: The job's runtime image (<repository url>:<content tag>, spark/image): EMR 7.x images run
    #: Python 3.9, the job needs the workers' 3.12 and the lock's pyarrow. None: the release's own image.
    image_uri: str | None = None


class EmrServerlessSpark(Construct):
    """The application, its security group and the data spoke's S3 gateway endpoint."""

    def __init__(self, scope: Construct, id_: str, props: EmrServerlessProps):
        super().__init__(scope, id_)
        net = props.network
        # The data spoke has no S3 route of its own (its default route leaves through the hub's NAT): a
        # gateway endpoint keeps lake traffic off the internet and gives the egress rule a prefix list.
        s3 = s3_gateway_endpoint(self, name=props.name, vpc_id=net.vpc_id, region=props.region,
                                 account_id=props.account_id, route_table_ids=net.route_table_ids)
        group = SecurityGroup(
            self, "sg",
            name=f"{props.name}-workers", vpc_id=net.vpc_id,
            description=f"{props.name} EMR Serverless workers: no ingress; S3, Vault and VPC endpoints out",
            tags={"Name": f"{props.name}-workers"},
        )
        VpcSecurityGroupEgressRule(
            self, "to-s3",
            security_group_id=group.id, ip_protocol="tcp", from_port=443, to_port=443, prefix_list_id=s3.prefix_list_id,
            description="HTTPS to S3 through the gateway endpoint",
        )
        VpcSecurityGroupEgressRule(
            self, "to-endpoints",
            security_group_id=group.id, ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=net.vpc_cidr,
            description="HTTPS to interface endpoints in the spoke",
        )
        for index, ip in enumerate(net.vault_ips):
            VpcSecurityGroupEgressRule(
                self, f"to-vault-{index}",
                security_group_id=group.id, ip_protocol="tcp", from_port=net.vault_port, to_port=net.vault_port,
                cidr_ipv4=f"{ip}/32", description="Vault: the job's domain login and its masking key",
            )
        for index, cidr in enumerate(net.peer_cidrs):
            VpcSecurityGroupEgressRule(
                self, f"to-peer-{index}",
                security_group_id=group.id, ip_protocol="tcp", from_port=443, to_port=443, cidr_ipv4=cidr,
                description="HTTPS over the cross-cloud fabric: Azure Blob private endpoints, GCS via PGA",
            )
        self.security_group_id = group.id
        self.application = EmrserverlessApplication(
            self, "application",
            name=props.name, type="spark", release_label=props.release_label, architecture=ARCHITECTURE,
            maximum_capacity=EmrserverlessApplicationMaximumCapacity(
                cpu=f"{props.max_vcpu} vCPU", memory=f"{props.max_memory_gb} GB", disk=f"{props.max_disk_gb} GB",
            ),
            # Started by the first job run, stopped when idle: no standing workers (no initial_capacity).
            auto_start_configuration=EmrserverlessApplicationAutoStartConfiguration(enabled=True),
            auto_stop_configuration=EmrserverlessApplicationAutoStopConfiguration(
                enabled=True, idle_timeout_minutes=props.idle_stop_minutes,
            ),
            network_configuration=EmrserverlessApplicationNetworkConfiguration(
                subnet_ids=list(net.subnet_ids), security_group_ids=[group.id],
            ),
            # Application-wide image (EMR Serverless "Customizing an EMR Serverless image"): driver and
            # executors both run it; its base must be this release label's image.
            image_configuration=(EmrserverlessApplicationImageConfiguration(image_uri=props.image_uri)
                                 if props.image_uri else None),
        )
        self.id = self.application.id
        self.arn = self.application.arn


@dataclass(frozen=True)
class SparkJobRoleProps:
    name: str
    domain: str
    account_id: str
    application_arn: str
    raw_bucket_arn: str
    curated_bucket_arn: str
    quarantine_bucket_arn: str
    code_bucket_arn: str
    kms_key_arn: str


def _bucket_statements(sid: str, bucket_arn: str, prefix: str | None, object_actions: tuple[str, ...]) -> list[Statement]:
    """ListBucket (limited to ``prefix`` when given) and ``object_actions`` on the bucket's objects (under it)."""
    keys = f"{bucket_arn}/{prefix or ''}*"
    listing = (Condition("StringLike", "s3:prefix", (f"{prefix}*",)),) if prefix else ()
    return [
        Statement(f"{sid}List", ("s3:ListBucket",), (bucket_arn,), conditions=listing),
        Statement(f"{sid}Objects", object_actions, (keys,)),
    ]


READ = ("s3:GetObject",)
#: Spark's committers write under _temporary/ and then move (copy + delete) into place.
WRITE = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")


class SparkJobRole(Construct):
    """One domain's EMR Serverless job execution role."""

    def __init__(self, scope: Construct, id_: str, props: SparkJobRoleProps):
        super().__init__(scope, id_)
        trust = Statement(
            "AssumedByEmrServerless", ("sts:AssumeRole",),
            principals=service_principal("emr-serverless.amazonaws.com"),
            # The application or any of its job runs (<application arn>/jobruns/<id>): whichever ARN the
            # service sends as the source, nothing outside this application matches.
            conditions=(same_account(props.account_id),
                        Condition("ArnLike", "aws:SourceArn", (props.application_arn, f"{props.application_arn}/*"))),
        )
        statements = [
            *_bucket_statements("Raw", props.raw_bucket_arn, None, READ),
            *_bucket_statements("Code", props.code_bucket_arn, CODE_PREFIX, READ),
            *_bucket_statements("Curated", props.curated_bucket_arn, None, WRITE),
            # Quarantine: the rejected rows, and the job's logs under its own prefix.
            *_bucket_statements("Quarantine", props.quarantine_bucket_arn, None, WRITE),
            Statement("LakeKey", ("kms:Decrypt", "kms:GenerateDataKey"), (props.kms_key_arn,)),
        ]
        self.role = IamRole(
            self, "role",
            name=props.name,
            description=f"{props.domain} Spark jobs on EMR Serverless (its lake zones only)",
            assume_role_policy=policy_document(self, "trust", [trust]),
            tags={"domain": props.domain},
        )
        IamRolePolicy(
            self, "policy",
            name=f"{props.name}-least-privilege", role=self.role.id,
            policy=policy_document(self, "permissions", statements),
        )
        self.arn = self.role.arn
