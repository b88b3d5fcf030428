"""GitHub Actions' OIDC trust in one Azure subscription: user-assigned managed identities with
federated credentials for this repository's jobs.

The bindings here carry no azuread provider, so the identity is an ``azurerm_user_assigned_identity``
with an ``azurerm_federated_identity_credential`` (Entra ID docs, "Configure a user-assigned managed
identity to trust an external identity provider"): issuer GitHub's, audience
``api://AzureADTokenExchange``, subject ``repo:<owner>/<repo>:environment:<env>`` (deploy) or
``repo:<owner>/<repo>:pull_request`` and ``repo:<owner>/<repo>:ref:refs/heads/<branch>`` (plan: pull
requests and the scheduled drift check). azure/login takes the identity's client id.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.federated_identity_credential import FederatedIdentityCredential
from cdktf_cdktf_provider_azurerm.resource_group import ResourceGroup
from cdktf_cdktf_provider_azurerm.role_assignment import RoleAssignment
from cdktf_cdktf_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

ISSUER = "https://token.actions.githubusercontent.com"
AUDIENCE = "api://AzureADTokenExchange"
#: Contributor creates the resources; the stacks' role assignments (storage, Key Vault data roles) need
#: the RBAC administrator role, which cannot grant Owner or itself (built-in role description).
DEPLOY_ROLES = ("Contributor", "Role Based Access Control Administrator")
PLAN_ROLES = ("Reader",)


@dataclass(frozen=True)
class FederatedCredentialProps:
    #: ``<prefix>-<env>``: resource group ``<base>-github``, identities ``<base>-github-deploy`` / ``-plan``.
    base: str
    subscription_id: str
    location: str
    repository: str
    environment: str
    branch: str = "main"


class FederatedCredential(Construct):
    def __init__(self, scope: Construct, id_: str, props: FederatedCredentialProps):
        super().__init__(scope, id_)
        self.group = ResourceGroup(self, "group", name=f"{props.base}-github", location=props.location)
        repo = f"repo:{props.repository}"
        self.deploy = self._identity("deploy", props, {"environment": f"{repo}:environment:{props.environment}"},
                                     DEPLOY_ROLES)
        self.plan = self._identity("plan", props, {"pull-requests": f"{repo}:pull_request",
                                                   "branch": f"{repo}:ref:refs/heads/{props.branch}"}, PLAN_ROLES)

    def _identity(self, kind: str, props: FederatedCredentialProps, subjects: dict[str, str],
                  roles: tuple[str, ...]) -> UserAssignedIdentity:
        identity = UserAssignedIdentity(self, kind, name=f"{props.base}-github-{kind}", location=props.location,
                                        resource_group_name=self.group.name)
        for label, subject in subjects.items():
            FederatedIdentityCredential(
                self, f"{kind}-github-{label}", name=f"github-{label}", resource_group_name=self.group.name,
                parent_id=identity.id, issuer=ISSUER, audience=[AUDIENCE], subject=subject,
            )
        for role in roles:
            RoleAssignment(self, f"{kind}-{role.lower().replace(' ', '-')}",
                           scope=f"/subscriptions/{props.subscription_id}", role_definition_name=role,
                           principal_id=identity.principal_id)
        return identity
