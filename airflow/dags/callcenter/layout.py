"""Where each domain's pipelines read and write: connection ids, the Vault-held
variables, assets and DAG ids (Names, all functions of the domain and its contract's
data set), and the folder layout inside each store (Layout).

Bucket and container names are not hard-coded: they come from environments/naming.py
at deploy time and reach the DAGs as one JSON Airflow Variable (held in Vault like
every other secret-backend value), because the DAG bundle does not ship the IaC
code. Light on purpose (stdlib only): DAG files import it at parse time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

#: Default data set of Layout for callers written before domains were data (call_analytics's
#: contract names it too); the DAGs always pass their contract's.
DEFAULT_DATASET = "call_records"
#: An export whose ingest fails this many runs in a row is moved to dead_letter/.
MAX_EXPORT_FAILURES = 3
#: JSON-lines export suffixes (callcenter.domain.SUFFIX_FORMATS maps every suffix to its format).
EXPORT_SUFFIXES = (".jsonl", ".json", ".ndjson")
CALL_QUALITY = "sources/call_quality"  # Azure: one Parquet table per call_date (call_analytics)
CUSTOMER_360 = "customer_360"  # GCS exports: one Parquet table per call_date (call_analytics)
#: customer_360 joins this domain's curated calls; its DAG exists only where the domain is configured.
CUSTOMER_360_DOMAIN = "call_analytics"

#: At most this many exports / partitions / days per run, oldest first; the rest
#: waits for the next run. Well below Airflow's max_map_length (1024, [core]), so a
#: backlog never fails a run with "too many mapped task instances".
MAX_BATCH = 256
#: What a run could not take (beyond MAX_BATCH) it announces on its DAG's backlog asset,
#: extra {BACKLOG_KEY: [...]}; the DAG is scheduled on that asset too, so the next run
#: takes the rest and nothing is dropped (runtime.carry_over).
BACKLOG_KEY = "backlog"
#: The Airflow pool of the memory-heavy tasks of every DAG of every domain (one export's
#: ingest, one partition's copy, one customer_360 day): sized per MWAA environment class and
#: created in the metadata DB by scripts/airflow_pools.py (`make pools ENV=...`).
HEAVY_POOL = "callcenter_memory_heavy"
#: customer_360 re-builds a finished day when late curated data for it arrives
#: within this many days; older late data is re-built only via the `days` param.
LATENESS_DAYS = 3


@dataclass(frozen=True)
class Names:
    """What Airflow calls one domain's things: connections (resolved by the VaultBackend at
    <kv mount>/airflow/connections/<conn_id>), Variables (<kv mount>/airflow/variables/<key>),
    assets and DAG ids. All derived from the domain and its contract's data set."""

    domain: str
    dataset: str = DEFAULT_DATASET

    def conn_id(self, cloud: str) -> str:
        """`<domain>_aws|_gcp|_azure`; only the AWS one is written (region only: crawler, EMR hooks)."""
        return f"{self.domain}_{cloud}"

    @property
    def layout_variable(self) -> str:
        return f"{self.domain}_layout"  # JSON of Layout

    @property
    def masking_key_variable(self) -> str:
        # Where seeds before per-domain Vault subtrees kept the key; "secret" in the name makes
        # Airflow's log masker redact its value should it ever be printed.
        return f"{self.domain}_masking_secret"

    @property
    def spark_variable(self) -> str:
        return f"{self.domain}_spark"  # callcenter.engine_choice.SparkSettings

    @property
    def curated_asset(self) -> str:
        """Updated by the ingest DAG (extra: the partitions it touched); schedules distribute."""
        return f"{self.domain}.curated_{self.dataset}"

    @property
    def distribute_backlog_asset(self) -> str:
        return f"{self.domain}.{self.distribute_dag_id}_backlog"

    @property
    def ingest_dag_id(self) -> str:
        return f"{self.dataset}_ingest"

    @property
    def distribute_dag_id(self) -> str:
        return f"{self.dataset}_distribute"


@dataclass(frozen=True)
class Layout:
    """The stores of one environment's domain (names from naming.py) and the contract's data set
    (the folder under each zone)."""

    raw_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    gcs_curated_bucket: str
    gcs_exports_bucket: str
    azure_container: str
    glue_crawler: str
    dataset: str = DEFAULT_DATASET

    @classmethod
    def from_json(cls, text: str, dataset: str | None = None, where: str = "layout") -> Layout:
        """`dataset` (the contract's) wins over one stored in the JSON (a Spark job gets it there)."""
        data = json.loads(text)
        stores = [k for k in cls.__dataclass_fields__ if k != "dataset"]
        missing = sorted(set(stores) - set(data))
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}")
        return cls(**{k: str(data[k]) for k in stores}, dataset=dataset or str(data.get("dataset", DEFAULT_DATASET)))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    # Paths are "<bucket>/<key>", the form pyarrow filesystems take.
    @property
    def incoming(self) -> str:
        return f"{self.raw_bucket}/{self.dataset}/incoming"  # producers drop exports here

    @property
    def processed(self) -> str:
        return f"{self.raw_bucket}/{self.dataset}/_processed"  # one marker per ingested export

    @property
    def failed(self) -> str:
        return f"{self.raw_bucket}/{self.dataset}/_failed"  # failure count per export, no content

    @property
    def dead_letter(self) -> str:
        return f"{self.raw_bucket}/{self.dataset}/dead_letter"  # given up on, with .reason.json

    @property
    def curated(self) -> str:
        return f"{self.curated_bucket}/{self.dataset}"

    @property
    def quarantine(self) -> str:
        return f"{self.quarantine_bucket}/{self.dataset}"

    @property
    def gcs_curated(self) -> str:
        return f"{self.gcs_curated_bucket}/{self.dataset}"

    @property
    def azure_curated(self) -> str:
        return f"{self.azure_container}/curated/{self.dataset}"

    @property
    def call_quality(self) -> str:
        return f"{self.azure_container}/{CALL_QUALITY}"

    @property
    def customer_360(self) -> str:
        return f"{self.gcs_exports_bucket}/{CUSTOMER_360}"
