"""Where the call-center pipelines read and write: connection ids, the Vault-held
variables, and the folder layout inside each store.

Bucket and container names are not hard-coded: they come from environments/naming.py
at deploy time and reach the DAGs as one JSON Airflow Variable (held in Vault like
every other secret-backend value), because the DAG bundle does not ship the IaC
code. Light on purpose (stdlib only): DAG files import it at parse time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

DOMAIN = "call_analytics"

# Connections, resolved by Airflow's secrets backend (VaultBackend) at
# <kv mount>/airflow/connections/<conn_id>.
AWS_CONN_ID = f"{DOMAIN}_aws"
GCP_CONN_ID = f"{DOMAIN}_gcp"
AZURE_CONN_ID = f"{DOMAIN}_azure"

# Variables, resolved at <kv mount>/airflow/variables/<key>. The key's name holds
# "secret" so Airflow's log masker also redacts its value should it ever be printed.
MASKING_KEY_VARIABLE = f"{DOMAIN}_masking_secret"  # hex, 16-64 bytes
LAYOUT_VARIABLE = f"{DOMAIN}_layout"  # JSON of Layout

DATASET = "call_records"
RAW_INCOMING = f"{DATASET}/incoming"  # producers drop JSON-lines exports here
RAW_PROCESSED = f"{DATASET}/_processed"  # one marker per ingested export
RAW_FAILED = f"{DATASET}/_failed"  # consecutive-failure count per export (no record content)
RAW_DEAD_LETTER = f"{DATASET}/dead_letter"  # exports given up on, each with a .reason.json
#: An export whose ingest fails this many runs in a row is moved to dead_letter/.
MAX_EXPORT_FAILURES = 3
EXPORT_SUFFIXES = (".jsonl", ".json", ".ndjson")
CALL_QUALITY = "sources/call_quality"  # Azure: one Parquet table per call_date
CUSTOMER_360 = "customer_360"  # GCS exports: one Parquet table per call_date
AZURE_CURATED = f"curated/{DATASET}"

#: At most this many exports / partitions / days per run, oldest first; the rest
#: waits for the next run. Well below Airflow's max_map_length (1024, [core]), so a
#: backlog never fails a run with "too many mapped task instances".
MAX_BATCH = 256
#: What a run could not take (beyond MAX_BATCH) it announces on its DAG's backlog asset,
#: extra {BACKLOG_KEY: [...]}; the DAG is scheduled on that asset too, so the next run
#: takes the rest and nothing is dropped (runtime.carry_over).
BACKLOG_KEY = "backlog"
DISTRIBUTE_BACKLOG_ASSET = f"{DOMAIN}.distribute_curated_backlog"
CUSTOMER_360_BACKLOG_ASSET = f"{DOMAIN}.customer_360_backlog"
#: The Airflow pool of the memory-heavy tasks of every DAG (one export's ingest, one
#: partition's copy, one customer_360 day): sized per MWAA environment class and
#: created in the metadata DB by scripts/airflow_pools.py (`make pools ENV=...`).
HEAVY_POOL = "callcenter_memory_heavy"
#: customer_360 re-builds a finished day when late curated data for it arrives
#: within this many days; older late data is re-built only via the `days` param.
LATENESS_DAYS = 3


@dataclass(frozen=True)
class Layout:
    """The stores of one environment's call_analytics domain (names from naming.py)."""

    raw_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    gcs_curated_bucket: str
    gcs_exports_bucket: str
    azure_container: str
    glue_crawler: str

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        missing = sorted(set(cls.__dataclass_fields__) - set(data))
        if missing:
            raise ValueError(f"{LAYOUT_VARIABLE} lacks {', '.join(missing)}")
        return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__})

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    # Paths are "<bucket>/<key>", the form pyarrow filesystems take.
    @property
    def incoming(self) -> str:
        return f"{self.raw_bucket}/{RAW_INCOMING}"

    @property
    def processed(self) -> str:
        return f"{self.raw_bucket}/{RAW_PROCESSED}"

    @property
    def failed(self) -> str:
        return f"{self.raw_bucket}/{RAW_FAILED}"

    @property
    def dead_letter(self) -> str:
        return f"{self.raw_bucket}/{RAW_DEAD_LETTER}"

    @property
    def curated(self) -> str:
        return f"{self.curated_bucket}/{DATASET}"

    @property
    def quarantine(self) -> str:
        return f"{self.quarantine_bucket}/{DATASET}"

    @property
    def gcs_curated(self) -> str:
        return f"{self.gcs_curated_bucket}/{DATASET}"

    @property
    def azure_curated(self) -> str:
        return f"{self.azure_container}/{AZURE_CURATED}"

    @property
    def call_quality(self) -> str:
        return f"{self.azure_container}/{CALL_QUALITY}"

    @property
    def customer_360(self) -> str:
        return f"{self.gcs_exports_bucket}/{CUSTOMER_360}"

#: The Airflow asset call_records_ingest updates and distribute_curated is scheduled on;
#: its events carry the partitions an ingest run touched (extra["partitions"]).
CURATED_ASSET = f"{DOMAIN}.curated_{DATASET}"
