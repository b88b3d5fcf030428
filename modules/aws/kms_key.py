"""A customer-managed KMS key with an explicit key policy, rotation and an alias.

The policy lists every action it grants (no ``kms:*``): the account administers
and uses the key through IAM, and only the service principals named in the props
may use it directly (CloudWatch Logs, scoped to this account's log groups).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as AwsKmsKey
from constructs import Construct

from modules.aws.policy_document import Condition, Statement, account_principal, policy_json, service_principal

#: What the account may do to manage the key (delegated to IAM policies).
ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:DeleteAlias", "kms:DescribeKey",
    "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:ListAliases", "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListResourceTags",
    "kms:PutKeyPolicy", "kms:RetireGrant", "kms:RevokeGrant", "kms:ScheduleKeyDeletion", "kms:TagResource",
    "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
)
#: Cryptographic use, for principals the account's IAM policies allow.
USE_ACTIONS = (
    "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo",
)


@dataclass(frozen=True)
class KmsKeyProps:
    alias: str
    description: str
    account_id: str
    region: str
    #: Let CloudWatch Logs encrypt this account's log groups with the key.
    allow_cloudwatch_logs: bool = False
    #: Further key-policy statements (e.g. services that publish to an encrypted SNS topic).
    extra_statements: tuple[Statement, ...] = ()
    deletion_window_days: int = 30
    prevent_destroy: bool = False


class KmsKey(Construct):
    def __init__(self, scope: Construct, id_: str, props: KmsKeyProps):
        super().__init__(scope, id_)
        statements = [
            Statement("AccountAdministers", ADMIN_ACTIONS, ("*",), principals=account_principal(props.account_id)),
            Statement("AccountUsesThroughIam", USE_ACTIONS, ("*",), principals=account_principal(props.account_id)),
        ]
        if props.allow_cloudwatch_logs:
            statements.append(
                Statement(
                    "CloudWatchLogsOfThisAccount",
                    USE_ACTIONS,
                    ("*",),
                    principals=service_principal(f"logs.{props.region}.amazonaws.com"),
                    conditions=(
                        Condition(
                            "ArnLike",
                            "kms:EncryptionContext:aws:logs:arn",
                            (f"arn:aws:logs:{props.region}:{props.account_id}:log-group:*",),
                        ),
                    ),
                )
            )
        statements += props.extra_statements
        self.key = AwsKmsKey(
            self, "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=props.deletion_window_days,
            policy=policy_json(statements),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if props.prevent_destroy else None,
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
