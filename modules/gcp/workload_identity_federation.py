"""GitHub Actions' OIDC trust in one GCP project: a workload identity pool and provider, a deployer
and a planner service account that only this repository's jobs may impersonate.

- The provider accepts a token only when ``attribute_condition`` holds: its subject is this
  repository's GitHub environment (and the ref the deploy branch) or its pull requests (IAM docs,
  "Configure Workload Identity Federation with deployment pipelines": always condition on the
  repository, since every GitHub repository shares the issuer; checkov CKV_GCP_125 reads ``assertion.sub``).
- The deployer account is impersonable by the principal set ``attribute.environment/<env>``, the
  read-only planner by ``attribute.repository/<owner>/<repo>``: any token the condition admitted (pull
  requests, the scheduled drift check on the deploy branch, deploys) (roles/iam.workloadIdentityUser).
- Project roles are predefined service-admin roles (no owner/editor): what the GCP stacks create.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.billing_account_iam_member import BillingAccountIamMember
from cdktf_cdktf_provider_google.iam_workload_identity_pool import IamWorkloadIdentityPool
from cdktf_cdktf_provider_google.iam_workload_identity_pool_provider import (
    IamWorkloadIdentityPoolProvider,
    IamWorkloadIdentityPoolProviderOidc,
)
from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
from cdktf_cdktf_provider_google.service_account import ServiceAccount
from cdktf_cdktf_provider_google.service_account_iam_member import ServiceAccountIamMember
from constructs import Construct

ISSUER = "https://token.actions.githubusercontent.com"

#: What the deployer needs for the GCP stacks' resources (network, GKE, buckets, keys, DNS, service
#: accounts and their project bindings, API enablement, Binary Authorization, the Spark image's registry).
DEPLOYER_ROLES = (
    "roles/compute.networkAdmin", "roles/compute.securityAdmin", "roles/container.admin", "roles/storage.admin",
    "roles/cloudkms.admin", "roles/dns.admin", "roles/iam.serviceAccountAdmin",
    "roles/resourcemanager.projectIamAdmin", "roles/serviceusage.serviceUsageAdmin",
    "roles/binaryauthorization.policyEditor",
    # The Spark image's repository (its cleanup policies and reader bindings need admin) and
    # `make spark-image`'s push to it.
    "roles/artifactregistry.admin",
)
#: A plan refreshes every resource: per-service viewer roles (no basic roles, checkov CKV_GCP_117),
#: none of which reads object contents or secrets.
PLANNER_ROLES = (
    "roles/compute.viewer", "roles/container.viewer", "roles/storage.bucketViewer", "roles/cloudkms.viewer",
    "roles/dns.reader", "roles/iam.securityReviewer", "roles/iam.serviceAccountViewer",
    "roles/serviceusage.serviceUsageViewer", "roles/binaryauthorization.policyViewer", "roles/artifactregistry.reader",
    # The drift check also refreshes <env>-bootstrap's own pool and provider.
    "roles/iam.workloadIdentityPoolViewer",
)

#: Token claims kept as attributes (GitHub docs, "About security hardening with OpenID Connect").
ATTRIBUTE_MAPPING = {
    "google.subject": "assertion.sub",
    "attribute.repository": "assertion.repository",
    "attribute.environment": "assertion.environment",
    "attribute.event_name": "assertion.event_name",
    "attribute.ref": "assertion.ref",
}


@dataclass(frozen=True)
class WorkloadIdentityFederationProps:
    project_id: str
    #: Pool id, 4-32 of a-z, 0-9, - (``<prefix>-<env>-github``).
    pool_id: str
    #: Service account ids (6-30 characters).
    deployer_account_id: str
    planner_account_id: str
    repository: str
    environment: str
    branch: str
    #: The billing account the project budget lives on (None: the deployer creates no budget).
    billing_account: str | None = None


def attribute_condition(repository: str, environment: str, branch: str) -> str:
    """The token's subject names the repository and the GitHub environment (or a pull request);
    a deploy must also come from the deploy branch; the drift check runs on the deploy branch itself."""
    return (
        f"(assertion.sub == 'repo:{repository}:environment:{environment}' && assertion.ref == 'refs/heads/{branch}')"
        f" || assertion.sub == 'repo:{repository}:pull_request'"
        f" || assertion.sub == 'repo:{repository}:ref:refs/heads/{branch}'"
    )


class WorkloadIdentityFederation(Construct):
    def __init__(self, scope: Construct, id_: str, props: WorkloadIdentityFederationProps):
        super().__init__(scope, id_)
        self.pool = IamWorkloadIdentityPool(
            self, "pool", project=props.project_id, workload_identity_pool_id=props.pool_id,
            display_name="GitHub Actions", description=f"{props.repository} deploys and plans",
        )
        self.provider = IamWorkloadIdentityPoolProvider(
            self, "provider", project=props.project_id,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github",
            display_name="GitHub Actions OIDC",
            attribute_mapping=ATTRIBUTE_MAPPING,
            attribute_condition=attribute_condition(props.repository, props.environment, props.branch),
            oidc=IamWorkloadIdentityPoolProviderOidc(issuer_uri=ISSUER),
        )
        self.deployer = self._account("deployer", props, props.deployer_account_id, DEPLOYER_ROLES,
                                      f"attribute.environment/{props.environment}")
        self.planner = self._account("planner", props, props.planner_account_id, PLANNER_ROLES,
                                     f"attribute.repository/{props.repository}")
        if props.billing_account:
            # The GCP platform stack's budget is created on the billing account, above the project
            # (README, "GCP deployer roles"): the deployer needs costsManager there.
            BillingAccountIamMember(
                self, "deployer-budgets", billing_account_id=props.billing_account, role="roles/billing.costsManager",
                member=f"serviceAccount:{self.deployer.email}",
            )
        #: What google-github-actions/auth takes as workload_identity_provider.
        self.provider_name = self.provider.name

    def _account(self, kind: str, props: WorkloadIdentityFederationProps, account_id: str,
                 roles: tuple[str, ...], principal_attribute: str) -> ServiceAccount:
        account = ServiceAccount(self, kind, project=props.project_id, account_id=account_id,
                                 display_name=f"GitHub Actions {kind} ({props.repository})")
        ServiceAccountIamMember(
            self, f"{kind}-federated", service_account_id=account.name, role="roles/iam.workloadIdentityUser",
            member=f"principalSet://iam.googleapis.com/{self.pool.name}/{principal_attribute}",
        )
        for role in roles:
            ProjectIamMember(self, f"{kind}-{role.split('/')[1]}", project=props.project_id, role=role,
                             member=f"serviceAccount:{account.email}")
        return account
