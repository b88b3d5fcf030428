"""pyarrow filesystems for S3, GCS and Azure Blob, built from Airflow connections.

The pipeline logic works on pyarrow filesystems (streamed, vectorized I/O); this
module is the only place that turns a connection (from Vault) into one. It takes
any object with Airflow's Connection fields, so it is testable without Airflow.

Connection fields used:
- aws (`aws`): login/password = access key id/secret (empty on MWAA: the execution
  role's credentials are used); extra `region_name`, `endpoint_url` (moto locally),
  `aws_session_token`.
- gcp (`google_cloud_platform`): extra `is_anonymous` + `endpoint_url` for
  fake-gcs-server; otherwise `access_token` + `expires_at_seconds` (an OAuth
  token from Vault's GCP engine, callcenter.credentials), or `keyfile_dict`
  (service-account JSON), or Application Default Credentials when neither.
- azure (`wasb`), two forms, following Airflow's WasbHook:
  - Entra ID, for the deployed accounts (they disable shared keys): extra
    `tenant_id`, login = client id, password = client secret, host = the account
    URL (`https://<account>.blob.core.windows.net`);
  - shared key, for Azurite: login = storage account, password = account key;
    extra `endpoint_url` (`http://127.0.0.1:PORT`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import pyarrow.fs as pafs

# Client-level retries stay short: a store that is down should fail the task fast
# and let Airflow's retries (exponential backoff) take over, rather than block a
# worker slot inside the client for minutes. The GCS client applies its limit per
# request and some calls make several (create_dir measured ~22 s at 2 s, ~81 s at 10 s).
CLIENT_RETRY = timedelta(seconds=2)
CLIENT_ATTEMPTS = 3


class ConnectionLike(Protocol):
    conn_type: str | None
    login: str | None
    password: str | None
    host: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


class UnsupportedConnectionError(ValueError):
    pass


@dataclass(frozen=True)
class Connection:
    """A connection built outside Airflow (from Vault's credential engines, or a kv secret)."""

    conn_type: str
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] | None = None
    host: str | None = None

    @property
    def extra_dejson(self) -> dict[str, Any]:
        return dict(self.extra or {})

    @classmethod
    def from_vault_secret(cls, secret: dict[str, Any]) -> Connection:
        """The fields Airflow's VaultBackend stores (``extra`` as JSON text)."""
        extra = secret.get("extra") or {}
        return cls(conn_type=secret["conn_type"], login=secret.get("login"), password=secret.get("password"),
                   host=secret.get("host"), extra=json.loads(extra) if isinstance(extra, str) else dict(extra))


def _endpoint(extra: dict[str, Any]) -> tuple[str, str] | None:
    url = extra.get("endpoint_url")
    if not url:
        return None
    parts = urlsplit(str(url))
    return parts.scheme or "https", parts.netloc or parts.path


def s3(conn: ConnectionLike) -> pafs.S3FileSystem:
    extra = conn.extra_dejson
    kwargs: dict[str, Any] = {
        "region": extra.get("region_name") or "us-east-1",
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=CLIENT_ATTEMPTS),
        "connect_timeout": 5,
        "request_timeout": 60,
    }
    if conn.login:
        kwargs.update(access_key=conn.login, secret_key=conn.password or "",
                      session_token=extra.get("aws_session_token"))
    endpoint = _endpoint(extra)
    if endpoint:
        kwargs.update(scheme=endpoint[0], endpoint_override=endpoint[1])
    return pafs.S3FileSystem(**kwargs)


def gcs(conn: ConnectionLike) -> pafs.GcsFileSystem:
    extra = conn.extra_dejson
    kwargs: dict[str, Any] = {"retry_time_limit": CLIENT_RETRY}
    endpoint = _endpoint(extra)
    if endpoint:
        kwargs.update(scheme=endpoint[0], endpoint_override=endpoint[1])
    if extra.get("is_anonymous"):
        return pafs.GcsFileSystem(anonymous=True, **kwargs)
    if extra.get("access_token"):
        expiry = datetime.fromtimestamp(int(extra["expires_at_seconds"]), tz=UTC)
        return pafs.GcsFileSystem(access_token=extra["access_token"], credential_token_expiration=expiry, **kwargs)
    keyfile = extra.get("keyfile_dict")
    if keyfile:
        from google.auth.transport.requests import Request
        from google.oauth2 import service_account

        info = json.loads(keyfile) if isinstance(keyfile, str) else keyfile
        creds = service_account.Credentials.from_service_account_info(
            info, scopes=["https://www.googleapis.com/auth/devstorage.read_write"])
        creds.refresh(Request())
        return pafs.GcsFileSystem(access_token=creds.token, credential_token_expiration=creds.expiry, **kwargs)
    return pafs.GcsFileSystem(**kwargs)  # Application Default Credentials


def azure_account_name(account_url: str | None) -> str | None:
    """`mystorage` from `https://mystorage.blob.core.windows.net` (or a bare name)."""
    if not account_url:
        return None
    netloc = urlsplit(account_url).netloc if "//" in account_url else account_url
    name = netloc.split(".", 1)[0]
    return name or None


def azure_blob(conn: ConnectionLike) -> pafs.AzureFileSystem:
    extra = conn.extra_dejson
    tenant = extra.get("tenant_id")
    if tenant:
        account = azure_account_name(conn.host)
        missing = [label for label, value in (("host (account URL)", account), ("login (client id)", conn.login),
                                               ("password (client secret)", conn.password)) if not value]
        if missing:
            raise UnsupportedConnectionError(f"azure connection with tenant_id also needs: {', '.join(missing)}")
        kwargs: dict[str, Any] = {"account_name": account, "tenant_id": tenant, "client_id": conn.login,
                                  "client_secret": conn.password}
    else:
        if not conn.login:
            raise UnsupportedConnectionError("azure connection needs the storage account name as login "
                                             "(or extra tenant_id with client id/secret and the account URL)")
        kwargs = {"account_name": conn.login}
        if conn.password:
            kwargs["account_key"] = conn.password
    endpoint = _endpoint(extra)
    if endpoint:
        scheme, authority = endpoint
        kwargs.update(blob_storage_authority=authority, dfs_storage_authority=authority,
                      blob_storage_scheme=scheme, dfs_storage_scheme=scheme)
    return pafs.AzureFileSystem(**kwargs)


_BUILDERS = {
    "aws": s3,
    "google_cloud_platform": gcs,
    "wasb": azure_blob,
}


def filesystem(conn: ConnectionLike) -> pafs.FileSystem:
    builder = _BUILDERS.get(conn.conn_type or "")
    if builder is None:
        raise UnsupportedConnectionError(f"no filesystem for connection type {conn.conn_type!r}")
    return builder(conn)
