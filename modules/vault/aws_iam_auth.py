"""AWS IAM auth: AWS principals log in with a signed sts:GetCallerIdentity, no Vault token to store.

Roles bind exact IAM principal ARNs (never a wildcard), so only that role's
sessions, e.g. the MWAA execution role, get the role's policies.

The backend client (``auth/<path>/config/client``) decides three things:

- **Where Vault forwards the login.** Vault replays the client's signed request to
  its configured ``sts_endpoint`` but keeps the client's signed ``Host`` header
  (vault ``builtin/credential/aws/path_login.go``, ``buildHttpRequest``), so the
  client must sign for exactly that host and ``sts_region``. The regional endpoint
  of the environment's region is used (AWS recommends regional STS endpoints; the
  global one accepts only ``us-east-1`` scopes, hashicorp/vault#6268), and
  ``use_sts_region_from_client`` stays off so a client cannot pick another region.
- **Replay protection.** ``iam_server_id_header_value``: a request signed for
  another Vault (without this signed ``X-Vault-AWS-IAM-Server-ID``) is refused.
- **Vault's own AWS identity.** ``resolve_aws_unique_ids`` stays on: the binding is
  to the role's unique id, so a deleted and re-created role of the same name is not
  trusted. Vault therefore calls ``iam:GetRole`` on every bound role when a role is
  written; :func:`identity_policy` is the policy that identity needs. With
  ``identity`` unset, Vault uses its own AWS credential chain (instance profile /
  IRSA of the Vault server); with it, plugin workload identity federation
  (``role_arn`` + ``identity_token_audience``, Vault Enterprise >= 1.16).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_vault.auth_backend import AuthBackend, AuthBackendTune
from cdktf_cdktf_provider_vault.aws_auth_backend_client import AwsAuthBackendClient
from cdktf_cdktf_provider_vault.aws_auth_backend_role import AwsAuthBackendRole
from constructs import Construct

from modules.vault.lease import LeaseTtl


def regional_sts_endpoint(region: str) -> str:
    """The STS endpoint of one region, the host clients must sign for."""
    return f"https://sts.{region}.amazonaws.com"


@dataclass(frozen=True)
class VaultAwsIdentity:
    """Plugin workload identity: Vault assumes ``role_arn`` with a token for ``audience``."""

    role_arn: str
    audience: str
    token_ttl_seconds: int = 3600


@dataclass(frozen=True)
class AwsIamAuthProps:
    path: str
    lease: LeaseTtl
    #: Region whose STS endpoint Vault forwards logins to; clients sign for the same region and host.
    sts_region: str
    #: Required ``X-Vault-AWS-IAM-Server-ID`` value (replay protection), e.g. Vault's host name.
    server_id_header: str
    #: None: Vault's own AWS credential chain calls iam:GetRole.
    identity: VaultAwsIdentity | None = None
    description: str = "AWS IAM principals (MWAA) log in with their own role"


@dataclass(frozen=True)
class AwsIamAuthRoleProps:
    name: str
    #: Exact IAM role ARNs (cross-stack references), never patterns.
    principal_arns: tuple[str, ...]
    policies: tuple[str, ...]


def identity_policy(principal_arns: tuple[str, ...]) -> str:
    """The IAM policy Vault's AWS identity needs for ``resolve_aws_unique_ids``: GetRole on the bound roles only."""
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Sid": "ResolveBoundRoles", "Effect": "Allow", "Action": ["iam:GetRole"], "Resource": list(principal_arns)},
        ]},
        sort_keys=True,
    )


class AwsIamAuth(Construct):
    def __init__(self, scope: Construct, id_: str, props: AwsIamAuthProps):
        super().__init__(scope, id_)
        if not props.server_id_header.strip():
            raise ValueError(f"{props.path}: server_id_header must be set (replay protection)")
        self._lease = props.lease
        self.path = props.path
        self.backend = AuthBackend(
            self, "backend", type="aws", path=props.path, description=props.description, tune=[AuthBackendTune(**props.lease.auth_tune())]
        )
        identity = props.identity
        self.client = AwsAuthBackendClient(
            self, "client",
            backend=self.backend.path,
            sts_endpoint=regional_sts_endpoint(props.sts_region),
            sts_region=props.sts_region,
            use_sts_region_from_client=False,
            iam_server_id_header_value=props.server_id_header,
            role_arn=identity.role_arn if identity else None,
            identity_token_audience=identity.audience if identity else None,
            identity_token_ttl=identity.token_ttl_seconds if identity else None,
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
            # Resolve the ARN to the role's unique id: a deleted and re-created role of the same name is not
            # trusted. Vault calls iam:GetRole here (identity_policy), with the client config's identity,
            # so the role waits for that config.
            resolve_aws_unique_ids=True,
            token_policies=list(props.policies),
            depends_on=[self.client],
            **self._lease.token_args(),
        )
