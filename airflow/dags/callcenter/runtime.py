"""What the DAGs share: default task arguments, and what tasks read from Airflow
at run time (connections and variables, both served by the Vault secrets backend).

Only `datetime`/`os` at import time; everything else is imported inside the
functions, which run in tasks, so parsing a DAG file stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from callcenter.layout import (
    AWS_CONN_ID,
    AZURE_CONN_ID,
    DOMAIN,
    GCP_CONN_ID,
    LAYOUT_VARIABLE,
    Layout,
)

if TYPE_CHECKING:
    import pyarrow.fs as pafs

T = TypeVar("T")

OWNER = "call-analytics-team"  # = the domain's owner in environments/*.yaml
TAGS = ["call_analytics", "pii-masked", "callcenter"]

# First retry after RETRY_DELAY, then doubling, capped at MAX_RETRY_DELAY: rides
# out a store's brief outage or throttling without hammering it. The base delay
# can be shortened for local runs (the e2e outage test); production keeps 1 min.
RETRY_DELAY = timedelta(seconds=float(os.environ.get("CALLCENTER_RETRY_DELAY_SECONDS", "60")))
MAX_RETRY_DELAY = timedelta(minutes=15)

DEFAULT_ARGS = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": MAX_RETRY_DELAY,
    "execution_timeout": timedelta(hours=1),
}

#: What every call-center DAG shares; each DAG adds its own id, schedule, tags and params.
DAG_ARGS = {
    "start_date": datetime(2026, 11, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,  # two runs would race for the same exports / partitions
    "default_args": DEFAULT_ARGS,
}


#: Which cloud a connection id names; a task's store is built from its domain's Vault credentials.
_CLOUD_OF = {AWS_CONN_ID: "aws", GCP_CONN_ID: "gcp", AZURE_CONN_ID: "azure"}


def credential_settings(domain: str = DOMAIN):  # -> callcenter.credentials.Settings, imported lazily
    from airflow.sdk import Variable

    from callcenter import credentials

    return credentials.Settings.from_json(Variable.get(credentials.settings_variable(domain)))


def filesystem(conn_id: str, domain: str = DOMAIN) -> pafs.FileSystem:
    """The store behind `conn_id`, with `domain`'s short-lived credentials (callcenter.credentials)."""
    from callcenter import credentials

    return credentials.filesystem(credential_settings(domain), _CLOUD_OF[conn_id])


def layout() -> Layout:
    from airflow.sdk import Variable

    return Layout.from_json(Variable.get(LAYOUT_VARIABLE))


def masking_key(domain: str = DOMAIN) -> bytes:
    """The domain's keyed-hash key, read as the domain from its own Vault subtree straight
    into memory: never returned from a task (XCom), never logged."""
    from callcenter import credentials

    return credentials.masking_key(credential_settings(domain))


def collected(values: Sequence[T]) -> list[T]:
    """All results of a mapped task. Indexing up to len() instead of iterating: the
    lazy XCom sequence's iterator probes one past the end, which Airflow logs as an error."""
    return [values[i] for i in range(len(values))]


def copy_partition_to(cloud: str, partition: str) -> dict:
    """Copy one curated partition from S3 to `cloud` ("gcs" or "azure"), verified."""
    from callcenter import tasks

    layout_ = layout()
    conn_id, root = {"gcs": (GCP_CONN_ID, layout_.gcs_curated), "azure": (AZURE_CONN_ID, layout_.azure_curated)}[cloud]
    result = tasks.copy_partition(filesystem(AWS_CONN_ID), layout_.curated, partition, filesystem(conn_id), root)
    return {"cloud": cloud, **result}
