"""Spark on GCP: Dataproc Serverless batches in the data spoke, one service account per domain.

Why Dataproc Serverless and not Spark on the GKE spot pool (issue 12 asks to pick one):
- nothing to run: a batch needs no cluster, and Spark-on-GKE needs the Kubernetes provider or the
  Spark operator installed, upgraded and watched in the cluster, plus per-domain namespaces, RBAC and
  Workload Identity bindings, before the first job;
- billing per batch (DCU-seconds and shuffle storage while it runs), nothing when idle, like EMR Serverless;
- the spot pool stays the documented option (README, "Spark"): the node pool (taint ``workload=batch``),
  the Vault Kubernetes auth role per domain and Workload Identity already exist, so a namespace, a
  Kubernetes service account and the operator are what it would add.

Network (Dataproc "Network configuration"): the batch's subnet must have Private Google Access (the data
spoke's subnet has it, modules/gcp/network.py) and "open subnet connectivity": VMs in the subnet reach
each other on all protocols and ports. The VPC denies all ingress by default (modules/gcp/firewall.py), so
one rule admits exactly the documented one (gcloud ... --source-ranges=SUBNET --destination-ranges=SUBNET
--rules=all): from the data subnet to the data subnet, nothing from outside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.compute_firewall import (
    ComputeFirewall,
    ComputeFirewallAllow,
    ComputeFirewallLogConfig,
)
from cdktf_cdktf_provider_google.project_iam_custom_role import ProjectIamCustomRole
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import (
    ServiceAccountIamMember,
)
from cdktf_cdktf_provider_google.storage_bucket_iam_member import StorageBucketIamMember
from constructs import Construct

#: What a batch's own service account must hold (Dataproc Serverless "Service accounts": Dataproc Worker).
WORKER_ROLE = "roles/dataproc.worker"
#: Object read/write/list on the named buckets only (no bucket or IAM administration; GCS IAM roles reference).
BUCKET_ROLE = "roles/storage.objectUser"
#: Who submits a batch must be able to act as its service account (iam.serviceAccounts.actAs).
ACT_AS_ROLE = "roles/iam.serviceAccountUser"
#: The batch's Vault login (Vault GCP auth, iam type): IAM Credentials signJwt for a JWT naming itself. Only
#: that permission (roles/iam.serviceAccountTokenCreator would add access tokens and blobs), bound on the
#: account itself, so a batch can sign as its own account and no other.
SIGN_SELF_PERMISSIONS = ("iam.serviceAccounts.signJwt",)
#: The DAG (as the domain's pipeline account) creates the run's batch and polls it (Dataproc IAM permissions;
#: batches have no resource-level IAM, so this is a project grant). No cancel, list or delete.
SUBMIT_PERMISSIONS = ("dataproc.batches.create", "dataproc.batches.get")


def cmek_agents(project_number: str) -> tuple[str, ...]:
    """Who must hold encrypter/decrypter on the key a batch names in executionConfig.kmsKey, besides Cloud
    Storage's agent (the staging bucket): Compute Engine's and Dataproc's service agents ("Use CMEK with
    Serverless for Apache Spark": the batch's disks and Dataproc's own writes)."""
    return (f"serviceAccount:service-{project_number}@compute-system.iam.gserviceaccount.com",
            f"serviceAccount:service-{project_number}@dataproc-accounts.iam.gserviceaccount.com")


@dataclass(frozen=True)
class SparkDomain:
    account_id: str
    #: The domain's lake bucket names (or references) its batches read and write.
    bucket_names: tuple[str, ...]
    #: The domain's own staging bucket: batch dependencies and Dataproc's temp files never mix domains.
    staging_bucket: str
    #: The domain's pipeline account (Vault's GCP engine mints its tokens): it submits the batches.
    submitter_email: str


@dataclass(frozen=True)
class DataprocServerlessProps:
    project: str
    #: ``<name>-allow-spark-internal`` is the firewall rule.
    name: str
    network: str
    #: The data spoke subnet's primary range: the firewall rule's source and destination.
    subnet_cidr: str
    domains: dict[str, SparkDomain]
    #: The DAGs start batches here (the environment's spark.gcp.engine_for_customer_360 is "dataproc"): the
    #: pipeline accounts may create/watch batches and use the staging bucket, the batch accounts may sign
    #: their Vault login. False: the accounts exist, nobody may start a batch.
    dags_submit: bool = False


class DataprocServerless(Construct):
    def __init__(self, scope: Construct, id_: str, props: DataprocServerlessProps):
        super().__init__(scope, id_)
        if not props.domains:
            raise ValueError(f"{props.name}: Dataproc Serverless needs at least one domain")
        self.accounts: dict[str, ServiceAccount] = {}
        # Custom role ids: letters, digits, _ and . only (google_project_iam_custom_role role_id).
        role_base = "".join(c if c.isalnum() else "_" for c in props.name)
        sign_self = submit = None
        if props.dags_submit:
            sign_self = ProjectIamCustomRole(
                self, "sign-self", project=props.project, role_id=f"{role_base}_spark_sign_self",
                title=f"{props.name} Spark batch: sign a JWT as itself (Vault login)", permissions=list(SIGN_SELF_PERMISSIONS),
            )
            submit = ProjectIamCustomRole(
                self, "submit", project=props.project, role_id=f"{role_base}_spark_submit",
                title=f"{props.name} Spark: create and watch Dataproc batches", permissions=list(SUBMIT_PERMISSIONS),
            )
        for domain, spec in props.domains.items():
            account = ServiceAccount(
                self, f"account-{domain}", account_id=spec.account_id, project=props.project,
                display_name=f"{domain} Spark batches (Dataproc Serverless)",
            )
            member = f"serviceAccount:{account.email}"
            ProjectIamMember(self, f"worker-{domain}", project=props.project, role=WORKER_ROLE, member=member)
            for index, bucket in enumerate((*spec.bucket_names, spec.staging_bucket)):
                StorageBucketIamMember(self, f"bucket-{domain}-{index}", bucket=bucket, role=BUCKET_ROLE, member=member)
            ServiceAccountIamMember(
                self, f"submitter-{domain}", service_account_id=account.name, role=ACT_AS_ROLE,
                member=f"serviceAccount:{spec.submitter_email}",
            )
            if sign_self is not None and submit is not None:
                ServiceAccountIamMember(
                    self, f"sign-self-{domain}", service_account_id=account.name, role=sign_self.name, member=member,
                )
                submitter = f"serviceAccount:{spec.submitter_email}"
                ProjectIamMember(self, f"submit-{domain}", project=props.project, role=submit.name, member=submitter)
                # The DAG publishes the job code there and reads the batch's summary back (callcenter/dataproc.py).
                StorageBucketIamMember(self, f"staging-submitter-{domain}", bucket=spec.staging_bucket,
                                       role=BUCKET_ROLE, member=submitter)
            self.accounts[domain] = account
        self.firewall = ComputeFirewall(
            self, "internal",
            name=f"{props.name}-allow-spark-internal", network=props.network, direction="INGRESS", priority=1000,
            source_ranges=[props.subnet_cidr], destination_ranges=[props.subnet_cidr],
            allow=[ComputeFirewallAllow(protocol="all")],
            log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
            description="Dataproc Serverless: open connectivity inside the data subnet (its documented requirement)",
        )
        #: domain -> the batch service account's e-mail (a token).
        self.emails = {domain: account.email for domain, account in self.accounts.items()}
