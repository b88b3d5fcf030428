"""A domain's short-lived cloud credentials, obtained from Vault as that domain.

One interface for every place a task needs a store:

    filesystem(domain, cloud)  -> pyarrow filesystem ("aws", "gcp", "azure")
    masking_key(domain)        -> the domain's keyed-hash key

What a domain may obtain is decided in Vault, not here: a task logs in *as its
domain* and the domain's policy reads only the domain's kv subtree and its own
dynamic-credential paths (stacks/vault.py ``domain_rules``). How it logs in and
where each cloud's credentials come from is one non-secret JSON Airflow Variable
per domain, ``<domain>_credentials`` (:class:`Settings`), written by
``make vault-seed`` (deployed) or the demo (stand-ins):

- login ``aws_iam`` (MWAA): the worker's execution role assumes the domain's
  pipeline IAM role (session name ``<domain>-...``), and that role's credentials
  sign Vault's AWS-auth login for the domain's Vault role (regional STS host and
  the server-id header, as airflow/plugins/vault_aws_login.py does).
- login ``gcp_iam`` (the Spark job on Dataproc Serverless): the batch's own service account (from
  the metadata server) has IAM Credentials sign a short JWT ``{sub, aud: "vault/<role>", exp}`` and
  logs in to Vault's GCP auth method (``iam`` role bound to that account, the domain's policy).
- login ``token`` (the local stand-ins only): a token file, as the demo's
  VaultBackend uses.
- per cloud, ``engine``: ``aws`` reads ``<aws mount>/creds/<role>`` (STS:
  ``access_key``, ``secret_key``, ``session_token``); ``gcp`` reads
  ``<gcp mount>/impersonated-account/<name>/token`` (``token``,
  ``expires_at_seconds``); ``azure`` reads ``<azure mount>/creds/<role>``
  (``client_id``, ``client_secret``; tenant and account URL from the settings);
  ``kv`` reads a connection stored in the domain's kv subtree (the stand-ins'
  fixed credentials: moto, fake-gcs-server, Azurite).

Nothing read here is returned from a task, logged or cached on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from callcenter import stores

if TYPE_CHECKING:
    import pyarrow.fs as pafs

CLOUDS = ("aws", "gcp", "azure")
ENGINES = ("aws", "gcp", "azure", "kv")
LOGINS = ("aws_iam", "gcp_iam", "token")
#: Vault's GCP auth mount the Dataproc job logs in at (stacks/vault.py mounts it there).
GCP_AUTH_MOUNT = "gcp"
#: IAM Credentials API v1 (projects.serviceAccounts.signJwt).
IAM_CREDENTIALS = "https://iamcredentials.googleapis.com/v1"
#: Vault's GCP auth refuses an iam JWT valid for more than its role's max_jwt_exp (default 15 min).
JWT_SECONDS = 600


class CredentialsError(ValueError):
    """Settings or a Vault answer that cannot give credentials (one line, no secret in it)."""


def settings_variable(domain: str) -> str:
    return f"{domain}_credentials"


@dataclass(frozen=True)
class VaultLogin:
    url: str
    method: str
    kv_mount: str
    #: The domain's kv subtree, e.g. ``domains/call-analytics``.
    kv_path: str
    #: aws_iam: the domain's Vault AWS-auth role, its pipeline IAM role, the STS region and server-id header.
    role: str | None = None
    assume_role_arn: str | None = None
    region: str | None = None
    server_id: str | None = None
    auth_mount: str = "aws"
    #: token: a file holding the token (stand-ins only).
    token_path: str | None = None
    #: The CA bundle Vault's certificate chains to (on MWAA: vault-ca.pem from plugins.zip); None: system CAs.
    ca_file: str | None = None
    #: The same CA as PEM text, for processes that do not have MWAA's plugins folder (the Spark job
    #: on EMR Serverless): see portable(). A CA certificate is public, so it may travel in job arguments.
    ca_pem: str | None = None
    #: aws_iam from a Spark job: log in with the process's own identity (the domain's EMR Serverless job
    #: role, which the domain's Vault role binds next to the pipeline role) instead of assuming the pipeline role.
    own_identity: bool = False


@dataclass(frozen=True)
class CloudSource:
    engine: str
    #: An engine API path (``aws/creds/<role>``) or, for ``kv``, a secret path inside the kv mount.
    path: str
    #: Non-secret settings: ``region_name``/``endpoint_url`` (aws), ``tenant_id``/``account_url`` (azure).
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    domain: str
    vault: VaultLogin
    clouds: dict[str, CloudSource]
    #: The masking key's secret path inside the kv mount (in the domain's subtree).
    masking_key_path: str

    def __post_init__(self) -> None:
        where = settings_variable(self.domain)
        if self.vault.method not in LOGINS:
            raise CredentialsError(f"{where}: vault.method {self.vault.method!r} must be one of {', '.join(LOGINS)}")
        needed = {"aws_iam": ("role", "region", "server_id") + (() if self.vault.own_identity else ("assume_role_arn",)),
                  "gcp_iam": ("role",), "token": ("token_path",)}
        missing = [name for name in needed[self.vault.method] if not getattr(self.vault, name)]
        if missing:
            raise CredentialsError(f"{where}: vault.{missing[0]} is required with method {self.vault.method!r}")
        for cloud, source in self.clouds.items():
            if cloud not in CLOUDS or source.engine not in ENGINES:
                raise CredentialsError(f"{where}: clouds.{cloud}.engine {source.engine!r} is not one of {', '.join(ENGINES)}")

    @classmethod
    def from_json(cls, text: str) -> Settings:
        data = json.loads(text)
        try:
            return cls(domain=data["domain"], vault=VaultLogin(**data["vault"]),
                       clouds={name: CloudSource(**source) for name, source in data["clouds"].items()},
                       masking_key_path=data["masking_key_path"])
        except (KeyError, TypeError) as error:
            raise CredentialsError(f"{settings_variable(data.get('domain', '?'))}: malformed ({error})") from None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def source(self, cloud: str) -> CloudSource:
        if cloud not in self.clouds:
            raise CredentialsError(f"{settings_variable(self.domain)}: no credentials configured for cloud {cloud!r}")
        return self.clouds[cloud]


def portable(settings: Settings, engine: str = "emr") -> Settings:
    """`settings` for the Spark job, which runs outside MWAA: the CA file's content travels as
    ``ca_pem``; on EMR (``engine`` "emr") an aws_iam login uses the job's own role (no pipeline role
    to assume); on Dataproc ("dataproc") the job logs in with its own service account (gcp_iam) to
    the domain's role of the same name on Vault's GCP auth mount."""
    login = settings.vault
    if engine not in ("emr", "dataproc"):
        raise CredentialsError(f"portable: engine {engine!r} must be emr or dataproc")
    if engine == "dataproc" and login.method == "aws_iam":
        login = replace(login, method="gcp_iam", auth_mount=GCP_AUTH_MOUNT, assume_role_arn=None, region=None,
                        server_id=None, own_identity=True)
    elif login.method == "aws_iam":
        login = replace(login, assume_role_arn=None, own_identity=True)
    if login.ca_file:
        with open(login.ca_file, encoding="ascii") as handle:
            login = replace(login, ca_file=None, ca_pem=handle.read())
    return replace(settings, vault=login)


def _verify(login: VaultLogin) -> str | bool:
    """hvac's ``verify``: a CA file path (written once from ``ca_pem`` when that is what came), else system CAs."""
    if login.ca_file or not login.ca_pem:
        return login.ca_file or True
    digest = hashlib.sha256(login.ca_pem.encode()).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"vault-ca-{digest}.pem")
    if not os.path.exists(path):
        staged = f"{path}.{uuid.uuid4().hex}"
        with open(staged, "w", encoding="ascii") as handle:
            handle.write(login.ca_pem)
        os.replace(staged, path)  # executors of one host may race; each writes the same bytes
    return path


def gcp_login_jwt(role: str, *, iam_url: str = IAM_CREDENTIALS) -> str:
    """A JWT for Vault's GCP auth (iam type) signed by IAM Credentials for this process's own service
    account (the metadata server's default account: the Dataproc batch's). The account may sign for
    itself only (iam.serviceAccounts.signJwt on itself, modules/gcp/dataproc_serverless.py)."""
    import time

    from google.auth import compute_engine
    from google.auth.transport.requests import AuthorizedSession, Request

    account = compute_engine.Credentials(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    account.refresh(Request())  # also resolves the account's e-mail from the metadata server
    email = account.service_account_email
    # Vault GCP auth API, "iam" login: sub = the account, aud = "vault/<role>", exp within max_jwt_exp.
    payload = {"sub": email, "aud": f"vault/{role}", "exp": int(time.time()) + JWT_SECONDS}
    answer = AuthorizedSession(account).post(f"{iam_url}/projects/-/serviceAccounts/{email}:signJwt",
                                             json={"payload": json.dumps(payload)}, timeout=30)
    if answer.status_code != 200:
        raise CredentialsError(f"signJwt for {email}: HTTP {answer.status_code}")
    return answer.json()["signedJwt"]


def vault_client(settings: Settings, *, boto_session: Any = None, iam_url: str = IAM_CREDENTIALS) -> Any:
    """An hvac client logged in as the domain (its Vault token carries only the domain's policy)."""
    import hvac

    login = settings.vault
    client = hvac.Client(url=login.url, verify=_verify(login))
    if login.method == "token":
        with open(login.token_path, encoding="utf-8") as handle:  # type: ignore[arg-type]
            client.token = handle.read().strip()
        return client
    if login.method == "gcp_iam":
        client.auth.gcp.login(role=login.role, jwt=gcp_login_jwt(login.role, iam_url=iam_url),
                              mount_point=login.auth_mount)
        return client
    import boto3
    from botocore.credentials import ReadOnlyCredentials

    # MWAA puts plugins/ on sys.path; the Spark job ships the module at its zip's root.
    from vault_aws_login import login_payload, signed_get_caller_identity

    session = boto_session or boto3.Session()
    if login.own_identity:
        found = session.get_credentials()
        if found is None:
            raise CredentialsError(f"{settings_variable(settings.domain)}: no AWS credentials for the Vault login")
        credentials = found.get_frozen_credentials()
    else:
        sts = session.client("sts", region_name=login.region, endpoint_url=f"https://sts.{login.region}.amazonaws.com")
        # The pipeline role's trust requires a session name starting with the domain (CloudTrail names it).
        assumed = sts.assume_role(RoleArn=login.assume_role_arn,
                                  RoleSessionName=f"{settings.domain}-{uuid.uuid4().hex[:16]}",
                                  DurationSeconds=900)["Credentials"]
        credentials = ReadOnlyCredentials(assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"])
    request = signed_get_caller_identity(credentials, login.region, login.server_id)
    client.login(f"/v1/auth/{login.auth_mount}/login", json=login_payload(request, login.role))
    return client


def _read(client: Any, path: str) -> dict[str, Any]:
    """GET /v1/<path>: a dynamic-credential read (each call is a new lease)."""
    answer = client.adapter.get(f"/v1/{path}")
    data = answer.get("data") if isinstance(answer, dict) else answer.json().get("data")
    if not isinstance(data, dict):
        raise CredentialsError(f"vault {path}: the answer has no data")
    return data


def _kv(client: Any, settings: Settings, path: str) -> dict[str, Any]:
    return client.secrets.kv.v2.read_secret_version(path, mount_point=settings.vault.kv_mount,
                                                    raise_on_deleted_version=True)["data"]["data"]


def _require(data: dict[str, Any], path: str, *names: str) -> list[Any]:
    missing = [name for name in names if not data.get(name)]
    if missing:
        raise CredentialsError(f"vault {path}: the answer lacks {', '.join(missing)}")
    return [data[name] for name in names]


def connection(client: Any, settings: Settings, cloud: str) -> stores.Connection:
    """The cloud's credentials for the domain, as a connection callcenter.stores turns into a filesystem."""
    source = settings.source(cloud)
    extra = dict(source.extra)
    if source.engine == "kv":
        return stores.Connection.from_vault_secret(_kv(client, settings, source.path))
    data = _read(client, source.path)
    if source.engine == "aws":
        key, secret = _require(data, source.path, "access_key", "secret_key")
        # Vault >= 1.13 answers session_token; earlier releases security_token (Vault AWS secrets API).
        token = data.get("session_token") or data.get("security_token")
        return stores.Connection("aws", login=key, password=secret, extra={**extra, "aws_session_token": token})
    if source.engine == "gcp":
        token, expires = _require(data, source.path, "token", "expires_at_seconds")
        return stores.Connection("google_cloud_platform", extra={**extra, "access_token": token,
                                                                 "expires_at_seconds": int(expires)})
    client_id, client_secret = _require(data, source.path, "client_id", "client_secret")
    return stores.Connection("wasb", login=client_id, password=client_secret, host=extra.pop("account_url", None),
                             extra=extra)


def filesystem(settings: Settings, cloud: str, client: Any = None) -> pafs.FileSystem:
    return stores.filesystem(connection(client or vault_client(settings), settings, cloud))


def masking_key(settings: Settings, client: Any = None) -> bytes:
    """The domain's masking key, from its own kv subtree."""
    from callcenter.masking import check_key

    secret = _kv(client or vault_client(settings), settings, settings.masking_key_path)
    key = bytes.fromhex(str(secret["value"]).strip())
    check_key(key)
    return key
