"""MWAA's Airflow configuration overrides for one environment, from config and naming only.

Airflow reads connections and variables from Vault (``VaultBackend``), logging in
with AWS IAM as the MWAA execution role. Every value here comes from the
environment file and environments/naming.py, never from a reference to the Vault
stack: that stack already references the MWAA role, and a reference back would
be a dependency cycle. The Vault stack creates the same names from the same
functions, so both sides agree by construction.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from environments import naming
from environments.schema import Environment

VAULT_BACKEND = "airflow.providers.hashicorp.secrets.vault.VaultBackend"


def vault_backend_kwargs(env: Environment) -> dict:
    return {
        "url": env.vault.address,
        "auth_type": "aws_iam",
        "auth_mount_point": naming.VAULT_AWS_AUTH_MOUNT,
        "role_id": naming.vault_airflow_role(env.name),
        "region": env.aws.region,
        "mount_point": env.vault.kv_mount,
        "kv_engine_version": 2,
        "connections_path": naming.VAULT_AIRFLOW_CONNECTIONS_PATH,
        "variables_path": naming.VAULT_AIRFLOW_VARIABLES_PATH,
    }


def airflow_configuration_options(env: Environment) -> dict[str, str]:
    """``airflow_configuration_options`` for the MWAA environment (MWAA wants string values)."""
    return {
        "secrets.backend": VAULT_BACKEND,
        "secrets.backend_kwargs": json.dumps(vault_backend_kwargs(env), sort_keys=True, separators=(",", ":")),
    }


def vault_port(env: Environment) -> int:
    """The TCP port MWAA's workers need open to reach Vault."""
    parts = urlsplit(env.vault.address)
    return parts.port or (443 if parts.scheme == "https" else 80)
