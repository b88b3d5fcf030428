"""A private ECR repository for one service's images: the Spark job's EMR Serverless image (issue 12).

Secure defaults: encrypted with the given customer-managed key (the lake key: the image carries no data,
but one key keeps one audit trail), scanned on push, tags IMMUTABLE (a tag is a content hash,
spark/image/image.py: a pushed tag must never point at other bytes), and a lifecycle rule that
expires all but the newest ``keep_images`` so old runtimes do not accumulate.

Pulls: only the service named in ``puller`` may read images, and only on behalf of ``source_arn``
(EMR Serverless user guide, "Customizing an EMR Serverless image": the repository policy allows
``emr-serverless.amazonaws.com`` ecr:BatchGetImage, ecr:DescribeImages and ecr:GetDownloadUrlForLayer with
an ``aws:SourceArn`` condition naming the application). Pushes go through IAM (CI's deploy role), not here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository_policy import EcrRepositoryPolicy
from constructs import Construct

from modules.aws.policy_document import Condition, Statement, policy_document, same_account, service_principal

#: What a service needs to pull an image (the EMR Serverless custom-image repository policy).
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer")


@dataclass(frozen=True)
class EcrRepositoryProps:
    name: str
    account_id: str
    kms_key_arn: str
    #: The service principal that pulls, and the one resource it pulls for (its aws:SourceArn).
    puller: str
    source_arn: str
    keep_images: int = 10

    def __post_init__(self) -> None:
        if self.keep_images < 1:
            raise ValueError(f"{self.name}: keep_images must be at least 1, not {self.keep_images}")


def lifecycle_policy(keep_images: int) -> str:
    """Expire every image beyond the newest ``keep_images`` (ECR lifecycle policy, tagStatus any)."""
    return json.dumps({"rules": [{
        "rulePriority": 1,
        "description": f"keep the newest {keep_images} images",
        "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep_images},
        "action": {"type": "expire"},
    }]}, sort_keys=True)


class PrivateEcrRepository(Construct):
    def __init__(self, scope: Construct, id_: str, props: EcrRepositoryProps):
        super().__init__(scope, id_)
        self.repository = EcrRepository(
            self, "repository",
            name=props.name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS", kms_key=props.kms_key_arn)],
        )
        EcrLifecyclePolicy(self, "lifecycle", repository=self.repository.name, policy=lifecycle_policy(props.keep_images))
        pull = Statement(
            "PullForOneSource", PULL_ACTIONS,
            principals=service_principal(props.puller),
            conditions=(same_account(props.account_id), Condition("StringEquals", "aws:SourceArn", (props.source_arn,))),
        )
        EcrRepositoryPolicy(self, "policy", repository=self.repository.name, policy=policy_document(self, "pull", [pull]))
        self.url = self.repository.repository_url
        self.arn = self.repository.arn
