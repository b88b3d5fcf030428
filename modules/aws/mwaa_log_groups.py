"""The CloudWatch log groups an MWAA environment writes to, created before MWAA would create them.

MWAA names them ``airflow-<environment name>-<Type>`` (user guide, "Accessing Airflow logs in
Amazon CloudWatch") and, creating them itself, sets no retention (logs kept forever) and no
key. Created here first (MWAA then writes to the existing groups: terraform-provider-aws#46161, where
the provider declined a log-group argument for that reason), they get the environment's retention
and the customer-managed key (the key's policy must admit ``logs.<region>``: allow_cloudwatch_logs).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

#: MWAA's five log types, as its log group names spell them.
LOG_TYPES = ("DAGProcessing", "Scheduler", "Task", "WebServer", "Worker")


def log_group_name(environment_name: str, log_type: str) -> str:
    return f"airflow-{environment_name}-{log_type}"


@dataclass(frozen=True)
class MwaaLogGroupsProps:
    environment_name: str
    retention_days: int
    kms_key_arn: str


class MwaaLogGroups(Construct):
    def __init__(self, scope: Construct, id_: str, props: MwaaLogGroupsProps):
        super().__init__(scope, id_)
        self.groups = {
            log_type: CloudwatchLogGroup(
                self, log_type.lower(),
                name=log_group_name(props.environment_name, log_type),
                retention_in_days=props.retention_days,
                kms_key_id=props.kms_key_arn,
            )
            for log_type in LOG_TYPES
        }
