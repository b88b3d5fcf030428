"""A private Artifact Registry Docker repository for one service's images: the Spark job's Dataproc
Serverless image (issue 12; AWS's counterpart is modules/aws/ecr_repository.py).

Secure defaults:
- encrypted with the given CMEK key (the lake key: the image carries no data, one key keeps one audit
  trail). Artifact Registry encrypts as its service agent, which must hold encrypter/decrypter on the key
  before the repository is created (Artifact Registry "Enabling customer-managed encryption keys"); the
  caller passes that grant in ``after``;
- tags immutable (``docker_config.immutable_tags``): a tag is a content hash (spark/image/image.py), a pushed
  tag must never point at other bytes;
- cleanup policies: keep the newest ``keep_versions``, delete the rest once older than ``delete_after_days``
  (a keep policy wins over a delete policy: Artifact Registry "Cleanup policies overview"). Not a dry run;
- readers only: ``roles/artifactregistry.reader`` on this repository for the named members (the batches'
  own service accounts pull: Dataproc uses the workload's identity). Pushes go through the deployer's
  project role (CI's ``make spark-image``), never through a member here; no public member is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_google.artifact_registry_repository import (
    ArtifactRegistryRepository,
    ArtifactRegistryRepositoryCleanupPolicies,
    ArtifactRegistryRepositoryCleanupPoliciesCondition,
    ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions,
    ArtifactRegistryRepositoryDockerConfig,
)
from cdktf_cdktf_provider_google.artifact_registry_repository_iam_member import (
    ArtifactRegistryRepositoryIamMember,
)
from constructs import Construct

READER_ROLE = "roles/artifactregistry.reader"
#: Members that would make the repository public (checkov CKV_GCP_101's concern).
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")


def agent_member(project_number: str) -> str:
    """The Artifact Registry service agent of a project: it encrypts the repository's blobs with the CMEK key."""
    return f"serviceAccount:service-{project_number}@gcp-sa-artifactregistry.iam.gserviceaccount.com"


@dataclass(frozen=True)
class DockerRepositoryProps:
    project: str
    location: str
    repository_id: str
    kms_key_id: str
    #: IAM members (``serviceAccount:...``) that may pull; tokens allowed.
    readers: tuple[str, ...]
    description: str = ""
    keep_versions: int = 10
    delete_after_days: int = 30
    #: The CMEK grant to the service agent (and anything else the repository must wait for).
    after: Sequence[ITerraformDependable] = ()

    def __post_init__(self) -> None:
        if self.keep_versions < 1:
            raise ValueError(f"{self.repository_id}: keep_versions must be at least 1, not {self.keep_versions}")
        if self.delete_after_days < 1:
            raise ValueError(f"{self.repository_id}: delete_after_days must be at least 1, not {self.delete_after_days}")
        public = sorted(set(self.readers) & set(PUBLIC_MEMBERS))
        if public:
            raise ValueError(f"{self.repository_id}: readers must not include {', '.join(public)} (the repository is private)")


class PrivateDockerRepository(Construct):
    def __init__(self, scope: Construct, id_: str, props: DockerRepositoryProps):
        super().__init__(scope, id_)
        self.repository = ArtifactRegistryRepository(
            self, "repository",
            project=props.project, location=props.location, repository_id=props.repository_id,
            format="DOCKER", mode="STANDARD_REPOSITORY", description=props.description or None,
            kms_key_name=props.kms_key_id,
            docker_config=ArtifactRegistryRepositoryDockerConfig(immutable_tags=True),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="keep-newest", action="KEEP",
                    most_recent_versions=ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(
                        keep_count=props.keep_versions),
                ),
                ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old", action="DELETE",
                    condition=ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="ANY", older_than=f"{props.delete_after_days * 86400}s"),
                ),
            ],
            depends_on=list(props.after) or None,
        )
        for index, member in enumerate(props.readers):
            ArtifactRegistryRepositoryIamMember(
                self, f"reader-{index}", project=props.project, location=props.location,
                repository=self.repository.name, role=READER_ROLE, member=member,
            )
        #: projects/<project>/locations/<location>/repositories/<id>
        self.id = self.repository.id
