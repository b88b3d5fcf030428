"""An autoscaled GKE node pool: shielded, Workload-Identity-only nodes that repair and upgrade themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_google.container_node_pool import (
    ContainerNodePool,
    ContainerNodePoolAutoscaling,
    ContainerNodePoolManagement,
    ContainerNodePoolNodeConfig,
    ContainerNodePoolNodeConfigShieldedInstanceConfig,
    ContainerNodePoolNodeConfigTaint,
    ContainerNodePoolNodeConfigWorkloadMetadataConfig,
    ContainerNodePoolUpgradeSettings,
)
from constructs import Construct

from modules.gcp.gke_cluster import CLOUD_PLATFORM_SCOPE, GKE_METADATA


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str = "NO_SCHEDULE"


@dataclass(frozen=True)
class NodePoolProps:
    name: str
    cluster: str
    location: str
    machine_type: str
    #: Totals across the region's zones, as the environment file states them.
    min_nodes: int
    max_nodes: int
    service_account: str
    #: Spot VMs: up to 90% cheaper, preemptible at any time; for batch work that retries.
    spot: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    disk_size_gb: int = 100


class NodePool(Construct):
    def __init__(self, scope: Construct, id_: str, props: NodePoolProps):
        super().__init__(scope, id_)
        self.pool = ContainerNodePool(
            self,
            "pool",
            name=props.name,
            cluster=props.cluster,
            location=props.location,
            autoscaling=ContainerNodePoolAutoscaling(
                total_min_node_count=props.min_nodes,
                total_max_node_count=props.max_nodes,
                # Spot capacity comes and goes per zone: take it wherever it is.
                location_policy="ANY" if props.spot else "BALANCED",
            ),
            management=ContainerNodePoolManagement(auto_repair=True, auto_upgrade=True),
            upgrade_settings=ContainerNodePoolUpgradeSettings(strategy="SURGE", max_surge=1, max_unavailable=0),
            node_config=ContainerNodePoolNodeConfig(
                machine_type=props.machine_type,
                image_type="COS_CONTAINERD",
                disk_type="pd-balanced",
                disk_size_gb=props.disk_size_gb,
                spot=props.spot,
                service_account=props.service_account,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                workload_metadata_config=ContainerNodePoolNodeConfigWorkloadMetadataConfig(mode=GKE_METADATA),
                shielded_instance_config=ContainerNodePoolNodeConfigShieldedInstanceConfig(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
                metadata={"disable-legacy-endpoints": "true"},
                labels=dict(props.labels),
                taint=[ContainerNodePoolNodeConfigTaint(key=t.key, value=t.value, effect=t.effect) for t in props.taints],
            ),
        )
        self.name = self.pool.name
