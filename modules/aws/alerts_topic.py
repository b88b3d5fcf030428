"""An SNS topic for pipeline and platform alerts, encrypted with a customer-managed key."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct


@dataclass(frozen=True)
class AlertsTopicProps:
    name: str
    kms_key_arn: str


class AlertsTopic(Construct):
    def __init__(self, scope: Construct, id_: str, props: AlertsTopicProps):
        super().__init__(scope, id_)
        self.topic = SnsTopic(self, "topic", name=props.name, kms_master_key_id=props.kms_key_arn)
        self.arn = self.topic.arn
