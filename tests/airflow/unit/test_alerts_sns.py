"""Failure alerts reach the SNS alerts topic, checked end to end: real Airflow (dag.test)
runs a DAG built with the call-center DAG_ARGS whose task fails on every try, against a
real moto server whose topic has an SQS queue subscribed; the queue's messages are read
back. One alert per task after its LAST retry, one per failed DAG run; no message text
(which may quote a record) and no PII in either."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow_probe import airflow_home, moto, run_script, write_dag  # noqa: F401 (moto: a fixture)

REGION = "eu-west-1"
PII = ("jane.doe@example.com", "555", "Jane")

PROBE_DAG = '''
from airflow.sdk import dag, task
from callcenter.runtime import DAG_ARGS


@dag(dag_id="probe_alerts", schedule=None, **DAG_ARGS)
def probe_alerts():
    @task
    def explode():
        raise ValueError("record of Jane: jane.doe@example.com, +1 (555) 123-4567")

    explode()


probe_alerts()
'''

RUN = '''
import json, sys
from airflow.dag_processing.dagbag import DagBag

run = DagBag(dag_folder=sys.argv[1]).dags["probe_alerts"].test()
print("RESULT " + json.dumps({"state": str(run.state)}))
'''


@pytest.fixture
def topic(moto, monkeypatch):  # noqa: F811 (the imported fixture)
    """(topic ARN, queue URL, sqs client): a fresh topic with a raw-delivery SQS subscriber."""
    for name, value in {"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto",
                        "AWS_ENDPOINT_URL": moto.url, "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    arn = sns.create_topic(Name="cc-dev-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="alerts-reader")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    yield arn, queue, sqs
    sns.delete_topic(TopicArn=arn)
    sqs.delete_queue(QueueUrl=queue)


def _messages(sqs, queue: str) -> list[str]:
    out: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return out
        out += [m["Body"] for m in got]


def test_a_failed_task_and_its_failed_run_each_alert_once_without_pii(tmp_path, topic):
    arn, queue, sqs = topic
    env = airflow_home(tmp_path, write_dag(tmp_path, "probe_alerts", PROBE_DAG),
                       AIRFLOW__CALLCENTER__ALERTS_TOPIC_ARN=arn, CALLCENTER_RETRY_DELAY_SECONDS="0.2")
    result = run_script(env, RUN, str(tmp_path / "dags"))
    assert result["state"] == "failed"

    bodies = _messages(sqs, queue)
    for body in bodies:
        assert not any(p in body for p in PII), body
    alerts = {m["event"]: m for m in map(json.loads, bodies)}
    assert sorted(alerts) == ["dag_run_failed", "task_failed"], bodies  # no alert per retry: 2 in all
    assert len(bodies) == 2
    task = alerts["task_failed"]
    assert (task["dag_id"], task["task_id"], task["exception"]) == ("probe_alerts", "explode", "ValueError")
    assert task["try_number"] == 4  # retries=3 (DEFAULT_ARGS): the alert comes after the last one
    assert task["run_id"] and "logical_date" in task
    assert "/dags/probe_alerts/runs/" in task["log_url"] and "/tasks/explode" in task["log_url"]
    run = alerts["dag_run_failed"]
    assert (run["dag_id"], run["run_id"], run["reason"]) == ("probe_alerts", task["run_id"], "task_failure")


def test_an_alert_that_cannot_be_sent_never_raises(topic, monkeypatch, capsys):
    from callcenter import alerts

    arn, _, _ = topic
    monkeypatch.setenv(alerts.TOPIC_ENV, arn.rsplit(":", 1)[0] + ":no-such-topic")
    alerts.notify_failure({"exception": OSError("jane.doe@example.com"), "run_id": "r1"})
    out = capsys.readouterr().out
    assert "not published: NotFoundException" in out and "jane" not in out


def test_without_a_topic_nothing_is_sent(monkeypatch, capsys):
    from callcenter import alerts

    monkeypatch.delenv(alerts.TOPIC_ENV, raising=False)
    alerts.notify_failure({"run_id": "r1"})
    assert "no alerts topic configured" in capsys.readouterr().out


def test_the_subject_fits_sns_limits():
    from callcenter import alerts

    subject = alerts._subject({"event": "task_failed", "dag_id": "d" * 80, "task_id": "tâsk_" + "t" * 80})
    assert len(subject) <= alerts.SUBJECT_MAX and subject.isascii()


def test_every_call_center_dag_and_task_alerts_on_failure():
    from airflow.dag_processing.dagbag import DagBag
    from airflow_probe import DAGS
    from callcenter.alerts import notify_failure

    bag = DagBag(dag_folder=str(DAGS))
    assert {"call_records_ingest", "call_records_distribute", "customer_360", "agent_events_ingest"} <= set(bag.dags)
    for dag in bag.dags.values():
        assert dag.on_failure_callback is notify_failure, dag.dag_id
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            assert notify_failure in (callbacks if isinstance(callbacks, list) else [callbacks]), task.task_id


def test_every_call_center_dag_alerts_when_a_run_misses_its_deadline():
    """Airflow 3 has no SLA misses: each DAG carries a DeadlineAlert (queued-at + interval) whose
    callback runs in the triggerer and publishes to the alerts topic."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineReference
    from airflow_probe import DAGS
    from callcenter.alerts import notify_deadline_missed

    bag = DagBag(dag_folder=str(DAGS))
    intervals = {}
    for dag in bag.dags.values():
        alerts = dag.deadline if isinstance(dag.deadline, list) else [dag.deadline]
        assert len(alerts) == 1, dag.dag_id
        alert = alerts[0]
        assert isinstance(alert.reference, type(DeadlineReference.DAGRUN_QUEUED_AT)), dag.dag_id
        assert isinstance(alert.callback, AsyncCallback), dag.dag_id
        assert alert.callback.path == f"{notify_deadline_missed.__module__}.{notify_deadline_missed.__name__}"
        intervals[dag.dag_id] = alert.interval.total_seconds() / 60
    # every domain's ingest and distribute: 120 min; customer_360 (a Spark backfill may take 6 h): 480
    assert intervals == {d: 480 if d == "customer_360" else 120 for d in bag.dags} and "customer_360" in intervals


def test_a_missed_deadline_reaches_the_topic_without_the_runs_conf(topic, monkeypatch):
    """The callback's context as Airflow 3.3's Deadline.handle_miss builds it (the run as the REST API
    shows it, conf included); the alert keeps ids and times only."""
    import asyncio

    from callcenter import alerts

    arn, queue, sqs = topic
    monkeypatch.setenv(alerts.TOPIC_ENV, arn)
    context = {
        "dag_run": {"dag_id": "call_records_ingest", "dag_run_id": "scheduled__2026-12-04T05:00:00+00:00",
                    "state": "running", "logical_date": "2026-12-04T05:00:00Z", "queued_at": "2026-12-04T06:00:01Z",
                    "conf": {"note": "jane.doe@example.com +1 (555) 123-4567"}},
        "deadline": {"id": "0193", "deadline_time": "2026-12-04T08:00:01Z"},
    }
    asyncio.run(alerts.notify_deadline_missed(context=context))
    (body,) = _messages(sqs, queue)
    assert not any(p in body for p in PII), body
    message = json.loads(body)
    assert (message["event"], message["dag_id"], message["state"]) == ("deadline_missed", "call_records_ingest", "running")
    assert message["run_id"].startswith("scheduled__") and message["deadline_time"] == "2026-12-04T08:00:01Z"
    assert "conf" not in message
