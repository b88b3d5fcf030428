"""Kubernetes auth for GKE workloads: pods log in with their projected service-account JWT.

Vault checks each JWT with the cluster's TokenReview API. No reviewer JWT is
stored: with ``token_reviewer_jwt`` unset Vault reviews a login with the
caller's own JWT (the workload's service account needs
``system:auth-delegator``), so there is no long-lived Kubernetes token in Vault's
config or in Terraform state.

Vault reaches the cluster through GKE's DNS-based endpoint (the IP endpoint is routed only inside
the cluster's VPC). That endpoint serves a publicly trusted certificate (``gcloud container clusters
get-credentials --dns-endpoint`` writes no CA data), so no cluster CA is pinned for it. The DNS
endpoint accepts Kubernetes service-account tokens (the bearer of Vault's TokenReview) only with
``DNSEndpointConfig.enableK8sTokensViaDns`` (GKE v1 API), which google provider 6.50 cannot set:
the README's first-deploy runbook turns it on once per cluster.
Every role binds an audience: a pod logs in with a projected token minted for that audience,
never its default API token (Vault's kubernetes auth warns when a role has none and plans to
require it).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.auth_backend import AuthBackend, AuthBackendTune
from cdktf_cdktf_provider_vault.kubernetes_auth_backend_config import KubernetesAuthBackendConfig
from cdktf_cdktf_provider_vault.kubernetes_auth_backend_role import KubernetesAuthBackendRole
from constructs import Construct

from modules.vault.lease import LeaseTtl

#: The ``aud`` a pod's projected service-account token must carry to log in to Vault
#: (serviceAccountToken.audience in the pod's projected volume).
VAULT_AUDIENCE = "vault"


@dataclass(frozen=True)
class KubernetesAuthProps:
    path: str
    #: https://<endpoint> of the cluster API (a cross-stack reference).
    host: str
    lease: LeaseTtl
    #: PEM CA certificate of the cluster API; None: the host has a publicly trusted certificate.
    ca_cert: str | None = None
    description: str = "GKE workloads log in with their service-account token"


@dataclass(frozen=True)
class KubernetesAuthRoleProps:
    name: str
    service_accounts: tuple[str, ...]
    namespaces: tuple[str, ...]
    policies: tuple[str, ...]
    audience: str = VAULT_AUDIENCE


class KubernetesAuth(Construct):
    def __init__(self, scope: Construct, id_: str, props: KubernetesAuthProps):
        super().__init__(scope, id_)
        self._lease = props.lease
        self.path = props.path
        self.backend = AuthBackend(
            self,
            "backend",
            type="kubernetes",
            path=props.path,
            description=props.description,
            tune=[AuthBackendTune(**props.lease.auth_tune())],
        )
        KubernetesAuthBackendConfig(
            self,
            "config",
            backend=self.backend.path,
            kubernetes_host=props.host,
            kubernetes_ca_cert=props.ca_cert,
            # Vault runs outside the cluster: never fall back to a token from Vault's own pod.
            disable_local_ca_jwt=True,
        )

    def add_role(self, id_: str, props: KubernetesAuthRoleProps) -> None:
        # "*" would let any service account (or namespace) of the cluster log in as this role.
        for what, values in (("service_accounts", props.service_accounts), ("namespaces", props.namespaces)):
            if not values or "*" in values:
                raise ValueError(f"role {props.name}: {what} must be named explicitly, no '*'")
        KubernetesAuthBackendRole(
            self,
            id_,
            backend=self.backend.path,
            role_name=props.name,
            audience=props.audience,
            bound_service_account_names=list(props.service_accounts),
            bound_service_account_namespaces=list(props.namespaces),
            # Tokens from this role are usable only as Vault tokens of the domain, with the short lifetime.
            token_policies=list(props.policies),
            **self._lease.token_args(),
        )
