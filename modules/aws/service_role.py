"""An IAM role that one AWS service assumes, with one inline least-privilege policy.

Inline rather than managed: the policy lives and dies with the role, and nobody
can attach it to anything else. Trust is limited to this account's use of the
service (``aws:SourceAccount``) unless the service cannot send that key.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.aws.policy_document import Statement, policy_document, same_account, service_principal


@dataclass(frozen=True)
class ServiceRoleProps:
    name: str
    services: tuple[str, ...]
    account_id: str
    statements: tuple[Statement, ...]
    description: str = ""
    max_session_seconds: int = 3600


class ServiceRole(Construct):
    def __init__(self, scope: Construct, id_: str, props: ServiceRoleProps):
        super().__init__(scope, id_)
        trust = Statement(
            "AssumedByService",
            ("sts:AssumeRole",),
            principals=service_principal(*props.services),
            conditions=(same_account(props.account_id),),
        )
        self.role = IamRole(
            self, "role",
            name=props.name,
            description=props.description or None,
            assume_role_policy=policy_document(self, "trust", [trust]),
            max_session_duration=props.max_session_seconds,
        )
        IamRolePolicy(
            self, "policy",
            name=f"{props.name}-least-privilege",
            role=self.role.id,
            policy=policy_document(self, "permissions", list(props.statements)),
        )
        self.arn = self.role.arn
        self.name = self.role.name
