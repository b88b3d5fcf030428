"""The <env>-vault stack: secrets engines, auth methods, policies and audit for one environment.

Everything another stack owns (the MWAA execution role, buckets, keys, crawlers,
the GKE endpoint, containers) arrives as a cross-stack reference through
:class:`VaultInputs`; names are never re-derived here. Only the Vault-side names
(roles, policies, paths) come from ``environments.naming``, which the AWS stack
also uses to point MWAA's VaultBackend at them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cdktf import TerraformOutput, TerraformVariable
from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.vault.audit_device import AuditDevice
from modules.vault.aws_iam_auth import (
    AwsIamAuth,
    AwsIamAuthProps,
    AwsIamAuthRoleProps,
    VaultAwsIdentity,
    identity_policy,
)
from modules.vault.aws_secrets_engine import (
    AwsDomainResources,
    AwsSecretsEngine,
    AwsSecretsEngineProps,
    AwsSecretsRoleProps,
)
from modules.vault.azure_secrets_engine import AzureSecretsEngine, AzureSecretsEngineProps, AzureSecretsRoleProps
from modules.vault.gcp_iam_auth import GcpIamAuth, GcpIamAuthProps, GcpIamAuthRoleProps
from modules.vault.gcp_secrets_engine import (
    CLOUD_PLATFORM_SCOPE,
    STORAGE_SCOPE,
    GcpImpersonatedAccountProps,
    GcpSecretsEngine,
    GcpSecretsEngineProps,
)
from modules.vault.kubernetes_auth import KubernetesAuth, KubernetesAuthProps, KubernetesAuthRoleProps
from modules.vault.kv_mount import KvMount, KvMountProps
from modules.vault.lease import LeaseTtl
from modules.vault.policy import PathRule, Policy, PolicyProps
from stacks import providers
from stacks.base import PlatformStack

if TYPE_CHECKING:  # annotations only: the cloud stacks are built by stacks/app.py, never here
    from stacks.aws import AwsPlatformStack
    from stacks.azure import AzurePlatformStack
    from stacks.gcp import GcpPlatformStack


@dataclass(frozen=True)
class DomainTargets:
    """One domain's resources on each cloud; a cloud the environment leaves out is empty/None."""

    aws: AwsDomainResources
    #: The domain's pipeline IAM role: its identity when a task logs in to Vault (aws auth).
    pipeline_role_arn: str
    #: The domain's pipeline service account that the GCP engine impersonates.
    gcp_service_account: str | None = None
    azure_container_ids: tuple[str, ...] = ()
    #: The domain's EMR Serverless job role: a Spark job logs in to Vault as its domain with it (README, "Spark").
    spark_job_role_arn: str | None = None
    #: The domain's Dataproc batch account, where customer_360 runs on Dataproc: it logs in with Vault's GCP auth.
    dataproc_service_account: str | None = None


@dataclass(frozen=True)
class GkeEndpoint:
    host: str
    #: None: the host (GKE's DNS-based endpoint) has a publicly trusted certificate.
    ca_cert_pem: str | None = None


@dataclass(frozen=True)
class VaultInputs:
    mwaa_role_arn: str
    gke: GkeEndpoint | None
    domains: dict[str, DomainTargets] = field(default_factory=dict)
    #: Airflow Variable name -> its JSON value: where a domain's Spark runs (empty: Spark is off).
    spark_variables: dict[str, str] = field(default_factory=dict)


def spark_variable(env: Environment, domain: str, aws: AwsPlatformStack, gcp: GcpPlatformStack | None) -> str:
    """A domain's ``<domain>_spark`` Variable (engine_choice.SparkSettings reads it): thresholds from the
    environment file, the EMR application and job role, the Dataproc batch settings. No secret: the
    masking key stays in the domain's kv subtree, read by the job with its own Vault login."""
    t = env.spark.thresholds
    aws_part = {
        "application_id": aws.spark_application_id,
        "execution_role_arn": aws.spark_job_role_arns[domain],
        "code_uri": aws.spark_code_uri,
        "log_uri": aws.spark_log_uris[domain],
    }
    gcp_part = None
    if gcp is not None and gcp.spark is not None:
        gcp_part = {
            "project": env.gcp.project_id, "region": env.gcp.region,
            "service_account": gcp.spark_service_accounts[domain], "subnetwork": gcp.spark_subnetwork,
            "staging_bucket": gcp.spark_staging_buckets[domain], "container_image": gcp.spark_container_image,
            "kms_key": gcp.spark_kms_key,
        }
    return json.dumps({
        # customer_360's Spark: "dataproc" only where the GCP side exists (the schema refuses it otherwise).
        "engine": env.spark.gcp.engine_for_customer_360 if gcp_part else "emr",
        "thresholds": {"max_worker_bytes": t.max_worker_bytes, "max_worker_days": t.max_worker_days},
        "aws": aws_part, "gcp": gcp_part,
        # customer_360 reads Azure and writes GCS: on Spark only if the job's network reaches them.
        "cross_cloud": aws.spark_cross_cloud,
    })


def domain_rules(kv: KvMount, domain: str, credential_paths: list[str]) -> tuple[PathRule, ...]:
    """A domain's policy: its kv subtree and its own dynamic credentials, nothing else."""
    subtree = naming.vault_domain_kv_path(domain)
    return (
        PathRule(kv.data_path(subtree), ("read",)),
        PathRule(kv.metadata_path(subtree), ("read", "list")),
        *(PathRule(path, ("read",)) for path in credential_paths),
    )


def _login_principals(targets: DomainTargets) -> tuple[str, ...]:
    """Who may log in as the domain: its pipeline role (tasks in MWAA) and its Spark job role, if any."""
    return (targets.pipeline_role_arn, *((targets.spark_job_role_arn,) if targets.spark_job_role_arn else ()))


def orchestration_rules(kv: KvMount) -> tuple[PathRule, ...]:
    """Airflow's VaultBackend reads connections and variables, and nothing of any domain."""
    return tuple(
        PathRule(kv.data_path(path), ("read",))
        for path in (naming.VAULT_AIRFLOW_CONNECTIONS_PATH, naming.VAULT_AIRFLOW_VARIABLES_PATH)
    )


class VaultStack(PlatformStack):
    """``aws``/``gcp``/``azure`` are the stacks whose attributes the Vault stack references (None: cloud left out)."""

    def __init__(
        self,
        scope: Construct,
        env: Environment,
        *,
        aws: AwsPlatformStack,
        gcp: GcpPlatformStack | None = None,
        azure: AzurePlatformStack | None = None,
    ):
        super().__init__(scope, env, "vault")
        providers.vault(self)
        inputs = self._inputs_from(env, aws, gcp, azure)
        lease = LeaseTtl(env.vault.default_lease_ttl_seconds, env.vault.max_lease_ttl_seconds)
        self.kv = KvMount(self, "kv", KvMountProps(path=env.vault.kv_mount, description=f"{env.name} platform secrets"))
        self.audit = AuditDevice(self, "audit")

        self.aws_engine = AwsSecretsEngine(
            self, "aws-engine",
            AwsSecretsEngineProps(
                path=env.vault.aws_mount, region=env.aws.region, lease=lease,
                access_key=self._secret_input("vault_aws_engine_access_key", "AWS access key id of the engine's IAM user"),
                secret_key=self._secret_input("vault_aws_engine_secret_key", "AWS secret access key of the engine's IAM user"),
            ),
        )
        self.gcp_engine = None
        if env.gcp.terraform.enabled:
            self.gcp_engine = GcpSecretsEngine(
                self, "gcp-engine",
                GcpSecretsEngineProps(
                    path=env.vault.gcp_mount, lease=lease,
                    credentials=self._secret_input("vault_gcp_engine_credentials", "service-account key JSON of the engine"),
                ),
            )
        self.azure_engine = None
        if env.azure.terraform.enabled:
            self.azure_engine = AzureSecretsEngine(
                self, "azure-engine",
                AzureSecretsEngineProps(
                    path=env.vault.azure_mount, lease=lease,
                    subscription_id=env.azure.subscription_id, tenant_id=env.azure.tenant_id,
                    client_id=self._secret_input("vault_azure_engine_client_id", "client id of the engine's app registration"),
                    client_secret=self._secret_input("vault_azure_engine_client_secret", "client secret of the engine's app registration"),
                ),
            )

        # Everything here is a grant, so a retired domain (schema Domain.retired) gets none of it.
        self.domain_policies: dict[str, Policy] = {}
        for domain in env.active_domains:
            self.domain_policies[domain.name] = self._domain(env, domain.name, inputs.domains[domain.name])

        self.orchestration_policy = Policy(
            self, "orchestration-policy",
            PolicyProps(name=naming.vault_orchestration_policy(env.name), rules=orchestration_rules(self.kv)),
        )

        # Logins are forwarded to the region's own STS endpoint with a required server-id header; MWAA's
        # backend (stacks/mwaa_options.py) signs for the same region, host and header, from the same inputs.
        self.aws_auth = AwsIamAuth(
            self, "aws-auth",
            AwsIamAuthProps(
                path=naming.VAULT_AWS_AUTH_MOUNT, lease=lease, sts_region=env.aws.region,
                server_id_header=naming.vault_iam_server_id(env.vault.address),
                identity=VaultAwsIdentity(ident.role_arn, ident.audience) if (ident := env.vault.aws_identity) else None,
            ),
        )
        #: The role MWAA's VaultBackend logs in with (its role_id); the AWS stack uses the same naming function.
        self.airflow_role = naming.vault_airflow_role(env.name)
        self.aws_auth.add_role(
            "airflow",
            AwsIamAuthRoleProps(
                name=self.airflow_role, principal_arns=(inputs.mwaa_role_arn,), policies=(self.orchestration_policy.name,)
            ),
        )
        # A task logs in as its domain: the domain's pipeline role (assumed by the MWAA role) gets the domain's
        # policy and nothing else, so the orchestration login never holds a domain secret.
        for domain in env.active_domains:
            self.aws_auth.add_role(
                f"pipeline-{domain.name}",
                AwsIamAuthRoleProps(
                    name=naming.vault_domain_login_role(env.name, domain.name),
                    principal_arns=_login_principals(inputs.domains[domain.name]),
                    policies=(self.domain_policies[domain.name].name,),
                ),
            )
        bound = (inputs.mwaa_role_arn, *(arn for d in env.active_domains for arn in _login_principals(inputs.domains[d.name])))
        # A Dataproc batch logs in as its domain with its own service account (JWT signed by IAM Credentials);
        # the role has the same name as the domain's AWS login role (credentials.portable relies on it).
        self.gcp_auth = None
        dataproc = {d.name: a for d in env.active_domains if (a := inputs.domains[d.name].dataproc_service_account)}
        if dataproc:
            self.gcp_auth = GcpIamAuth(self, "gcp-auth", GcpIamAuthProps(path=naming.VAULT_GCP_AUTH_MOUNT, lease=lease))
            for domain, account in dataproc.items():
                self.gcp_auth.add_role(f"dataproc-{domain}", GcpIamAuthRoleProps(
                    name=naming.vault_domain_login_role(env.name, domain), service_accounts=(account,),
                    policies=(self.domain_policies[domain].name,)))
        # The Spark Variables are outputs, not kv secrets: this stack writes no kv data (nothing of a secret's
        # kind in its state), and the EMR application id exists only once AWS has created it. After apply the
        # operator copies each into airflow/variables/<name> (README, "Spark"), as the seed does the layout.
        for name, value in inputs.spark_variables.items():
            TerraformOutput(
                self, f"variable-{name}", value=value,
                description=f"JSON of the Airflow Variable {name}: vault kv put {env.vault.kv_mount}/"
                f"{naming.VAULT_AIRFLOW_VARIABLES_PATH}/{name} value=-",
            )
        # What Vault's own AWS identity must be allowed (resolve_aws_unique_ids), for the operator to attach.
        TerraformOutput(
            self, "vault-aws-identity-policy", value=identity_policy(bound),
            description="IAM policy for Vault's AWS identity: iam:GetRole on the roles the aws auth mount binds",
        )

        self.kubernetes_auth = None
        if inputs.gke is not None:
            self.kubernetes_auth = KubernetesAuth(
                self, "gke-auth",
                KubernetesAuthProps(
                    path=naming.VAULT_KUBERNETES_AUTH_MOUNT, host=inputs.gke.host, ca_cert=inputs.gke.ca_cert_pem,
                    lease=lease,
                ),
            )
            for domain in env.active_domains:
                self.kubernetes_auth.add_role(
                    f"role-{domain.name}",
                    KubernetesAuthRoleProps(
                        name=naming.vault_domain_role(domain.name),
                        service_accounts=(naming.gke_domain_service_account(domain.name),),
                        namespaces=(naming.gke_domain_namespace(domain.name),),
                        policies=(self.domain_policies[domain.name].name,),
                    ),
                )

    def _domain(self, env: Environment, domain: str, targets: DomainTargets) -> Policy:
        """A domain's role in every engine the environment has, and the one policy that reads them."""
        role = naming.vault_domain_role(domain)
        paths = [self.aws_engine.add_role(f"aws-{domain}", AwsSecretsRoleProps(name=role, resources=targets.aws))]
        if self.gcp_engine is not None and targets.gcp_service_account is not None:
            paths.append(
                self.gcp_engine.add_impersonated_account(
                    f"gcp-{domain}", GcpImpersonatedAccountProps(
                        name=role, service_account_email=targets.gcp_service_account,
                        # The DAG submits Dataproc batches with this token (cloud-platform is that API's only scope).
                        scopes=(STORAGE_SCOPE, CLOUD_PLATFORM_SCOPE) if targets.dataproc_service_account else (STORAGE_SCOPE,))
                )
            )
        if self.azure_engine is not None:
            paths.append(
                self.azure_engine.add_role(
                    f"azure-{domain}", AzureSecretsRoleProps(name=role, container_ids=targets.azure_container_ids)
                )
            )
        return Policy(
            self, f"policy-{domain}",
            PolicyProps(name=naming.vault_domain_policy(env.name, domain), rules=domain_rules(self.kv, domain, paths)),
        )

    def _inputs_from(
        self, env: Environment, aws: AwsPlatformStack, gcp: GcpPlatformStack | None, azure: AzurePlatformStack | None
    ) -> VaultInputs:
        """Read the other stacks' attributes; using one here makes it a cross-stack reference."""
        domains = {
            d.name: DomainTargets(
                aws=AwsDomainResources(
                    bucket_arns=tuple(aws.domain_bucket_arns[d.name].values()),
                    kms_key_arn=aws.lake_key_arn,
                    crawler_arns=(aws.crawler_arns[d.name],),
                    region=env.aws.region,
                ),
                pipeline_role_arn=aws.domain_pipeline_role_arns[d.name],
                gcp_service_account=gcp.domain_pipeline_account_emails[d.name] if gcp is not None else None,
                azure_container_ids=(azure.domain_container_ids[d.name],) if azure is not None else (),
                spark_job_role_arn=aws.spark_job_role_arns.get(d.name),
                dataproc_service_account=(gcp.spark_service_accounts.get(d.name)
                                          if gcp is not None and gcp.spark is not None
                                          and env.spark.gcp.engine_for_customer_360 == "dataproc" else None),
            )
            for d in env.active_domains
        }
        spark_variables = {
            naming.airflow_spark_variable(d.name): spark_variable(env, d.name, aws, gcp)
            for d in env.active_domains if d.name in aws.spark_job_role_arns
        }
        gke = None
        if gcp is not None:
            # The DNS-based endpoint: the IP endpoint is routed only inside the cluster's VPC (review #10).
            gke = GkeEndpoint(host=f"https://{gcp.gke_dns_endpoint}")
        return VaultInputs(mwaa_role_arn=aws.mwaa_execution_role_arn, gke=gke, domains=domains, spark_variables=spark_variables)

    def _secret_input(self, name: str, description: str) -> str:
        """An engine credential: a sensitive variable with no default (TF_VAR_<name>), never a literal."""
        return TerraformVariable(
            self, name, type="string", sensitive=True, nullable=False,
            description=f"{description}; supply as TF_VAR_{name} (see docs/vault.md)",
        ).string_value
