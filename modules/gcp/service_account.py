"""A dedicated service account with an explicit list of project roles and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.project_iam_member import ProjectIamMember
from cdktf_cdktf_provider_google.service_account import ServiceAccount as GoogleServiceAccount
from constructs import Construct

#: What a GKE node needs and nothing more (GKE hardening guide, "least privilege service account"):
#: write logs and metrics, read monitoring config, and pull images.
GKE_NODE_ROLES: tuple[str, ...] = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
    "roles/artifactregistry.reader",
)


@dataclass(frozen=True)
class ServiceAccountProps:
    account_id: str
    display_name: str
    project: str
    roles: tuple[str, ...]


class ServiceAccount(Construct):
    def __init__(self, scope: Construct, id_: str, props: ServiceAccountProps):
        super().__init__(scope, id_)
        broad = [r for r in props.roles if r in ("roles/owner", "roles/editor", "roles/viewer") or "*" in r]
        if broad:
            raise ValueError(f"service account {props.account_id}: basic or wildcard roles are not allowed: {broad}")
        self.account = GoogleServiceAccount(
            self, "account", account_id=props.account_id, display_name=props.display_name, project=props.project
        )
        self.email = self.account.email
        self.member = f"serviceAccount:{self.account.email}"
        self.bindings = [
            ProjectIamMember(self, f"role-{index}", project=props.project, role=role, member=self.member)
            for index, role in enumerate(props.roles)
        ]
