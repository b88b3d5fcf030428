"""The synthesized <env>-vault stacks: mounts, TTLs, auth bindings, policies, and MWAA's VaultBackend option."""

from __future__ import annotations

import json

import pytest

from environments import naming
from environments.schema import load_environments

ENVIRONMENTS = {env.name: env for env in load_environments()}
ENV_NAMES = sorted(ENVIRONMENTS)
REMOTE = "${data.terraform_remote_state.cross-stack-reference-input-"
VAULT_BACKEND = "regional_sts_vault.RegionalStsVaultBackend"
#: Vault's built-in lifetime (32 days) that nothing may fall back to.
VAULT_DEFAULT_TTL = 32 * 24 * 3600


def vault(stacks, env_name):
    return stacks[f"{env_name}-vault"]


def by(resources: dict, key: str) -> dict:
    return {body[key]: body for body in resources.values()}


def names_domain(reference: str, domain: str) -> bool:
    """cdktf output names carry the owning construct's id, which names the domain (as identifier or slug)."""
    return domain in reference or naming.azure_container(domain) in reference


def is_reference_to(value: str, stack: str) -> bool:
    """A whole value that reads another stack's output (a cdktf cross-stack reference)."""
    return value.startswith(f"{REMOTE}{stack}.outputs.") and value.endswith("}") and value.count("${") == 1


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_kv_v2_mount_at_the_configured_path(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    mount = vault(stacks, env_name).only("vault_mount")
    assert (mount["path"], mount["type"], mount["options"]) == (env.vault.kv_mount, "kv", {"version": "2"})


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_dynamic_engines_use_the_configured_short_ttls(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    engines = {"vault_aws_secret_backend": env.vault.aws_mount}
    if env.gcp.terraform.enabled:
        engines["vault_gcp_secret_backend"] = env.vault.gcp_mount
    if env.azure.terraform.enabled:
        engines["vault_azure_secret_backend"] = env.vault.azure_mount
    for rtype in ("vault_gcp_secret_backend", "vault_azure_secret_backend"):
        if rtype not in engines:
            assert stack.resources(rtype) == {}, f"{rtype} in {env_name}, whose cloud is off"
    for rtype, path in engines.items():
        engine = stack.only(rtype)
        assert engine["path"] == path
        assert engine["default_lease_ttl_seconds"] == env.vault.default_lease_ttl_seconds <= 3600
        assert engine["max_lease_ttl_seconds"] == env.vault.max_lease_ttl_seconds <= 14400


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_engine_root_credentials_are_sensitive_inputs(stacks, env_name):
    stack = vault(stacks, env_name)
    aws = stack.only("vault_aws_secret_backend")
    assert (aws["access_key"], aws["secret_key"]) == ("${var.vault_aws_engine_access_key}", "${var.vault_aws_engine_secret_key}")
    # Vault's rotate-root replaces the bootstrap key; a later plan must not write the dead one back.
    assert aws["lifecycle"] == {"ignore_changes": ["access_key", "secret_key"]}
    inputs = {aws["access_key"], aws["secret_key"]}
    for body in stack.resources("vault_azure_secret_backend").values():
        inputs |= {body["client_id"], body["client_secret"]}
        assert body["lifecycle"] == {"ignore_changes": ["client_secret"]}
    for body in stack.resources("vault_gcp_secret_backend").values():
        # Write-only (review #18): sent to Vault, never kept in state, so no plain attribute and no ignore_changes.
        assert "credentials" not in body and "lifecycle" not in body
        assert body["credentials_wo_version"] == 1
        inputs.add(body["credentials_wo"])
    for ref in inputs:
        variable = stack.doc["variable"][ref.removeprefix("${var.").removesuffix("}")]
        assert variable["sensitive"] is True and "default" not in variable


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_every_lease_and_token_lifetime_is_short(stacks, env_name):
    """No engine, auth mount or role is left on Vault's 32-day default."""
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    default, maximum = env.vault.default_lease_ttl_seconds, env.vault.max_lease_ttl_seconds
    for body in stack.resources("vault_auth_backend").values():
        tune = body["tune"][0]
        assert (tune["default_lease_ttl"], tune["max_lease_ttl"]) == (f"{default}s", f"{maximum}s")
    roles = [*stack.resources("vault_aws_auth_backend_role").values(), *stack.resources("vault_kubernetes_auth_backend_role").values()]
    assert roles
    for role in roles:
        assert (role["token_ttl"], role["token_max_ttl"]) == (default, maximum)
    for role in stack.resources("vault_aws_secret_backend_role").values():
        assert (role["default_sts_ttl"], role["max_sts_ttl"]) == (default, maximum)
    for role in stack.resources("vault_azure_secret_backend_role").values():
        assert (role["ttl"], role["max_ttl"]) == (str(default), str(maximum))
    assert maximum < VAULT_DEFAULT_TTL


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_one_aws_role_per_domain_scoped_to_its_own_resources(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    roles = by(stack.resources("vault_aws_secret_backend_role"), "name")
    assert set(roles) == {naming.vault_domain_role(d.name) for d in env.domains}
    for domain in env.domains:
        role = roles[naming.vault_domain_role(domain.name)]
        assert role["credential_type"] == "federation_token"
        document = json.loads(role["policy_document"])
        actions = [a for s in document["Statement"] for a in s["Action"]]
        assert actions and not any("*" in a for a in actions)
        resources = [r.removesuffix("/*") for s in document["Statement"] for r in s["Resource"]]
        # Every resource is another stack's output, and this domain's (cdktf ids carry the domain's construct id).
        for resource in resources:
            assert is_reference_to(resource, f"{env_name}-aws-platform"), resource
            assert names_domain(resource, domain.name) or "lake-key" in resource, resource
        assert {"s3:GetObject", "kms:Decrypt", "glue:StartCrawler"} <= set(actions)


@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if ENVIRONMENTS[e].gcp.terraform.enabled])
def test_gcp_impersonates_each_domains_own_account_and_has_no_rolesets(stacks, env_name):
    """Review #16: no roleset (it needs project-wide key admin); one impersonated account per domain."""
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    assert stack.resources("vault_gcp_secret_roleset") == {}
    accounts = by(stack.resources("vault_gcp_secret_impersonated_account"), "impersonated_account")
    assert set(accounts) == {naming.vault_domain_role(d.name) for d in env.domains}
    for domain in env.domains:
        account = accounts[naming.vault_domain_role(domain.name)]
        email = account["service_account_email"]
        assert is_reference_to(email, f"{env_name}-gcp-platform") and names_domain(email, domain.name)
        assert account["token_scopes"] == ["https://www.googleapis.com/auth/devstorage.read_write"]


@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if ENVIRONMENTS[e].azure.terraform.enabled])
def test_azure_roles_scope_the_domains_container(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    roles = by(stack.resources("vault_azure_secret_backend_role"), "role")
    assert set(roles) == {naming.vault_domain_role(d.name) for d in env.domains}
    for domain in env.domains:
        (grant,) = roles[naming.vault_domain_role(domain.name)]["azure_roles"]
        assert grant["role_name"] == "Storage Blob Data Contributor"
        assert is_reference_to(grant["scope"], f"{env_name}-azure-platform")
        assert names_domain(grant["scope"], domain.name)
    scopes = [grant["scope"] for role in roles.values() for grant in role["azure_roles"]]
    assert len(set(scopes)) == len(scopes), "two domains share a container"


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_aws_iam_auth_trusts_exactly_the_mwaa_execution_role(stacks, env_name):
    stack = vault(stacks, env_name)
    backend = by(stack.resources("vault_auth_backend"), "type")["aws"]
    assert backend["path"] == naming.VAULT_AWS_AUTH_MOUNT
    role = by(stack.resources("vault_aws_auth_backend_role"), "role")[naming.vault_airflow_role(env_name)]
    assert (role["role"], role["auth_type"], role["resolve_aws_unique_ids"]) == (
        naming.vault_airflow_role(env_name), "iam", True
    )
    (arn,) = role["bound_iam_principal_arns"]
    assert is_reference_to(arn, f"{env_name}-aws-platform") and "mwaa-execution-role" in arn and arn.endswith("arn}")
    assert role["token_policies"] == [naming.vault_orchestration_policy(env_name)]


@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if ENVIRONMENTS[e].gcp.terraform.enabled])
def test_kubernetes_auth_binds_named_service_accounts_and_namespaces(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    config = stack.only("vault_kubernetes_auth_backend_config")
    gcp = f"{env_name}-gcp-platform"
    assert config["kubernetes_host"].startswith(f"https://{REMOTE}{gcp}.outputs.") and "dns_endpoint" in config["kubernetes_host"]
    # GKE's DNS-based endpoint has a publicly trusted certificate: no cluster CA pinned (test_gcp_deploy_blockers.py).
    assert "kubernetes_ca_cert" not in config
    assert config["disable_local_ca_jwt"] is True and "token_reviewer_jwt" not in config
    roles = by(stack.resources("vault_kubernetes_auth_backend_role"), "role_name")
    assert set(roles) == {naming.vault_domain_role(d.name) for d in env.domains}
    for domain in env.domains:
        role = roles[naming.vault_domain_role(domain.name)]
        assert role["bound_service_account_names"] == [naming.gke_domain_service_account(domain.name)]
        assert role["bound_service_account_namespaces"] == [naming.gke_domain_namespace(domain.name)]
        assert role["token_policies"] == [naming.vault_domain_policy(env_name, domain.name)]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_no_static_tokens_and_an_audit_device(stacks, env_name):
    stack = vault(stacks, env_name)
    (provider,) = stack.doc["provider"]["vault"]
    assert set(provider) == {"address"}, "the provider logs in from the operator's environment, never a token in code"
    forbidden = {"vault_token", "vault_approle_auth_backend_role_secret_id", "vault_generic_secret", "vault_kv_secret_v2"}
    assert forbidden.isdisjoint(stack.doc["resource"])
    audit = stack.only("vault_audit")
    assert audit["type"] == "file" and audit["options"]["log_raw"] == "false"


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_policies_one_per_domain_plus_orchestration(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    policies = by(stack.resources("vault_policy"), "name")
    expected = {naming.vault_domain_policy(env_name, d.name) for d in env.domains} | {naming.vault_orchestration_policy(env_name)}
    assert set(policies) == expected
    kv = env.vault.kv_mount
    assert policies[naming.vault_orchestration_policy(env_name)]["policy"] == (
        f'path "{kv}/data/airflow/connections/*" {{\n  capabilities = ["read"]\n}}\n\n'
        f'path "{kv}/data/airflow/variables/*" {{\n  capabilities = ["read"]\n}}\n'
    )


@pytest.mark.parametrize("env_name", [e for e in ENV_NAMES if ENVIRONMENTS[e].orchestration.mwaa.enabled])
def test_mwaa_reads_connections_and_variables_from_this_vault(stacks, env_name):
    """MWAA's secrets backend agrees with what the Vault stack actually created."""
    stack = vault(stacks, env_name)
    mwaa = stacks[f"{env_name}-aws-orchestration"].only("aws_mwaa_environment")
    options = mwaa["airflow_configuration_options"]
    assert options["secrets.backend"] == VAULT_BACKEND
    kwargs = json.loads(options["secrets.backend_kwargs"])
    assert kwargs["auth_type"] == "aws_iam"
    assert kwargs["url"] == stack.doc["provider"]["vault"][0]["address"]
    assert kwargs["auth_mount_point"] == by(stack.resources("vault_auth_backend"), "type")["aws"]["path"]
    assert kwargs["role_id"] == naming.vault_airflow_role(env_name)
    assert naming.vault_airflow_role(env_name) in by(stack.resources("vault_aws_auth_backend_role"), "role")
    client = stack.only("vault_aws_auth_backend_client")
    assert kwargs["iam_server_id_header"] == client["iam_server_id_header_value"]
    assert (kwargs["region"], f"https://sts.{kwargs['region']}.amazonaws.com") == (client["sts_region"], client["sts_endpoint"])
    assert kwargs["mount_point"] == stack.only("vault_mount")["path"]
    assert kwargs.get("kv_engine_version", 2) == 2
    orchestration = by(stack.resources("vault_policy"), "name")[naming.vault_orchestration_policy(env_name)]["policy"]
    for key in ("connections_path", "variables_path"):
        assert f'"{kwargs["mount_point"]}/data/{kwargs[key]}/*"' in orchestration
    # Nothing secret in MWAA's own configuration: connections live in Vault only.
    assert not [k for k in options if k.startswith(("connections", "secrets.")) and k not in ("secrets.backend", "secrets.backend_kwargs")]


@pytest.mark.parametrize("env_name", ENV_NAMES)
def test_each_domain_logs_in_as_its_pipeline_role_with_its_policy_only(stacks, env_name):
    """Issue 11: a task logs in as its domain; the Airflow login carries the orchestration policy only."""
    env, stack = ENVIRONMENTS[env_name], vault(stacks, env_name)
    roles = by(stack.resources("vault_aws_auth_backend_role"), "role")
    airflow = roles.pop(naming.vault_airflow_role(env.name))
    assert airflow["token_policies"] == [naming.vault_orchestration_policy(env.name)]
    assert set(roles) == {naming.vault_domain_login_role(env.name, d.name) for d in env.domains}
    for domain in env.domains:
        role = roles[naming.vault_domain_login_role(env.name, domain.name)]
        assert role["token_policies"] == [naming.vault_domain_policy(env.name, domain.name)]
        arn, *spark = role["bound_iam_principal_arns"]  # and the domain's Spark job role (issue 12), if any
        assert is_reference_to(arn, f"{env_name}-aws-platform") and f"pipeline-role-{domain.name}" in arn
        assert [f"spark-job-{domain.name}_role" in a for a in spark] == ([True] if env.spark.enabled else [])
