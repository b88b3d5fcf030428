"""The pipelines' Spark job: many exports (or customer_360 days) at once on EMR Serverless, or customer_360
days on Dataproc Serverless (`--stores gcs`, callcenter/dataproc.py) (issue 12).

    spark-submit --py-files callcenter-<sha>.zip spark_job-<sha>.py --mode ingest|customer_360 \\
        --settings '<call_analytics_credentials JSON>' --layout '<call_analytics_layout JSON>' \\
        --summary <bucket>/<key>.json  <export path or YYYY-MM-DD day> ...

- Each export is one row; inside `mapInArrow` an executor runs the worker's own
  `tasks.ingest_export` on it (decode, validate, mask, quarantine, reconcile,
  staged write + atomic publish, processed marker). Same function, so the same
  layout, file names and bytes as the in-worker path; nothing is re-implemented.
- customer_360 the same way: an executor runs the worker's `tasks.customer_360_day` per day
  (curated calls from S3, call quality from Azure, the table to GCS), so a backfill of N
  days is N tasks spread over the executors, each the worker's exact output.
- The masking key and the store credentials: each executor logs in to Vault *as the
  domain* with the job's own AWS identity (callcenter.credentials, as a task does),
  once per partition. The arguments carry only non-secret settings (Vault URL, role
  and path names, bucket names) and paths: no key, no token, no cloud credential.
- The driver writes one summary JSON ({"summaries": [...]}, one per export; a failed
  export has "error" = its exception class only) that the DAG reads back and
  reconciles exactly as it reconciles its mapped worker tasks.

Top-level imports are stdlib only: the DAG file imports this module to build the
job's arguments (emr_job_driver) and must stay cheap to parse.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    import pyarrow.fs as pafs
    from pyspark.sql import SparkSession

    from callcenter.engine_choice import AwsSpark
    from callcenter.layout import Layout

PACKAGE_DIR = Path(__file__).resolve().parent
#: Fixed zip timestamps: the same sources give the same bytes, so the name (its hash) is stable.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# --------------------------------------------------------------------------- packaging


#: Airflow-free plugin modules the job imports, shipped at the zip's root (their import name). The
#: plugins folder sits beside the DAG folder both in the repository (airflow/plugins) and on MWAA
#: (/usr/local/airflow/plugins, where plugins.zip is extracted), so the run-time digest matches the build's.
PLUGIN_MODULES = ("vault_aws_login.py",)


def package_files(package_dir: Path = PACKAGE_DIR) -> list[tuple[str, Path]]:
    """(name inside the zip, file) of the callcenter package and the plugin modules it imports:
    what --py-files ships."""
    package = [(f"callcenter/{p.relative_to(package_dir).as_posix()}", p) for p in package_dir.rglob("*.py")
               if "__pycache__" not in p.parts]
    plugins = package_dir.parent.parent / "plugins"
    # The domain contracts the kernel reads (callcenter.domain finds them beside the package, in the zip too).
    contracts = [(f"domains/{p.name}", p) for p in (package_dir.parent / "domains").glob("*.yaml")]
    return sorted([*package, *contracts, *((name, plugins / name) for name in PLUGIN_MODULES)])


def package_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """Content address of the job code: names and bytes of every shipped file."""
    digest = hashlib.sha256()
    for name, path in package_files(package_dir):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def package_names(digest: str) -> tuple[str, str]:
    """(pyFiles zip, entry point) object names under the Variable's code_uri."""
    return f"callcenter-{digest}.zip", f"spark_job-{digest}.py"


def build_package(target_dir: Path, package_dir: Path = PACKAGE_DIR) -> tuple[Path, Path]:
    """Write the zip and the entry point into target_dir, named by package_digest."""
    zip_name, entry_name = package_names(package_digest(package_dir))
    target_dir.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in package_files(package_dir):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr, info.compress_type = 0o644 << 16, zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    for name, data in ((zip_name, buffer.getvalue()), (entry_name, (package_dir / "spark_job.py").read_bytes())):
        # Written aside and renamed: parallel synths share the folder and never read half a file.
        partial = target_dir / f"{name}.{os.getpid()}.partial"
        partial.write_bytes(data)
        os.replace(partial, target_dir / name)
    return target_dir / zip_name, target_dir / entry_name


# --------------------------------------------------------------------------- what the DAG submits


MODES = ("ingest", "customer_360")
#: The job's interpreter in the application's custom image (spark/image/emr.Dockerfile installs it: EMR 7.x
#: images run Python 3.9). Named for the driver and the executors' Python workers per run, the EMR
#: Serverless way (spark.emr-serverless.driverEnv.* / spark.executorEnv.*), not left to the image's ENV.
IMAGE_PYTHON = "/usr/bin/python3.12"
_PYTHON_CONF = " ".join(f"--conf {key}={IMAGE_PYTHON}" for key in (
    "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON", "spark.emr-serverless.driverEnv.PYSPARK_PYTHON",
    "spark.executorEnv.PYSPARK_PYTHON"))


def emr_job_driver(aws: AwsSpark, *, credentials_json: str, layout_json: str, summary: str,
                   items: list[str], mode: str = "ingest", digest: str | None = None,
                   redact_quarantine: bool = True) -> dict[str, Any]:
    """EMR Serverless StartJobRun's jobDriver (sparkSubmit: entryPoint, entryPointArguments,
    sparkSubmitParameters; AWS EMR Serverless API reference, "SparkSubmit"). Only
    non-secret settings and paths: the job reads the key from Vault itself."""
    zip_name, entry_name = package_names(digest or package_digest())
    base = aws.code_uri if aws.code_uri.endswith("/") else aws.code_uri + "/"
    return {"sparkSubmit": {
        "entryPoint": base + entry_name,
        "entryPointArguments": ["--mode", mode, "--settings", credentials_json, "--layout", layout_json,
                                "--summary", summary, "--quarantine-text", quarantine_text(redact_quarantine), *items],
        # Curated timestamps are UTC (spark_engine.process checks the same setting).
        "sparkSubmitParameters": f"--py-files {base}{zip_name} --conf spark.sql.session.timeZone=UTC {_PYTHON_CONF}",
    }}


def emr_configuration_overrides(aws: AwsSpark) -> dict[str, Any]:
    """Driver and executor logs to the Variable's log_uri (EMR Serverless monitoringConfiguration)."""
    return {"monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": aws.log_uri}}}


def emr_plan(aws: AwsSpark | None, *, credentials_json: str, layout: Layout, items: list[str],
             run_id: str, mode: str = "ingest", redact_quarantine: bool = True) -> dict[str, Any]:
    """What a DAG's spark_plan task returns (XCom: settings and paths only) and its
    EmrServerlessStartJobOperator renders into StartJobRun."""
    if aws is None:
        raise ValueError("the spark Variable has no aws section: this environment has no EMR Serverless to run on")
    summary = summary_path(layout, f"{mode}-{run_id}")
    return {"application_id": aws.application_id, "execution_role_arn": aws.execution_role_arn,
            "job_driver": emr_job_driver(aws, credentials_json=credentials_json, layout_json=layout.to_json(),
                                         summary=summary, items=items, mode=mode,
                                         redact_quarantine=redact_quarantine),
            "configuration_overrides": emr_configuration_overrides(aws), "summary": summary}


def summary_path(layout: Layout, run_id: str) -> str:
    """Where the job writes its summary: next to the processed markers, one file per run."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return f"{layout.processed}/_spark/{safe}.json"


# --------------------------------------------------------------------------- the job


#: --quarantine-text: what a rejected record's free text becomes in quarantine, as the worker's ingest decides by
#: the domain's classification (domain_pipelines.ingest_dag): "drop" (pii domains, and the default) or
#: "redacted" (internal/public: kept, capped, contacts redacted, for the producer to debug).
QUARANTINE_TEXT = {"drop": True, "redacted": False}


def quarantine_text(redact_quarantine: bool) -> str:
    return next(name for name, redact in QUARANTINE_TEXT.items() if redact == redact_quarantine)


def _ingest_one(fs: pafs.FileSystem, layout: Layout, path: str, key: bytes, domain: str,
                redact_quarantine: bool = True) -> dict[str, Any]:
    from callcenter import tasks

    try:
        # The domain's contract (shipped in the zip) and the worker's quarantine rule for its classification.
        return tasks.ingest_export(fs, layout, path, key, domain=domain, redact_quarantine=redact_quarantine)
    except Exception as exc:  # noqa: BLE001 - one export's failure is reported, the others still publish
        # The class only, never the message: it may quote a record (as tasks.record_failure does).
        return {"source": path, "error": type(exc).__name__}


def ingest_exports(spark: SparkSession, exports: list[str], layout: Layout,
                   open_store: Callable[[], tuple[pafs.FileSystem, bytes]],
                   domain: str = "call_analytics", redact_quarantine: bool = True) -> list[dict[str, Any]]:
    """Ingest `exports` on the executors; one summary per export, sorted by source.

    `open_store` runs on each executor (once per partition) and returns the store and
    the masking key: on EMR a Vault login as the domain (vault_store), in tests a local
    directory and a test key."""
    import pyarrow as pa

    schema = pa.schema([("summary", pa.string())])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        fs, key = open_store()
        for batch in batches:
            for path in batch.column("path").to_pylist():
                summary = json.dumps(_ingest_one(fs, layout, path, key, domain, redact_quarantine), sort_keys=True)
                yield pa.RecordBatch.from_pydict({"summary": [summary]}, schema=schema)

    return _fan_out(spark, exports, run, "source")


def _fan_out(spark: SparkSession, items: list[str], run: Callable[..., Iterator[Any]], key: str) -> list[dict[str, Any]]:
    """`run` over `items` (column "path") under mapInArrow; its JSON summaries, sorted by `key`."""
    if not items:
        return []
    # One item per task while there are fewer items than cores; Spark spreads the rest.
    slots = max(1, min(len(items), spark.sparkContext.defaultParallelism))
    paths = spark.createDataFrame([(p,) for p in items], "path string").repartition(slots)
    rows = paths.mapInArrow(run, "summary string").collect()
    return sorted((json.loads(r.summary) for r in rows), key=lambda s: s[key])


def build_days(spark: SparkSession, days: list[str], layout: Layout,
               open_stores: Callable[[], tuple[pafs.FileSystem, pafs.FileSystem, pafs.FileSystem]]) -> list[dict[str, Any]]:
    """customer_360 for `days` (YYYY-MM-DD) on the executors: the worker's customer_360_day per day.
    `open_stores` (on each executor) returns the S3, Azure and GCS stores."""
    import pyarrow as pa

    schema = pa.schema([("summary", pa.string())])

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from datetime import date

        from callcenter import tasks

        calls, quality, out = open_stores()
        for batch in batches:
            for day in batch.column("path").to_pylist():
                try:
                    result = tasks.customer_360_day(calls, quality, out, layout, date.fromisoformat(day))
                except Exception as exc:  # noqa: BLE001 - reported by class; the other days still build
                    result = {"day": day, "error": type(exc).__name__}
                yield pa.RecordBatch.from_pydict({"summary": [json.dumps(result, sort_keys=True)]}, schema=schema)

    return _fan_out(spark, days, run, "day")


def vault_store(settings_json: str) -> tuple[pafs.FileSystem, bytes]:
    """The domain's S3 store and masking key, logged in to Vault as the domain with the
    job's own AWS identity (the same calls a task makes: callcenter.credentials)."""
    from callcenter import credentials

    settings = credentials.Settings.from_json(settings_json)
    client = credentials.vault_client(settings)
    return credentials.filesystem(settings, "aws", client), credentials.masking_key(settings, client)


def vault_stores(settings_json: str, calls_cloud: str = "aws") -> tuple[pafs.FileSystem, pafs.FileSystem, pafs.FileSystem]:
    """customer_360's three stores (curated calls on `calls_cloud`, call quality, output), each with the
    domain's short-lived credentials from Vault."""
    from callcenter import credentials

    settings = credentials.Settings.from_json(settings_json)
    client = credentials.vault_client(settings)
    return tuple(credentials.filesystem(settings, cloud, client) for cloud in (calls_cloud, "azure", "gcp"))  # type: ignore[return-value]


#: --stores: where the job reads curated calls and writes its summary. "s3" on EMR (the lake on S3);
#: "gcs" on Dataproc, whose subnet reaches Google APIs only (Private Google Access): curated calls from
#: their GCS copy (distribute_curated keeps it, same partitions) and the summary in the staging bucket.
STORES = {"s3": "aws", "gcs": "gcp"}


def job_layout(layout: Layout, stores: str) -> Layout:
    """`layout` as the job reads it: on "gcs" the curated calls are the GCS copy's."""
    from dataclasses import replace

    return replace(layout, curated_bucket=layout.gcs_curated_bucket) if stores == "gcs" else layout


def split_results(mode: str, fs: pafs.FileSystem, layout: Layout, path: str) -> tuple[list[dict], list[dict]]:
    """(succeeded, failed) of a job's summary. A failed export counts towards dead_letter/ as a
    failed worker task does (record_failure keeps only the class name; the job reported exactly that)."""
    from callcenter import tasks

    summaries = read_summary(fs, path)
    failed = [s for s in summaries if "error" in s]
    if mode == "ingest":
        for s in failed:
            tasks.record_failure(fs, layout, s["source"], type(s["error"], (Exception,), {})())
    return [s for s in summaries if "error" not in s], failed


def write_summary(fs: pafs.FileSystem, path: str, summaries: list[dict[str, Any]]) -> None:
    from callcenter import tasks

    tasks._write_json(fs, path, {"summaries": summaries})


def read_summary(fs: pafs.FileSystem, path: str) -> list[dict[str, Any]]:
    """The job's summaries; a missing or unreadable summary is an error, not an empty run."""
    with fs.open_input_stream(path) as stream:
        data = json.loads(stream.read())
    return list(data["summaries"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spark_job", description="ingest exports / build customer_360 days on Spark")
    parser.add_argument("--mode", choices=MODES, default="ingest")
    parser.add_argument("--stores", choices=sorted(STORES), default="s3", help="s3 (EMR) or gcs (Dataproc)")
    parser.add_argument("--settings", required=True, help="the domain's credentials Variable (JSON, non-secret)")
    parser.add_argument("--layout", required=True, help="the domain's layout Variable (JSON)")
    parser.add_argument("--summary", required=True, help="<bucket>/<key> of the summary JSON to write")
    parser.add_argument("--quarantine-text", choices=sorted(QUARANTINE_TEXT), default="drop",
                        help="a rejected record's free text in quarantine: drop (pii domains) or redacted")
    parser.add_argument("items", nargs="+", help="export paths (<bucket>/<key>) or days (YYYY-MM-DD)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from functools import partial

    from callcenter import credentials
    from callcenter.layout import Layout

    args = _parser().parse_args(argv)
    if args.mode == "ingest" and args.stores != "s3":
        print("spark_job: --mode ingest reads and writes the S3 lake: --stores must be s3", file=sys.stderr)
        return 2
    try:
        settings = credentials.Settings.from_json(args.settings)
        layout = job_layout(Layout.from_json(args.layout), args.stores)
    except (ValueError, TypeError) as error:  # one line, no traceback (the arguments hold no secret)
        print(f"spark_job: bad --settings/--layout: {error}", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.appName("call_records_ingest")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    try:
        if args.mode == "ingest":
            summaries = ingest_exports(spark, args.items, layout, partial(vault_store, args.settings), settings.domain,
                                       QUARANTINE_TEXT[args.quarantine_text])
        else:
            summaries = build_days(spark, args.items, layout, partial(vault_stores, args.settings, STORES[args.stores]))
        write_summary(credentials.filesystem(settings, STORES[args.stores]), args.summary, summaries)
    finally:
        spark.stop()
    failed = [s for s in summaries if "error" in s]
    print(f"{args.mode}: {len(summaries) - len(failed)} done, {len(failed)} failed")
    return 0


if __name__ == "__main__":  # the EMR Serverless entry point
    sys.exit(main())
