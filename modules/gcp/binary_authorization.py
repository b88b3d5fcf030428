"""The project's Binary Authorization policy: deny every image except the allowlisted registries.

A cluster with ``PROJECT_SINGLETON_POLICY_ENFORCE`` enforces this policy; without one the
project default admits everything (review #21). The default rule is ALWAYS_DENY, enforced
(block and audit log). ``global_policy_evaluation_mode = ENABLE`` admits the Google-maintained
GKE system images (Binary Authorization docs, "Policy YAML reference": globalPolicyEvaluationMode),
so the cluster's own components still start.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.binary_authorization_policy import (
    BinaryAuthorizationPolicy,
    BinaryAuthorizationPolicyAdmissionWhitelistPatterns,
    BinaryAuthorizationPolicyDefaultAdmissionRule,
)
from constructs import Construct

ENFORCED = "ENFORCED_BLOCK_AND_AUDIT_LOG"


def artifact_registry_pattern(region: str, project: str) -> str:
    """Every image under the project's Artifact Registry Docker host in the region (``**`` spans paths)."""
    return f"{region}-docker.pkg.dev/{project}/**"


@dataclass(frozen=True)
class BinaryAuthorizationProps:
    project: str
    #: Image name patterns admitted without attestation, e.g. artifact_registry_pattern(...).
    allowed_images: tuple[str, ...]
    description: str = "Deny by default; admit GKE system images and the platform's registry"


class BinaryAuthorization(Construct):
    def __init__(self, scope: Construct, id_: str, props: BinaryAuthorizationProps):
        super().__init__(scope, id_)
        for pattern in props.allowed_images:
            # A pattern without a registry path (e.g. "*" or "docker.io/*") would admit any public image.
            registry, _, path = pattern.partition("/")
            if not path or "*" in registry or path.startswith("*"):
                raise ValueError(f"allowed image pattern {pattern!r} must name a registry and a path before any '*'")
        self.policy = BinaryAuthorizationPolicy(
            self,
            "policy",
            project=props.project,
            description=props.description,
            global_policy_evaluation_mode="ENABLE",
            admission_whitelist_patterns=[
                BinaryAuthorizationPolicyAdmissionWhitelistPatterns(name_pattern=p) for p in props.allowed_images
            ],
            default_admission_rule=BinaryAuthorizationPolicyDefaultAdmissionRule(
                evaluation_mode="ALWAYS_DENY", enforcement_mode=ENFORCED
            ),
        )
