"""MWAA's Vault login, proven as far as this machine allows (OpenBao 2.7.2 has no aws auth plugin and
no HashiCorp Vault binary is reachable, so the auth method itself cannot be mounted here):

(a) the backend MWAA is configured with (``secrets.backend`` + ``backend_kwargs`` from the synthesized
    dev-aws-orchestration stack) logs in for the MWAA role's credentials; the login it sends is captured
    by a stand-in for Vault's login endpoint and compared with what the synthesized dev-vault
    ``vault_aws_auth_backend_client`` makes Vault expect: signed host, credential-scope region, the
    signed server-id header, the role and the mount;
(b) that signed request is replayed the way Vault forwards it (to the STS endpoint, keeping the signed
    Host header; vault path_login.go buildHttpRequest) against a real moto server, which answers
    GetCallerIdentity with the assumed MWAA role. moto does not verify SigV4 signatures, so (b) proves
    routing and identity; the signature is botocore's own SigV4 signer.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

from tests.conftest import require
from tests.integration.aws_local import MotoServer

REPO = Path(__file__).resolve().parents[3]
IAC_PYTHON = REPO / ".venv" / "bin" / "python"
PLUGINS = REPO / "airflow" / "plugins"


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory) -> dict[str, dict]:
    """dev, synthesized by main.py in the IaC environment (the Airflow venv has no cdktf)."""
    require(IAC_PYTHON.is_file(), f"{IAC_PYTHON} is missing (make setup)")
    out = tmp_path_factory.mktemp("synth") / "cdktf.out"
    result = subprocess.run(
        [str(IAC_PYTHON), str(REPO / "main.py"), "--env", "dev", "--outdir", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return {p.name: json.loads((p / "cdk.tf.json").read_text()) for p in (out / "stacks").iterdir()}


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.stop()


class _VaultLogin(BaseHTTPRequestHandler):
    """Stands in for Vault's ``auth/<mount>/login``: records the request, answers with a token."""

    captured: list[tuple[str, dict]] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).captured.append((self.path, json.loads(body)))
        answer = json.dumps({"auth": {"client_token": "stand-in-token", "policies": [], "lease_duration": 60}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):  # noqa: N802
        # hashicorp provider 4.8.0 (the Airflow 3.3.1 constraints' pin) checks the client with
        # is_authenticated() after the login: GET auth/token/lookup-self, as Vault answers it.
        ok = self.path == "/v1/auth/token/lookup-self" and self.headers.get("X-Vault-Token") == "stand-in-token"
        answer = json.dumps({"data": {"id": "stand-in-token", "policies": []}} if ok else {"errors": ["permission denied"]}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def only(stack: dict, rtype: str) -> dict:
    (body,) = stack["resource"][rtype].values()
    return body


def mwaa_role_name(platform: dict) -> str:
    (name,) = [r["name"] for k, r in platform["resource"]["aws_iam_role"].items() if k.startswith("mwaa-execution-role")]
    return name


@pytest.fixture(scope="module")
def login(synthesized, moto, tmp_path_factory):
    """Log in exactly as MWAA's configured backend does, as the MWAA role; returns (path, payload, role arn)."""
    options = only(synthesized["dev-aws-orchestration"], "aws_mwaa_environment")["airflow_configuration_options"]
    kwargs = json.loads(options["secrets.backend_kwargs"])
    # MWAA's credentials: a session of the MWAA execution role (created in moto under its synthesized name).
    aws = {"endpoint_url": moto.url, "region_name": kwargs["region"], "aws_access_key_id": "moto", "aws_secret_access_key": "moto"}
    iam, sts = boto3.client("iam", **aws), boto3.client("sts", **aws)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "airflow-env.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName=mwaa_role_name(synthesized["dev-aws-platform"]), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="mwaa-worker")["Credentials"]

    server = ThreadingHTTPServer(("127.0.0.1", 0), _VaultLogin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _VaultLogin.captured.clear()
    sys.path.insert(0, str(PLUGINS))  # MWAA puts the plugins folder on sys.path
    env_keys = {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"], "AWS_SESSION_TOKEN": creds["SessionToken"]}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env_keys.items():
            patch.setenv(key, value)
        patch.setenv("AWS_CONFIG_FILE", str(tmp_path_factory.mktemp("aws") / "none"))
        module, _, name = options["secrets.backend"].rpartition(".")
        backend_class = getattr(importlib.import_module(module), name)
        backend = backend_class(**{**kwargs, "url": f"http://127.0.0.1:{server.server_port}"})
        assert backend.vault_client.client.token == "stand-in-token"  # the login happened and was accepted
    server.shutdown()
    sys.path.remove(str(PLUGINS))
    ((path, payload),) = _VaultLogin.captured
    return path, payload, role["Arn"]


def decoded(payload: dict) -> tuple[str, dict[str, str], str]:
    headers = json.loads(base64.b64decode(payload["iam_request_headers"]))
    return (
        base64.b64decode(payload["iam_request_url"]).decode(),
        {k: v[0] if isinstance(v, list) else v for k, v in headers.items()},
        base64.b64decode(payload["iam_request_body"]).decode(),
    )


def test_login_is_signed_for_what_the_vault_auth_client_expects(login, synthesized):
    path, payload, _ = login
    vault = synthesized["dev-vault"]
    client = only(vault, "vault_aws_auth_backend_client")
    mount = next(b["path"] for b in vault["resource"]["vault_auth_backend"].values() if b["type"] == "aws")
    assert path == f"/v1/auth/{mount}/login"
    # The backend logs in as Airflow's own role (the domains' pipeline roles are for task logins).
    roles = {r["role"]: r for r in vault["resource"]["vault_aws_auth_backend_role"].values()}
    assert payload["role"] in roles and roles[payload["role"]]["auth_type"] == "iam"
    assert payload["role"] == json.loads(
        only(synthesized["dev-aws-orchestration"], "aws_mwaa_environment")["airflow_configuration_options"][
            "secrets.backend_kwargs"])["role_id"]
    assert payload["iam_http_request_method"] == "POST"
    url, headers, body = decoded(payload)
    expected_host = urlsplit(client["sts_endpoint"]).hostname
    # Vault forwards to sts_endpoint and keeps the signed Host: both must name the same host.
    assert urlsplit(url).hostname == expected_host and headers["Host"] == expected_host
    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request", headers["Authorization"])
    assert scope and scope.groups() == (client["sts_region"], "sts")
    signed = re.search(r"SignedHeaders=([^,]+)", headers["Authorization"]).group(1).split(";")
    assert {"host", "x-vault-aws-iam-server-id", "x-amz-date"} <= set(signed)
    assert headers["X-Vault-AWS-IAM-Server-ID"] == client["iam_server_id_header_value"]
    assert body == "Action=GetCallerIdentity&Version=2011-06-15"


def test_the_stock_provider_login_would_not_match(synthesized):
    """Why the subclass: hvac signs for the global host, which the regional sts_endpoint would not accept."""
    from hvac import aws_utils

    client = only(synthesized["dev-vault"], "vault_aws_auth_backend_client")
    stock = aws_utils.generate_sigv4_auth_request(header_value=None)
    assert urlsplit(stock.url).hostname != urlsplit(client["sts_endpoint"]).hostname
    assert "X-Vault-AWS-IAM-Server-ID" not in stock.headers


def test_replayed_as_vault_does_sts_names_the_mwaa_role(login, moto, synthesized):
    _, payload, role_arn = login
    url, headers, body = decoded(payload)
    parts = urlsplit(url)
    # As Vault: the request goes to the STS endpoint (here moto), path and signed headers (Host included) unchanged.
    request = urllib.request.Request(f"{moto.url}{parts.path or '/'}", data=body.encode(), method=payload["iam_http_request_method"])
    for key, value in headers.items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        answer = response.read().decode()
    arn = re.search(r"<Arn>([^<]+)</Arn>", answer).group(1)
    role_name = role_arn.rsplit("/", 1)[1]
    assert arn == f"arn:aws:sts::{role_arn.split(':')[4]}:assumed-role/{role_name}/mwaa-worker"
    assert role_name == mwaa_role_name(synthesized["dev-aws-platform"])


def test_backend_refuses_to_run_without_header_or_credentials(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(PLUGINS))
    from regional_sts_vault import RegionalStsVaultBackend

    base = {"url": "http://127.0.0.1:9", "auth_type": "aws_iam", "role_id": "dev-airflow", "region": "eu-west-1"}
    with pytest.raises(ValueError, match="needs region and iam_server_id_header"):
        RegionalStsVaultBackend(**base)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    backend = RegionalStsVaultBackend(**base, iam_server_id_header="vault.example")
    with pytest.raises(RuntimeError, match="no AWS credentials found"):
        backend.vault_client.client
