"""Issue 10, GCP: each deploy-time blocker asserted on the synthesized JSON (and the schema rules that keep
configurations GKE cannot serve out of the environment files). Every test here failed on adb2f2d."""

from __future__ import annotations

import pytest
from cdktf import App, TerraformStack

from environments import naming
from environments.schema import load_environments
from modules.gcp.binary_authorization import BinaryAuthorization, BinaryAuthorizationProps
from modules.gcp.kms import DISPOSABLE_DESTROY_DELAY
from modules.vault.kubernetes_auth import VAULT_AUDIENCE
from tests.config.test_schema import only_problem, write_env
from tests.modules.gcp.support import knob_stacks

ENVIRONMENTS = {e.name: e for e in load_environments() if e.gcp.terraform.enabled}
ENV_NAMES = sorted(ENVIRONMENTS)
GCP_COMPONENTS = ("gcp-network", "gcp-platform", "gcp-fabric")


def gcp_stacks(stacks, env_name):
    return [stacks[f"{env_name}-{c}"] for c in GCP_COMPONENTS if f"{env_name}-{c}" in stacks]


# --------------------------------------------------------------------------- billing budget (review #9)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_google_provider_sends_a_quota_project_so_billingbudgets_accepts_user_credentials(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    found = gcp_stacks(stacks, env_name)
    assert {s.name for s in found} >= {f"{env_name}-gcp-network", f"{env_name}-gcp-platform"}
    for stack in found:
        (provider,) = stack.doc["provider"]["google"]
        assert provider["user_project_override"] is True, stack.name
        assert provider["billing_project"] == env.gcp.project_id, stack.name  # the default: the env's project


def test_billing_project_knob_names_another_quota_project():
    _, stacks = knob_stacks()
    (provider,) = stacks["alt-gcp-platform"].doc["provider"]["google"]
    assert provider["billing_project"] == "cc-billing-quota" and provider["user_project_override"] is True


def test_billing_project_must_be_a_project_id(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"].update(billing_project="Not_A_Project"))
    assert only_problem(path) == (
        f"{path}: gcp.billing_project: 'Not_A_Project': must be a GCP project id: 6-30 of a-z, 0-9, -"
    )


# --------------------------------------------------------------------------- GKE (reviews #10, #11, #25)


def cluster_of(stacks, env_name):
    return stacks[f"{env_name}-gcp-platform"].only("google_container_cluster")


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_vulnerability_mode_is_a_supported_one(stacks, env_name):
    posture = cluster_of(stacks, env_name)["security_posture_config"]
    assert posture == {"mode": "BASIC", "vulnerability_mode": "VULNERABILITY_DISABLED"}


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_control_plane_has_an_iam_guarded_dns_endpoint_and_no_public_ip(stacks, env_name):
    c = cluster_of(stacks, env_name)
    assert c["control_plane_endpoints_config"] == {"dns_endpoint_config": {"allow_external_traffic": True}}
    assert c["private_cluster_config"]["enable_private_endpoint"] is True
    # Nothing outside the cluster's VPC is authorized: no authorized range could reach the private IP anyway.
    assert c["master_authorized_networks_config"] == {"cidr_blocks": [], "gcp_public_cidrs_access_enabled": False}


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_vault_kubernetes_auth_uses_the_dns_endpoint_and_binds_an_audience(stacks, env_name):
    stack = stacks[f"{env_name}-vault"]
    config = stack.only("vault_kubernetes_auth_backend_config")
    platform = stacks[f"{env_name}-gcp-platform"]
    (output,) = [k for k in platform.doc["output"] if "dns_endpoint_config0endpoint" in k]
    assert platform.doc["output"][output]["value"].endswith(
        ".control_plane_endpoints_config[0].dns_endpoint_config[0].endpoint}"
    )
    assert config["kubernetes_host"] == (
        f"https://${{data.terraform_remote_state.cross-stack-reference-input-{env_name}-gcp-platform.outputs.{output}}}"
    )
    # The DNS endpoint's certificate is publicly trusted: pinning the cluster CA would fail the TLS check.
    assert "kubernetes_ca_cert" not in config
    roles = stack.resources("vault_kubernetes_auth_backend_role").values()
    assert roles and all(r["audience"] == VAULT_AUDIENCE for r in roles)


@pytest.mark.parametrize("cidr", ["192.0.2.0/24", "198.51.100.0/25", "203.0.113.7/32"])
def test_documentation_ranges_are_refused_as_authorized_networks(tmp_path, cidr):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(
        private_endpoint=False, master_authorized_networks=[{"name": "corp", "cidr": cidr}]))
    assert only_problem(path) == (
        f"{path}: gcp.gke.master_authorized_networks[0].cidr: '{cidr}': "
        "is an RFC 5737 documentation range (TEST-NET), which no client ever uses"
    )


def test_a_private_endpoint_refuses_ranges_outside_the_cluster_vpc(tmp_path):
    # dev's hub (10.20/16): the hub never routed to the peering-based private endpoint (review #10).
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(
        master_authorized_networks=[{"name": "hub-vpc", "cidr": "10.20.0.0/16"}]))
    line = only_problem(path)
    assert line.startswith(f"{path}: gcp: {{") and line.endswith(
        ": gke.master_authorized_networks ['10.20.0.0/16'] lie outside the cluster's VPC (workloads 10.21.0.0/16), "
        "which alone routes to a private endpoint; reach the control plane through its DNS endpoint instead"
    )


def test_a_private_endpoint_admits_ranges_inside_the_cluster_vpc(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(
        master_authorized_networks=[{"name": "jump", "cidr": "10.21.200.0/24"}]))
    assert load_environments(tmp_path)[0].gcp.gke.master_authorized_networks[0].cidr == "10.21.200.0/24"
    assert path.exists()


# --------------------------------------------------------------------------- binary authorization (review #21)


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_binary_authorization_policy_denies_all_but_system_images_and_the_registry(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    policy = stacks[f"{env_name}-gcp-platform"].only("google_binary_authorization_policy")
    assert policy["project"] == env.gcp.project_id
    assert policy["default_admission_rule"] == {
        "evaluation_mode": "ALWAYS_DENY", "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
    }
    assert policy["global_policy_evaluation_mode"] == "ENABLE"
    assert policy["admission_whitelist_patterns"] == [
        {"name_pattern": f"{env.gcp.region}-docker.pkg.dev/{env.gcp.project_id}/**"}
    ]
    assert cluster_of(stacks, env_name)["binary_authorization"] == {"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"}


@pytest.mark.parametrize("pattern", ["*", "docker.io", "*.pkg.dev/x/**", "gcr.io/*"])
def test_binary_authorization_refuses_patterns_that_admit_any_registry_or_path(pattern):
    with pytest.raises(ValueError, match="must name a registry and a path"):
        BinaryAuthorization(TerraformStack(App(), "s"), "b", BinaryAuthorizationProps(project="p", allowed_images=(pattern,)))


# --------------------------------------------------------------------------- disposable dev keys (review #30)


def rings_and_keys(stacks, env_name):
    stack = stacks[f"{env_name}-gcp-platform"]
    return stack, stack.only("google_kms_key_ring"), list(stack.resources("google_kms_crypto_key").values())


@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if not ENVIRONMENTS[e].gcp.protect_stateful])
def test_disposable_environment_keys_can_be_destroyed_and_the_ring_name_is_fresh_per_creation(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    stack, ring, keys = rings_and_keys(stacks, env_name)
    (generation_id, generation), = stack.resources("terraform_data").items()
    assert generation["input"] == {"created": '${formatdate("YYYYMMDDhhmmss", timestamp())}'}
    assert generation["lifecycle"] == {"ignore_changes": ["input"]}  # read once, at create
    assert ring["name"] == (
        f"{naming.gcp_resource(env.prefix, env.name, 'platform')}-${{terraform_data.{generation_id}.output.created}}"
    )
    assert keys and all("lifecycle" not in k and k["destroy_scheduled_duration"] == DISPOSABLE_DESTROY_DELAY for k in keys)


def test_dev_is_disposable_and_prod_is_protected(stacks):
    assert ENVIRONMENTS["dev"].gcp.protect_stateful is False and ENVIRONMENTS["prod"].gcp.protect_stateful is True
    _, ring, keys = rings_and_keys(stacks, "prod")
    assert ring["name"] == naming.gcp_resource(ENVIRONMENTS["prod"].prefix, "prod", "platform")
    assert "terraform_data" not in stacks["prod-gcp-platform"].doc.get("resource", {})
    assert all(k["lifecycle"] == {"prevent_destroy": True} and "destroy_scheduled_duration" not in k for k in keys)
