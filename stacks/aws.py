"""AWS stacks: <env>-aws-network and <env>-aws-platform (MWAA is in stacks/aws_orchestration.py).

Each stack exposes what other stacks need as plain attributes (ARNs, names,
subnet ids); cdktf turns a cross-stack use into an output plus a remote-state
read, so nothing is re-derived from names.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.aws.alarms import CrawlerFailureAlert, CrawlerFailureAlertProps
from modules.aws.alerts_topic import AlertsTopic, AlertsTopicProps, publisher_key_statements
from modules.aws.budget import Budget, BudgetProps
from modules.aws.data_domain import DataDomain, DataDomainProps
from modules.aws.domain_pipeline_role import DomainPipelineRole, DomainPipelineRoleProps
from modules.aws.ecr_repository import EcrRepositoryProps, PrivateEcrRepository
from modules.aws.emr_serverless import (
    CODE_PREFIX,
    LOG_PREFIX,
    EmrServerlessProps,
    EmrServerlessSpark,
    SparkJobRole,
    SparkJobRoleProps,
    SparkNetwork,
)
from modules.aws.glue_security_configuration import GlueSecurityConfiguration, GlueSecurityConfigurationProps
from modules.aws.kms_key import KmsKey, KmsKeyProps
from modules.aws.mwaa_execution_role import MwaaExecutionRole, MwaaExecutionRoleProps
from modules.aws.mwaa_log_groups import MwaaLogGroups, MwaaLogGroupsProps
from modules.aws.resolver import ResolverEndpoints, ResolverEndpointsProps
from modules.aws.secure_bucket import SecureBucket, SecureBucketProps, Tiering
from modules.aws.transit_gateway import TransitGateway, TransitGatewayProps
from modules.aws.vpc import Vpc, VpcProps
from modules.aws.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from modules.gcp.dns_ranges import DNS_FORWARDING_SOURCE
from modules.spark_image import emr_image_uri
from stacks import providers
from stacks.base import PlatformStack

#: Noncurrent versions of each DAG-bucket key kept whatever their age: an MWAA environment is
#: pinned to object versions (requirements, plugins, startup script), so a rollback needs them.
DAG_BUCKET_KEPT_VERSIONS = 10


def _name(env: Environment, *parts: str) -> str:
    return naming.aws_resource(env.prefix, env.name, *parts)


class AwsNetworkStack(PlatformStack):
    """Hub VPC (egress) and spoke VPCs, joined by a Transit Gateway when the environment has one."""

    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "aws-network")
        providers.aws(self)
        aws, net = env.aws, env.aws.network
        # Flow logs get their own key: the network stack comes first and must not depend on the lake.
        self.logs_key = KmsKey(
            self, "flow-logs-key",
            KmsKeyProps(
                alias=_name(env, "network-logs"), description=f"{env.name} VPC flow logs",
                account_id=aws.account_id, region=aws.region, allow_cloudwatch_logs=True,
                prevent_destroy=aws.protect_stateful,
            ),
        )
        azs = tuple(f"{aws.region}{letter}" for letter in net.availability_zones)

        def vpc(id_: str, name: str, cidr: str, public_egress: bool) -> Vpc:
            return Vpc(
                self, id_,
                VpcProps(
                    name=_name(env, name), cidr=cidr, availability_zones=azs, account_id=aws.account_id,
                    region=aws.region, flow_log_key_arn=self.logs_key.arn,
                    flow_log_retention_days=net.flow_log_retention_days, public_egress=public_egress,
                    nat_per_az=net.nat_gateways == "per_az", transit_subnets=net.transit_gateway.enabled,
                ),
            )

        self.hub = vpc("hub", "hub", net.hub_cidr, True)
        self.spokes = {name: vpc(f"spoke-{name}", name, cidr, False) for name, cidr in net.spokes.items()}
        orchestration = self.spokes["orchestration"]
        self.endpoints = VpcEndpoints(
            self, "orchestration-endpoints",
            VpcEndpointsProps(
                name=_name(env, "orchestration"), region=aws.region, vpc_id=orchestration.vpc_id,
                vpc_cidr=orchestration.cidr, subnet_ids=tuple(orchestration.private_subnet_ids),
                route_table_ids=tuple(orchestration.route_table_ids),
                interface_services=tuple(net.interface_endpoints), account_id=aws.account_id,
            ),
        )
        self.transit_gateway = None
        if net.transit_gateway.enabled:
            self.transit_gateway = TransitGateway(
                self, "transit-gateway",
                TransitGatewayProps(
                    name=_name(env, "tgw"), hub=self.hub, spokes=self.spokes,
                    spoke_routes=tuple((a, b) for a, b in net.spoke_routes),
                    amazon_side_asn=env.fabric.asn.aws if env.fabric.enabled and env.fabric.asn else None,
                ),
            )
        self.resolver = None
        if env.fabric.enabled:
            # Route 53 Resolver endpoints in the hub: the peer clouds' resolvers query inbound (Vault's name),
            # the fabric stack's forwarding rules send the Azure names outbound.
            # Cloud DNS forwards from its own range, not the GCP hub's (modules/gcp/fabric_dns.py).
            peers = (DNS_FORWARDING_SOURCE, env.azure.network.hub_cidr)
            self.resolver = ResolverEndpoints(self, "resolver", ResolverEndpointsProps(
                name=_name(env, "hub"), vpc_id=self.hub.vpc_id, subnet_ids=tuple(self.hub.private_subnet_ids),
                subnet_cidrs=tuple(self.hub.private_subnet_cidrs), peer_cidrs=peers,
            ))
        #: MWAA's two private subnets, in different AZs.
        self.mwaa_vpc_id = orchestration.vpc_id
        self.mwaa_subnet_ids = tuple(orchestration.private_subnet_ids[:2])


def spark_peer_cidrs(env: Environment) -> tuple[str, ...]:
    """The other clouds' ranges Spark jobs may reach: only when the data spoke (where EMR Serverless runs)
    is one of fabric.aws_spokes, i.e. routed over the VPNs and admitted by Azure's endpoint NSG."""
    if not (env.fabric.enabled and "data" in env.fabric.aws_spokes):
        return ()
    from stacks.fabric import azure_ranges, gcp_ranges  # the fabric stack imports this module

    return gcp_ranges(env) + azure_ranges(env)


class AwsPlatformStack(PlatformStack):
    """The data lake (key, zone buckets per domain, access logs), Glue per domain, alerts, the budget,
    and MWAA's durable parts: its DAG bucket and execution role.

    The role lives here, next to everything it is derived from, so the Vault stack
    (which trusts that role) depends on this stack only, and the frequently
    changing orchestration stack (DAG bundle, MWAA) depends on this one, never the
    other way round.
    """

    def __init__(self, scope: Construct, env: Environment, network: AwsNetworkStack | None = None):
        """``network``: the data spoke Spark's workers run in; None (a test of this stack alone) builds no Spark."""
        super().__init__(scope, env, "aws-platform")
        providers.aws(self)
        aws, protect = env.aws, env.aws.protect_stateful
        tls_only, events = aws.tls_only_buckets.enabled, aws.bucket_events.enabled
        # One customer-managed key for the environment's lake; CloudWatch Logs may use it
        # for the Glue crawler logs and MWAA's logs, CloudWatch alarms and EventBridge only to
        # publish to the alerts topic (its encryption context; review #23).
        alerts_name = _name(env, "alerts")
        self.key = KmsKey(
            self, "lake-key",
            KmsKeyProps(
                alias=_name(env, "lake"), description=f"{env.name} data lake key",
                account_id=aws.account_id, region=aws.region, allow_cloudwatch_logs=True, prevent_destroy=protect,
                extra_statements=publisher_key_statements(alerts_name, aws.account_id, aws.region),
            ),
        )
        t = env.storage.tiering
        tiering = Tiering(
            warm_after_days=t.warm_after_days, archive_after_days=t.archive_after_days,
            noncurrent_expire_days=t.noncurrent_expire_days,
            abort_incomplete_multipart_days=t.abort_incomplete_multipart_days,
        )
        self.access_logs = SecureBucket(
            self, "access-logs",
            SecureBucketProps(
                name=naming.s3_platform_bucket(env.prefix, env.name, "access-logs"), tiering=tiering,
                account_id=aws.account_id, kms_key_arn=None, access_log_bucket=None, prevent_destroy=protect,
                tls_only=tls_only, events=events,
            ),
        )
        glue_security = GlueSecurityConfiguration(
            self, "glue-security", GlueSecurityConfigurationProps(name=_name(env, "glue"), kms_key_arn=self.key.arn)
        )
        self.domains = {
            d.name: DataDomain(
                self, f"domain-{d.name}",
                DataDomainProps(
                    name=d.name, owner=d.owner, classification=d.classification,
                    account_id=aws.account_id, region=aws.region,
                    buckets={zone: naming.s3_bucket(env.prefix, env.name, d.name, zone) for zone in naming.ZONES},
                    tiering=tiering, kms_key_arn=self.key.arn, access_log_bucket=self.access_logs,
                    glue_database=naming.glue_database(env.prefix, env.name, d.name),
                    crawler=naming.glue_crawler(env.prefix, env.name, d.name),
                    crawler_role=_name(env, d.name, "crawler"),
                    crawler_schedule=d.crawler_schedule, security_configuration=glue_security.name,
                    prevent_destroy=protect, tls_only=tls_only, events=events, retired=d.retired,
                    raw_retention_days=d.raw_expiry_days,
                ),
            )
            for d in env.domains  # retired ones too: their storage stays (schema Domain.retired)
        }
        # Compute and grants exist for active domains only.
        active = [self.domains[d.name] for d in env.active_domains]
        self.alerts = AlertsTopic(self, "alerts", AlertsTopicProps(
            name=alerts_name, kms_key_arn=self.key.arn, account_id=aws.account_id, emails=tuple(env.alerts.emails),
        ))
        CrawlerFailureAlert(self, "crawler-failures", CrawlerFailureAlertProps(
            name=_name(env, "crawler-failures"), topic_arn=self.alerts.arn,
            crawler_names=tuple(domain.catalog.crawler_name for domain in active),
        ))
        if aws.budget.enabled:
            Budget(
                self, "budget",
                BudgetProps(
                    name=_name(env, "monthly"), account_id=aws.account_id, monthly_usd=env.budget.monthly_usd,
                    emails=tuple(env.budget.alert_emails),
                ),
            )
        # The DAG bucket holds the bundle and nothing else; the orchestration stack fills it.
        # MWAA reads its objects on every worker start, so current objects never leave STANDARD;
        # old versions expire, but the last DAG_BUCKET_KEPT_VERSIONS of each key stay for rollback.
        dag_tiering = replace(
            tiering, transition_current=False,
            keep_noncurrent_versions=DAG_BUCKET_KEPT_VERSIONS if aws.dag_bucket_kept_versions.enabled else None,
        )
        self.dag_bucket = SecureBucket(
            self, "dag-bucket",
            SecureBucketProps(
                name=naming.s3_platform_bucket(env.prefix, env.name, "dags"), tiering=dag_tiering,
                account_id=aws.account_id, kms_key_arn=self.key.arn, access_log_bucket=self.access_logs,
                tls_only=tls_only, events=events,
            ),
        )
        self.mwaa_environment_name = naming.mwaa_environment(env.prefix, env.name)
        if env.orchestration.mwaa.enabled:
            # Before MWAA exists, so MWAA finds them (with retention and the key) instead of creating them bare.
            MwaaLogGroups(self, "mwaa-logs", MwaaLogGroupsProps(
                environment_name=self.mwaa_environment_name, retention_days=env.alerts.log_retention_days,
                kms_key_arn=self.key.arn,
            ))
        #: domain -> its Spark job execution role's ARN (also bound by the domain's Vault login role); before
        #: the MWAA role, which starts the jobs and passes these roles)
        self.spark_job_role_arns: dict[str, str] = {}
        self.spark_application_id: str | None = None
        self.spark_cross_cloud = False
        if env.spark.enabled and network is not None:
            self._spark(env, network)
        self.mwaa_role = MwaaExecutionRole(
            self, "mwaa-execution-role",
            MwaaExecutionRoleProps(
                name=_name(env, "mwaa-execution"), environment_name=self.mwaa_environment_name,
                account_id=aws.account_id, region=aws.region, dag_bucket_arn=self.dag_bucket.arn,
                kms_key_arn=self.key.arn,
                crawler_arns=tuple(d.catalog.crawler_arn for d in active),
                domain_role_arns=tuple(
                    naming.domain_pipeline_role_arn(aws.account_id, env.prefix, env.name, d.name)
                    for d in env.active_domains
                ),
                alerts_topic_arn=self.alerts.arn,
                spark_application_arn=self.spark.arn if self.spark_application_id is not None else None,
                spark_job_role_arns=tuple(self.spark_job_role_arns.values()),
            ),
        )
        # Each domain's identity for Vault logins; the Vault AWS-auth role of the domain binds its ARN.
        self.domain_pipeline_roles = {
            d.name: DomainPipelineRole(
                self, f"pipeline-role-{d.name}",
                DomainPipelineRoleProps(
                    name=naming.domain_pipeline_role(env.prefix, env.name, d.name), domain=d.name,
                    assumed_by_arn=self.mwaa_role.arn, account_id=aws.account_id,
                ),
            )
            for d in env.active_domains
        }


        # Plain attributes for other stacks: the orchestration stack, and the Vault stack's
        # AWS auth role (trusts the MWAA role) and secrets-engine roles (scoped per domain).
        self.lake_key_arn = self.key.arn
        self.access_log_bucket = self.access_logs.id
        self.dag_bucket_name = self.dag_bucket.id
        self.dag_bucket_arn = self.dag_bucket.arn
        self.mwaa_execution_role_arn = self.mwaa_role.arn
        #: domain -> zone -> bucket ARN
        self.domain_bucket_arns = {name: domain.bucket_arns for name, domain in self.domains.items()}
        #: domain -> crawler ARN / name
        self.crawler_arns = {d.name: self.domains[d.name].catalog.crawler_arn for d in env.active_domains}
        self.crawler_names = {d.name: self.domains[d.name].catalog.crawler_name for d in env.active_domains}
        self.alerts_topic_arn = self.alerts.arn
        #: domain -> its pipeline role's ARN (what the domain's Vault login role binds)
        self.domain_pipeline_role_arns = {name: role.arn for name, role in self.domain_pipeline_roles.items()}

    def _spark(self, env: Environment, network: AwsNetworkStack) -> None:
        """EMR Serverless in the data spoke, and each domain's job role (README, "Spark")."""
        aws, spark, data = env.aws, env.spark.aws, network.spokes["data"]
        vault = urlsplit(str(env.vault.address))
        peers = spark_peer_cidrs(env)
        #: Whether a Spark job reaches Azure and GCS (customer_360 on Spark needs both).
        self.spark_cross_cloud = bool(peers)
        name = naming.emr_spark_application(env.prefix, env.name)
        image = emr_image_uri(aws.account_id, aws.region, name, spark.release_label) if spark.custom_image else None
        self.spark = EmrServerlessSpark(self, "spark", EmrServerlessProps(
            name=name, account_id=aws.account_id, region=aws.region,
            release_label=spark.release_label, max_vcpu=spark.max_vcpu, max_memory_gb=spark.max_memory_gb,
            max_disk_gb=spark.max_disk_gb, idle_stop_minutes=spark.idle_stop_minutes,
            image_uri=image,
            network=SparkNetwork(
                vpc_id=data.vpc_id, vpc_cidr=data.cidr, subnet_ids=tuple(data.private_subnet_ids),
                route_table_ids=tuple(data.route_table_ids), vault_ips=tuple(env.vault.private_ips),
                vault_port=vault.port or 443, peer_cidrs=peers,
            ),
        ))
        PrivateEcrRepository(self, "spark-image", EcrRepositoryProps(
            name=name, account_id=aws.account_id, kms_key_arn=self.key.arn,
            puller="emr-serverless.amazonaws.com", source_arn=self.spark.arn,
        ))
        for d in env.active_domains:
            buckets = self.domains[d.name].bucket_arns
            role = SparkJobRole(self, f"spark-job-{d.name}", SparkJobRoleProps(
                name=naming.spark_job_role(env.prefix, env.name, d.name), domain=d.name, account_id=aws.account_id,
                application_arn=self.spark.arn, raw_bucket_arn=buckets["raw"], curated_bucket_arn=buckets["curated"],
                quarantine_bucket_arn=buckets["quarantine"], code_bucket_arn=self.dag_bucket.arn,
                kms_key_arn=self.key.arn,
            ))
            self.spark_job_role_arns[d.name] = role.arn
        self.spark_application_id = self.spark.id
        #: Where the job package is published (the DAG bundle's bucket) and, per domain, where its logs go.
        self.spark_code_uri = f"s3://{self.dag_bucket.id}/{CODE_PREFIX}"
        self.spark_log_uris = {
            name: f"s3://{domain.buckets['quarantine'].id}/{LOG_PREFIX}" for name, domain in self.domains.items()
        }
