"""AWS IAM auth: AWS principals log in with a signed sts:GetCallerIdentity, no Vault token to store.

Roles bind exact IAM principal ARNs (never a wildcard), so only that role's
sessions, e.g. the MWAA execution role, get the role's policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.auth_backend import AuthBackend, AuthBackendTune
from cdktf_cdktf_provider_vault.aws_auth_backend_role import AwsAuthBackendRole
from constructs import Construct

from modules.vault.lease import LeaseTtl


@dataclass(frozen=True)
class AwsIamAuthProps:
    path: str
    lease: LeaseTtl
    description: str = "AWS IAM principals (MWAA) log in with their own role"


@dataclass(frozen=True)
class AwsIamAuthRoleProps:
    name: str
    #: Exact IAM role ARNs (cross-stack references), never patterns.
    principal_arns: tuple[str, ...]
    policies: tuple[str, ...]


class AwsIamAuth(Construct):
    def __init__(self, scope: Construct, id_: str, props: AwsIamAuthProps):
        super().__init__(scope, id_)
        self._lease = props.lease
        self.path = props.path
        self.backend = AuthBackend(
            self, "backend", type="aws", path=props.path, description=props.description, tune=[AuthBackendTune(**props.lease.auth_tune())]
        )

    def add_role(self, id_: str, props: AwsIamAuthRoleProps) -> None:
        if not props.principal_arns or any("*" in arn for arn in props.principal_arns):
            raise ValueError(f"role {props.name}: bind exact principal ARNs, no wildcard")
        AwsAuthBackendRole(
            self,
            id_,
            backend=self.backend.path,
            role=props.name,
            auth_type="iam",
            bound_iam_principal_arns=list(props.principal_arns),
            # Resolve the ARN to the role's unique id: a deleted and re-created role of the same name is not trusted.
            resolve_aws_unique_ids=True,
            token_policies=list(props.policies),
            **self._lease.token_args(),
        )
