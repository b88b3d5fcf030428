"""GCP IAM auth: a Google service account logs in with a JWT that IAM Credentials signed for it.

Who uses it: the Spark job on Dataproc Serverless (callcenter/credentials.py ``gcp_iam``). The batch runs
as its domain's batch account, which asks IAM Credentials ``signJwt`` for ``{sub: <itself>, aud:
"vault/<role>", exp}`` (it may sign for itself only, modules/gcp/dataproc_serverless.py) and posts it to
``auth/<path>/login``. Vault checks the signature against Google's public keys of that account and the
role's bindings (Vault GCP auth docs, "iam" type), so no key or token is stored anywhere.

- Roles are ``type = "iam"`` and bind exact service-account e-mails (never ``*``), with the domain's
  policy only; GCE inference is off (it would let a GCE instance log in as its attached account).
- ``max_jwt_exp``: a signed JWT is accepted only if it expires within 15 minutes (Vault's default,
  kept explicit), so a leaked one is short-lived; the token it buys has the mount's short TTL, like
  the AWS roles (LeaseTtl.token_args).
- Vault's own Google identity verifies that a bound account exists (iam.serviceAccounts.get): with
  ``identity`` unset Vault uses its own Google credential chain (ADC of the Vault server); with it,
  plugin workload identity federation (``identity_token_audience`` + ``service_account_email``,
  Vault Enterprise). No key goes through Terraform, so none lands in the state.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.gcp_auth_backend import GcpAuthBackend, GcpAuthBackendTune
from cdktf_cdktf_provider_vault.gcp_auth_backend_role import GcpAuthBackendRole
from constructs import Construct

from modules.vault.lease import LeaseTtl

#: Vault GCP auth: the longest a login JWT may still be valid (seconds); Vault's default, kept explicit.
MAX_JWT_EXP_SECONDS = 900


@dataclass(frozen=True)
class VaultGcpIdentity:
    """Plugin workload identity: Vault acts as ``service_account_email`` with a token for ``audience``."""

    service_account_email: str
    audience: str


@dataclass(frozen=True)
class GcpIamAuthProps:
    path: str
    lease: LeaseTtl
    #: None: Vault's own Google credential chain looks up the bound accounts.
    identity: VaultGcpIdentity | None = None
    description: str = "Google service accounts (Dataproc batches) log in with a JWT signed for themselves"


@dataclass(frozen=True)
class GcpIamAuthRoleProps:
    name: str
    #: Exact service-account e-mails (cross-stack references), never patterns.
    service_accounts: tuple[str, ...]
    policies: tuple[str, ...]


class GcpIamAuth(Construct):
    def __init__(self, scope: Construct, id_: str, props: GcpIamAuthProps):
        super().__init__(scope, id_)
        self._lease = props.lease
        self.path = props.path
        identity = props.identity
        self.backend = GcpAuthBackend(
            self, "backend", path=props.path, description=props.description,
            tune=[GcpAuthBackendTune(**props.lease.auth_tune())],
            identity_token_audience=identity.audience if identity else None,
            service_account_email=identity.service_account_email if identity else None,
        )

    def add_role(self, id_: str, props: GcpIamAuthRoleProps) -> None:
        if not props.service_accounts or any("*" in account for account in props.service_accounts):
            raise ValueError(f"role {props.name}: bind exact service accounts, no wildcard")
        GcpAuthBackendRole(
            self, id_,
            backend=self.backend.path,
            role=props.name,
            type="iam",
            bound_service_accounts=list(props.service_accounts),
            max_jwt_exp=str(MAX_JWT_EXP_SECONDS),
            allow_gce_inference=False,
            token_policies=list(props.policies),
            **self._lease.token_args(),
        )
