"""The synthesized Vault policies, loaded into a real OpenBao server and probed per token.

The vault Terraform provider cannot be downloaded here, so this is the test of
the policy *text*: every ``vault_policy`` the stacks synthesize goes into an
OpenBao dev server, a token is created per policy (plus ``default``, as the
auth roles issue them; ``default`` is what lets a token call
``sys/capabilities-self`` and renew itself), and ``sys/capabilities-self``
answers what each token may do on its own paths, every other domain's paths
and ``sys/``. Expected paths come from the config and the naming contract, not
from the policy text under test.
"""

from __future__ import annotations

import json
import os
import subprocess

import hvac
import pytest

from environments import naming
from environments.schema import load_environments
from tests.conftest import REPO, require
from tests.integration.openbao_server import openbao_dev_server

ENVIRONMENTS = {env.name: env for env in load_environments()}
SYS_PATHS = ("sys/mounts", "sys/mounts/aws", "sys/auth", "sys/auth/aws", "sys/policies/acl/any", "sys/audit", "sys/seal")


@pytest.fixture(scope="module")
def bao(tmp_path_factory):
    with openbao_dev_server(tmp_path_factory.mktemp("openbao")) as client:
        yield client


@pytest.fixture(scope="module")
def loaded_policies(bao, stacks) -> dict[str, str]:
    """Every vault_policy of every vault stack, written into the server: name -> text."""
    policies = {}
    for stack in stacks.values():
        for body in stack.resources("vault_policy").values():
            assert body["name"] not in policies, f"policy {body['name']} is defined twice"
            policies[body["name"]] = body["policy"]
            bao.sys.create_or_update_acl_policy(name=body["name"], policy=body["policy"])
    return policies


def ensure_kv_v2(bao: hvac.Client, mount: str) -> None:
    if f"{mount}/" not in bao.sys.list_mounted_secrets_engines()["data"]:
        bao.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})


def token_for(bao: hvac.Client, policy: str) -> hvac.Client:
    created = bao.auth.token.create(policies=[policy, "default"], ttl="10m")
    return hvac.Client(url=bao.url, token=created["auth"]["client_token"])


def capabilities(client: hvac.Client, paths: list[str]) -> dict[str, list[str]]:
    answer = client.adapter.post("/v1/sys/capabilities-self", json={"paths": paths})
    data = answer.get("data", answer) if isinstance(answer, dict) else answer.json()
    return {path: sorted(data[path]) for path in paths}


def domain_paths(env, domain: str) -> dict[str, list[str]]:
    """The paths a domain's token must have, with exactly these capabilities."""
    kv, subtree, role = env.vault.kv_mount, naming.vault_domain_kv_path(domain), naming.vault_domain_role(domain)
    paths = {
        f"{kv}/data/{subtree}/probe": ["read"],
        f"{kv}/data/{subtree}/nested/secret": ["read"],
        f"{kv}/data/{subtree}/{naming.VAULT_DOMAIN_MASKING_KEY}": ["read"],
        f"{kv}/metadata/{subtree}/": ["list", "read"],
        f"{env.vault.aws_mount}/creds/{role}": ["read"],
    }
    if env.gcp.terraform.enabled:
        paths[f"{env.vault.gcp_mount}/impersonated-account/{role}/token"] = ["read"]
    if env.azure.terraform.enabled:
        paths[f"{env.vault.azure_mount}/creds/{role}"] = ["read"]
    return paths


def airflow_paths(env) -> list[str]:
    kv = env.vault.kv_mount
    return [
        f"{kv}/data/{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/aws_default",
        f"{kv}/data/{naming.VAULT_AIRFLOW_VARIABLES_PATH}/lake_bucket",
    ]


def test_every_policy_the_stacks_define_is_loaded(loaded_policies):
    expected = set()
    for env in ENVIRONMENTS.values():
        expected.add(naming.vault_orchestration_policy(env.name))
        expected |= {naming.vault_domain_policy(env.name, d.name) for d in env.active_domains}  # retired: none
    assert set(loaded_policies) == expected


@pytest.mark.parametrize(
    "env_name, domain",
    [(env.name, d.name) for env in ENVIRONMENTS.values() for d in env.active_domains],
)
def test_a_domain_token_reads_only_its_own_paths(bao, loaded_policies, env_name, domain):
    env = ENVIRONMENTS[env_name]
    client = token_for(bao, naming.vault_domain_policy(env.name, domain))
    own = domain_paths(env, domain)
    assert capabilities(client, list(own)) == own

    foreign = [p for other in env.domains if other.name != domain for p in domain_paths(env, other.name)]
    # A made-up domain whose name extends this one's must not match its globs.
    foreign += list(domain_paths(env, f"{domain}_shadow"))
    foreign += airflow_paths(env) + list(SYS_PATHS)
    # Its own tree is read-only: writes and deletes are refused.
    own_kv = f"{env.vault.kv_mount}/data/{naming.vault_domain_kv_path(domain)}/probe"
    granted = {path: caps for path, caps in capabilities(client, foreign).items() if caps != ["deny"]}
    assert granted == {}
    assert "update" not in capabilities(client, [own_kv])[own_kv]


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_the_orchestration_token_reads_the_airflow_paths_only(bao, loaded_policies, env_name):
    env = ENVIRONMENTS[env_name]
    client = token_for(bao, naming.vault_orchestration_policy(env.name))
    assert capabilities(client, airflow_paths(env)) == {path: ["read"] for path in airflow_paths(env)}
    others = [p for d in env.domains for p in domain_paths(env, d.name)] + list(SYS_PATHS)
    others.append(f"{env.vault.kv_mount}/data/airflow/config/secret_key")  # outside connections/variables
    assert {path: caps for path, caps in capabilities(client, others).items() if caps != ["deny"]} == {}


TWO_DOMAINS = ("call_analytics", "agent_performance")


@pytest.mark.parametrize("owner, other", [TWO_DOMAINS, TWO_DOMAINS[::-1]])
def test_real_reads_follow_the_policies(bao, loaded_policies, owner, other):
    """Beyond capabilities, both ways round: a kv-v2 read succeeds on the domain's own secret and is refused on
    the other's; the orchestration token reads neither domain's secrets, masking key nor connections."""
    env = ENVIRONMENTS["dev"]
    mount = env.vault.kv_mount
    ensure_kv_v2(bao, mount)
    assert {owner, other} <= {d.name for d in env.active_domains}
    for domain in (owner, other):
        subtree = naming.vault_domain_kv_path(domain)
        for path in ("probe", naming.VAULT_DOMAIN_MASKING_KEY, f"{naming.VAULT_DOMAIN_CONNECTIONS}/aws"):
            bao.secrets.kv.v2.create_or_update_secret(mount_point=mount, path=f"{subtree}/{path}", secret={"value": domain})
    bao.secrets.kv.v2.create_or_update_secret(
        mount_point=mount, path=f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/probe", secret={"conn_uri": "aws://"}
    )

    def read(client, path):
        return client.secrets.kv.v2.read_secret_version(mount_point=mount, path=path, raise_on_deleted_version=True)

    domain_client = token_for(bao, naming.vault_domain_policy(env.name, owner))
    assert read(domain_client, f"{naming.vault_domain_kv_path(owner)}/probe")["data"]["data"] == {"value": owner}
    with pytest.raises(hvac.exceptions.Forbidden):
        read(domain_client, f"{naming.vault_domain_kv_path(other)}/probe")
    with pytest.raises(hvac.exceptions.Forbidden):
        read(domain_client, f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/probe")

    masking_key = f"{naming.vault_domain_kv_path(owner)}/{naming.VAULT_DOMAIN_MASKING_KEY}"
    assert read(domain_client, masking_key)["data"]["data"] == {"value": owner}

    airflow_client = token_for(bao, naming.vault_orchestration_policy(env.name))
    assert read(airflow_client, f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/probe")["data"]["data"] == {"conn_uri": "aws://"}
    for domain in (owner, other):
        subtree = naming.vault_domain_kv_path(domain)
        for path in ("probe", naming.VAULT_DOMAIN_MASKING_KEY, f"{naming.VAULT_DOMAIN_CONNECTIONS}/aws"):
            with pytest.raises(hvac.exceptions.Forbidden):
                read(airflow_client, f"{subtree}/{path}")


AIRFLOW_PYTHON = REPO / ".venv-airflow" / "bin" / "python"
_BACKEND_PROBE = """
import importlib, json, sys
sys.path.insert(0, sys.argv[3])  # the plugins folder, on sys.path as on MWAA
module, _, name = sys.argv[2].rpartition(".")
backend = getattr(importlib.import_module(module), name)(**json.loads(sys.argv[1]))
print(json.dumps({"conn": backend.get_connection("probe").get_uri(), "var": backend.get_variable("lake_bucket")}))
"""


def test_airflow_vault_backend_reads_through_the_orchestration_policy(bao, loaded_policies, stacks, tmp_path):
    """MWAA's own backend_kwargs, with a token login instead of AWS IAM, against the loaded policy: the real provider."""
    require(AIRFLOW_PYTHON.exists(), "the Airflow environment (.venv-airflow, `make setup`) is not installed")
    env = ENVIRONMENTS["dev"]
    options = stacks["dev-aws-orchestration"].only("aws_mwaa_environment")["airflow_configuration_options"]
    kwargs = json.loads(options["secrets.backend_kwargs"])
    mount = kwargs["mount_point"]
    ensure_kv_v2(bao, mount)
    bao.secrets.kv.v2.create_or_update_secret(
        mount_point=mount, path=f"{kwargs['connections_path']}/probe", secret={"conn_uri": "postgresql://db.internal:5432/lake"}
    )
    bao.secrets.kv.v2.create_or_update_secret(
        mount_point=mount, path=f"{kwargs['variables_path']}/lake_bucket", secret={"value": "s3://lake"}
    )
    token = bao.auth.token.create(policies=[naming.vault_orchestration_policy(env.name), "default"], ttl="10m")
    for aws_only in ("auth_mount_point", "role_id", "region"):
        kwargs.pop(aws_only, None)
    kwargs.update(url=bao.url, auth_type="token", token=token["auth"]["client_token"])
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", _BACKEND_PROBE, json.dumps(kwargs), options["secrets.backend"], str(REPO / "airflow" / "plugins")],
        capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "AIRFLOW_HOME": str(tmp_path), "VAULT_TOKEN": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"conn": "postgres://db.internal:5432/lake", "var": "s3://lake"}


_DOMAIN_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/airflow/dags"]
import hvac
from callcenter import credentials
from environments.schema import load_environment
from scripts.airflow_secrets import standin_settings
env = load_environment(sys.argv[1] + "/environments/dev.yaml")
seen = {}
for domain in json.loads(sys.argv[4]):
    settings = standin_settings(env, sys.argv[2], sys.argv[3], domain)
    client = credentials.vault_client(settings)
    try:
        seen[domain] = {"key": credentials.masking_key(settings, client).hex(),
                        "aws": credentials.connection(client, settings, "aws").login}
    except hvac.exceptions.Forbidden:
        seen[domain] = "forbidden"
print(json.dumps(seen))
"""


@pytest.mark.parametrize("owner, other", [TWO_DOMAINS, TWO_DOMAINS[::-1]])
def test_a_task_logged_in_as_its_domain_reads_its_own_secrets_through_the_interface(bao, loaded_policies, tmp_path, owner, other):
    """callcenter.credentials against a real OpenBao and the synthesized policies: each domain's token reads
    its masking key and connection, and the other domain's are refused (the same reads, another subtree)."""
    require(AIRFLOW_PYTHON.exists(), "the Airflow environment (.venv-airflow, `make setup`) is not installed")
    env = ENVIRONMENTS["dev"]
    mount = env.vault.kv_mount
    ensure_kv_v2(bao, mount)
    keys = {}
    for domain in ("call_analytics", "agent_performance"):
        subtree = naming.vault_domain_kv_path(domain)
        keys[domain] = os.urandom(32).hex()
        bao.secrets.kv.v2.create_or_update_secret(
            mount_point=mount, path=f"{subtree}/{naming.VAULT_DOMAIN_MASKING_KEY}", secret={"value": keys[domain]})
        bao.secrets.kv.v2.create_or_update_secret(
            mount_point=mount, path=f"{subtree}/{naming.VAULT_DOMAIN_CONNECTIONS}/aws",
            secret={"conn_type": "aws", "login": f"{domain}-made-up", "extra": "{}"})
    token = token_for(bao, naming.vault_domain_policy(env.name, owner)).token
    token_file = tmp_path / "token"
    token_file.write_text(token)
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), "-c", _DOMAIN_PROBE, str(REPO), bao.url, str(token_file),
         json.dumps(["call_analytics", "agent_performance"])],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {owner: {"key": keys[owner], "aws": f"{owner}-made-up"}, other: "forbidden"}
