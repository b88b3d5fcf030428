"""The MWAA execution role, derived from what the environment must touch and nothing else.

Grants: read its DAG bucket; read/write the domains' zone buckets and use the lake
key; write its own five log groups; the SQS queues MWAA creates for Celery (in an
AWS-owned account, hence the account wildcard in the ARN, as the MWAA guide
documents); publish its own metrics; start its domains' crawlers. Every action is
listed: no wildcards (policy_document refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules.aws.policy_document import Condition, Statement
from modules.aws.service_role import ServiceRole, ServiceRoleProps


@dataclass(frozen=True)
class MwaaExecutionRoleProps:
    name: str
    environment_name: str
    account_id: str
    region: str
    dag_bucket_arn: str
    kms_key_arn: str
    #: Buckets the DAGs read and write (every zone of every domain).
    data_bucket_arns: tuple[str, ...]
    #: Crawlers the DAGs may start.
    crawler_arns: tuple[str, ...]


class MwaaExecutionRole(Construct):
    def __init__(self, scope: Construct, id_: str, props: MwaaExecutionRoleProps):
        super().__init__(scope, id_)
        region_account = f"{props.region}:{props.account_id}"
        log_groups = f"arn:aws:logs:{region_account}:log-group:airflow-{props.environment_name}-*"
        statements = [
            Statement(
                "PublishOwnMetrics", ("airflow:PublishMetrics",),
                (f"arn:aws:airflow:{region_account}:environment/{props.environment_name}",),
            ),
            Statement(
                "ReadDagBucket",
                ("s3:GetObject", "s3:GetObjectVersion", "s3:GetBucketLocation", "s3:GetBucketVersioning",
                 "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration", "s3:ListBucket",
                 "s3:ListBucketVersions"),
                (props.dag_bucket_arn, f"{props.dag_bucket_arn}/*"),
            ),
            Statement(
                "WriteOwnLogs",
                ("logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents", "logs:GetLogEvents",
                 "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults", "logs:DescribeLogGroups"),
                (log_groups, f"{log_groups}:*"),
            ),
            Statement(
                "CeleryQueues",
                ("sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
                 "sqs:ReceiveMessage", "sqs:SendMessage"),
                (f"arn:aws:sqs:{props.region}:*:airflow-celery-*",),
            ),
            Statement(
                "CloudWatchMetrics", ("cloudwatch:PutMetricData",), ("*",),
                conditions=(Condition("StringEquals", "cloudwatch:namespace", ("AmazonMWAA",)),),
            ),
            Statement(
                "UseLakeKey",
                ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"),
                (props.kms_key_arn,),
            ),
        ]
        if props.data_bucket_arns:
            statements += [
                Statement("ListDomainBuckets", ("s3:GetBucketLocation", "s3:ListBucket"), props.data_bucket_arns),
                Statement(
                    "ReadWriteDomainObjects", ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
                    tuple(f"{arn}/*" for arn in props.data_bucket_arns),
                ),
            ]
        if props.crawler_arns:
            statements.append(Statement("StartDomainCrawlers", ("glue:StartCrawler", "glue:GetCrawler"), props.crawler_arns))
        self.role = ServiceRole(
            self, "role",
            ServiceRoleProps(
                name=props.name,
                services=("airflow.amazonaws.com", "airflow-env.amazonaws.com"),
                account_id=props.account_id,
                description=f"MWAA {props.environment_name} execution role",
                statements=tuple(statements),
            ),
        )
        self.arn = self.role.arn
        self.name = self.role.name
