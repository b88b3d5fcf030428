"""A Glue security configuration: crawler/job logs, bookmarks and S3 output all encrypted with the lake key."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfiguration as AwsGlueSecurityConfiguration,
)
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfigurationEncryptionConfiguration as Encryption,
)
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfigurationEncryptionConfigurationCloudwatchEncryption as CloudwatchEncryption,
)
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfigurationEncryptionConfigurationJobBookmarksEncryption as JobBookmarksEncryption,
)
from cdktf_cdktf_provider_aws.glue_security_configuration import (
    GlueSecurityConfigurationEncryptionConfigurationS3Encryption as S3Encryption,
)
from constructs import Construct


@dataclass(frozen=True)
class GlueSecurityConfigurationProps:
    name: str
    kms_key_arn: str


class GlueSecurityConfiguration(Construct):
    def __init__(self, scope: Construct, id_: str, props: GlueSecurityConfigurationProps):
        super().__init__(scope, id_)
        self.configuration = AwsGlueSecurityConfiguration(
            self, "configuration",
            name=props.name,
            encryption_configuration=Encryption(
                cloudwatch_encryption=CloudwatchEncryption(cloudwatch_encryption_mode="SSE-KMS", kms_key_arn=props.kms_key_arn),
                job_bookmarks_encryption=JobBookmarksEncryption(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=props.kms_key_arn
                ),
                s3_encryption=S3Encryption(s3_encryption_mode="SSE-KMS", kms_key_arn=props.kms_key_arn),
            ),
        )
        self.name = self.configuration.name
