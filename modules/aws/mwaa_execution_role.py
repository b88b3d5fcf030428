"""The MWAA execution role, derived from what the environment must touch and nothing else.

Grants: read its DAG bucket (and the lake key, which encrypts it); write its own
five log groups; the SQS queues MWAA creates for Celery (in an AWS-owned account,
hence the account wildcard in the ARN, as the MWAA guide documents); publish its
own metrics; publish failure alerts to the environment's topic; run Spark jobs on the
environment's EMR Serverless application with the domains' job roles; start its domains'
crawlers (a control-plane call: the crawler reads with its own role); and assume
the domains' pipeline roles, which is how a task logs in to Vault as its domain.
No data bucket: a task's data access is the domain's short-lived Vault
credentials (modules/aws/domain_pipeline_role.py). Every action is listed: no
wildcards (policy_document refuses them).
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
    #: Crawlers the DAGs may start.
    crawler_arns: tuple[str, ...]
    #: The domains' pipeline roles a task assumes to log in to Vault as its domain.
    domain_role_arns: tuple[str, ...] = ()
    #: The environment's alerts topic (failure notifications); None: no alerts grant.
    alerts_topic_arn: str | None = None
    #: EMR Serverless (Spark) the DAGs hand big runs to: the application, and the domains' job roles the
    #: deferrable operator passes to StartJobRun. None / (): no Spark grants.
    spark_application_arn: str | None = None
    spark_job_role_arns: tuple[str, ...] = ()


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
                 "logs:GetLogRecord", "logs:GetLogGroupFields", "logs:GetQueryResults"),
                (log_groups, f"{log_groups}:*"),
            ),
            # An account-level list call: a log-group ARN does not authorize it (IAM service authorization
            # reference for CloudWatch Logs; the MWAA execution-role sample grants it on "*" alone).
            Statement("ListLogGroups", ("logs:DescribeLogGroups",), ("*",)),
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
        if props.domain_role_arns:
            statements.append(Statement("AssumeDomainPipelineRoles", ("sts:AssumeRole",), props.domain_role_arns))
        if props.alerts_topic_arn is not None:
            statements.append(Statement("PublishAlerts", ("sns:Publish",), (props.alerts_topic_arn,)))
        if props.spark_application_arn is not None:
            # EmrServerlessStartJobOperator(deferrable=True): the task starts the (auto-starting) application
            # and the run, the triggerer polls GetJobRun, on_kill cancels (amazon provider operators/emr.py).
            statements.append(Statement(
                "RunSparkJobs",
                ("emr-serverless:GetApplication", "emr-serverless:StartApplication", "emr-serverless:StartJobRun",
                 "emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"),
                (props.spark_application_arn, f"{props.spark_application_arn}/jobruns/*"),
            ))
            statements.append(Statement(
                "PassSparkJobRoles", ("iam:PassRole",), props.spark_job_role_arns,
                conditions=(Condition("StringEquals", "iam:PassedToService", ("emr-serverless.amazonaws.com",)),),
            ))
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
