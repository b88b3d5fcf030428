"""Write what the call-center DAGs read from Vault into a deployed environment.

    make vault-seed ENV=dev

After `make deploy ENV=<env>` the kv mount, the policies and MWAA's login exist,
but the DAGs also need their connections, the store layout and the masking key
(paths: scripts/airflow_secrets.py, README "Connections and secrets come from
Vault"). This writes them:

- the AWS connection: region only, no keys (MWAA uses its execution role);
- the layout variable: bucket, container and crawler names from the same
  naming functions the stacks use;
- the masking key: 32 random bytes, created once and never replaced;
- the GCP connection: the service-account key in GCP_CREDENTIALS_FILE, or
  Application Default Credentials when that is not set;
- the Azure connection: Entra ID (the lake account disables shared keys), the
  tenant from the environment file, AZURE_CLIENT_ID and the secret in
  AZURE_CLIENT_SECRET_FILE. Without them an existing connection is left alone;
  a missing one is an error.

Vault: VAULT_ADDR (default: the environment file's vault.address) and
VAULT_TOKEN or VAULT_TOKEN_FILE, an operator token allowed to write the kv
mount. Secrets are read from files, never from the command line, and no value
is printed: only the paths written.

Exit status: 0 done, 2 bad input (one line naming what and why).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from scripts import airflow_secrets  # noqa: E402  (path set up above)
from scripts.airflow_secrets import Conn  # noqa: E402

from callcenter.layout import AWS_CONN_ID, AZURE_CONN_ID, GCP_CONN_ID  # noqa: E402
from environments import naming  # noqa: E402
from environments.schema import ConfigError, Environment, load_environment  # noqa: E402


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


def gcp_connection(env: Environment) -> tuple[Conn, str]:
    extra: dict[str, Any] = {"project": env.gcp.project_id}
    if not os.environ.get("GCP_CREDENTIALS_FILE"):
        return Conn("google_cloud_platform", extra=extra), "Application Default Credentials"
    text = _read_file("GCP_CREDENTIALS_FILE")
    try:
        info = json.loads(text)
    except ValueError:
        raise SeedError(f"GCP_CREDENTIALS_FILE={os.environ['GCP_CREDENTIALS_FILE']}: not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SeedError(f"GCP_CREDENTIALS_FILE={os.environ['GCP_CREDENTIALS_FILE']}: field 'type' must be "
                        "'service_account' (a service-account key file)")
    extra["keyfile_dict"] = text
    return Conn("google_cloud_platform", extra=extra), "service-account key"


def azure_connection(env: Environment) -> Conn | None:
    """The Entra ID connection, or None when no client credentials were given."""
    given = {name: os.environ.get(name) for name in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET_FILE")}
    if not any(given.values()):
        return None
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise SeedError(f"{', '.join(missing)} must be set too: the Azure connection needs a client id and "
                        "its secret")
    account = naming.azure_storage_account(env.prefix, env.name)
    return Conn("wasb", login=given["AZURE_CLIENT_ID"], password=_read_file("AZURE_CLIENT_SECRET_FILE"),
                host=f"https://{account}.blob.core.windows.net", extra={"tenant_id": str(env.azure.tenant_id)})


def _exists(client: Any, mount: str, path: str) -> bool:
    import hvac.exceptions

    try:
        client.secrets.kv.v2.read_secret_version(path, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.InvalidPath:
        return False
    return True


def seed(env: Environment) -> list[str]:
    """Write everything; returns one line per item for the operator."""
    mount = env.vault.kv_mount
    gcp, gcp_auth = gcp_connection(env)
    azure = azure_connection(env)
    client = vault_client(env)
    conns = {AWS_CONN_ID: Conn("aws", extra={"region_name": env.aws.region}), GCP_CONN_ID: gcp}
    azure_path = f"{naming.VAULT_AIRFLOW_CONNECTIONS_PATH}/{AZURE_CONN_ID}"
    if azure is not None:
        conns[AZURE_CONN_ID] = azure
    elif not _exists(client, mount, azure_path):
        raise SeedError(f"{mount}/{azure_path} does not exist yet: set AZURE_CLIENT_ID and "
                        "AZURE_CLIENT_SECRET_FILE to write it")
    lines = []
    how = {AWS_CONN_ID: "execution role", GCP_CONN_ID: gcp_auth, AZURE_CONN_ID: "Entra ID"}
    for path in airflow_secrets.write_connections(client, mount, conns):
        lines.append(f"wrote    {mount}/{path} ({how[path.rsplit('/', 1)[1]]})")
    if azure is None:
        lines.append(f"kept     {mount}/{azure_path} (no AZURE_CLIENT_ID given)")
    lines.append(f"wrote    {mount}/{airflow_secrets.write_layout(client, mount, airflow_secrets.layout_for(env))}")
    key_path, created = airflow_secrets.ensure_masking_key(client, mount)
    lines.append(f"{'created' if created else 'kept':8s} {mount}/{key_path} (masking key, never replaced)")
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
