"""Alerts: the topic's subscribers and publishers, MWAA's alarms on it, its log groups' retention (issue 14, review #23)."""

from __future__ import annotations

import json

import pytest

from environments import naming
from environments.schema import load_environments
from modules.aws.mwaa_log_groups import LOG_TYPES

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]


def _statements(policy: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(policy)["Statement"]}


@pytest.mark.parametrize("env_name", CLOUD)
def test_topic_subscribers_are_the_environment_files_emails(stacks, env_name):
    platform, env = stacks[f"{env_name}-aws-platform"], ENVIRONMENTS[env_name]
    subs = platform.resources("aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subs) == sorted(env.alerts.emails) and env.alerts.emails
    assert {s["protocol"] for s in subs} == {"email"}
    topic = platform.only("aws_sns_topic")
    assert all(s["topic_arn"].startswith("${aws_sns_topic.alerts_topic") for s in subs)
    assert topic["kms_master_key_id"].startswith("${aws_kms_key.")


@pytest.mark.parametrize("env_name", CLOUD)
def test_key_admits_cloudwatch_and_eventbridge_for_the_topic_only(stacks, env_name):
    """Review #23: a CloudWatch alarm or an EventBridge rule publishing to the encrypted topic failed on KMS."""
    platform, env = stacks[f"{env_name}-aws-platform"], ENVIRONMENTS[env_name]
    topic_arn = f"arn:aws:sns:{env.aws.region}:{env.aws.account_id}:{naming.aws_resource(env.prefix, env.name, 'alerts')}"
    topic = platform.only("aws_sns_topic")
    key_ref = topic["kms_master_key_id"].split(".")[1]
    policy = _statements(platform.resources("aws_kms_key")[key_ref]["policy"])
    grant = policy["AlertPublishersEncryptForTheTopic"]
    assert set(grant["Principal"]["Service"]) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert grant["Condition"]["StringEquals"] == {
        "aws:SourceAccount": [env.aws.account_id], "kms:EncryptionContext:aws:sns:topicArn": [topic_arn],
    }
    assert topic["name"] == topic_arn.rsplit(":", 1)[1]


@pytest.mark.parametrize("env_name", CLOUD)
def test_topic_policy_lets_the_services_publish_for_this_account(stacks, env_name):
    platform, env = stacks[f"{env_name}-aws-platform"], ENVIRONMENTS[env_name]
    documents = platform.doc["data"]["aws_iam_policy_document"]
    doc = next(v for k, v in documents.items() if k.startswith("alerts_policy-document"))
    services = next(s for s in doc["statement"] if s["sid"] == "ServicesPublishForThisAccount")
    assert services["actions"] == ["sns:Publish"]
    assert set(services["principals"][0]["identifiers"]) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert services["condition"][0]["values"] == [env.aws.account_id]
    assert platform.only("aws_sns_topic_policy")["policy"].startswith("${data.aws_iam_policy_document.alerts_policy")


@pytest.mark.parametrize("env_name", CLOUD)
def test_mwaa_alarms_watch_the_environment_and_notify_the_topic(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-aws-orchestration"]
    name = naming.mwaa_environment(env.prefix, env.name)
    alarms = {a["metric_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}
    assert set(alarms) == {"SchedulerHeartbeat", "TaskInstanceFailures", "QueuedTasks", "ImportErrors",
                           "DagCallbackExceptions"}
    for alarm in alarms.values():
        assert alarm["namespace"] == "AmazonMWAA"
        assert alarm["dimensions"]["Environment"] == name
        assert alarm["alarm_actions"] == alarm["ok_actions"] and len(alarm["alarm_actions"]) == 1
        assert "alerts" in alarm["alarm_actions"][0] or "remote_state" in alarm["alarm_actions"][0]
    # MWAA's dimension per metric (user guide, Airflow v3 metrics table).
    assert alarms["SchedulerHeartbeat"]["dimensions"]["Function"] == "Scheduler"
    assert alarms["SchedulerHeartbeat"]["treat_missing_data"] == "breaching"
    assert alarms["TaskInstanceFailures"]["dimensions"] == {"Environment": name, "DAG": "All", "Task": "All"}
    assert alarms["QueuedTasks"]["dimensions"]["Function"] == "Executor"
    assert alarms["ImportErrors"]["dimensions"]["Function"] == "DAG Processing"


@pytest.mark.parametrize("env_name", CLOUD)
def test_mwaa_log_groups_exist_with_retention_and_the_key(stacks, env_name):
    env, platform = ENVIRONMENTS[env_name], stacks[f"{env_name}-aws-platform"]
    name = naming.mwaa_environment(env.prefix, env.name)
    groups = {g["name"]: g for g in platform.resources("aws_cloudwatch_log_group").values()
              if g["name"].startswith("airflow-")}
    assert set(groups) == {f"airflow-{name}-{t}" for t in LOG_TYPES}
    for group in groups.values():
        assert group["retention_in_days"] == env.alerts.log_retention_days
        assert group["kms_key_id"].startswith("${aws_kms_key.")


def test_prod_keeps_logs_longer_than_dev():
    assert ENVIRONMENTS["prod"].alerts.log_retention_days > ENVIRONMENTS["dev"].alerts.log_retention_days


def test_local_has_no_mwaa_so_no_alarms_or_mwaa_log_groups(stacks):
    assert not stacks["local-aws-orchestration"].resources("aws_cloudwatch_metric_alarm")
    assert not [g for g in stacks["local-aws-platform"].resources("aws_cloudwatch_log_group").values()
                if g["name"].startswith("airflow-")]


def test_bad_alerts_section_is_one_clear_line_per_problem(tmp_path):
    from environments.schema import ENVIRONMENTS_DIR, ConfigError, load_environment

    text = (ENVIRONMENTS_DIR / "dev.yaml").read_text()
    text = text.replace("log_retention_days: 365", "log_retention_days: 30").replace(
        "  emails: [platform-alerts@cloudconductor.example]\n  log_retention_days",
        "  emails: [not-an-email]\n  log_retention_days")
    path = tmp_path / "dev.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_environment(path)
    lines = str(err.value).strip().splitlines()
    assert len(lines) == 2, lines
    assert any("alerts.log_retention_days" in line and "30" in line for line in lines)
    assert any("alerts.emails" in line and "not-an-email" in line for line in lines)


@pytest.mark.parametrize("env_name", CLOUD + ["local"])
def test_failed_crawlers_reach_the_topic_through_eventbridge(stacks, env_name):
    platform = stacks[f"{env_name}-aws-platform"]
    rule = platform.only("aws_cloudwatch_event_rule")
    pattern = json.loads(rule["event_pattern"])
    crawlers = {f"${{aws_glue_crawler.{name}.name}}" for name in platform.resources("aws_glue_crawler")}
    assert (pattern["source"], pattern["detail-type"], pattern["detail"]["state"]) == (
        ["aws.glue"], ["Glue Crawler State Change"], ["Failed"])
    assert set(pattern["detail"]["crawlerName"]) == crawlers and crawlers
    target = platform.only("aws_cloudwatch_event_target")
    assert target["arn"].startswith("${aws_sns_topic.alerts_topic") and target["rule"].endswith(".name}")
