"""An SNS topic for pipeline and platform alerts: encrypted with a customer-managed key, its
publishers (CloudWatch alarms, EventBridge rules) admitted by the topic policy, and its e-mail
subscribers from the environment file.

A topic encrypted with a customer-managed key only receives what a publisher may encrypt for
it: a service publisher (CloudWatch, EventBridge) needs ``kms:GenerateDataKey`` and
``kms:Decrypt`` in the key's own policy (SNS developer guide, "Enable compatibility between
event sources from AWS services and encrypted topics"). :func:`publisher_key_statements` gives
those statements, limited to this account and to this topic's encryption context
(``kms:EncryptionContext:aws:sns:topicArn``), so the key serves nothing else for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.aws.policy_document import (
    Condition,
    Statement,
    account_principal,
    policy_document,
    same_account,
    service_principal,
)

#: AWS services that publish alerts: CloudWatch alarms and EventBridge rules (e.g. MWAA or Glue state changes).
PUBLISHER_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com")


def topic_arn(name: str, account_id: str, region: str) -> str:
    """The topic's ARN, known before it exists (the key policy must name it before the topic is created)."""
    return f"arn:aws:sns:{region}:{account_id}:{name}"


def publisher_key_statements(name: str, account_id: str, region: str) -> tuple[Statement, ...]:
    """Key-policy statements letting the publisher services encrypt messages for this topic only."""
    return (
        Statement(
            "AlertPublishersEncryptForTheTopic",
            ("kms:Decrypt", "kms:GenerateDataKey"),
            ("*",),
            principals=service_principal(*PUBLISHER_SERVICES),
            conditions=(
                same_account(account_id),
                Condition("StringEquals", "kms:EncryptionContext:aws:sns:topicArn", (topic_arn(name, account_id, region),)),
            ),
        ),
    )


@dataclass(frozen=True)
class AlertsTopicProps:
    name: str
    kms_key_arn: str
    account_id: str
    #: E-mail subscribers (each confirms from the message SNS sends; unconfirmed ones get nothing).
    emails: tuple[str, ...] = ()


class AlertsTopic(Construct):
    def __init__(self, scope: Construct, id_: str, props: AlertsTopicProps):
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "topic", name=props.name, kms_master_key_id=props.kms_key_arn)
        self.arn = self.topic.arn
        # The topic policy replaces SNS's default one: the account keeps its IAM-delegated use, and the
        # publisher services may publish for this account's alarms and rules only (confused-deputy guard).
        SnsTopicPolicy(
            self, "policy",
            arn=self.topic.arn,
            policy=policy_document(self, "policy-document", [
                Statement(
                    "AccountPublishesAndReads",
                    ("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:Publish", "sns:Subscribe"),
                    (self.topic.arn,),
                    principals=account_principal(props.account_id),
                ),
                Statement(
                    "ServicesPublishForThisAccount",
                    ("sns:Publish",),
                    (self.topic.arn,),
                    principals=service_principal(*PUBLISHER_SERVICES),
                    conditions=(same_account(props.account_id),),
                ),
            ]),
        )
        self.subscriptions = [
            SnsTopicSubscription(self, f"email-{index}", topic_arn=self.topic.arn, protocol="email", endpoint=email)
            for index, email in enumerate(props.emails)
        ]
