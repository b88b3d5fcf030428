"""What Airflow's VaultBackend reads, and the one way it is written.

`make demo` (local OpenBao) and `make vault-seed ENV=<env>` (a deployed Vault)
both go through here, so the paths, the connection format and the layout JSON
cannot drift apart:

    <kv mount>/airflow/connections/<conn_id>   {"conn_type", "login", "password", "host", "extra"}
    <kv mount>/airflow/variables/<key>          {"value": ...}   (non-secret: layout, credential settings)
    <kv mount>/domains/<domain>/masking_key     {"value": hex}   (the domain's policy only)
    <kv mount>/domains/<domain>/connections/<cloud>               (stand-ins' fixed credentials only)

Airflow's own login (orchestration policy) reads airflow/*; nothing there is a
domain secret. A task reads its domain's secrets and dynamic credentials as the
domain (callcenter.credentials), with the settings written here.

The masking key is created once and never overwritten: every pseudonym in the
lake was made with it, so replacing it silently would break joins across days.
"""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "airflow" / "dags"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from callcenter.credentials import CloudSource, Settings, VaultLogin, settings_variable  # noqa: E402
from callcenter.domain import DEFAULT_DOMAIN  # noqa: E402
from callcenter.layout import Layout, Names  # noqa: E402
from callcenter.stores import Connection  # noqa: E402

from environments import naming  # noqa: E402
from environments.schema import Environment  # noqa: E402
from stacks.mwaa_options import vault_ca_path  # noqa: E402

MASKING_KEY_BYTES = 32  # inside the contract's 16-64 byte range for keyed BLAKE2b


@dataclass(frozen=True)
class Conn(Connection):
    """An Airflow connection as stored in Vault (and usable by callcenter.stores)."""

    def vault_secret(self) -> dict[str, Any]:
        secret: dict[str, Any] = {"conn_type": self.conn_type, "extra": json.dumps(self.extra or {})}
        for name in ("login", "password", "host"):
            value = getattr(self, name)
            if value is not None:
                secret[name] = value
        return secret


def names_of(domain: str) -> Names:
    """The domain's Airflow names; the data set comes from its contract file (domains/<domain>.yaml)."""
    from callcenter import domain as domains

    return Names(domain, domains.load(domain).dataset)


def seeded_domains(env: Environment) -> list[str]:
    """The environment's active domains: each gets its layout, settings and key (the schema already
    refuses an active domain without a contract file)."""
    return [d.name for d in env.active_domains]


def layout_for(env: Environment, domain: str = DEFAULT_DOMAIN) -> Layout:
    """A domain's stores, named exactly as the stacks name them, and its contract's data set."""
    env.domain(domain)  # fails loudly if the environment has no such domain
    p, e = env.prefix, env.name
    return Layout(
        raw_bucket=naming.s3_bucket(p, e, domain, "raw"),
        curated_bucket=naming.s3_bucket(p, e, domain, "curated"),
        quarantine_bucket=naming.s3_bucket(p, e, domain, "quarantine"),
        gcs_curated_bucket=naming.gcs_bucket(p, e, domain, "curated"),
        gcs_exports_bucket=naming.gcs_bucket(p, e, domain, "exports"),
        azure_container=naming.azure_container(domain),
        glue_crawler=naming.glue_crawler(p, e, domain),
        dataset=names_of(domain).dataset,
    )


def ensure_kv_mount(client: Any, mount: str) -> None:
    """A kv-v2 mount where the deployed Vault stack would have made one."""
    if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})


def write_connections(client: Any, mount: str, conns: dict[str, Conn]) -> list[str]:
    """Write (or replace) each connection; returns the paths written."""
    kv = client.secrets.kv.v2
    written = []
    for conn_id, conn in conns.items():
        path = f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/{conn_id}"
        kv.create_or_update_secret(path, secret=conn.vault_secret(), mount_point=mount)
        written.append(path)
    return written


def write_layout(client: Any, mount: str, layout: Layout, domain: str = DEFAULT_DOMAIN) -> str:
    path = f"{naming.VAULT_AIRFLOW_VARIABLES_PATH}/{Names(domain).layout_variable}"
    client.secrets.kv.v2.create_or_update_secret(path, secret={"value": layout.to_json()}, mount_point=mount)
    return path


def spark_settings_for(env: Environment) -> str:
    """A domain's `<domain>_spark` Variable (callcenter.engine_choice.SparkSettings): the environment file's
    thresholds and no Spark application (aws/gcp null), so every run stays in the worker. An environment
    with spark.enabled gets its EMR application id and roles from the Spark stack's outputs instead."""
    from callcenter.engine_choice import SparkSettings

    t = env.spark.thresholds
    value = json.dumps({"thresholds": {"max_worker_bytes": t.max_worker_bytes, "max_worker_days": t.max_worker_days},
                        "aws": None, "gcp": None}, sort_keys=True)
    SparkSettings.from_json(value)  # what the DAG will parse; refuse to write anything it cannot
    return value


def write_spark_settings(client: Any, mount: str, value: str, domain: str = DEFAULT_DOMAIN) -> str:
    path = f"{naming.VAULT_AIRFLOW_VARIABLES_PATH}/{Names(domain).spark_variable}"
    client.secrets.kv.v2.create_or_update_secret(path, secret={"value": value}, mount_point=mount)
    return path


def domain_secret_path(domain: str, *parts: str) -> str:
    return "/".join((naming.vault_domain_kv_path(domain), *parts))


def deployed_settings(env: Environment, domain: str = DEFAULT_DOMAIN) -> Settings:
    """How a domain's tasks get credentials on MWAA: log in as the domain's pipeline role, read its engines."""
    role = naming.vault_domain_role(domain)
    address = str(env.vault.address)
    account = naming.azure_storage_account(env.prefix, env.name)
    clouds = {"aws": CloudSource("aws", f"{env.vault.aws_mount}/creds/{role}", {"region_name": env.aws.region})}
    if env.gcp.terraform.enabled:
        clouds["gcp"] = CloudSource("gcp", f"{env.vault.gcp_mount}/impersonated-account/{role}/token")
    if env.azure.terraform.enabled:
        clouds["azure"] = CloudSource("azure", f"{env.vault.azure_mount}/creds/{role}", {
            "tenant_id": str(env.azure.tenant_id), "account_url": f"https://{account}.blob.core.windows.net"})
    return Settings(
        domain=domain,
        vault=VaultLogin(
            url=address, method="aws_iam", kv_mount=env.vault.kv_mount, kv_path=naming.vault_domain_kv_path(domain),
            role=naming.vault_domain_login_role(env.name, domain),
            assume_role_arn=naming.domain_pipeline_role_arn(env.aws.account_id, env.prefix, env.name, domain),
            region=env.aws.region, server_id=naming.vault_iam_server_id(address), auth_mount=naming.VAULT_AWS_AUTH_MOUNT,
            ca_file=vault_ca_path(env),
        ),
        clouds=clouds,
        masking_key_path=domain_secret_path(domain, naming.VAULT_DOMAIN_MASKING_KEY),
    )


def standin_settings(env: Environment, vault_url: str, token_path: str, domain: str = DEFAULT_DOMAIN) -> Settings:
    """The stand-ins have no credential engines: the same interface reads their fixed credentials from kv."""
    return Settings(
        domain=domain,
        vault=VaultLogin(url=vault_url, method="token", kv_mount=env.vault.kv_mount,
                         kv_path=naming.vault_domain_kv_path(domain), token_path=token_path),
        clouds={cloud: CloudSource("kv", domain_secret_path(domain, naming.VAULT_DOMAIN_CONNECTIONS, cloud))
                for cloud in ("aws", "gcp", "azure")},
        masking_key_path=domain_secret_path(domain, naming.VAULT_DOMAIN_MASKING_KEY),
    )


def write_settings(client: Any, mount: str, settings: Settings) -> str:
    path = f"{naming.VAULT_AIRFLOW_VARIABLES_PATH}/{settings_variable(settings.domain)}"
    client.secrets.kv.v2.create_or_update_secret(path, secret={"value": settings.to_json()}, mount_point=mount)
    return path


def write_domain_connections(client: Any, mount: str, settings: Settings, conns: dict[str, Conn]) -> list[str]:
    """Stand-ins only: each cloud's fixed credentials at the kv path the settings name."""
    written = []
    for cloud, conn in conns.items():
        path = settings.source(cloud).path
        client.secrets.kv.v2.create_or_update_secret(path, secret=conn.vault_secret(), mount_point=mount)
        written.append(path)
    return written


def ensure_masking_key(client: Any, mount: str, key: bytes | None = None,
                       domain: str = DEFAULT_DOMAIN) -> tuple[str, bool]:
    """Create the masking key unless one exists; its path, and whether this call created it.

    Check-and-set with cas=0 makes "create only" atomic in Vault itself, so two
    operators seeding at once cannot both write a key.
    """
    import hvac.exceptions

    path = domain_secret_path(domain, naming.VAULT_DOMAIN_MASKING_KEY)
    value = (key if key is not None else secrets.token_bytes(MASKING_KEY_BYTES)).hex()
    try:
        client.secrets.kv.v2.create_or_update_secret(path, secret={"value": value}, cas=0, mount_point=mount)
    except hvac.exceptions.InvalidRequest as error:
        if "check-and-set" not in str(error):
            raise
        return path, False
    return path, True
