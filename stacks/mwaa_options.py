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
from pathlib import Path
from urllib.parse import urlsplit

from environments import naming
from environments.schema import Environment

#: The provider's VaultBackend, subclassed in airflow/plugins/regional_sts_vault.py (shipped in plugins.zip,
#: on MWAA's sys.path): the stock aws_iam login cannot send the replay-protection header and signs for the
#: global STS host, which only us-east-1 satisfies (hvac/aws_utils.py).
VAULT_BACKEND = "regional_sts_vault.RegionalStsVaultBackend"
#: vault.ca_file's name inside plugins.zip, and where MWAA extracts it: plugins.zip is unpacked to
#: /usr/local/airflow/plugins/ on every container (MWAA user guide, "Installing custom plugins").
VAULT_CA_NAME = "vault-ca.pem"
MWAA_PLUGINS_PATH = "/usr/local/airflow/plugins"


def vault_ca_path(env: Environment) -> str | None:
    """Where Vault's CA sits on MWAA's containers, for every Vault client there (the secrets backend and
    the domains' task logins); None when Vault's certificate chains to a public CA."""
    return f"{MWAA_PLUGINS_PATH}/{VAULT_CA_NAME}" if env.vault.ca_file else None


def vault_backend_kwargs(env: Environment) -> dict:
    return {
        "url": env.vault.address,
        "auth_type": "aws_iam",
        "auth_mount_point": naming.VAULT_AWS_AUTH_MOUNT,
        "role_id": naming.vault_airflow_role(env.name),
        # Signed for sts.<region>.amazonaws.com with this region and header: what the Vault stack's
        # aws auth client (sts_endpoint, sts_region, iam_server_id_header_value) expects.
        "region": env.aws.region,
        "iam_server_id_header": naming.vault_iam_server_id(env.vault.address),
        "mount_point": env.vault.kv_mount,
        "kv_engine_version": 2,
        "connections_path": naming.VAULT_AIRFLOW_CONNECTIONS_PATH,
        "variables_path": naming.VAULT_AIRFLOW_VARIABLES_PATH,
        # hvac's Client(verify=...) is passed to requests: a CA path pins trust to Vault's own CA
        # (providers/hashicorp/_internal_client/vault_client.py, "verify").
        **({"verify": vault_ca_path(env)} if env.vault.ca_file else {}),
    }


def plugins_extra(env: Environment, repo_dir: Path) -> tuple[tuple[str, Path], ...]:
    """Files added to plugins.zip for this environment: Vault's CA, under the name ``verify`` points at."""
    return ((VAULT_CA_NAME, repo_dir / env.vault.ca_file),) if env.vault.ca_file else ()


#: The DAGs' failure alerts read the topic from this custom option, which MWAA writes to every container
#: as AIRFLOW__CALLCENTER__ALERTS_TOPIC_ARN (airflow/dags/callcenter/alerts.py TOPIC_ENV).
ALERTS_TOPIC_OPTION = "callcenter.alerts_topic_arn"


#: The domains this environment runs, read by the DAG files (as AIRFLOW__CALLCENTER__DOMAINS, through
#: airflow/dags/callcenter/domain.py configured()): a DAG exists only for a domain named here that has a contract.
DOMAINS_OPTION = "callcenter.domains"
#: MWAA's CreateEnvironment rules for AirflowConfigurationOptions (botocore data/mwaa/2020-07-01 service-2.json,
#: shapes ConfigKey and ConfigValue): a key matches [a-z]+([a-z0-9._]*[a-z0-9_]+)? in 1-64 characters, a value is
#: 1-65536 printable ASCII characters ([ -~]+). tests/stacks/test_mwaa_domains_option.py holds every option to them.
MWAA_KEY_PATTERN, MWAA_KEY_MAX = r"[a-z]+([a-z0-9._]*[a-z0-9_]+)?", 64
MWAA_VALUE_PATTERN, MWAA_VALUE_MAX = r"[ -~]+", 65536


def domains_option(env: Environment) -> str:
    """Compact JSON of the ACTIVE domains -> owner and classification (a retired domain runs nothing).
    ASCII by construction (ensure_ascii; names and owners are identifiers/slugs); about 80 characters a domain."""
    domains = {d.name: {"owner": d.owner, "classification": d.classification} for d in env.active_domains}
    return json.dumps(domains, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def airflow_configuration_options(env: Environment, alerts_topic_arn: str | None = None) -> dict[str, str]:
    """``airflow_configuration_options`` for the MWAA environment (MWAA wants string values)."""
    return {
        "secrets.backend": VAULT_BACKEND,
        "secrets.backend_kwargs": json.dumps(vault_backend_kwargs(env), sort_keys=True, separators=(",", ":")),
        DOMAINS_OPTION: domains_option(env),
        **({ALERTS_TOPIC_OPTION: alerts_topic_arn} if alerts_topic_arn else {}),
    }


def vault_port(env: Environment) -> int:
    """The TCP port MWAA's workers need open to reach Vault."""
    parts = urlsplit(env.vault.address)
    return parts.port or (443 if parts.scheme == "https" else 80)
