"""callcenter.credentials: a task logs in to Vault as its domain and turns each engine's answer into a store.

OpenBao here has no aws/gcp/azure secrets engine ("plugin not found in the catalog"), so the
engines are a stand-in: a local HTTP server answering with the response shapes of Vault's API
docs (aws/creds: access_key, secret_key, session_token; gcp impersonated-account token: token,
expires_at_seconds, token_ttl; azure/creds: client_id, client_secret; kv-v2 data.data). The
policies that decide who may read those paths are proven on a real OpenBao in
tests/integration/test_vault_policies.py.
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from callcenter import credentials
from callcenter.credentials import CloudSource, CredentialsError, Settings, VaultLogin

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "airflow" / "plugins"))  # as MWAA does

DOMAIN_TOKEN = "hvs.domain-token-made-up"
ROLE = "call-analytics"
KEY = bytes(range(32))
EXPIRES = int(time.time()) + 3600
ANSWERS = {
    f"/v1/aws/creds/{ROLE}": {"access_key": "ASIAMADEUP", "secret_key": "made-up-secret", "session_token": "made-up-sts"},
    f"/v1/gcp/impersonated-account/{ROLE}/token": {"token": "ya29.made-up", "expires_at_seconds": EXPIRES, "token_ttl": 3599},
    f"/v1/azure/creds/{ROLE}": {"client_id": "app-made-up", "client_secret": "sp-secret-made-up"},
    "/v1/platform/data/domains/call-analytics/masking_key": {"data": {"value": KEY.hex()}, "metadata": {"version": 1}},
    "/v1/aws/creds/broken": {"access_key": "ASIAMADEUP"},
}


class FakeVault(BaseHTTPRequestHandler):
    logins: list[dict] = []

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        if self.headers.get("X-Vault-Token") != DOMAIN_TOKEN:
            return self._send(403, {"errors": ["permission denied"]})
        if self.path not in ANSWERS:
            return self._send(404, {"errors": []})
        return self._send(200, {"lease_duration": 900, "data": ANSWERS[self.path]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/v1/auth/aws/login":
            return self._send(404, {"errors": []})
        FakeVault.logins.append(body)
        return self._send(200, {"auth": {"client_token": DOMAIN_TOKEN, "policies": ["dev-domain-call-analytics"]}})

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def vault_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeVault)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def settings(vault_url: str, login: VaultLogin | None = None, aws_path: str = f"aws/creds/{ROLE}") -> Settings:
    return Settings(
        domain="call_analytics",
        vault=login or VaultLogin(url=vault_url, method="token", kv_mount="platform", kv_path="domains/call-analytics",
                                  token_path="unused"),
        clouds={
            "aws": CloudSource("aws", aws_path, {"region_name": "eu-west-1"}),
            "gcp": CloudSource("gcp", f"gcp/impersonated-account/{ROLE}/token"),
            "azure": CloudSource("azure", f"azure/creds/{ROLE}", {"tenant_id": "tenant-made-up",
                                                                   "account_url": "https://ccddevlake.blob.core.windows.net"}),
        },
        masking_key_path="domains/call-analytics/masking_key",
    )


def domain_client(vault_url: str, tmp_path: Path):
    token = tmp_path / "token"
    token.write_text(DOMAIN_TOKEN + "\n")
    login = VaultLogin(url=vault_url, method="token", kv_mount="platform", kv_path="domains/call-analytics",
                       token_path=str(token))
    return credentials.vault_client(settings(vault_url, login))


def built_with(fs) -> dict:
    return fs.__reduce__()[1][0]


def test_each_cloud_gets_the_engines_short_lived_credentials(vault_url, tmp_path) -> None:
    client, config = domain_client(vault_url, tmp_path), settings(vault_url)
    s3 = built_with(credentials.filesystem(config, "aws", client))
    assert (s3["access_key"], s3["secret_key"], s3["session_token"], s3["region"]) == (
        "ASIAMADEUP", "made-up-secret", "made-up-sts", "eu-west-1")
    gcs = built_with(credentials.filesystem(config, "gcp", client))
    assert gcs["access_token"] == "ya29.made-up"
    assert int(gcs["credential_token_expiration"].timestamp()) == EXPIRES
    azure = built_with(credentials.filesystem(config, "azure", client))
    assert (azure["account_name"], azure["tenant_id"], azure["client_id"], azure["client_secret"]) == (
        "ccddevlake", "tenant-made-up", "app-made-up", "sp-secret-made-up")
    assert azure["account_key"] == ""  # never a shared key
    assert credentials.masking_key(config, client) == KEY


def test_a_token_without_the_domain_policy_gets_nothing(vault_url, tmp_path) -> None:
    import hvac

    stranger = hvac.Client(url=vault_url, token="hvs.someone-else")
    with pytest.raises(hvac.exceptions.Forbidden):
        credentials.filesystem(settings(vault_url), "aws", stranger)


def test_an_incomplete_answer_names_the_path_and_no_secret(vault_url, tmp_path) -> None:
    client = domain_client(vault_url, tmp_path)
    with pytest.raises(CredentialsError, match=r"^vault aws/creds/broken: the answer lacks secret_key$") as error:
        credentials.filesystem(settings(vault_url, aws_path="aws/creds/broken"), "aws", client)
    assert "ASIAMADEUP" not in str(error.value)


class FakeSts:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def assume_role(self, **kwargs) -> dict:
        self.calls.append(kwargs)
        return {"Credentials": {"AccessKeyId": "ASIAPIPELINE", "SecretAccessKey": "pipeline-secret",
                                "SessionToken": "pipeline-session"}}


class FakeSession:
    def __init__(self) -> None:
        self.sts = FakeSts()
        self.endpoints: list[str] = []

    def client(self, service: str, region_name: str, endpoint_url: str):
        assert service == "sts"
        self.endpoints.append(endpoint_url)
        return self.sts


def test_aws_iam_login_assumes_the_domains_pipeline_role_and_signs_for_vault(vault_url) -> None:
    """MWAA's path: execution role -> the domain's pipeline role -> Vault aws login as the domain's role."""
    login = VaultLogin(url=vault_url, method="aws_iam", kv_mount="platform", kv_path="domains/call-analytics",
                       role="dev-call-analytics-pipeline", assume_role_arn="arn:aws:iam::111122223333:role/ccd-dev-call-analytics-pipeline",
                       region="eu-west-1", server_id="vault.dev.internal")
    session = FakeSession()
    FakeVault.logins.clear()
    client = credentials.vault_client(settings(vault_url, login), boto_session=session)
    (call,) = session.sts.calls
    assert call["RoleArn"] == login.assume_role_arn
    assert call["RoleSessionName"].startswith("call_analytics-")  # the pipeline role's trust requires this prefix
    assert session.endpoints == ["https://sts.eu-west-1.amazonaws.com"]
    (body,) = FakeVault.logins
    assert body["role"] == "dev-call-analytics-pipeline"
    headers = json.loads(base64.b64decode(body["iam_request_headers"]))
    assert headers["X-Vault-AWS-IAM-Server-ID"] == ["vault.dev.internal"]
    assert "Credential=ASIAPIPELINE/" in headers["Authorization"][0]  # signed as the pipeline role, not MWAA
    assert base64.b64decode(body["iam_request_url"]).decode() == "https://sts.eu-west-1.amazonaws.com/"
    assert client.token == DOMAIN_TOKEN


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "ldap"}, "vault.method 'ldap' must be one of aws_iam, gcp_iam, token"),
        ({"method": "aws_iam", "token_path": None}, "vault.role is required with method 'aws_iam'"),
        ({"token_path": None}, "vault.token_path is required with method 'token'"),
    ],
)
def test_bad_settings_are_one_clear_line(vault_url, change, message) -> None:
    base = settings(vault_url)
    data = json.loads(base.to_json())
    data["vault"].update(change)
    with pytest.raises(CredentialsError, match=f"^call_analytics_credentials: {message}$"):
        Settings.from_json(json.dumps(data))


def test_settings_round_trip(vault_url) -> None:
    base = settings(vault_url)
    assert Settings.from_json(base.to_json()) == base


def test_deployed_task_logins_trust_the_same_vault_ca_as_the_secrets_backend(tmp_path) -> None:
    """Every Vault client on MWAA verifies Vault against the CA shipped in plugins.zip (a private CA on a
    .internal name): the domains' task logins as well as Airflow's backend, or each task fails TLS."""
    from environments.schema import load_environment
    from scripts.airflow_secrets import deployed_settings
    from stacks.mwaa_options import vault_backend_kwargs

    repo = Path(__file__).resolve().parents[3]
    env = load_environment(repo / "environments" / "dev.yaml")
    settings = Settings.from_json(deployed_settings(env).to_json())
    assert settings.vault.ca_file == vault_backend_kwargs(env)["verify"] == "/usr/local/airflow/plugins/vault-ca.pem"
    token = tmp_path / "token"
    token.write_text("t")
    local = Settings.from_json(settings.to_json().replace('"aws_iam"', '"token"').replace('"token_path": null', f'"token_path": "{token}"'))
    assert credentials.vault_client(local).adapter._kwargs["verify"] == settings.vault.ca_file


def test_a_job_outside_mwaa_trusts_the_same_vault_ca_by_its_content(vault_url, tmp_path) -> None:
    """The Spark job on EMR has no /usr/local/airflow/plugins: portable() carries the CA as PEM text and
    the job's client verifies Vault against a file holding exactly those bytes."""
    repo = Path(__file__).resolve().parents[3]
    ca = repo / "environments" / "certs" / "dev-vault-ca.pem"
    token = tmp_path / "token"
    token.write_text("t")
    login = VaultLogin(url=vault_url, method="token", kv_mount="platform", kv_path="domains/call-analytics",
                       token_path=str(token), ca_file=str(ca))
    moved = credentials.portable(settings(vault_url, login))
    assert moved.vault.ca_file is None and moved.vault.ca_pem == ca.read_text()
    verify = credentials.vault_client(Settings.from_json(moved.to_json())).adapter._kwargs["verify"]
    assert verify != str(ca) and Path(verify).read_bytes() == ca.read_bytes()
    assert credentials.portable(settings(vault_url)) == settings(vault_url)  # no CA file: system CAs, unchanged


def test_the_spark_job_logs_in_with_its_own_role_and_never_assumes_the_pipeline_role(vault_url) -> None:
    """EMR's path: portable() settings; the job role (bound by the domain's Vault role) signs the login itself.
    The session is a stand-in at the AWS API boundary (no STS here), as in the MWAA-path test above."""
    from botocore.credentials import Credentials

    login = VaultLogin(url=vault_url, method="aws_iam", kv_mount="platform", kv_path="domains/call-analytics",
                       role="dev-call-analytics-pipeline", assume_role_arn="arn:aws:iam::111122223333:role/ccd-dev-call-analytics-pipeline",
                       region="eu-west-1", server_id="vault.dev.internal")
    job = Settings.from_json(credentials.portable(settings(vault_url, login)).to_json())
    assert (job.vault.assume_role_arn, job.vault.own_identity) == (None, True)

    class JobSession(FakeSession):
        def get_credentials(self):
            return Credentials("ASIAJOBROLE", "job-secret", "job-session")

    session = JobSession()
    FakeVault.logins.clear()
    client = credentials.vault_client(job, boto_session=session)
    assert session.sts.calls == []  # nothing assumed
    (body,) = FakeVault.logins
    assert "Credential=ASIAJOBROLE/" in json.loads(base64.b64decode(body["iam_request_headers"]))["Authorization"][0]
    assert client.token == DOMAIN_TOKEN
    with pytest.raises(CredentialsError, match="vault.assume_role_arn is required"):  # MWAA's settings still must assume
        Settings.from_json(job.to_json().replace('"own_identity": true', '"own_identity": false'))
