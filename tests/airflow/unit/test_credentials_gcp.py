"""The Dataproc job's Vault login (credentials `gcp_iam`): its own service account signs a short JWT
through IAM Credentials and logs in to Vault's GCP auth as the domain.

Faked at the HTTP boundary, with the APIs' documented shapes, because there is no GCP here (no metadata
server, no IAM Credentials) and OpenBao 2.7.2 has no gcp auth plugin (`bao auth enable gcp`: "plugin not
found in the catalog: gcp"): the metadata server (service-accounts/default/?recursive=true, .../token),
IAM Credentials signJwt, and Vault's POST /v1/auth/gcp/login. google-auth and hvac run unmodified.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlparse

import pytest
from callcenter import credentials
from callcenter.credentials import CloudSource, CredentialsError, Settings, VaultLogin
from fake_http import JsonHandler, serving

EMAIL = "ccddev-spark-abc123@ccd-dev.iam.gserviceaccount.com"
METADATA_TOKEN = "ya29.metadata-made-up"
SIGNED = "eyJhbGciOiJSUzI1NiJ9.made-up.signature"
DOMAIN_TOKEN = "hvs.domain-token-made-up"
ROLE = "dev-call-analytics-pipeline"


class Google(JsonHandler):
    seen: list[tuple[str, str, dict, dict]] = []
    extra_headers = {"Metadata-Flavor": "Google"}

    def do_GET(self) -> None:  # noqa: N802 - http.server's hook name
        path = urlparse(self.path).path
        Google.seen.append(("GET", path, dict(self.headers), {}))
        if self.headers.get("Metadata-Flavor") != "Google":
            return self.send_json(403, {})
        if path == "/computeMetadata/v1/instance/service-accounts/default/":
            return self.send_json(200, {"email": EMAIL, "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                                    "aliases": ["default"]})
        if path in (f"/computeMetadata/v1/instance/service-accounts/{a}/token" for a in ("default", EMAIL)):
            return self.send_json(200, {"access_token": METADATA_TOKEN, "expires_in": 3599, "token_type": "Bearer"})
        return self.send_json(404, {})

    def do_POST(self) -> None:  # noqa: N802
        path = urlparse(self.path).path
        body = self.json_body()
        Google.seen.append(("POST", path, dict(self.headers), body))
        if path == f"/iam/v1/projects/-/serviceAccounts/{EMAIL}:signJwt":
            if self.headers.get("Authorization") != f"Bearer {METADATA_TOKEN}":
                return self.send_json(401, {"error": {"status": "UNAUTHENTICATED"}})
            return self.send_json(200, {"keyId": "k1", "signedJwt": SIGNED})
        if path == "/v1/auth/gcp/login":
            if body != {"role": ROLE, "jwt": SIGNED}:
                return self.send_json(400, {"errors": ["bad login"]})
            return self.send_json(200, {"auth": {"client_token": DOMAIN_TOKEN, "policies": ["dev-domain-call-analytics"]}})
        return self.send_json(404, {})


@pytest.fixture(scope="module")
def google():
    with serving(Google) as host:
        yield host


def mwaa_settings(url: str) -> Settings:
    """The domain's settings as MWAA's tasks use them (aws_iam, assuming the pipeline role)."""
    return Settings(domain="call_analytics", masking_key_path="domains/call-analytics/masking",
                    vault=VaultLogin(url=url, method="aws_iam", kv_mount="platform", kv_path="domains/call-analytics",
                                     role=ROLE, assume_role_arn="arn:aws:iam::111122223333:role/ccd-dev-ca-pipeline",
                                     region="eu-west-1", server_id="vault.dev.internal"),
                    clouds={"gcp": CloudSource("gcp", "gcp/impersonated-account/call-analytics/token")})


def test_the_dataproc_job_logs_in_with_its_own_service_account(google, monkeypatch) -> None:
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", google)  # what GCE_METADATA_HOST sets at import
    job = Settings.from_json(credentials.portable(mwaa_settings(f"http://{google}"), engine="dataproc").to_json())
    assert (job.vault.method, job.vault.auth_mount, job.vault.role) == ("gcp_iam", "gcp", ROLE)
    assert job.vault.assume_role_arn is None and job.vault.server_id is None  # nothing of MWAA's login travels

    Google.seen.clear()
    started = int(time.time())
    client = credentials.vault_client(job, iam_url=f"http://{google}/iam/v1")
    assert client.token == DOMAIN_TOKEN

    (sign,) = [s for s in Google.seen if s[1].endswith(":signJwt")]
    assert EMAIL in sign[1]  # the account signs for itself (signJwt is granted on itself only)
    claims = json.loads(sign[3]["payload"])
    assert claims["sub"] == EMAIL and claims["aud"] == f"vault/{ROLE}"
    assert 0 < claims["exp"] - started <= 15 * 60  # Vault's GCP auth refuses longer (max_jwt_exp 15 min)
    (login,) = [s for s in Google.seen if s[1] == "/v1/auth/gcp/login"]
    assert login[3] == {"role": ROLE, "jwt": SIGNED}


def test_signing_refused_is_one_line_without_secrets(google, monkeypatch) -> None:
    from google.auth.compute_engine import _metadata

    monkeypatch.setattr(_metadata, "_GCE_METADATA_HOST", google)
    with pytest.raises(CredentialsError, match=rf"^signJwt for {EMAIL}: HTTP 404$"):
        credentials.gcp_login_jwt(ROLE, iam_url=f"http://{google}/nowhere")


def test_portable_keeps_emr_on_aws_and_refuses_an_unknown_engine(google) -> None:
    emr = credentials.portable(mwaa_settings(f"http://{google}"))
    assert (emr.vault.method, emr.vault.own_identity, emr.vault.assume_role_arn) == ("aws_iam", True, None)
    with pytest.raises(CredentialsError, match="engine 'glue' must be emr or dataproc"):
        credentials.portable(mwaa_settings(f"http://{google}"), engine="glue")
