"""A data domain's pipeline identity: an IAM role with no permissions, assumed by the MWAA execution role.

Why a role that can do nothing: it exists only to be *someone* when a task logs in
to Vault (AWS auth, iam method, bound to this role's ARN). Vault's policy for that
login reads only the domain's kv subtree and the domain's dynamic credentials
(AWS STS, GCP tokens, Azure service principals), so the data access a task gets is
exactly the domain's, for the lease's lifetime. The execution role holds
``sts:AssumeRole`` on these roles and nothing on the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from modules.aws.policy_document import Condition, Statement, policy_document

#: The shortest session STS allows (AssumeRole DurationSeconds minimum): the login needs seconds.
MIN_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class DomainPipelineRoleProps:
    name: str
    domain: str
    #: The only principal allowed to assume the role (the MWAA execution role's ARN).
    assumed_by_arn: str
    account_id: str


class DomainPipelineRole(Construct):
    def __init__(self, scope: Construct, id_: str, props: DomainPipelineRoleProps):
        super().__init__(scope, id_)
        trust = Statement(
            "AssumedByOrchestration",
            ("sts:AssumeRole",),
            principals=(("AWS", (props.assumed_by_arn,)),),
            # The session name is the domain, so CloudTrail and Vault's audit log name the domain per login.
            conditions=(Condition("StringLike", "sts:RoleSessionName", (f"{props.domain}-*",)),),
        )
        self.role = IamRole(
            self, "role",
            name=props.name,
            description=f"{props.domain} pipeline identity for Vault logins (no permissions of its own)",
            assume_role_policy=policy_document(self, "trust", [trust]),
            max_session_duration=MIN_SESSION_SECONDS,
            tags={"domain": props.domain},
        )
        self.arn = self.role.arn
        self.name = props.name
