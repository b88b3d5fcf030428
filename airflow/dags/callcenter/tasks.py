"""The three pipelines' steps as plain functions over pyarrow filesystems.

The DAG files only resolve connections/variables and call these; tests and the
demo can call them too. Every function returns counts and paths only (what goes
into XCom), never rows, and nothing here logs record content.
"""

from __future__ import annotations

import json
import time
from datetime import date

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from callcenter import telemetry
from callcenter.contract import CURATED_SCHEMA, PARTITION_COLUMN
from callcenter.customer_360 import QUALITY_SCHEMA, SchemaError, customer_360
from callcenter.distribute import distribute_partition, partition_rows
from callcenter.distribute import listed_files as _files  # one rule for `_` staging folders
from callcenter.domain import DomainContract
from callcenter.domain import load as load_contract
from callcenter.ingest import ReconciliationError, ingest, reconcile, recover_publishes, source_key
from callcenter.layout import (
    EXPORT_SUFFIXES,
    MAX_BATCH,
    MAX_EXPORT_FAILURES,
    Layout,
)

PARTITION_PREFIX = f"{PARTITION_COLUMN}="
# call_id so customer_360 counts a call present twice once (review V6).
CALL_COLUMNS = ["call_id", "customer_id", "duration", "sentiment", "call_start_time"]


# --------------------------------------------------------------------------- ingest


def _read_json(fs: pafs.FileSystem, path: str) -> dict | None:
    try:
        with fs.open_input_stream(path) as stream:
            return json.loads(stream.read())
    except (FileNotFoundError, OSError, ValueError):
        return None


def _write_json(fs: pafs.FileSystem, path: str, data: dict) -> None:
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)  # a no-op on S3; needed on disk
    with fs.open_output_stream(path) as out:
        out.write(json.dumps(data, sort_keys=True).encode("utf-8"))


def _identity(info: pafs.FileInfo) -> dict[str, object]:
    """What makes an export "the same file": a producer re-uploading under the same
    name with new content changes size or mtime, and is ingested again."""
    mtime = info.mtime.isoformat() if info.mtime is not None else None
    return {"size": info.size, "mtime": mtime}


def marker_path(layout: Layout, export_path: str) -> str:
    return f"{layout.processed}/{source_key(export_path)}.json"


def pending_exports(fs: pafs.FileSystem, layout: Layout, *, reprocess: bool = False,
                    limit: int = MAX_BATCH, suffixes: tuple[str, ...] = EXPORT_SUFFIXES) -> list[str]:
    """Exports under the raw zone's incoming folder that have not been ingested
    in their current version (all of them with `reprocess`) whose suffix is one of
    `suffixes` (those of the contract's formats, domain.SUFFIX_FORMATS): the oldest `limit`
    (by modification time, then path); the rest are found again by the next runs.
    First finishes any publish a failed or killed ingest left half done (its
    journal, review D6): this is the run's first step and max_active_runs=1, so
    no ingest is publishing now, and an export that went to dead_letter/ after
    such a failure does not leave its partitions half old, half new."""
    recover_publishes(fs, layout.curated)
    infos = fs.get_file_info(pafs.FileSelector(layout.incoming, recursive=True, allow_not_found=True))
    exports = sorted((i for i in infos if i.type == pafs.FileType.File and i.path.endswith(suffixes)),
                     key=lambda i: (i.mtime.timestamp() if i.mtime is not None else 0.0, i.path))
    pending = []
    for info in exports:
        if len(pending) == limit:
            print(f"more than {limit} exports pending; the next runs take the rest")
            break
        marker = None if reprocess else _read_json(fs, marker_path(layout, info.path))
        if marker is None or {k: marker.get(k) for k in ("size", "mtime")} != _identity(info):
            pending.append(info.path)
    return pending


def _failure_path(layout: Layout, export_path: str) -> str:
    return f"{layout.failed}/{source_key(export_path)}.json"


def record_failure(fs: pafs.FileSystem, layout: Layout, export_path: str, error: BaseException,
                   limit: int = MAX_EXPORT_FAILURES) -> str | None:
    """Count one more failed run of `export_path`; at `limit` in a row, move the export
    to dead_letter/ next to a reason file (exception class and count only, never the
    message: it may quote a record) so no run retries it. Returns the dead-letter path."""
    path = _failure_path(layout, export_path)
    failures = int((_read_json(fs, path) or {}).get("failures", 0)) + 1
    error_class = type(error).__name__
    if failures < limit:
        _write_json(fs, path, {"failures": failures, "error": error_class})
        return None
    target = f"{layout.dead_letter}/{export_path[len(layout.incoming) + 1:]}"
    fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
    fs.move(export_path, target)
    _write_json(fs, f"{target}.reason.json", {"failures": failures, "error": error_class})
    fs.delete_file(path)
    return target


def clear_failures(fs: pafs.FileSystem, layout: Layout, export_path: str) -> None:
    """A success ends the streak."""
    path = _failure_path(layout, export_path)
    if fs.get_file_info(path).type == pafs.FileType.File:
        fs.delete_file(path)


def failed_exports(paths: list[str], summaries: list[dict]) -> list[str]:
    """The exports of `paths` with no summary: their ingest task failed."""
    return sorted(set(paths) - {s["source"] for s in summaries})


def ingest_export(fs: pafs.FileSystem, layout: Layout, export_path: str, key: bytes, *,
                  domain: str = "call_analytics", contract: DomainContract | None = None,
                  redact_quarantine: bool = True) -> dict:
    """Validate, mask and publish one export of `domain` (its contract file,
    callcenter.domain); then record it as processed. The marker is written
    last, so a failure before it means the export is retried.
    `contract` wins over `domain` when given. `redact_quarantine`:
    classification == "pii" (ingest._quarantine_rows)."""
    contract = contract or load_contract(domain)
    domain = contract.domain
    info = fs.get_file_info(export_path)
    if info.type != pafs.FileType.File:
        raise FileNotFoundError(f"export {export_path} is gone")
    started = time.monotonic()
    result = ingest(export_path, in_fs=fs, out_fs=fs, out_dir=layout.curated,
                    quarantine_dir=layout.quarantine, key=key, source_id=export_path,
                    contract=contract, redact_quarantine=redact_quarantine)
    summary = {
        "source": export_path,
        "records_in": result.records_in,
        "curated": result.curated,
        "quarantined": result.quarantined,
        "reasons": dict(sorted(result.reasons.items())),
        "partitions": result.partitions,  # written + emptied (review D8)
        "removed_partitions": result.removed_partitions,
        "read_back": {"curated": result.read_back_curated, "quarantined": result.read_back_quarantined},
        "seconds": round(time.monotonic() - started, 3),
    }
    _write_json(fs, marker_path(layout, export_path), {**summary, **_identity(info)})
    clear_failures(fs, layout, export_path)
    telemetry.record("ingest", summary, domain=domain, cloud=telemetry.cloud_of(fs), seconds=summary["seconds"])
    return summary


def reconcile_totals(summaries: list[dict]) -> dict:
    """The run-level reconciliation: every export's counts must add up, and so must
    the totals; a mismatch fails the task (and so the run)."""
    totals: dict = {"exports": 0, "records_in": 0, "curated": 0, "quarantined": 0, "reasons": {}, "partitions": []}
    partitions: set[str] = set()
    for s in summaries:
        reconcile(s["records_in"], s["curated"], s["quarantined"], s["source"])
        totals["exports"] += 1
        for k in ("records_in", "curated", "quarantined"):
            totals[k] += s[k]
        for reason, n in s["reasons"].items():
            totals["reasons"][reason] = totals["reasons"].get(reason, 0) + n
        partitions.update(s["partitions"])
    reconcile(totals["records_in"], totals["curated"], totals["quarantined"], "all exports")
    if sum(totals["reasons"].values()) < totals["quarantined"]:
        raise ReconciliationError("some quarantined records carry no reason")
    totals["partitions"] = sorted(partitions)
    return totals


# --------------------------------------------------------------------------- distribute


def curated_partitions(fs: pafs.FileSystem, layout: Layout, column: str = PARTITION_COLUMN) -> list[str]:
    """The `<column>=` partition folders of the curated data set (column: the contract's partition column)."""
    infos = fs.get_file_info(pafs.FileSelector(layout.curated, allow_not_found=True))
    return sorted(i.base_name for i in infos
                  if i.type == pafs.FileType.Directory and i.base_name.startswith(f"{column}="))


def copy_partition(src_fs: pafs.FileSystem, src_root: str, partition: str,
                   dst_fs: pafs.FileSystem, dst_root: str, *, domain: str = "call_analytics") -> dict:
    """Mirror one partition: copy each file (verified, committed at its final name
    only after the check, see distribute.py), then delete the destination files the
    source no longer has. Pruning comes after every new file is committed, so a
    failed copy never leaves the partition with fewer rows than before. A source
    partition without files (all its rows moved to other days by a re-export)
    empties the destination partition: the copies never keep rows the lake dropped.

    rows is read back from the footers of every file left in the destination
    partition after pruning, source_rows from the source files' footers (verify
    compares them); verified counts files whose committed copy
    has the source's size and row count."""
    column, _, value = partition.partition("=")
    if not (column and value) or "/" in partition:  # a hive folder name of any domain's partition column
        raise ValueError(f"not a partition name: {partition!r}")
    dst = f"{dst_root}/{partition}"
    started = time.monotonic()
    result = distribute_partition(src_fs, f"{src_root}/{partition}", dst_fs, dst)
    stale = sorted(set(_files(dst_fs, dst)) - set(result.checksums))
    for rel in stale:
        dst_fs.delete_file(f"{dst}/{rel}")
    summary = {"partition": partition, "files": result.files, "bytes": result.bytes,
               "verified": result.verified, "rows": partition_rows(dst_fs, dst), "source_rows": result.source_rows,
               "pruned": len(stale)}
    telemetry.record("copy", summary, domain=domain, cloud=telemetry.cloud_of(dst_fs),
                     seconds=time.monotonic() - started)
    return summary


# --------------------------------------------------------------------------- customer 360


def _read_partition(fs: pafs.FileSystem, path: str, schema: pa.Schema) -> pa.Table:
    """Only `schema`'s columns (an allowlist), cast to its types; a missing one is a SchemaError."""
    if fs.get_file_info(path).type != pafs.FileType.Directory:
        return schema.empty_table()
    files = list(_files(fs, path).values())
    if not files:
        return schema.empty_table()
    dataset = ds.dataset(files, filesystem=fs, format="parquet")
    missing = [n for n in schema.names if n not in dataset.schema.names]
    if missing:
        raise SchemaError(f"{path} lacks column(s) {', '.join(missing)}")
    return dataset.to_table(columns=schema.names).cast(pa.schema([f.with_nullable(True) for f in schema]))


def customer_360_day(calls_fs: pafs.FileSystem, quality_fs: pafs.FileSystem, out_fs: pafs.FileSystem,
                     layout: Layout, day: date) -> dict:
    """One unified, masked table for `day`: curated call metrics (S3) full-outer-
    joined with that day's call-quality table (Azure), written to GCS. Rewrites
    the day's file, so a re-run replaces it."""
    partition = f"{PARTITION_PREFIX}{day.isoformat()}"
    calls = _read_partition(calls_fs, f"{layout.curated}/{partition}",
                            pa.schema([CURATED_SCHEMA.field(c) for c in CALL_COLUMNS]))
    quality = _read_partition(quality_fs, f"{layout.call_quality}/{partition}", QUALITY_SCHEMA)
    table = customer_360(calls, quality)
    out_dir = f"{layout.customer_360}/{partition}"
    out_fs.create_dir(out_dir, recursive=True)
    path = f"{out_dir}/customer_360.parquet"
    pq.write_table(table, path, filesystem=out_fs, compression="zstd")
    has_calls = table.column("has_calls").to_pylist()
    has_quality = table.column("has_quality").to_pylist()
    return {"day": day.isoformat(), "path": path, "rows": table.num_rows,
            "calls_only": sum(1 for c, q in zip(has_calls, has_quality, strict=True) if c and not q),
            "quality_only": sum(1 for c, q in zip(has_calls, has_quality, strict=True) if q and not c),
            "both": sum(1 for c, q in zip(has_calls, has_quality, strict=True) if c and q)}


__all__ = ["copy_partition", "curated_partitions", "customer_360_day", "ingest_export",
           "marker_path", "pending_exports", "reconcile_totals"]
