"""Every cloud resource name the platform derives, in one place.

Names come from ``<prefix>-<env>-...``, never from random suffixes, so a plan is
reproducible and a reader can tell what a resource belongs to. The schema checks
each *derived* name against its cloud's rule (see ``NAME_RULES``) before any
construct is built, and stacks call the same functions, so what was validated is
exactly what gets deployed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

#: The storage zones every data domain gets.
ZONES: tuple[str, ...] = ("raw", "curated", "quarantine")
#: GCS buckets per domain: the curated copy and the analytics exports.
GCS_ZONES: tuple[str, ...] = ("curated", "exports")


@dataclass(frozen=True)
class NameRule:
    """A cloud's naming rule: a regex that the whole name must match, and its wording."""

    pattern: re.Pattern[str]
    text: str

    def problem(self, name: str) -> str | None:
        return None if self.pattern.fullmatch(name) and ".." not in name else self.text


NAME_RULES: dict[str, NameRule] = {
    "s3_bucket": NameRule(
        re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"),
        "S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
        "starting and ending with a letter or digit (no underscores)",
    ),
    "gcs_bucket": NameRule(
        re.compile(r"[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]"),
        "GCS bucket names are 3-63 characters of lowercase letters, digits, '-' and '_', "
        "starting and ending with a letter or digit",
    ),
    "azure_storage_account": NameRule(
        re.compile(r"[a-z0-9]{3,24}"),
        "Azure storage account names are 3-24 lowercase letters and digits only",
    ),
    "azure_container": NameRule(
        re.compile(r"[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]"),
        "Azure container names are 3-63 lowercase letters, digits and single hyphens, "
        "starting and ending with a letter or digit",
    ),
    "gcp_resource": NameRule(
        re.compile(r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"),
        "GCP resource names are 1-63 lowercase letters, digits and '-', starting with a letter "
        "and not ending with '-' (RFC 1035)",
    ),
    "gke_cluster": NameRule(
        re.compile(r"[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?"),
        "GKE cluster names are 1-40 lowercase letters, digits and '-', starting with a letter",
    ),
    "gcp_service_account": NameRule(
        re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]"),
        "GCP service account ids are 6-30 lowercase letters, digits and '-', starting with a letter",
    ),
    "azure_key_vault": NameRule(
        re.compile(r"[a-z](?!.*--)[a-z0-9-]{1,22}[a-z0-9]"),
        "Azure Key Vault names are 3-24 letters, digits and single hyphens, "
        "starting with a letter and ending with a letter or digit",
    ),
}


def _slug(value: str) -> str:
    """Domain and environment names are identifiers; clouds want hyphens."""
    return value.replace("_", "-").lower()


def base(prefix: str, env: str) -> str:
    return f"{_slug(prefix)}-{_slug(env)}"


def s3_bucket(prefix: str, env: str, domain: str, zone: str) -> str:
    return f"{base(prefix, env)}-{_slug(domain)}-{zone}"


def s3_platform_bucket(prefix: str, env: str, purpose: str) -> str:
    """Buckets that belong to the platform rather than a domain (DAGs, access logs)."""
    return f"{base(prefix, env)}-{purpose}"


def gcs_bucket(prefix: str, env: str, domain: str, zone: str) -> str:
    return f"{base(prefix, env)}-{_slug(domain)}-{zone}"


def azure_storage_account(prefix: str, env: str) -> str:
    return re.sub(r"[^a-z0-9]", "", f"{prefix}{env}lake".lower())


def azure_container(domain: str) -> str:
    return _slug(domain)


def stack_name(env: str, component: str) -> str:
    """Stack names are ``<env>-<component>`` so ``cdktf plan 'dev-*'`` selects one environment."""
    return f"{env}-{component}"


# --------------------------------------------------------------------------- Vault
# The Vault stack creates these and the AWS stack configures MWAA's VaultBackend
# with them. Both sides call the same functions instead of a cross-stack
# reference, because the Vault stack already consumes the MWAA role ARN from the
# AWS stack and a reference back would be a dependency cycle.

#: Where Airflow's VaultBackend reads, relative to the platform kv-v2 mount (env.vault.kv_mount).
VAULT_AIRFLOW_CONNECTIONS_PATH = "airflow/connections"
VAULT_AIRFLOW_VARIABLES_PATH = "airflow/variables"
#: Mount paths of the auth methods; the VaultBackend's ``auth_mount_point`` is the AWS one.
VAULT_AWS_AUTH_MOUNT = "aws"
VAULT_KUBERNETES_AUTH_MOUNT = "kubernetes"
#: The Dataproc job's login (callcenter/credentials.py GCP_AUTH_MOUNT says the same; a test keeps them equal).
VAULT_GCP_AUTH_MOUNT = "gcp"


def vault_iam_server_id(vault_address: str) -> str:
    """The ``X-Vault-AWS-IAM-Server-ID`` value (AWS auth replay protection): Vault's host name, as
    Vault's docs suggest. The Vault stack requires it and MWAA's backend signs it, both from here."""
    host = urlsplit(vault_address).hostname
    if not host:
        raise ValueError(f"vault address {vault_address!r} has no host name")
    return host


def vault_airflow_role(env: str) -> str:
    """The Vault AWS-IAM auth role MWAA logs in with (the VaultBackend's ``role_id``)."""
    return f"{_slug(env)}-airflow"


def vault_orchestration_policy(env: str) -> str:
    return f"{_slug(env)}-orchestration"


def vault_domain_policy(env: str, domain: str) -> str:
    return f"{_slug(env)}-domain-{_slug(domain)}"


def vault_domain_role(domain: str) -> str:
    """A domain's role name in each dynamic-credentials engine and in Kubernetes auth."""
    return _slug(domain)


def vault_domain_kv_path(domain: str) -> str:
    """A domain's subtree of the platform kv mount."""
    return f"domains/{_slug(domain)}"


def vault_domain_login_role(env: str, domain: str) -> str:
    """The Vault AWS-auth role a domain's tasks log in with (bound to the domain's pipeline IAM role)."""
    return f"{_slug(env)}-{_slug(domain)}-pipeline"


#: Inside a domain's kv subtree: its masking key, and (stand-ins only) its static connections per cloud.
VAULT_DOMAIN_MASKING_KEY = "masking_key"
VAULT_DOMAIN_CONNECTIONS = "connections"


def domain_pipeline_role(prefix: str, env: str, domain: str) -> str:
    """A domain's pipeline IAM role (no permissions; its identity for Vault logins): ``<prefix>-<env>-<domain>-pipeline``."""
    return aws_resource(prefix, env, domain, "pipeline")


def domain_pipeline_role_arn(account_id: str, prefix: str, env: str, domain: str) -> str:
    """Its ARN (IAM's documented format, path ``/``): the MWAA role's grant and the seed name it as a literal,
    because a reference would make the role's trust and the MWAA role's grant refer to each other (a cycle)."""
    return f"arn:aws:iam::{account_id}:role/{domain_pipeline_role(prefix, env, domain)}"


def gke_domain_namespace(domain: str) -> str:
    """The GKE namespace a domain's workloads run in."""
    return _slug(domain)


def gke_domain_service_account(domain: str) -> str:
    """The Kubernetes service account a domain's workloads run as (bound in Vault's Kubernetes auth)."""
    return f"{_slug(domain)}-workload"


# --------------------------------------------------------------------------- AWS platform names


def aws_resource(prefix: str, env: str, *parts: str) -> str:
    """Platform-level AWS names (VPCs, roles, log groups, topics): ``<prefix>-<env>-<part>-...``."""
    return "-".join([base(prefix, env), *(_slug(p) for p in parts)])


def glue_database(prefix: str, env: str, domain: str) -> str:
    """Glue/Athena database names take underscores, not hyphens."""
    return f"{prefix}_{env}_{domain}".lower()


def glue_crawler(prefix: str, env: str, domain: str) -> str:
    return aws_resource(prefix, env, domain, "curated")


def mwaa_environment(prefix: str, env: str) -> str:
    return aws_resource(prefix, env, "airflow")


def emr_spark_application(prefix: str, env: str) -> str:
    """The environment's EMR Serverless application (Spark): ``<prefix>-<env>-spark``."""
    return aws_resource(prefix, env, "spark")


def spark_job_role(prefix: str, env: str, domain: str) -> str:
    """A domain's EMR Serverless job execution role: ``<prefix>-<env>-<domain>-spark-job``."""
    return aws_resource(prefix, env, domain, "spark-job")


def airflow_spark_variable(domain: str) -> str:
    """The Airflow Variable (Vault kv under airflow/variables) that tells a domain's DAGs where Spark runs and
    when: ``<domain>_spark`` (airflow/dags/callcenter/engine_choice.py reads SPARK_VARIABLE, call_analytics_spark)."""
    return f"{domain}_spark"


# --------------------------------------------------------------------------- GCP and Azure platform names

#: The GCS bucket every lake bucket writes its usage (access) logs to.
GCS_ACCESS_LOGS_PURPOSE = "access-logs"


def gcp_resource(prefix: str, env: str, *parts: str) -> str:
    """VPCs, subnets, routers, firewall rules, key rings, the NCC hub: ``<prefix>-<env>-<part>-...``."""
    return "-".join([base(prefix, env), *(_slug(p) for p in parts)])


def gcs_platform_bucket(prefix: str, env: str, purpose: str) -> str:
    """GCS buckets that belong to the platform rather than a domain (the access-log sink)."""
    return f"{base(prefix, env)}-{purpose}"


def gke_cluster(prefix: str, env: str) -> str:
    return f"{base(prefix, env)}-gke"


def _compact(prefix: str, env: str) -> str:
    """``<prefix><env>`` without separators, as in the storage account name: for names with tight limits.

    Anything that fits the storage account's 24 characters then also fits these.
    """
    return re.sub(r"[^a-z0-9]", "", f"{prefix}{env}".lower())


def gcp_service_account_id(prefix: str, env: str, purpose: str) -> str:
    """At most 30 characters: ``<prefix><env>-<purpose>``."""
    return f"{_compact(prefix, env)}-{purpose}"


def gcp_domain_pipeline_account(prefix: str, env: str, domain: str) -> str:
    """A domain's pipeline service account id (Vault's GCP engine impersonates it): ``<prefix><env>-<domain>``."""
    account_id = gcp_service_account_id(prefix, env, _slug(domain))
    if len(account_id) > 30:
        raise ValueError(f"GCP service account id {account_id!r} is longer than 30 characters (IAM's limit)")
    return account_id


def gcp_spark_account(prefix: str, env: str, domain: str) -> str:
    """A domain's Dataproc Serverless batch identity: ``<prefix><env>-spark-<6 hex of the domain>``.

    Hashed, not spelled: ``ccsstaging-agent-performance-spark`` would pass IAM's 30 characters;
    the account's display name carries the domain."""
    return gcp_service_account_id(prefix, env, f"spark-{hashlib.sha256(domain.encode()).hexdigest()[:6]}")


def gcp_spark_repository(prefix: str, env: str) -> str:
    """The Artifact Registry repository of the Spark job's Dataproc image: ``<prefix>-<env>-spark`` (the ECR
    repository's name too; repository ids are lowercase letters, digits and hyphens, starting with a letter)."""
    return gcp_resource(prefix, env, "spark")


#: A domain's Dataproc Serverless staging bucket is ``gcs_bucket(..., domain, GCS_SPARK_STAGING)``.
GCS_SPARK_STAGING = "spark-staging"


#: Suffixes of the per-VPC names (Cloud NAT, the firewall rules); the schema checks the longest names.
GCP_NAT_SUFFIX = "nat"
GCP_DENY_ALL_RULE = "deny-all-ingress"
GCP_GKE_CONTROL_PLANE_RULE = "allow-gke-control-plane"
GCP_FIREWALL_RULES = (GCP_DENY_ALL_RULE, GCP_GKE_CONTROL_PLANE_RULE)


#: What the GKE node service account is for; part of its derived id.
GKE_NODES_SA_PURPOSE = "gke"


def azure_resource(prefix: str, env: str, *parts: str) -> str:
    """Resource groups, VNets, NSGs, endpoints, workspaces: ``<prefix>-<env>-<part>-...``."""
    return "-".join([base(prefix, env), *(_slug(p) for p in parts)])


def azure_key_vault(prefix: str, env: str) -> str:
    """Key Vault names are global and at most 24 characters: ``<prefix><env>-kv``."""
    return f"{_compact(prefix, env)}-kv"
