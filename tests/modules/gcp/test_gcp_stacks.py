"""GCP network and platform stacks: every secure default and every knob, asserted on the synthesized JSON."""

from __future__ import annotations

import ipaddress
import json

import pytest

from environments import naming
from environments.schema import load_environments
from modules.gcp.service_account import GKE_NODE_ROLES
from tests.modules.gcp.support import by_name, knob_stacks, logical_id, ref

ENVIRONMENTS = {e.name: e for e in load_environments() if e.gcp.terraform.enabled}
ENV_NAMES = sorted(ENVIRONMENTS)


def network(stacks, name):
    return stacks[f"{name}-gcp-network"]


def platform(stacks, name):
    return stacks[f"{name}-gcp-platform"]


# --------------------------------------------------------------------------- network


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_one_custom_mode_vpc_per_hub_and_spoke_with_the_environment_cidrs(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    expected = {"hub": env.gcp.network.hub_cidr, **env.gcp.network.spokes}
    vpcs = by_name(stack.resources("google_compute_network"))
    assert set(vpcs) == {naming.gcp_resource(env.prefix, env.name, v) for v in expected}
    assert all(v["auto_create_subnetworks"] is False for v in vpcs.values())
    subnets = by_name(stack.resources("google_compute_subnetwork"))
    assert {n: s["ip_cidr_range"] for n, s in subnets.items()} == {
        naming.gcp_resource(env.prefix, env.name, v): cidr for v, cidr in expected.items()
    }
    for subnet in subnets.values():
        assert subnet["private_ip_google_access"] is True
        assert subnet["region"] == env.gcp.region
        assert subnet["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"
        assert subnet["log_config"]["flow_sampling"] == 0.5


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_gke_secondary_ranges_only_on_the_gke_spoke(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    subnets = by_name(stack.resources("google_compute_subnetwork"))
    gke_subnet = naming.gcp_resource(env.prefix, env.name, env.gcp.gke.network_spoke)
    for name, subnet in subnets.items():
        ranges = {r["range_name"]: r["ip_cidr_range"] for r in subnet.get("secondary_ip_range", [])}
        expected = {"gke-pods": env.gcp.gke.pods_cidr, "gke-services": env.gcp.gke.services_cidr} if name == gke_subnet else {}
        assert ranges == expected, name


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_vpc_has_cloud_router_and_nat_for_egress(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    vpcs = ["hub", *env.gcp.network.spokes]
    routers = stack.resources("google_compute_router")
    nats = by_name(stack.resources("google_compute_router_nat"))
    assert set(nats) == {naming.gcp_resource(env.prefix, env.name, v, "nat") for v in vpcs}
    # One router per VPC for its NAT (the fabric's HA VPN adds its own BGP router in the hub).
    assert len({nat["router"] for nat in nats.values()}) == len(vpcs)
    assert all(nat["router"].split(".")[1] in routers for nat in nats.values())
    for nat in nats.values():
        assert nat["nat_ip_allocate_option"] == "AUTO_ONLY"
        assert nat["source_subnetwork_ip_ranges_to_nat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
        assert nat["log_config"] == {"enable": True, "filter": "ERRORS_ONLY"}
        assert nat["router"].startswith("${google_compute_router.")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_firewall_denies_all_ingress_on_every_vpc_and_admits_only_the_gke_control_plane(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    rules = by_name(stack.resources("google_compute_firewall"))
    for vpc in ["hub", *env.gcp.network.spokes]:
        deny = rules[naming.gcp_resource(env.prefix, env.name, vpc, naming.GCP_DENY_ALL_RULE)]
        assert deny["direction"] == "INGRESS" and deny["priority"] == 65534
        assert deny["deny"] == [{"protocol": "all"}] and "allow" not in deny
        assert deny["source_ranges"] == ["0.0.0.0/0"]
        assert deny["log_config"] == {"metadata": "INCLUDE_ALL_METADATA"}
        assert deny["network"] == ref("google_compute_network", logical_id(
            stack, "google_compute_network", naming.gcp_resource(env.prefix, env.name, vpc)), "self_link")
    allows = {n: r for n, r in rules.items() if "allow" in r}
    gke_rule = naming.gcp_resource(env.prefix, env.name, env.gcp.gke.network_spoke, naming.GCP_GKE_CONTROL_PLANE_RULE)
    assert set(allows) == {gke_rule}
    assert allows[gke_rule]["source_ranges"] == [env.gcp.gke.master_cidr]
    assert allows[gke_rule]["allow"] == [{"protocol": "tcp", "ports": ["443", "10250"]}]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_ncc_star_is_the_default_connectivity(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    assert env.gcp.network.connectivity == "ncc"
    hub = stack.only("google_network_connectivity_hub")
    assert (hub["policy_mode"], hub["preset_topology"]) == ("PRESET", "STAR")
    hub_id = ref("google_network_connectivity_hub", next(iter(stack.resources("google_network_connectivity_hub"))), "id")
    spokes = by_name(stack.resources("google_network_connectivity_spoke"))
    ncc = naming.gcp_resource(env.prefix, env.name, "ncc")
    assert set(spokes) == {f"{ncc}-{v}" for v in ["hub", *env.gcp.network.spokes]}
    for name, spoke in spokes.items():
        group = "center" if name == f"{ncc}-hub" else "edge"
        assert spoke["group"] == f"{hub_id}/groups/{group}"
        assert spoke["hub"] == hub_id and spoke["location"] == "global"
        assert spoke["linked_vpc_network"]["uri"].endswith(".self_link}")
    assert stack.resources("google_compute_network_peering") == {}


def test_peering_knob_peers_hub_and_each_spoke_both_ways_one_at_a_time():
    env, stacks = knob_stacks()
    stack = stacks["alt-gcp-network"]
    assert stack.resources("google_network_connectivity_hub") == {}
    peerings = stack.resources("google_compute_network_peering")
    hub = naming.gcp_resource(env.prefix, env.name, "hub")
    spokes = [naming.gcp_resource(env.prefix, env.name, s) for s in env.gcp.network.spokes]
    assert {p["name"] for p in peerings.values()} == {
        n for s in spokes for n in (f"{hub}-to-{s}", f"{s}-to-{hub}")
    }
    # GCP refuses concurrent peering operations on one network: every peering but the first waits for another.
    first = [k for k, p in peerings.items() if "depends_on" not in p]
    assert len(first) == 1
    for key, peering in peerings.items():
        assert peering["export_custom_routes"] is True and peering["import_custom_routes"] is True
        for dep in peering.get("depends_on", []):
            assert dep.split(".")[1] in peerings and dep.split(".")[1] != key


def test_gke_spoke_knob_moves_the_secondary_ranges_and_the_control_plane_rule():
    env, stacks = knob_stacks()
    stack = stacks["alt-gcp-network"]
    batch = naming.gcp_resource(env.prefix, env.name, "batch")
    subnets = by_name(stack.resources("google_compute_subnetwork"))
    assert [n for n, s in subnets.items() if s.get("secondary_ip_range")] == [batch]
    rules = by_name(stack.resources("google_compute_firewall"))
    assert [n for n, r in rules.items() if "allow" in r] == [f"{batch}-{naming.GCP_GKE_CONTROL_PLANE_RULE}"]
    cluster = stacks["alt-gcp-platform"].only("google_container_cluster")
    assert "vpc-batch_network" in cluster["network"] and "vpc-batch_subnet" in cluster["subnetwork"]


# --------------------------------------------------------------------------- GKE


def cluster_of(stacks, env_name):
    return platform(stacks, env_name).only("google_container_cluster")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_cluster_is_private_and_hardened(stacks, env_name):
    env, c = ENVIRONMENTS[env_name], cluster_of(stacks, env_name)
    gke = env.gcp.gke
    assert c["name"] == naming.gke_cluster(env.prefix, env.name) and c["location"] == env.gcp.region
    assert c["private_cluster_config"] == {
        "enable_private_nodes": True,
        "enable_private_endpoint": gke.private_endpoint,
        "master_ipv4_cidr_block": gke.master_cidr,
        "master_global_access_config": {"enabled": True},
    }
    assert c["master_authorized_networks_config"] == {
        "cidr_blocks": [{"cidr_block": n.cidr, "display_name": n.name} for n in gke.master_authorized_networks],
        "gcp_public_cidrs_access_enabled": False,
    }
    assert c["workload_identity_config"] == {"workload_pool": f"{env.gcp.project_id}.svc.id.goog"}
    assert c["enable_shielded_nodes"] is True
    assert c["release_channel"] == {"channel": gke.release_channel}
    assert c["datapath_provider"] == "ADVANCED_DATAPATH"  # Dataplane V2 enforces NetworkPolicy
    assert c["network_policy"] == {"enabled": False} and c["addons_config"]["network_policy_config"] == {"disabled": True}
    assert c["enable_intranode_visibility"] is True
    assert c["enable_legacy_abac"] is False and c["enable_kubernetes_alpha"] is False
    assert c["master_auth"] == {"client_certificate_config": {"issue_client_certificate": False}}
    assert c["binary_authorization"] == {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}
    assert c["logging_config"] == {"enable_components": ["SYSTEM_COMPONENTS", "WORKLOADS"]}
    assert c["monitoring_config"]["enable_components"] == ["SYSTEM_COMPONENTS"]
    assert c["networking_mode"] == "VPC_NATIVE"
    assert c["ip_allocation_policy"] == {
        "cluster_secondary_range_name": "gke-pods", "services_secondary_range_name": "gke-services",
    }
    assert c["authenticator_groups_config"] == {"security_group": gke.rbac_security_group}
    assert c["deletion_protection"] is gke.deletion_protection
    assert c["network"].endswith("self_link}") and "cross-stack" in c["network"]


def test_deletion_protection_and_private_endpoint_follow_the_environment(stacks):
    assert cluster_of(stacks, "prod")["deletion_protection"] is True
    assert cluster_of(stacks, "dev")["deletion_protection"] is False
    assert cluster_of(stacks, "prod")["private_cluster_config"]["enable_private_endpoint"] is True
    # dev too: no public IP endpoint, operators use the DNS-based endpoint (review #25).
    assert cluster_of(stacks, "dev")["private_cluster_config"]["enable_private_endpoint"] is True


def test_cluster_knobs():
    env, stacks = knob_stacks()
    c = stacks["alt-gcp-platform"].only("google_container_cluster")
    assert c["release_channel"] == {"channel": "RAPID"}
    assert c["private_cluster_config"]["enable_private_endpoint"] is True
    assert c["deletion_protection"] is True
    assert [b["cidr_block"] for b in c["master_authorized_networks_config"]["cidr_blocks"]] == [
        "10.23.0.0/24", "10.23.10.0/24",
    ]
    assert "authenticator_groups_config" not in c  # no group configured: RBAC stays per user


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_secrets_are_encrypted_with_a_cmek_granted_to_the_gke_agent_first(stacks, env_name):
    stack = platform(stacks, env_name)
    c = stack.only("google_container_cluster")
    key_id = logical_id(stack, "google_kms_crypto_key", "gke-secrets")
    assert c["database_encryption"] == {"state": "ENCRYPTED", "key_name": ref("google_kms_crypto_key", key_id, "id")}
    grants = {k: g for k, g in stack.resources("google_kms_crypto_key_iam_member").items()
              if g["crypto_key_id"] == ref("google_kms_crypto_key", key_id, "id")}
    (grant_id, grant), = grants.items()
    assert grant["member"] == (
        "serviceAccount:service-${data.google_project.project.number}@container-engine-robot.iam.gserviceaccount.com"
    )
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert c["depends_on"] == [f"google_kms_crypto_key_iam_member.{grant_id}"]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_nodes_run_as_a_dedicated_least_privilege_service_account(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    node_sa = naming.gcp_service_account_id(env.prefix, env.name, naming.GKE_NODES_SA_PURPOSE)
    (sa_id, sa), = [(k, v) for k, v in stack.resources("google_service_account").items() if v["account_id"] == node_sa]
    email = ref("google_service_account", sa_id, "email")
    members = stack.resources("google_project_iam_member").values()
    roles = sorted(m["role"] for m in members if m["member"] == f"serviceAccount:{email}")
    assert roles == sorted(GKE_NODE_ROLES)
    # Any other project-level grant: the Spark batch accounts' Dataproc Worker (tests/modules/gcp/test_dataproc_serverless.py).
    others = {m["role"] for m in members if m["member"] != f"serviceAccount:{email}"}
    assert others == ({"roles/dataproc.worker"} if env.spark.enabled else set())
    node_configs = [stack.only("google_container_cluster")["node_config"]] + [
        p["node_config"] for p in stack.resources("google_container_node_pool").values()
    ]
    for config in node_configs:
        assert config["service_account"] == email  # never the Compute Engine default account
        assert config["workload_metadata_config"] == {"mode": "GKE_METADATA"}
        assert config["shielded_instance_config"] == {"enable_secure_boot": True, "enable_integrity_monitoring": True}
        assert config["oauth_scopes"] == ["https://www.googleapis.com/auth/cloud-platform"]


def scratch_stack(tmp_path):
    from cdktf import App, TerraformStack

    return TerraformStack(App(outdir=str(tmp_path)), "scratch")


def test_broad_roles_are_refused_at_construction(tmp_path):
    from modules.gcp.service_account import ServiceAccount, ServiceAccountProps

    with pytest.raises(ValueError, match=r"basic or wildcard roles are not allowed: \['roles/editor'\]"):
        ServiceAccount(scratch_stack(tmp_path), "sa", ServiceAccountProps("x-nodes", "x", "p", ("roles/editor",)))


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_general_and_spot_pools_autoscale_repair_and_upgrade(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    pools = by_name(stack.resources("google_container_node_pool"))
    assert set(pools) == {"general", "spot"}
    cluster_id = ref("google_container_cluster", next(iter(stack.resources("google_container_cluster"))), "id")
    for name, config in (("general", env.gcp.gke.general_pool), ("spot", env.gcp.gke.spot_pool)):
        pool = pools[name]
        assert pool["cluster"] == cluster_id
        assert pool["management"] == {"auto_repair": True, "auto_upgrade": True}
        assert pool["autoscaling"]["total_min_node_count"] == config.min_nodes
        assert pool["autoscaling"]["total_max_node_count"] == config.max_nodes
        assert pool["node_config"]["machine_type"] == config.machine_type
        assert pool["node_config"]["image_type"] == "COS_CONTAINERD"
        assert pool["node_config"]["metadata"] == {"disable-legacy-endpoints": "true"}
    assert pools["spot"]["node_config"]["spot"] is True and pools["general"]["node_config"]["spot"] is False
    # Only pods that tolerate the batch taint (Spark, KubernetesPodOperator jobs) land on spot nodes.
    assert pools["spot"]["node_config"]["taint"] == [{"key": "workload", "value": "batch", "effect": "NO_SCHEDULE"}]
    assert pools["general"]["node_config"]["taint"] == []
    assert pools["spot"]["autoscaling"]["location_policy"] == "ANY"


# --------------------------------------------------------------------------- storage


# Disposable environments (gcp.protect_stateful off): tests/modules/gcp/test_gcp_deploy_blockers.py.
@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if ENVIRONMENTS[e].gcp.protect_stateful])
def test_kms_keys_rotate_every_90_days_and_cannot_be_destroyed(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    ring = stack.only("google_kms_key_ring")
    assert ring["name"] == naming.gcp_resource(env.prefix, env.name, "platform") and ring["location"] == env.gcp.region
    keys = by_name(stack.resources("google_kms_crypto_key"))
    assert set(keys) == {"lake", "gke-secrets"}
    for key in keys.values():
        assert key["rotation_period"] == "7776000s"
        assert key["lifecycle"] == {"prevent_destroy": True}
        assert key["purpose"] == "ENCRYPT_DECRYPT"


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_domain_gets_curated_and_exports_buckets_with_the_secure_defaults(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    buckets = by_name(stack.resources("google_storage_bucket"))
    log_bucket = naming.gcs_platform_bucket(env.prefix, env.name, naming.GCS_ACCESS_LOGS_PURPOSE)
    zones = (*naming.GCS_ZONES, *((naming.GCS_SPARK_STAGING,) if env.spark.enabled else ()))  # Spark: issue 12
    lake = {naming.gcs_bucket(env.prefix, env.name, d.name, z): d for d in env.domains for z in zones}
    assert set(buckets) == set(lake) | {log_bucket}
    lake_key = ref("google_kms_crypto_key", logical_id(stack, "google_kms_crypto_key", "lake"), "id")
    log_ref = ref("google_storage_bucket", logical_id(stack, "google_storage_bucket", log_bucket), "name")
    for name, bucket in buckets.items():
        assert bucket["encryption"] == {"default_kms_key_name": lake_key}
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"
        assert bucket["versioning"] == {"enabled": True}
        assert bucket["location"] == env.gcp.region and bucket["force_destroy"] is False
        if name == log_bucket:
            assert "logging" not in bucket  # the sink never logs to itself
        else:
            assert bucket["logging"] == {"log_bucket": log_ref}
            assert bucket["labels"]["domain"] == lake[name].name
            assert bucket["labels"]["classification"] == lake[name].classification


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_bucket_lifecycle_follows_the_environment_tiering(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    t = env.storage.tiering
    expected = [
        {"action": {"type": "SetStorageClass", "storage_class": "NEARLINE"},
         "condition": {"age": t.warm_after_days, "matches_storage_class": ["STANDARD"]}},
        {"action": {"type": "SetStorageClass", "storage_class": "COLDLINE"},
         "condition": {"age": t.cold_after_days, "matches_storage_class": ["STANDARD", "NEARLINE"]}},
        {"action": {"type": "SetStorageClass", "storage_class": "ARCHIVE"},
         "condition": {"age": t.archive_after_days, "matches_storage_class": ["STANDARD", "NEARLINE", "COLDLINE"]}},
        {"action": {"type": "Delete"},
         "condition": {"days_since_noncurrent_time": t.noncurrent_expire_days, "with_state": "ARCHIVED"}},
        {"action": {"type": "AbortIncompleteMultipartUpload"}, "condition": {"age": t.abort_incomplete_multipart_days}},
    ]
    for bucket in stack.resources("google_storage_bucket").values():
        assert bucket["lifecycle_rule"] == expected


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_buckets_wait_for_the_gcs_agent_key_grant_and_the_log_sink_admits_the_log_writer(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    lake_key = ref("google_kms_crypto_key", logical_id(stack, "google_kms_crypto_key", "lake"), "id")
    grants = {g["member"]: k for k, g in stack.resources("google_kms_crypto_key_iam_member").items()
              if g["crypto_key_id"] == lake_key}
    gcs_agent = "serviceAccount:${data.google_storage_project_service_account.gcs-agent.email_address}"
    # Where Spark is on, three more agents use the lake key: Artifact Registry's (the Spark image's repository),
    # Compute Engine's and Dataproc's (a batch's disks and Dataproc's writes, executionConfig.kmsKey).
    agents = ("gcp-sa-artifactregistry", "compute-system", "dataproc-accounts")
    spark = {f"serviceAccount:service-${{data.google_project.project.number}}@{a}.iam.gserviceaccount.com" for a in agents}
    assert set(grants) == {gcs_agent, *(spark if env.spark.enabled else ())}
    for bucket in stack.resources("google_storage_bucket").values():
        assert bucket["depends_on"] == [f"google_kms_crypto_key_iam_member.{grants[m]}" for m in grants]
    # The lake's other bucket grants are the domains' pipeline accounts (test_gcp_domain_pipeline_accounts.py).
    (writer,) = [m for m in stack.resources("google_storage_bucket_iam_member").values() if m["role"] != "roles/storage.objectUser"]
    assert (writer["role"], writer["member"]) == ("roles/storage.objectCreator", "group:cloud-storage-analytics@google.com")


def test_only_a_log_sink_may_omit_access_logs(tmp_path):
    from modules.gcp.bucket import SecureBucket, SecureBucketProps, Tiering

    with pytest.raises(ValueError, match="access logs are required"):
        SecureBucket(scratch_stack(tmp_path), "b", SecureBucketProps(
            name="x", location="europe-west1", kms_key_id="k", tiering=Tiering(30, 60, 90, 7, 7), log_bucket=None,
        ))


# --------------------------------------------------------------------------- budget


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_budget_alerts_the_environment_emails_at_80_and_100_percent(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    budget = stack.only("google_billing_budget")
    assert budget["billing_account"] == env.gcp.billing_account
    assert budget["amount"] == {"specified_amount": {"currency_code": "USD", "units": str(int(env.budget.monthly_usd)), "nanos": 0}}
    assert [r["threshold_percent"] for r in budget["threshold_rules"]] == [0.8, 1]
    assert budget["budget_filter"]["projects"] == ["projects/${data.google_project.project.number}"]
    channels = stack.resources("google_monitoring_notification_channel")
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == sorted(env.budget.alert_emails)
    assert budget["all_updates_rule"]["monitoring_notification_channels"] == [
        ref("google_monitoring_notification_channel", k, "id") for k in channels
    ]
    for channel in channels.values():
        # An e-mail channel takes exactly one label; the platform tags ride in user_labels.
        assert set(channel["labels"]) == {"email_address"} and channel["type"] == "email"
        assert channel["user_labels"]["environment"] == env.name and channel["user_labels"]["managed-by"] == "cdktf"


def test_budget_amount_knob():
    _, stacks = knob_stacks()
    budget = stacks["alt-gcp-platform"].only("google_billing_budget")
    assert budget["amount"]["specified_amount"] == {"currency_code": "USD", "units": "400", "nanos": 500000000}


# --------------------------------------------------------------------------- cross-cutting


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_no_wildcards_or_basic_roles_in_any_iam(stacks, env_name):
    for stack in (network(stacks, env_name), platform(stacks, env_name)):
        for rtype, name, body in stack.all_resources():
            if "iam" not in rtype:
                continue
            text = json.dumps({k: body.get(k) for k in ("role", "member", "members")})
            assert "*" not in text, f"{rtype}.{name}"
            assert body["role"] not in ("roles/owner", "roles/editor", "roles/viewer"), f"{rtype}.{name}"
            assert body["member"] not in ("allUsers", "allAuthenticatedUsers")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_cidr_the_network_uses_is_private(stacks, env_name):
    stack = network(stacks, env_name)
    for subnet in stack.resources("google_compute_subnetwork").values():
        for cidr in [subnet["ip_cidr_range"], *(r["ip_cidr_range"] for r in subnet.get("secondary_ip_range", []))]:
            assert ipaddress.ip_network(cidr).is_private


def test_platform_exposes_what_vault_needs_as_plain_attributes(tmp_path):
    """Issue 5 reads these attributes; tokens become cross-stack references, names stay plain strings."""
    from cdktf import App, Token

    from stacks.gcp import GcpNetworkStack, GcpPlatformStack

    env = ENVIRONMENTS["dev"]
    app = App(outdir=str(tmp_path))
    stack = GcpPlatformStack(app, env, GcpNetworkStack(app, env))
    assert stack.bucket_names == {
        d.name: {z: naming.gcs_bucket(env.prefix, env.name, d.name, z) for z in naming.GCS_ZONES} for d in env.domains
    }
    assert set(stack.bucket_ids) == {d.name for d in env.domains}
    assert all(Token.is_unresolved(i) for ids in stack.bucket_ids.values() for i in ids.values())
    assert Token.is_unresolved(stack.gke_endpoint) and Token.is_unresolved(stack.gke_ca_certificate)
    assert stack.gke_cluster_name == naming.gke_cluster(env.prefix, env.name)
    assert stack.workload_pool == f"{env.gcp.project_id}.svc.id.goog"


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_network_stack_enables_every_api_both_stacks_need_before_creating_anything(stacks, env_name):
    from stacks.gcp import NETWORK_APIS, PLATFORM_APIS, SPARK_APIS

    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    services = stack.resources("google_project_service")
    spark = SPARK_APIS if env.spark.enabled else ()
    assert sorted(s["service"] for s in services.values()) == sorted(NETWORK_APIS + PLATFORM_APIS + spark)
    assert {"container.googleapis.com", "cloudkms.googleapis.com", "binaryauthorization.googleapis.com"} <= set(PLATFORM_APIS)
    for service in services.values():
        assert service["project"] == env.gcp.project_id
        assert service["disable_on_destroy"] is False  # never switch an API off under other users
    expected = sorted(f"google_project_service.{k}" for k in services)
    for rtype in ("google_compute_network", "google_network_connectivity_hub"):
        for body in stack.resources(rtype).values():
            assert sorted(body["depends_on"]) == expected
