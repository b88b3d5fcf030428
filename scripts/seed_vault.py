"""Write what the call-center DAGs read from Vault into a deployed environment, for
every active domain of the environment file.

    make vault-seed ENV=dev

After `make deploy ENV=<env>` the kv mount, the policies and MWAA's login exist,
but the DAGs also need their connections, the store layout and the masking key
(paths: scripts/airflow_secrets.py, README "Connections and secrets come from
Vault"). This writes them:

Per domain (D):

- Airflow's AWS connection D_aws: region only, no keys (the crawler hook uses the
  execution role, which holds no data access);
- the layout variable: bucket, container and crawler names from the same
  naming functions the stacks use;
- the domain's credential settings (callcenter.credentials): which Vault role
  its tasks log in as and which engine path serves each cloud. No GCP or Azure
  secret is written at all: tasks get OAuth tokens and service principals from
  Vault's engines, per task, as the domain;
- the masking key, in the domain's kv subtree: 32 random bytes, created once and
  never replaced (a key an earlier seed kept under airflow/variables moves there
  unchanged). Static GCP/Azure connections and the old key location are
  reported as unused, never rewritten or deleted.

Vault: VAULT_ADDR (default: the environment file's vault.address) and
VAULT_TOKEN or VAULT_TOKEN_FILE, an operator token allowed to write the kv
mount. Secrets are read from files, never from the command line, and no value
is printed: only the paths written.

Exit status: 0 done, 2 bad input (one line naming what and why).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from environments import naming  # noqa: E402
from environments.schema import ConfigError, Environment, load_environment  # noqa: E402
from scripts import airflow_secrets  # noqa: E402  (path set up above; it puts airflow/dags on sys.path)
from scripts.airflow_secrets import Conn, Names  # noqa: E402


def legacy_masking_key(domain: str) -> str:
    """Where earlier seeds kept a domain's key, readable by Airflow's own login (moved, never rewritten)."""
    return f"{naming.VAULT_AIRFLOW_VARIABLES_PATH}/{Names(domain).masking_key_variable}"


def legacy_static(domain: str) -> tuple[str, ...]:
    """Static connections and key locations earlier seeds wrote (reported, never rewritten or deleted)."""
    names = Names(domain)
    return tuple(f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/{names.conn_id(c)}" for c in ("gcp", "azure")) + (
        legacy_masking_key(domain),)


class SeedError(Exception):
    """Bad input: reported as one line, exit status 2."""


def _read_file(variable: str) -> str:
    path = Path(os.environ[variable])
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise SeedError(f"{variable}={path}: cannot be read ({error.strerror})") from None
    if not text:
        raise SeedError(f"{variable}={path}: the file is empty")
    return text


def vault_client(env: Environment) -> Any:
    import hvac

    url = os.environ.get("VAULT_ADDR") or str(env.vault.address)
    if os.environ.get("VAULT_TOKEN"):
        token = os.environ["VAULT_TOKEN"]
    elif os.environ.get("VAULT_TOKEN_FILE"):
        token = _read_file("VAULT_TOKEN_FILE")
    else:
        raise SeedError("VAULT_TOKEN or VAULT_TOKEN_FILE must be set: an operator token that may write "
                        f"the '{env.vault.kv_mount}' kv mount")
    client = hvac.Client(url=url, token=token)
    try:
        authenticated = client.is_authenticated()
    except Exception as error:  # connection refused, TLS, DNS: all one line for the operator
        raise SeedError(f"VAULT_ADDR={url}: cannot reach Vault ({type(error).__name__})") from None
    if not authenticated:
        raise SeedError(f"VAULT_ADDR={url}: the token was refused")
    return client


def _exists(client: Any, mount: str, path: str) -> bool:
    import hvac.exceptions

    try:
        client.secrets.kv.v2.read_secret_version(path, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        return False
    return True


def _legacy_key(client: Any, mount: str, domain: str) -> bytes | None:
    """The masking key an earlier seed kept under airflow/variables (readable by every DAG), if any."""
    import hvac.exceptions

    try:
        secret = client.secrets.kv.v2.read_secret_version(legacy_masking_key(domain), mount_point=mount,
                                                          raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        return None
    return bytes.fromhex(secret["data"]["data"]["value"].strip())


def seed(env: Environment) -> list[str]:
    """Write everything, domain by domain; returns one line per item for the operator."""
    client = vault_client(env)
    lines = []
    for domain in airflow_secrets.seeded_domains(env):
        lines.append(f"domain {domain}:")
        lines += seed_domain(client, env, domain)
    return lines


def seed_domain(client: Any, env: Environment, domain: str) -> list[str]:
    mount = env.vault.kv_mount
    names = Names(domain)
    lines = []
    # Airflow's own AWS connection (the Glue crawler hook): region only, the execution role's identity, no data access.
    conns = {names.conn_id("aws"): Conn("aws", extra={"region_name": env.aws.region})}
    for path in airflow_secrets.write_connections(client, mount, conns):
        lines.append(f"wrote    {mount}/{path} (execution role)")
    layout = airflow_secrets.layout_for(env, domain)
    lines.append(f"wrote    {mount}/{airflow_secrets.write_layout(client, mount, layout, domain)}")
    if not env.spark.enabled:  # with Spark on, the Spark stack's outputs (application id, roles) fill it
        spark = airflow_secrets.write_spark_settings(client, mount, airflow_secrets.spark_settings_for(env), domain)
        lines.append(f"wrote    {mount}/{spark} (no Spark here: every run stays in the worker)")
    settings = airflow_secrets.deployed_settings(env, domain)
    lines.append(f"wrote    {mount}/{airflow_secrets.write_settings(client, mount, settings)} "
                 f"(log in as {settings.vault.role}; {', '.join(sorted(settings.clouds))} from Vault's engines)")
    # An existing key moves into the domain's subtree unchanged: every pseudonym in the lake was made with it.
    key_path, created = airflow_secrets.ensure_masking_key(client, mount, _legacy_key(client, mount, domain),
                                                           domain)
    lines.append(f"{'created' if created else 'kept':8s} {mount}/{key_path} (masking key, never replaced)")
    for path in legacy_static(domain):
        if _exists(client, mount, path):
            lines.append(f"unused   {mount}/{path} (static, no longer read: delete it once the DAGs run on "
                         "dynamic credentials)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment name: environments/<env>.yaml")
    parser.add_argument("--environments", type=Path, default=REPO / "environments",
                        help="folder of environment files (default: environments/)")
    args = parser.parse_args(argv)
    path = args.environments / f"{args.env}.yaml"
    try:
        if not path.is_file():
            raise SeedError(f"{path}: no such environment file")
        env = load_environment(path)
        for line in seed(env):
            print(line)
    except (SeedError, ConfigError) as error:
        print(f"vault-seed: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
