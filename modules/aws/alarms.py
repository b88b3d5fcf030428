"""Alerts raised to the alerts topic: CloudWatch alarms on an MWAA environment's Airflow metrics, and
an EventBridge rule for Glue crawlers that fail.

Metric names and dimensions are MWAA's (user guide, "Apache Airflow environment metrics in
CloudWatch", the Airflow v2/v3 tables): namespace ``AmazonMWAA``, every metric carrying
``Environment=<name>`` plus the dimension its table row names. Airflow 3 has no SLA misses
(``SLAMissed`` is listed for v2.4.3-v2.10.3 only); a DAG deadline is a callback, so a deadline
callback that fails is caught here as ``DagCallbackExceptions`` and the callback itself notifies
the topic (the MWAA role may publish to it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

NAMESPACE = "AmazonMWAA"


@dataclass(frozen=True)
class MetricAlarm:
    """One alarm: the metric, the extra dimension its MWAA table row names, and when it fires."""

    id: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    comparison: str
    threshold: float
    evaluation_periods: int
    #: A heartbeat that stops reporting is the failure itself: missing data breaches.
    missing_data: str
    description: str


def mwaa_alarms(queued_tasks_threshold: int) -> tuple[MetricAlarm, ...]:
    return (
        MetricAlarm(
            "scheduler-heartbeat", "SchedulerHeartbeat", (("Function", "Scheduler"),), "Sum",
            "LessThanThreshold", 1, 3, "breaching",
            "No scheduler heartbeat for 15 minutes: nothing is being scheduled.",
        ),
        MetricAlarm(
            "task-failures", "TaskInstanceFailures", (("DAG", "All"), ("Task", "All")), "Sum",
            "GreaterThanThreshold", 0, 1, "notBreaching",
            "A task instance failed (the Task log group names it: README, 'When something fails').",
        ),
        MetricAlarm(
            "queued-tasks", "QueuedTasks", (("Function", "Executor"),), "Maximum",
            "GreaterThanThreshold", queued_tasks_threshold, 3, "notBreaching",
            "Tasks have waited in the queue for 15 minutes: workers are saturated or not starting.",
        ),
        MetricAlarm(
            "import-errors", "ImportErrors", (("Function", "DAG Processing"),), "Maximum",
            "GreaterThanThreshold", 0, 1, "notBreaching",
            "A DAG file failed to import; its DAGs are not scheduled.",
        ),
        MetricAlarm(
            "dag-callback-exceptions", "DagCallbackExceptions", (("DAG", "All"),), "Sum",
            "GreaterThanThreshold", 0, 1, "notBreaching",
            "A DAG callback (failure or deadline notification) raised: that notification was lost.",
        ),
    )


@dataclass(frozen=True)
class MwaaAlarmsProps:
    #: Alarm names start with it (one per environment).
    name: str
    environment_name: str
    topic_arn: str
    #: QueuedTasks above this for three 5-minute periods alarms.
    queued_tasks_threshold: int = 20
    period_seconds: int = 300


class MwaaAlarms(Construct):
    def __init__(self, scope: Construct, id_: str, props: MwaaAlarmsProps):
        super().__init__(scope, id_)
        self.alarms = {
            alarm.id: CloudwatchMetricAlarm(
                self, alarm.id,
                alarm_name=f"{props.name}-{alarm.id}",
                alarm_description=alarm.description,
                namespace=NAMESPACE,
                metric_name=alarm.metric,
                dimensions={"Environment": props.environment_name, **dict(alarm.dimensions)},
                statistic=alarm.statistic,
                period=props.period_seconds,
                evaluation_periods=alarm.evaluation_periods,
                threshold=alarm.threshold,
                comparison_operator=alarm.comparison,
                treat_missing_data=alarm.missing_data,
                actions_enabled=True,
                # OK too, so the channel hears when it is over.
                alarm_actions=[props.topic_arn],
                ok_actions=[props.topic_arn],
            )
            for alarm in mwaa_alarms(props.queued_tasks_threshold)
        }


@dataclass(frozen=True)
class CrawlerFailureAlertProps:
    name: str
    crawler_names: tuple[str, ...]
    topic_arn: str


class CrawlerFailureAlert(Construct):
    """Glue emits "Glue Crawler State Change" events (source ``aws.glue``, ``detail.state`` Failed) to the
    default event bus; this rule sends those of the platform's crawlers to the topic. EventBridge may
    publish there through the topic policy and the key policy's topic-scoped statement (review #23)."""

    def __init__(self, scope: Construct, id_: str, props: CrawlerFailureAlertProps):
        super().__init__(scope, id_)
        self.rule = CloudwatchEventRule(
            self, "rule", name=props.name, description="A platform Glue crawler failed",
            event_pattern=json.dumps({
                "source": ["aws.glue"], "detail-type": ["Glue Crawler State Change"],
                "detail": {"state": ["Failed"], "crawlerName": list(props.crawler_names)},
            }, sort_keys=True),
        )
        CloudwatchEventTarget(self, "topic", rule=self.rule.name, target_id="alerts-topic", arn=props.topic_arn)
