"""An S3 bucket with every control on: versioning, SSE-KMS, all four public-access
blocks, ACLs disabled, a TLS-only policy, access logging, lifecycle tiering and
EventBridge notifications.

The one named opt-out is ``kms_key_arn=None``, for the access-log bucket only:
S3 server access logging cannot deliver to a bucket whose default encryption is
SSE-KMS, so that bucket uses SSE-S3 and grants the logging service write access.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_notification import S3BucketNotification
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import S3BucketOwnershipControls, S3BucketOwnershipControlsRule
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from modules.aws.policy_document import Condition, Statement, policy_document, same_account, service_principal


@dataclass(frozen=True)
class Tiering:
    """Lifecycle: STANDARD_IA after ``warm_after_days``, ``archive_class`` after ``archive_after_days``.

    The archive class is GLACIER_IR by default: crawlers, Athena and DAGs read these buckets,
    and S3 refuses GetObject on GLACIER (Flexible Retrieval) / DEEP_ARCHIVE objects with
    InvalidObjectState until they are restored, while GLACIER_IR serves reads in milliseconds
    (S3 user guide, "Understanding and managing Amazon S3 storage classes"; GetObject API reference).
    """

    warm_after_days: int
    archive_after_days: int
    noncurrent_expire_days: int
    abort_incomplete_multipart_days: int
    archive_class: str = "GLACIER_IR"
    #: False for a bucket whose current objects must stay STANDARD (the MWAA DAG bucket).
    transition_current: bool = True
    #: Keep this many newer noncurrent versions regardless of age (S3 ``NewerNoncurrentVersions``),
    #: e.g. the requirements/plugins/startup versions an MWAA environment may be rolled back to.
    keep_noncurrent_versions: int | None = None
    #: Expire current objects after this many days (a pii domain's raw zone). S3 refuses a transition on
    #: or after the expiration day, so only earlier transitions are kept.
    expire_current_days: int | None = None


@dataclass(frozen=True)
class SecureBucketProps:
    name: str
    tiering: Tiering
    account_id: str
    #: SSE-KMS key. None means SSE-S3 and is only right for the access-log bucket.
    kms_key_arn: str | None
    #: The bucket that receives this bucket's access logs. None only for the log bucket itself.
    access_log_bucket: SecureBucket | None
    prevent_destroy: bool = False
    #: Deny every request not made over TLS. Opt out only for a stand-in that cannot evaluate the condition.
    tls_only: bool = True
    #: Object events to EventBridge. Opt out only for a stand-in that cannot read the setting back.
    events: bool = True
    #: A retired domain's bucket: the policy denies writes and deletes to everyone; reads, encryption,
    #: versioning, lifecycle and the public-access block are unchanged.
    read_only: bool = False


class SecureBucket(Construct):
    def __init__(self, scope: Construct, id_: str, props: SecureBucketProps):
        super().__init__(scope, id_)
        is_log_bucket = props.access_log_bucket is None
        if is_log_bucket != (props.kms_key_arn is None):
            raise ValueError(f"{props.name}: only the access-log bucket may skip SSE-KMS, and it must")
        self.bucket = S3Bucket(
            self, "bucket",
            bucket=props.name,
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None,
        )
        bucket_id = self.bucket.id
        self.name = props.name
        self.arn = self.bucket.arn
        self.id = bucket_id

        S3BucketOwnershipControls(self, "ownership", bucket=bucket_id, rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"))
        S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket_id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
        )
        S3BucketVersioningA(self, "versioning", bucket=bucket_id, versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"))
        default = S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="AES256" if is_log_bucket else "aws:kms", kms_master_key_id=props.kms_key_arn
        )
        S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket_id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=default, bucket_key_enabled=not is_log_bucket
                )
            ],
        )
        if not is_log_bucket:
            # S3 checks the target's policy when logging is switched on, so that policy must exist first.
            S3BucketLoggingA(
                self, "logging", bucket=bucket_id, target_bucket=props.access_log_bucket.id,
                target_prefix=f"{props.name}/", depends_on=[props.access_log_bucket.policy],
            )
        statements = self._statements(props)
        self.policy = (
            S3BucketPolicy(self, "policy", bucket=bucket_id, policy=policy_document(self, "policy-document", statements))
            if statements
            else None
        )
        tiering = props.tiering
        S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="tiering",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(days=days, storage_class=storage_class)
                        for days, storage_class in (
                            (tiering.warm_after_days, "STANDARD_IA"), (tiering.archive_after_days, tiering.archive_class)
                        )
                        if tiering.expire_current_days is None or days < tiering.expire_current_days
                    ] or None if tiering.transition_current else None,
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=tiering.expire_current_days)
                    ] if tiering.expire_current_days is not None else None,
                    noncurrent_version_expiration=[
                        # S3 expires a noncurrent version only when it is older than noncurrent_days AND
                        # more than newer_noncurrent_versions newer noncurrent versions exist.
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=tiering.noncurrent_expire_days,
                            newer_noncurrent_versions=tiering.keep_noncurrent_versions,
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=tiering.abort_incomplete_multipart_days
                        )
                    ],
                )
            ],
        )
        # Object events go to EventBridge, where pipelines and audits subscribe without touching the bucket.
        if props.events:
            S3BucketNotification(self, "events", bucket=bucket_id, eventbridge=True)

    def _statements(self, props: SecureBucketProps) -> list[Statement]:
        statements = []
        if props.tls_only:
            statements.append(
                Statement(
                    "DenyInsecureTransport",
                    ("s3:*",),
                    (self.arn, f"{self.arn}/*"),
                    effect="Deny",
                    # {"AWS": "*"} means everyone, as "*" does; moto's logging check cannot parse the bare string.
                    principals=(("AWS", ("*",)),),
                    conditions=(Condition("Bool", "aws:SecureTransport", ("false",)),),
                )
            )
        if props.read_only:
            # An explicit Deny beats every Allow (IAM policy evaluation logic); PutBucketPolicy stays allowed so
            # Terraform can lift the lock again (un-retire, or the README's final deletion steps).
            statements.append(
                Statement(
                    "DenyWritesRetired",
                    ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteBucket"),
                    (self.arn, f"{self.arn}/*"),
                    effect="Deny",
                    principals=(("AWS", ("*",)),),
                )
            )
        if props.access_log_bucket is None:
            statements.append(
                Statement(
                    "S3ServerAccessLogsDelivery",
                    ("s3:PutObject",),
                    (f"{self.arn}/*",),
                    principals=service_principal("logging.s3.amazonaws.com"),
                    conditions=(same_account(props.account_id),),
                )
            )
        return statements
