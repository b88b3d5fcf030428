"""What the DAGs share: default task arguments, and what tasks read from Airflow
at run time (connections and variables, both served by the Vault secrets backend).

Only `datetime`/`os` at import time; everything else is imported inside the
functions, which run in tasks, so parsing a DAG file stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from callcenter.alerts import notify_failure
from callcenter.layout import BACKLOG_KEY, LATENESS_DAYS, MAX_BATCH, Layout, Names

if TYPE_CHECKING:
    import pyarrow.fs as pafs

T = TypeVar("T")

# First retry after RETRY_DELAY, then doubling, capped at MAX_RETRY_DELAY: rides
# out a store's brief outage or throttling without hammering it. The base delay
# can be shortened for local runs (the e2e outage test); production keeps 1 min.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("CALLCENTER_RETRY_DELAY_SECONDS", "60")))
MAX_RETRY_DELAY = timedelta(minutes=15)


def default_args(owner: str) -> dict[str, Any]:
    """Every task's arguments; `owner` is the domain's owner in the environment file."""
    return {
        "owner": owner,
        "retries": 3,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": timedelta(hours=1),
        # Called once a task has failed for good (after its last retry): the alerts topic (callcenter.alerts).
        "on_failure_callback": notify_failure,
    }


def dag_args(owner: str) -> dict[str, Any]:
    """What every call-center DAG shares; each DAG adds its own id, schedule, tags and params."""
    return {
        "start_date": datetime(2026, 11, 1, tzinfo=UTC),
        "catchup": False,
        "max_active_runs": 1,  # two runs would race for the same exports / partitions
        "default_args": default_args(owner),
        "on_failure_callback": notify_failure,  # a failed DAG run, too
    }


#: dag_args for DAGs that belong to no domain (test probes); Airflow's own default owner.
DAG_ARGS = dag_args("airflow")


def tags(domain: str, classification: str, kind: str) -> list[str]:
    """A domain DAG's tags: the domain, what its data is, the platform, and the DAG's kind."""
    return [domain, "pii-masked" if classification == "pii" else classification, "callcenter", kind]


CLOUDS = ("aws", "gcp", "azure")


def credential_settings(domain: str):  # -> callcenter.credentials.Settings, imported lazily
    from airflow.sdk import Variable

    from callcenter import credentials

    return credentials.Settings.from_json(Variable.get(credentials.settings_variable(domain)))


def filesystem(domain: str, cloud: str) -> pafs.FileSystem:
    """`domain`'s store on `cloud` ("aws", "gcp" or "azure") with the domain's own short-lived
    credentials (callcenter.credentials): a task never holds another domain's."""
    from callcenter import credentials

    if cloud not in CLOUDS:
        raise ValueError(f"cloud {cloud!r}: one of {', '.join(CLOUDS)}")
    return credentials.filesystem(credential_settings(domain), cloud)


def layout(names: Names) -> Layout:
    from airflow.sdk import Variable

    return Layout.from_json(Variable.get(names.layout_variable), dataset=names.dataset, where=names.layout_variable)


def masking_key(domain: str) -> bytes:
    """The domain's keyed-hash key, read as the domain from its own Vault subtree straight
    into memory: never returned from a task (XCom), never logged."""
    from callcenter import credentials

    return credentials.masking_key(credential_settings(domain))


def collected(values: Sequence[T]) -> list[T]:
    """All results of a mapped task. Indexing up to len() instead of iterating: the
    lazy XCom sequence's iterator probes one past the end, which Airflow logs as an error.

    A failed map index stored no XCom, so it is simply absent (Airflow 3.3.1
    sdk/execution_time/lazy_sequence.py: len() is the GetXComCount of stored rows and
    items are fetched by offset among them); None results are dropped too."""
    return [v for v in (values[i] for i in range(len(values))) if v is not None]


def split_batch(items: Iterable[str], what: str, limit: int = MAX_BATCH) -> tuple[list[str], list[str]]:
    """(the oldest `limit` items, the rest): sorted order is age order for
    <column>=YYYY-MM-DD / YYYY-MM-DD names. The rest is carried over (carry_over), never dropped."""
    ordered = sorted(set(items))
    if len(ordered) > limit:
        print(f"{len(ordered)} {what} waiting; this run takes the oldest {limit}, the next runs the rest")
    return ordered[:limit], ordered[limit:]


def batch(items: Iterable[str], what: str, limit: int = MAX_BATCH) -> list[str]:
    """The oldest `limit` items of split_batch."""
    return split_batch(items, what, limit)[0]


#: The XCom key of what a picking task could not take (its return value is what is mapped over).
REST_KEY = "rest"


def take_batch(items: Iterable[str], what: str, ti: Any) -> list[str]:
    """split_batch for a picking task: returns the batch to map over and pushes the rest
    under REST_KEY (Airflow maps only over a return value, never over a custom key)."""
    take, rest = split_batch(items, what)
    ti.xcom_push(key=REST_KEY, value=rest)
    return take


def carry_over_task(backlog_asset: Any) -> Any:
    """The `carry_over` task of a DAG scheduled on `backlog_asset`: call it on the picking
    task's output[REST_KEY]."""
    from airflow.sdk import task

    @task(task_id="carry_over", outlets=[backlog_asset])
    def _carry_over(rest: list[str], outlet_events=None) -> list[str]:
        return carry_over(rest, outlet_events, backlog_asset)

    return _carry_over


def carry_over(rest: Sequence[str], outlet_events: Any, backlog_asset: Any) -> list[str]:
    """Announce `rest` on the DAG's own backlog asset (extra {BACKLOG_KEY: rest}); the DAG
    is scheduled on it, so the next run (max_active_runs=1: after this one) takes it up.
    Nothing left: skipped, so no event and no empty follow-up run."""
    if not rest:
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException("no backlog")
    outlet_events[backlog_asset].extra = {BACKLOG_KEY: list(rest)}
    print(f"{len(rest)} item(s) carried over to the next run")
    return list(rest)


def event_partitions(triggering_asset_events: Mapping[Any, Iterable[Any]] | None,
                     key: str = "partitions") -> set[str]:
    """The values under `key` in the triggering asset events' extra: the <partition column>=
    partitions an ingest touched, or (key=BACKLOG_KEY) what an earlier run carried over."""
    out: set[str] = set()
    for events in (triggering_asset_events or {}).values():
        for event in events:
            out.update((getattr(event, "extra", None) or {}).get(key, []))
    return out


def partitions_wanted(params: Mapping[str, Any] | None, triggering_asset_events: Mapping[Any, Iterable[Any]] | None,
                      all_partitions: Callable[[], Iterable[str]]) -> set[str]:
    """A distribute DAG's partitions: every curated one only on an explicit
    full_resync; else the `partitions` param; else those the events name, including
    an earlier run's backlog. An event without partitions (or a manual run without
    params) copies nothing."""
    params = params or {}
    if params.get("full_resync"):
        return set(all_partitions())
    return (set(params.get("partitions") or [])
            or event_partitions(triggering_asset_events) | event_partitions(triggering_asset_events, BACKLOG_KEY))


def late_days(triggering_asset_events: Mapping[Any, Iterable[Any]] | None, today: date,
              lateness_days: int = LATENESS_DAYS) -> list[str]:
    """Days an asset-triggered customer_360 run re-builds: the partitions named in the
    events that are finished (before `today`, UTC) and at most `lateness_days` old.
    Today is built by tomorrow's scheduled run; older days only on request (`days`)."""
    days = []
    for partition in event_partitions(triggering_asset_events):
        try:
            day = date.fromisoformat(partition.removeprefix("call_date="))
        except ValueError:
            continue
        if today - timedelta(days=lateness_days) <= day < today:
            days.append(day.isoformat())
    return sorted(days)  # the caller batches them (split_batch) and carries the rest over


#: Errors a retry cannot fix (bad data or a broken contract): the task fails at once.
def _deterministic_errors() -> tuple[type[BaseException], ...]:
    from callcenter.customer_360 import SchemaError
    from callcenter.ingest import ReconciliationError

    return (ReconciliationError, SchemaError)


@contextmanager
def fail_fast() -> Iterator[None]:
    """Turn a deterministic error into AirflowFailException, which Airflow does not
    retry (the retries stay for outages and throttling)."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except _deterministic_errors() as exc:
        raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc


def copy_partition_to(names: Names, cloud: str, partition: str) -> dict:
    """Copy one curated partition of `names.domain` from S3 to `cloud` ("gcs" or "azure"), verified."""
    from callcenter import tasks

    layout_ = layout(names)
    target, root = {"gcs": ("gcp", layout_.gcs_curated), "azure": ("azure", layout_.azure_curated)}[cloud]
    result = tasks.copy_partition(filesystem(names.domain, "aws"), layout_.curated, partition,
                                  filesystem(names.domain, target), root, domain=names.domain)
    return {"cloud": cloud, **result}


def verify_copies(gcs: Sequence[dict], azure: Sequence[dict]) -> dict:
    """A distribute run's verdict over every copied partition: rows read back from each copy's
    Parquet footers after the commit and the prune must equal the source's, and every file must
    be verified. Deterministic, so a mismatch fails at once (a new run re-copies; no retry)."""
    from airflow.sdk.exceptions import AirflowFailException

    summary: dict = {}
    for result in [*collected(gcs), *collected(azure)]:
        where = f"{result['cloud']} {result['partition']}"
        if result["rows"] != result["source_rows"]:
            raise AirflowFailException(f"{where}: {result['rows']} rows in the copy != "
                                       f"{result['source_rows']} in the source")
        if result["verified"] != result["files"]:
            raise AirflowFailException(f"{where}: {result['verified']} of {result['files']} files verified")
        cloud = summary.setdefault(result["cloud"], {"partitions": 0, "files": 0, "bytes": 0, "verified": 0,
                                                     "rows": 0, "source_rows": 0, "pruned": 0})
        for k in ("files", "bytes", "verified", "rows", "source_rows", "pruned"):
            cloud[k] += result[k]
        cloud["partitions"] += 1
    print(f"copied and verified: {summary}")
    return summary
