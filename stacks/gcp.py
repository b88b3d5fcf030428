"""GCP stacks: <env>-gcp-network (hub-and-spoke VPCs) and <env>-gcp-platform (GKE, lake buckets, budget)."""

from __future__ import annotations

from cdktf import TerraformVariable
from cdktf_cdktf_provider_google.data_google_project import DataGoogleProject
from cdktf_cdktf_provider_google.data_google_storage_project_service_account import (
    DataGoogleStorageProjectServiceAccount,
)
from constructs import Construct

from environments import naming
from environments.schema import RETIRED_RETENTION_DAYS, Environment
from modules.gcp.artifact_registry import DockerRepositoryProps, PrivateDockerRepository
from modules.gcp.artifact_registry import agent_member as registry_agent
from modules.gcp.binary_authorization import (
    BinaryAuthorization,
    BinaryAuthorizationProps,
    artifact_registry_pattern,
)
from modules.gcp.bucket import SecureBucket, SecureBucketProps, Tiering
from modules.gcp.budget import ProjectBudget, ProjectBudgetProps
from modules.gcp.dataproc_serverless import DataprocServerless, DataprocServerlessProps, SparkDomain
from modules.gcp.dataproc_serverless import cmek_agents as dataproc_cmek_agents
from modules.gcp.dns_ranges import DNS_FORWARDING_SOURCE
from modules.gcp.domain_pipeline_account import DomainPipelineAccount, DomainPipelineAccountProps
from modules.gcp.fabric_dns import FabricDns, FabricDnsProps
from modules.gcp.firewall import Firewall, FirewallProps, IngressAllow
from modules.gcp.gke_cluster import AuthorizedNetwork, PrivateCluster, PrivateClusterProps
from modules.gcp.ha_vpn import PRIVATE_GOOGLE_ACCESS_RANGE, HaVpn, HaVpnProps
from modules.gcp.kms import KeyRing, KeyRingProps
from modules.gcp.nat import CloudNat, CloudNatProps
from modules.gcp.ncc import NccStar, NccStarProps
from modules.gcp.network import Vpc, VpcProps
from modules.gcp.node_pool import NodePool, NodePoolProps, Taint
from modules.gcp.peering import Peering, PeeringProps
from modules.gcp.project_services import ProjectServices, ProjectServicesProps
from modules.gcp.service_account import GKE_NODE_ROLES, ServiceAccount, ServiceAccountProps
from modules.spark_image import dataproc_image_uri
from modules.tagging import scope_tags
from stacks import providers
from stacks.base import PlatformStack

PODS_RANGE = "gke-pods"
SERVICES_RANGE = "gke-services"
#: GKE private clusters: the control plane calls the kubelet (10250) and admission webhooks (443) on nodes.
#: GKE documents these as the ports its own control-plane firewall rule opens.
GKE_CONTROL_PLANE_PORTS = ("443", "10250")
LAKE_KEY = "lake"
GKE_SECRETS_KEY = "gke-secrets"
#: APIs both GCP stacks use. The network stack enables them all: it is applied first (the
#: platform stack reads its outputs), so the platform's APIs and service agents exist in time.
NETWORK_APIS = ("compute.googleapis.com", "networkconnectivity.googleapis.com")
PLATFORM_APIS = (
    "container.googleapis.com", "cloudkms.googleapis.com", "storage.googleapis.com", "iam.googleapis.com",
    "logging.googleapis.com", "monitoring.googleapis.com", "binaryauthorization.googleapis.com",
    "billingbudgets.googleapis.com",
)
#: Dataproc Serverless batches (Spark, README "Spark"), enabled only where the environment turns Spark on.
SPARK_APIS = ("dataproc.googleapis.com", "artifactregistry.googleapis.com")
#: Spot nodes carry this taint; Spark and KubernetesPodOperator pods tolerate it, nothing else lands there.
BATCH_TAINT = Taint(key="workload", value="batch")


def _read_only_days(domain) -> int | None:
    """A retired domain's buckets keep everything and refuse writes and deletes (modules/gcp/bucket.py);
    its pipeline and Spark accounts, the only identities with object grants, are gone with it."""
    return RETIRED_RETENTION_DAYS if domain.retired else None


class GcpNetworkStack(PlatformStack):
    """The hub VPC and one VPC per spoke, each with its subnet, Cloud NAT and deny-by-default firewall."""

    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "gcp-network")
        providers.google(self)
        gcp, gke = env.gcp, env.gcp.gke
        apis = ProjectServices(self, "apis", ProjectServicesProps(project=gcp.project_id, services=NETWORK_APIS + PLATFORM_APIS + (SPARK_APIS if env.spark.enabled else ())))
        after = tuple(apis.services)
        ranges = {"hub": gcp.network.hub_cidr, **gcp.network.spokes}
        self.vpcs: dict[str, Vpc] = {}
        for vpc, cidr in ranges.items():
            name = naming.gcp_resource(env.prefix, env.name, vpc)
            hosts_gke = vpc == gke.network_spoke
            secondary = {PODS_RANGE: gke.pods_cidr, SERVICES_RANGE: gke.services_cidr} if hosts_gke else {}
            self.vpcs[vpc] = Vpc(self, f"vpc-{vpc}", VpcProps(
                name=name, region=gcp.region, cidr=cidr, secondary_ranges=secondary, after=after,
            ))
            network = self.vpcs[vpc].self_link
            CloudNat(self, f"nat-{vpc}", CloudNatProps(name=f"{name}-{naming.GCP_NAT_SUFFIX}", region=gcp.region, network=network))
            allows = (
                IngressAllow(
                    name=naming.GCP_GKE_CONTROL_PLANE_RULE,
                    source_ranges=(gke.master_cidr,),
                    protocol="tcp",
                    ports=GKE_CONTROL_PLANE_PORTS,
                    description="GKE control plane to nodes: kubelet and admission webhooks",
                ),
            ) if hosts_gke else ()
            Firewall(self, f"firewall-{vpc}", FirewallProps(name=name, network=network, allows=allows))

        hub, spokes = self.vpcs["hub"], {k: v for k, v in self.vpcs.items() if k != "hub"}
        if gcp.network.connectivity == "ncc":
            NccStar(self, "ncc", NccStarProps(
                name=naming.gcp_resource(env.prefix, env.name, "ncc"),
                center=hub.self_link,
                edges={name: vpc.self_link for name, vpc in spokes.items()},
                after=after,
            ))
        else:
            previous: tuple = ()
            for name, vpc in spokes.items():
                peering = Peering(self, f"peering-{name}", PeeringProps(
                    a_name=hub.name, a_network=hub.self_link, b_name=vpc.name, b_network=vpc.self_link, after=previous,
                ))
                previous = (peering.reverse,)

        self.hub = hub
        self.gke_vpc = self.vpcs[gke.network_spoke]
        self.vpn = None
        if env.fabric.enabled and env.fabric.asn:
            # The hub's HA VPN gateway and Cloud Router: the fabric stacks add the tunnels and BGP peers.
            private_access = (PRIVATE_GOOGLE_ACCESS_RANGE,) if env.fabric.gcs_access == "private" else ()
            self.vpn = HaVpn(self, "ha-vpn", HaVpnProps(
                name=naming.gcp_resource(env.prefix, env.name, "hub"), region=gcp.region, network=hub.self_link,
                asn=env.fabric.asn.gcp, advertised_ranges=(*ranges.values(), DNS_FORWARDING_SOURCE, *private_access),
            ))
            FabricDns(self, "fabric-dns", FabricDnsProps(
                name=naming.gcp_resource(env.prefix, env.name, "fabric"), networks=tuple(v.self_link for v in self.vpcs.values()),
                inbound_network=hub.self_link, private_google_access=env.fabric.gcs_access == "private",
            ))


class GcpPlatformStack(PlatformStack):
    """CMEK keys, the private GKE cluster and its pools, the lake buckets per domain, and the budget."""

    def __init__(self, scope: Construct, env: Environment, network: GcpNetworkStack):
        super().__init__(scope, env, "gcp-platform")
        providers.google(self)
        gcp, gke = env.gcp, env.gcp.gke
        project = DataGoogleProject(self, "project", project_id=gcp.project_id)
        gcs_agent = DataGoogleStorageProjectServiceAccount(self, "gcs-agent", project=gcp.project_id)
        gke_agent = f"serviceAccount:service-{project.number}@container-engine-robot.iam.gserviceaccount.com"

        self.kms = KeyRing(self, "kms", KeyRingProps(
            name=naming.gcp_resource(env.prefix, env.name, "platform"),
            location=gcp.region,
            # Where Spark is on: Artifact Registry's agent encrypts the Spark image's repository with the lake
            # key, Compute Engine's and Dataproc's agents a batch's disks and Dataproc's own writes (kmsKey).
            keys={LAKE_KEY: (f"serviceAccount:{gcs_agent.email_address}",
                             *((registry_agent(project.number), *dataproc_cmek_agents(project.number))
                               if env.spark.enabled else ())),
                  GKE_SECRETS_KEY: (gke_agent,)},
            protect=gcp.protect_stateful,
        ))
        # The cluster enforces the project's policy (PROJECT_SINGLETON_POLICY_ENFORCE): deny all but the registry.
        self.binary_authorization = BinaryAuthorization(self, "binauthz", BinaryAuthorizationProps(
            project=gcp.project_id, allowed_images=(artifact_registry_pattern(gcp.region, gcp.project_id),),
        ))

        nodes = ServiceAccount(self, "gke-nodes", ServiceAccountProps(
            account_id=naming.gcp_service_account_id(env.prefix, env.name, naming.GKE_NODES_SA_PURPOSE),
            display_name=f"{env.name} GKE nodes (least privilege)",
            project=gcp.project_id,
            roles=GKE_NODE_ROLES,
        ))
        self.cluster = PrivateCluster(self, "gke", PrivateClusterProps(
            name=naming.gke_cluster(env.prefix, env.name),
            project=gcp.project_id,
            location=gcp.region,
            network=network.gke_vpc.self_link,
            subnetwork=network.gke_vpc.subnet_self_link,
            pods_range_name=PODS_RANGE,
            services_range_name=SERVICES_RANGE,
            master_cidr=gke.master_cidr,
            node_service_account=nodes.email,
            secrets_key_id=self.kms.key_id(GKE_SECRETS_KEY),
            release_channel=gke.release_channel,
            private_endpoint=gke.private_endpoint,
            authorized_networks=tuple(AuthorizedNetwork(n.name, n.cidr) for n in gke.master_authorized_networks),
            rbac_security_group=gke.rbac_security_group,
            deletion_protection=gke.deletion_protection,
            after=tuple(self.kms.grants[GKE_SECRETS_KEY]),
        ))
        pools = {
            "general": (gke.general_pool, False, {"workload": "general"}, ()),
            "spot": (gke.spot_pool, True, {"workload": BATCH_TAINT.value}, (BATCH_TAINT,)),
        }
        self.node_pools = {
            name: NodePool(self, f"pool-{name}", NodePoolProps(
                name=name, cluster=self.cluster.id, location=gcp.region, machine_type=pool.machine_type,
                min_nodes=pool.min_nodes, max_nodes=pool.max_nodes, service_account=nodes.email,
                spot=spot, labels=labels, taints=taints,
            ))
            for name, (pool, spot, labels, taints) in pools.items()
        }

        tiering = env.storage.tiering
        bucket_defaults = dict(
            location=gcp.region,
            kms_key_id=self.kms.key_id(LAKE_KEY),
            tiering=Tiering(
                nearline_after_days=tiering.warm_after_days,
                coldline_after_days=tiering.cold_after_days,
                archive_after_days=tiering.archive_after_days,
                noncurrent_expire_days=tiering.noncurrent_expire_days,
                abort_incomplete_multipart_days=tiering.abort_incomplete_multipart_days,
            ),
            after=tuple(self.kms.grants[LAKE_KEY]),
        )
        self.access_logs = SecureBucket(self, "access-logs", SecureBucketProps(
            name=naming.gcs_platform_bucket(env.prefix, env.name, naming.GCS_ACCESS_LOGS_PURPOSE),
            log_bucket=None, is_log_sink=True, **bucket_defaults,
        ))
        #: domain -> zone -> bucket construct.
        self.lake: dict[str, dict[str, SecureBucket]] = {}
        for domain in env.domains:
            domain_scope = Construct(self, f"domain-{domain.name}")
            scope_tags(domain_scope, {
                "domain": domain.name, "classification": domain.classification, "owner": domain.owner,
            })
            self.lake[domain.name] = {
                zone: SecureBucket(domain_scope, zone, SecureBucketProps(
                    name=naming.gcs_bucket(env.prefix, env.name, domain.name, zone),
                    log_bucket=self.access_logs.name, retention_days=_read_only_days(domain), **bucket_defaults,
                ))
                for zone in naming.GCS_ZONES
            }

        ProjectBudget(self, "budget", ProjectBudgetProps(
            name=naming.gcp_resource(env.prefix, env.name, "budget"),
            billing_account=gcp.billing_account,
            project=gcp.project_id,
            project_number=project.number,
            amount_usd=gcp.budget_usd or env.budget.monthly_usd,
            emails=tuple(env.budget.alert_emails),
        ))

        # One service account per domain, object access on its buckets only, for Vault's GCP engine to
        # impersonate (review #16: rolesets need project-wide key admin). The engine's account is an input.
        engine_account = TerraformVariable(
            self, "vault_gcp_engine_service_account", type="string", nullable=False,
            description="e-mail of Vault's GCP secrets engine service account (gets tokenCreator on the domains' accounts)",
        ).string_value
        active = {d.name for d in env.active_domains}
        self.domain_pipeline_accounts = {
            d: DomainPipelineAccount(self, f"pipeline-account-{d}", DomainPipelineAccountProps(
                account_id=naming.gcp_domain_pipeline_account(env.prefix, env.name, d), domain=d, project=gcp.project_id,
                bucket_names=tuple(bucket.id for bucket in b.values()), engine_service_account=engine_account,
            ))
            for d, b in self.lake.items() if d in active  # a retired domain keeps its buckets, loses its grants
        }
        #: domain -> the pipeline service account's e-mail (a token).
        self.domain_pipeline_account_emails = {d: a.email for d, a in self.domain_pipeline_accounts.items()}

        self.spark: DataprocServerless | None = None
        if env.spark.enabled:
            self._spark(env, network, bucket_defaults)

        # Plain attributes other stacks (Vault, issue 5) read; tokens resolve to cross-stack references.
        #: domain -> zone -> bucket name (names are derived, so these are plain strings).
        self.bucket_names = {d: {z: naming.gcs_bucket(env.prefix, env.name, d, z) for z in b} for d, b in self.lake.items()}
        #: domain -> zone -> bucket id (a token).
        self.bucket_ids = {d: {z: bucket.id for z, bucket in b.items()} for d, b in self.lake.items()}
        self.gke_cluster_name = naming.gke_cluster(env.prefix, env.name)
        self.gke_endpoint = self.cluster.endpoint
        self.gke_ca_certificate = self.cluster.ca_certificate
        self.gke_dns_endpoint = self.cluster.dns_endpoint
        self.gke_node_service_account = nodes.email
        self.workload_pool = f"{gcp.project_id}.svc.id.goog"

    def _spark(self, env: Environment, network: GcpNetworkStack, bucket_defaults: dict) -> None:
        """Dataproc Serverless on the data spoke (modules/gcp/dataproc_serverless.py says why not Spark on GKE)."""
        gcp, data = env.gcp, network.vpcs["data"]
        staging = {}
        for domain in env.domains:
            # Labelled like the domain's lake buckets: its batches' temp files are the domain's data.
            domain_scope = Construct(self, f"spark-{domain.name}")
            scope_tags(domain_scope, {"domain": domain.name, "classification": domain.classification, "owner": domain.owner})
            staging[domain.name] = SecureBucket(domain_scope, "staging", SecureBucketProps(
                name=naming.gcs_bucket(env.prefix, env.name, domain.name, naming.GCS_SPARK_STAGING),
                log_bucket=self.access_logs.name, retention_days=_read_only_days(domain), **bucket_defaults,
            ))
        self.spark = DataprocServerless(self, "spark", DataprocServerlessProps(
            project=gcp.project_id, name=naming.gcp_resource(env.prefix, env.name, "data"), network=data.self_link,
            subnet_cidr=gcp.network.spokes["data"], dags_submit=env.spark.gcp.engine_for_customer_360 == "dataproc",
            domains={
                d: SparkDomain(
                    account_id=naming.gcp_spark_account(env.prefix, env.name, d),
                    bucket_names=tuple(bucket.id for bucket in b.values()), staging_bucket=staging[d].id,
                    submitter_email=self.domain_pipeline_account_emails[d],
                )
                for d, b in self.lake.items() if d in self.domain_pipeline_account_emails  # active domains
            },
        ))
        # The batches' image (spark/image/dataproc.Dockerfile, pushed by `make spark-image`): only they pull it.
        repository = naming.gcp_spark_repository(env.prefix, env.name)
        self.spark_registry = PrivateDockerRepository(self, "spark-image", DockerRepositoryProps(
            project=gcp.project_id, location=gcp.region, repository_id=repository, kms_key_id=self.kms.key_id(LAKE_KEY),
            readers=tuple(f"serviceAccount:{email}" for email in self.spark.emails.values()),
            description=f"{env.name}: the Spark job's Dataproc Serverless image", after=tuple(self.kms.grants[LAKE_KEY]),
        ))
        #: What a DAG needs to submit a batch (the `<domain>_spark` Variable's gcp part).
        #: The key a batch encrypts its disks with (executionConfig.kmsKey): the lake key, as its buckets.
        self.spark_kms_key = self.kms.key_id(LAKE_KEY)
        self.spark_container_image = dataproc_image_uri(gcp.project_id, gcp.region, repository, env.spark.gcp.runtime_version)
        self.spark_staging_buckets = {d: bucket.id for d, bucket in staging.items()}
        self.spark_subnetwork = data.subnet_self_link
        self.spark_service_accounts = self.spark.emails
