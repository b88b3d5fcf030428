"""<env>-bootstrap: the OIDC trust that lets GitHub Actions deploy this environment without stored keys.

Deployed once per environment by an administrator (``make bootstrap ENV=<env>``), never by CI:
``make deploy`` selects ``<env>-!(bootstrap)``, and the AWS deploy role is denied IAM changes to
its own roles. Environments without a ``ci`` section (local) get no bootstrap stack.

Outputs are what the workflows need, set once as GitHub environment variables (README, "Run it
from CI"): the AWS role ARNs, the GCP provider name and service accounts, the Azure client ids.
"""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from environments import naming
from environments.schema import Environment
from modules.aws.github_oidc import GithubOidc, GithubOidcProps
from modules.azure.federated_credential import FederatedCredential, FederatedCredentialProps
from modules.gcp.workload_identity_federation import WorkloadIdentityFederation, WorkloadIdentityFederationProps
from stacks import providers
from stacks.base import PlatformStack


class BootstrapStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment):
        super().__init__(scope, env, "bootstrap")
        ci = env.ci
        assert ci is not None, "compose() builds a bootstrap stack only for environments with a ci section"
        base = naming.base(env.prefix, env.name)
        outputs: dict[str, str] = {}
        providers.aws(self)
        aws = GithubOidc(self, "github-aws", GithubOidcProps(
            base=base, account_id=env.aws.account_id, region=env.aws.region, repository=ci.repository,
            environment=ci.environment, branch=ci.branch, state_bucket=getattr(env.state, "bucket", None),
            state_region=getattr(env.state, "region", None),
        ))
        outputs.update(aws_deploy_role_arn=aws.deploy_role.arn, aws_plan_role_arn=aws.plan_role.arn)
        if env.gcp.terraform.enabled:
            providers.google(self)
            gcp = WorkloadIdentityFederation(self, "github-gcp", WorkloadIdentityFederationProps(
                project_id=env.gcp.project_id, pool_id=f"{base}-github",
                deployer_account_id=naming.gcp_service_account_id(env.prefix, env.name, "deployer"),
                planner_account_id=naming.gcp_service_account_id(env.prefix, env.name, "planner"),
                repository=ci.repository, environment=ci.environment, branch=ci.branch,
                billing_account=env.gcp.billing_account,
            ))
            outputs.update(gcp_workload_identity_provider=gcp.provider_name,
                           gcp_deployer_service_account=gcp.deployer.email,
                           gcp_planner_service_account=gcp.planner.email)
        if env.azure.terraform.enabled:
            providers.azurerm(self)
            azure = FederatedCredential(self, "github-azure", FederatedCredentialProps(
                base=base, subscription_id=env.azure.subscription_id, location=env.azure.location,
                repository=ci.repository, environment=ci.environment, branch=ci.branch,
            ))
            outputs.update(azure_deploy_client_id=azure.deploy.client_id, azure_plan_client_id=azure.plan.client_id)
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)
