"""Failure alerts to the environment's SNS alerts topic: a task that failed for good
(after its last retry: Airflow calls on_failure_callback only then, on_retry_callback
before) and a DAG run that failed.

The topic ARN reaches the workers as the MWAA configuration option
`callcenter.alerts_topic_arn` (stacks/mwaa_options.py), which MWAA writes as the
environment variable below. Published with the worker's own credentials (the MWAA
execution role, which holds sns:Publish on that topic and the key's GenerateDataKey).

The message names the run and the task, the try, the logical date, the exception
CLASS and a log link: never the exception's message, params or conf, which may
quote a record (PII). Stdlib only at import time: DAG files import it at parse time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

#: MWAA writes configuration option <section>.<key> as AIRFLOW__<SECTION>__<KEY> (MWAA user guide,
#: "Apache Airflow configuration options ... are written as environment variables").
TOPIC_ENV = "AIRFLOW__CALLCENTER__ALERTS_TOPIC_ARN"
#: SNS Publish: Subject is ASCII, at most 100 characters (SNS API reference, Publish).
SUBJECT_MAX = 100


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, "isoformat") else (None if value is None else str(value))


def failure_message(context: Mapping[str, Any]) -> dict[str, Any]:
    """What an alert says, from a task's or a DAG run's failure-callback context."""
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    exception = context.get("exception")
    task_callback = context.get("reason") is None and ti is not None
    return {
        "event": "task_failed" if task_callback else "dag_run_failed",
        "dag_id": getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None) or context.get("run_id") or getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", None),
        "try_number": getattr(ti, "try_number", None),
        "logical_date": _iso(context.get("logical_date") or getattr(dag_run, "logical_date", None)),
        # The class only: str(exception) may quote a record.
        "exception": type(exception).__name__ if isinstance(exception, BaseException) else None,
        # Airflow's own reason string for a DAG run ("task_failure", "timed_out"), never user text.
        "reason": context.get("reason"),
        "log_url": getattr(ti, "log_url", None),
    }


def deadline_message(context: Mapping[str, Any]) -> dict[str, Any]:
    """What a missed-deadline alert says, from the context Airflow 3.3 gives a DeadlineAlert callback
    (models/deadline.py handle_miss: the run as the REST API shows it, and the deadline). The run's
    conf is left out: it is user input."""
    run = context.get("dag_run") or {}
    deadline = context.get("deadline") or {}
    return {
        "event": "deadline_missed",
        "dag_id": run.get("dag_id"),
        "run_id": run.get("dag_run_id") or run.get("run_id"),
        "task_id": None,
        "state": run.get("state"),
        "logical_date": _iso(run.get("logical_date")),
        "queued_at": _iso(run.get("queued_at")),
        "deadline_time": _iso(deadline.get("deadline_time")),
    }


_WHAT = {"task_failed": "task failed", "dag_run_failed": "DAG run failed", "deadline_missed": "DAG run missed its deadline"}


def _subject(message: Mapping[str, Any]) -> str:
    what = _WHAT[message["event"]]
    target = ".".join(str(x) for x in (message["dag_id"], message["task_id"]) if x)
    subject = f"[airflow] {what}: {target}".encode("ascii", "replace").decode("ascii")
    return subject[:SUBJECT_MAX]


def publish(message: Mapping[str, Any], topic_arn: str) -> str:
    """Publish one alert; returns the SNS message id. The region is the topic's own
    (arn:aws:sns:<region>:<account>:<name>)."""
    import boto3

    region = topic_arn.split(":")[3]
    client = boto3.client("sns", region_name=region)
    return client.publish(TopicArn=topic_arn, Subject=_subject(message),
                          Message=json.dumps(message, sort_keys=True, default=str))["MessageId"]


def _send(message: Mapping[str, Any]) -> None:
    """Publish to the configured topic. An alert that cannot be sent is logged (class only)
    and never raises: it must not mask the failure itself."""
    topic_arn = os.environ.get(TOPIC_ENV, "").strip()
    if not topic_arn:
        print(f"no alerts topic configured ({TOPIC_ENV} unset): {message['event']} not published")
        return
    try:
        message_id = publish(message, topic_arn)
    except Exception as exc:  # noqa: BLE001 - the callback must not fail the run's bookkeeping
        print(f"{message['event']} alert for {message['dag_id']} not published: {type(exc).__name__}")
        return
    print(f"{message['event']} alert published to the alerts topic (message {message_id})")


def notify_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback for tasks and DAG runs."""
    _send(failure_message(context))


async def notify_deadline_missed(context: Mapping[str, Any] | None = None, **_: Any) -> None:
    """The DAGs' DeadlineAlert callback (an AsyncCallback: Airflow runs it in the triggerer, which
    MWAA runs too); boto3 is blocking, so the publish runs in a thread."""
    import asyncio

    await asyncio.to_thread(_send, deadline_message(context or {}))


def deadline(minutes: int) -> Any:
    """A DAG's `deadline`: alert when a run is still unfinished `minutes` after it was queued (Airflow 3
    replaced SLAs with deadline alerts; a miss does not stop the run). Imported at parse time by DAG files."""
    from datetime import timedelta

    from airflow.sdk.definitions.callback import AsyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=timedelta(minutes=minutes),
                         callback=AsyncCallback(notify_deadline_missed), name=f"unfinished after {minutes} min")
