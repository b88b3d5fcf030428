"""A private, hardened GKE Standard cluster, after terraform-google-modules' safer-cluster.

Node pools are separate resources (see node_pool.py); the default pool is removed
right after creation, and even it runs as the dedicated node service account.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_google.container_cluster import (
    ContainerCluster,
    ContainerClusterAddonsConfig,
    ContainerClusterAddonsConfigNetworkPolicyConfig,
    ContainerClusterAuthenticatorGroupsConfig,
    ContainerClusterBinaryAuthorization,
    ContainerClusterControlPlaneEndpointsConfig,
    ContainerClusterControlPlaneEndpointsConfigDnsEndpointConfig,
    ContainerClusterDatabaseEncryption,
    ContainerClusterIpAllocationPolicy,
    ContainerClusterLoggingConfig,
    ContainerClusterMasterAuth,
    ContainerClusterMasterAuthClientCertificateConfig,
    ContainerClusterMasterAuthorizedNetworksConfig,
    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks,
    ContainerClusterMonitoringConfig,
    ContainerClusterMonitoringConfigManagedPrometheus,
    ContainerClusterNetworkPolicy,
    ContainerClusterNodeConfig,
    ContainerClusterNodeConfigShieldedInstanceConfig,
    ContainerClusterNodeConfigWorkloadMetadataConfig,
    ContainerClusterPrivateClusterConfig,
    ContainerClusterPrivateClusterConfigMasterGlobalAccessConfig,
    ContainerClusterReleaseChannel,
    ContainerClusterSecurityPostureConfig,
    ContainerClusterWorkloadIdentityConfig,
)
from constructs import Construct

#: The node metadata mode that serves Workload Identity and hides the node's own credentials.
GKE_METADATA = "GKE_METADATA"
#: The supported vulnerability mode without GKE Enterprise (see security_posture_config below).
VULNERABILITY_MODE = "VULNERABILITY_DISABLED"
#: Nodes get the broad scope; what they can do is limited by the service account's IAM roles (Google's advice).
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass(frozen=True)
class AuthorizedNetwork:
    name: str
    cidr: str


@dataclass(frozen=True)
class PrivateClusterProps:
    name: str
    project: str
    #: A region: a regional control plane survives a zone outage.
    location: str
    network: str
    subnetwork: str
    pods_range_name: str
    services_range_name: str
    master_cidr: str
    node_service_account: str
    #: KMS key for application-layer encryption of Kubernetes Secrets in etcd.
    secrets_key_id: str
    release_channel: str = "REGULAR"
    #: True: the IP-based endpoint has no public address (only the cluster's VPC reaches it). Operators and
    #: Vault use the DNS-based endpoint either way (see ``dns_endpoint``).
    private_endpoint: bool = True
    authorized_networks: tuple[AuthorizedNetwork, ...] = ()
    #: gke-security-groups@<domain>; None leaves RBAC to individual users.
    rbac_security_group: str | None = None
    deletion_protection: bool = True
    #: The secrets key's grant to the GKE service agent must exist first, or creation fails.
    after: tuple[ITerraformDependable, ...] = ()


class PrivateCluster(Construct):
    def __init__(self, scope: Construct, id_: str, props: PrivateClusterProps):
        super().__init__(scope, id_)
        self.cluster = ContainerCluster(
            self,
            "cluster",
            name=props.name,
            project=props.project,
            location=props.location,
            network=props.network,
            subnetwork=props.subnetwork,
            deletion_protection=props.deletion_protection,
            depends_on=list(props.after) or None,
            # Pools are managed as their own resources, so changing one never recreates the cluster.
            remove_default_node_pool=True,
            initial_node_count=1,
            # The short-lived default pool still must not run as the Compute Engine default account.
            node_config=ContainerClusterNodeConfig(
                service_account=props.node_service_account,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                workload_metadata_config=ContainerClusterNodeConfigWorkloadMetadataConfig(mode=GKE_METADATA),
                shielded_instance_config=ContainerClusterNodeConfigShieldedInstanceConfig(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
            ),
            # The default pool is deleted after creation; its config must not cause diffs later.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["node_config", "initial_node_count"]),
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=ContainerClusterIpAllocationPolicy(
                cluster_secondary_range_name=props.pods_range_name,
                services_secondary_range_name=props.services_range_name,
            ),
            private_cluster_config=ContainerClusterPrivateClusterConfig(
                enable_private_nodes=True,
                enable_private_endpoint=props.private_endpoint,
                master_ipv4_cidr_block=props.master_cidr,
                master_global_access_config=ContainerClusterPrivateClusterConfigMasterGlobalAccessConfig(enabled=True),
            ),
            # The DNS-based endpoint (<uid>.<region>.gke.goog) takes requests from any network that reaches Google
            # APIs and admits only principals with IAM container.clusters.connect, then Kubernetes RBAC (GKE "About
            # network isolation": DNS-based endpoint, the recommended way to reach the control plane). The peering-based
            # private IP endpoint is routed only inside the cluster's VPC, so this is the operators' and Vault's path.
            control_plane_endpoints_config=ContainerClusterControlPlaneEndpointsConfig(
                dns_endpoint_config=ContainerClusterControlPlaneEndpointsConfigDnsEndpointConfig(allow_external_traffic=True)
            ),
            master_authorized_networks_config=ContainerClusterMasterAuthorizedNetworksConfig(
                gcp_public_cidrs_access_enabled=False,
                cidr_blocks=[
                    ContainerClusterMasterAuthorizedNetworksConfigCidrBlocks(cidr_block=n.cidr, display_name=n.name)
                    for n in props.authorized_networks
                ],
            ),
            master_auth=ContainerClusterMasterAuth(
                client_certificate_config=ContainerClusterMasterAuthClientCertificateConfig(
                    issue_client_certificate=False
                )
            ),
            enable_legacy_abac=False,
            enable_kubernetes_alpha=False,
            enable_shielded_nodes=True,
            workload_identity_config=ContainerClusterWorkloadIdentityConfig(workload_pool=f"{props.project}.svc.id.goog"),
            release_channel=ContainerClusterReleaseChannel(channel=props.release_channel),
            # Dataplane V2 enforces NetworkPolicy itself; the Calico add-on stays off.
            datapath_provider="ADVANCED_DATAPATH",
            network_policy=ContainerClusterNetworkPolicy(enabled=False),
            addons_config=ContainerClusterAddonsConfig(
                network_policy_config=ContainerClusterAddonsConfigNetworkPolicyConfig(disabled=True)
            ),
            # Pod-to-pod traffic on one node also goes through VPC firewall rules and flow logs.
            enable_intranode_visibility=True,
            database_encryption=ContainerClusterDatabaseEncryption(state="ENCRYPTED", key_name=props.secrets_key_id),
            binary_authorization=ContainerClusterBinaryAuthorization(evaluation_mode="PROJECT_SINGLETON_POLICY_ENFORCE"),
            authenticator_groups_config=(
                ContainerClusterAuthenticatorGroupsConfig(security_group=props.rbac_security_group)
                if props.rbac_security_group
                else None
            ),
            # GKE v1 API, SecurityPostureConfig.VulnerabilityMode: "VULNERABILITY_BASIC: Deprecated: Basic vulnerability
            # scanning is no longer supported" (docs/deprecations/posture-management-deprecation); ENTERPRISE needs the
            # GKE Enterprise edition. Images are scanned where they are stored (Artifact Analysis on Artifact Registry),
            # and Binary Authorization decides what runs; configuration auditing (mode BASIC) stays on.
            security_posture_config=ContainerClusterSecurityPostureConfig(
                mode="BASIC", vulnerability_mode=VULNERABILITY_MODE
            ),
            logging_config=ContainerClusterLoggingConfig(enable_components=["SYSTEM_COMPONENTS", "WORKLOADS"]),
            monitoring_config=ContainerClusterMonitoringConfig(
                enable_components=["SYSTEM_COMPONENTS"],
                managed_prometheus=ContainerClusterMonitoringConfigManagedPrometheus(enabled=True),
            ),
        )
        self.id = self.cluster.id
        self.name = self.cluster.name
        #: The IP-based endpoint and the cluster CA (PEM, base64): reachable only inside the cluster's VPC.
        self.endpoint = self.cluster.endpoint
        self.ca_certificate = self.cluster.master_auth.cluster_ca_certificate
        #: The DNS-based endpoint's host name: what operators and Vault's Kubernetes auth connect to.
        self.dns_endpoint = self.cluster.control_plane_endpoints_config.dns_endpoint_config.endpoint
