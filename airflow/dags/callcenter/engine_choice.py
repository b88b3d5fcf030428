"""Which engine runs a pipeline run: the Airflow worker or Spark (issue 12).

Measured with bench/spark_bench.py (2 shared cores, 4 exports): the worker did
18k-131k rows/s at 2.8-69 MB, Spark local[2] 1.4k-28k rows/s plus a 6-8 s fixed
start-up and 1.1-1.6 GB of process-tree RSS (JVM + Python workers). Spark never
won on one machine up to 69 MB, so the crossover is not a throughput one: a run
goes to Spark when it would outgrow one worker slot (mw1.small: 1 vCPU, 2 GB
shared by 5 slots) or span many days, where Spark's executors scale out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from typing import Any, Literal

Engine = Literal["worker", "spark"]
#: Which managed Spark a "spark" run goes to (the Variable's "engine"): EMR Serverless or Dataproc Serverless.
SparkEngine = Literal["emr", "dataproc"]
SPARK_ENGINES = ("emr", "dataproc")


@dataclass(frozen=True)
class Thresholds:
    # ~2 GB at the worker's measured ~46 MB/s is under a minute of one core
    # here; a shared mw1.small slot is several times slower, still well inside
    # an hourly run. Above it the hour and the slot are at risk.
    max_worker_bytes: int = 2 * 1024**3
    # customer_360 and backfills over more than a week read 7+ days of curated
    # partitions: a join over many days is Spark's job.
    max_worker_days: int = 7

    def __post_init__(self) -> None:
        if self.max_worker_bytes <= 0 or self.max_worker_days <= 0:
            raise ValueError(f"thresholds must be positive, got {self}")


def choose(input_bytes: int, days: int, thresholds: Thresholds = Thresholds()) -> Engine:
    """'spark' when the run exceeds either threshold, else 'worker'."""
    if input_bytes < 0 or days < 0:
        raise ValueError(f"input_bytes and days must be >= 0, got {input_bytes=} {days=}")
    if input_bytes > thresholds.max_worker_bytes or days > thresholds.max_worker_days:
        return "spark"
    return "worker"


#: The Airflow Variable (Vault kv, like the layout) that says where a domain's Spark runs and when:
#: `<domain>_spark` (layout.Names.spark_variable); this one is call_analytics's, the default of the parsers.
SPARK_VARIABLE = "call_analytics_spark"


class SparkSettingsError(ValueError):
    """The spark Variable is unusable: one line naming the field, the value and the rule."""


@dataclass(frozen=True)
class AwsSpark:
    """An EMR Serverless application and the job role (helper stacks provision them)."""

    application_id: str
    execution_role_arn: str
    #: s3://.../spark/ : the content-addressed job package (pyFiles zip + entry point) lives under it.
    code_uri: str
    log_uri: str


@dataclass(frozen=True)
class GcpSpark:
    """Dataproc Serverless batches (callcenter/dataproc.py starts them where "engine" is "dataproc")."""

    project: str
    region: str
    service_account: str
    subnetwork: str
    staging_bucket: str
    #: The batch's runtimeConfig.containerImage: the job's image (spark/image/dataproc.Dockerfile) in the
    #: environment's Artifact Registry. Required where "engine" is "dataproc" (runtime 2.2's stock image lacks
    #: hvac and the lock's pyarrow); a Variable exported before the image existed may lack it while on EMR.
    container_image: str | None = None
    #: The batch's executionConfig.kmsKey (projects/.../cryptoKeys/...): its disks and Dataproc's writes under
    #: the lake key, as the buckets are. Required where "engine" is "dataproc", like container_image.
    kms_key: str | None = None

    def __post_init__(self) -> None:
        # Dataproc pulls custom containers from Artifact Registry (or the retired Container Registry) only
        # (Dataproc Serverless "Use custom containers"); the stacks write <region>-docker.pkg.dev/... here.
        if self.container_image is not None and not re.fullmatch(r"[a-z0-9-]+-docker\.pkg\.dev/[a-z][a-z0-9-]+/[a-z][a-z0-9-]*/[a-z0-9._/-]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}",
                            self.container_image):
            raise ValueError(f"container_image: {self.container_image!r} must be <region>-docker.pkg.dev/<project>/"
                             "<repository>/<image>:<tag> (Dataproc pulls custom containers from Artifact Registry only)")


#: GcpSpark fields a Variable exported before they existed may lack while the engine is EMR; Dataproc needs them.
DATAPROC_REQUIRED = {"container_image": "the job's image (make spark-image)", "kms_key": "the lake key for their disks"}


@dataclass(frozen=True)
class SparkSettings:
    thresholds: Thresholds = Thresholds()
    #: None: no Spark on AWS in this environment (local), everything stays in the worker.
    aws: AwsSpark | None = None
    gcp: GcpSpark | None = None
    #: The job's network reaches Azure and GCS (the data spoke is one of fabric.aws_spokes). False: runs that
    #: read or write the other clouds (customer_360) stay in the worker, which reaches them from MWAA's spoke.
    cross_cloud: bool = False
    #: Where a "spark" run goes: "emr" (the default, needs `aws`) or "dataproc" (needs `gcp`).
    spark_engine: SparkEngine = "emr"

    @classmethod
    def from_json(cls, text: str | None, where: str = SPARK_VARIABLE) -> SparkSettings:
        """Parse the Variable (named `where` in errors); an absent one (None) means the local default: worker only."""
        if text is None:
            return cls()
        try:
            data = json.loads(text)
        except ValueError as error:
            raise SparkSettingsError(f"{where}: not JSON ({error.__class__.__name__} at {error})") from None
        if not isinstance(data, dict):
            raise SparkSettingsError(f"{where}: must be a JSON object, got {type(data).__name__}")
        unknown = sorted(set(data) - {"thresholds", "aws", "gcp", "cross_cloud", "engine"})
        if unknown:
            raise SparkSettingsError(f"{where}: unknown field(s) {', '.join(unknown)}")
        cross_cloud = data.get("cross_cloud", False)
        if not isinstance(cross_cloud, bool):
            raise SparkSettingsError(f"{where}.cross_cloud: {cross_cloud!r} must be true or false")
        spark_engine = data.get("engine", "emr")
        if spark_engine not in SPARK_ENGINES:
            raise SparkSettingsError(f"{where}.engine: {spark_engine!r} must be one of {', '.join(SPARK_ENGINES)}")
        if spark_engine == "dataproc" and not data.get("gcp"):
            raise SparkSettingsError(f"{where}.engine: 'dataproc' needs a gcp section (Dataproc Serverless settings)")
        for name, what in DATAPROC_REQUIRED.items():
            if spark_engine == "dataproc" and isinstance(data["gcp"], dict) and name not in data["gcp"]:
                raise SparkSettingsError(f"{where}.gcp.{name}: missing, and 'dataproc' batches need {what} "
                                         "(export the Variable again from <env>-vault)")
        return cls(thresholds=_section(Thresholds, data.get("thresholds") or {}, f"{where}.thresholds", int),
                   aws=_section(AwsSpark, data.get("aws"), f"{where}.aws", str),
                   gcp=_section(GcpSpark, data.get("gcp"), f"{where}.gcp", str, optional=tuple(DATAPROC_REQUIRED)),
                   cross_cloud=cross_cloud,
                   spark_engine=spark_engine)

    @classmethod
    def from_variable(cls, variable: str = SPARK_VARIABLE) -> SparkSettings:
        """The Variable as a task reads it (Vault secrets backend); absent: worker only."""
        from airflow.sdk import Variable

        return cls.from_json(Variable.get(variable, default=None), variable)

    def engine(self, input_bytes: int, days: int, *, other_clouds: bool = False) -> Engine:
        """choose(), but only 'spark' where this environment has a Spark to run on (and, for a run that
        touches `other_clouds`, one whose network reaches them)."""
        return "worker" if self.route(input_bytes, days, other_clouds=other_clouds) == "worker" else "spark"

    def route(self, input_bytes: int, days: int, *, other_clouds: bool = False,
              dataproc_ok: bool = False) -> Literal["worker", "emr", "dataproc"]:
        """engine() naming the Spark: "dataproc" where the Variable says so and the run may go there
        (`dataproc_ok`: customer_360, whose output is on GCS; ingest reads and writes S3, so EMR),
        else "emr"; "worker" where that Spark is absent or its network does not reach `other_clouds`."""
        spark: SparkEngine = "dataproc" if self.spark_engine == "dataproc" and dataproc_ok else "emr"
        where = self.gcp if spark == "dataproc" else self.aws
        usable = where is not None and (self.cross_cloud or not other_clouds)
        return spark if choose(input_bytes, days, self.thresholds) == "spark" and usable else "worker"


def _section(cls: type, data: Any, where: str, kind: type, optional: tuple[str, ...] = ()) -> Any:
    """One dataclass from a JSON object whose fields all have type `kind` (None stays None); a field named in
    `optional` may be left out (its default), never given empty."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SparkSettingsError(f"{where}: must be an object or null, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    for name in sorted(set(data) - set(names)):
        raise SparkSettingsError(f"{where}.{name}: unknown field (allowed: {', '.join(names)})")
    for name in names:
        value = data.get(name)
        if name not in data and (cls is Thresholds or name in optional):
            continue  # a threshold left out keeps its measured default
        # bool is an int subclass in Python; a threshold of `true` is a typo, not 1.
        if not isinstance(value, kind) or isinstance(value, bool) or (kind is str and not value):
            raise SparkSettingsError(f"{where}.{name}: {value!r} must be a non-empty {kind.__name__}")
    try:
        return cls(**data)
    except ValueError as error:
        raise SparkSettingsError(f"{where}: {error}") from None
