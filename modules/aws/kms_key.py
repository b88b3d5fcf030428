"""A customer-managed KMS key. (Foundation skeleton: the AWS platform issue adds the key policy.)"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as AwsKmsKey
from constructs import Construct


@dataclass(frozen=True)
class KmsKeyProps:
    alias: str
    description: str
    deletion_window_days: int = 30


class KmsKey(Construct):
    def __init__(self, scope: Construct, id_: str, props: KmsKeyProps):
        super().__init__(scope, id_)
        self.key = AwsKmsKey(
            self, "key", description=props.description, enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
