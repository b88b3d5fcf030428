"""Ingest one JSON-lines file of call records into masked, date-partitioned Parquet.

    records_in == curated + quarantined, or the run raises and publishes nothing.

Output is staged under `<out_dir>/_staging/` and only moved into place after the
whole input reconciled, so a failed run leaves the previous output untouched and
a re-run of the same source replaces exactly what that source wrote before.
Works on any pyarrow FileSystem (local disk in tests, S3/GCS in the DAGs).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from callcenter.contract import CURATED_SCHEMA, MAX_LINE_BYTES, PARTITION_COLUMN, Reason
from callcenter.masking import check_key, hash_email, hash_name, phone_last4, redact_notes, redact_structured
from callcenter.reader import DEFAULT_BATCH_BYTES, FieldExtractor, LineBatch, decode_utf8, iter_line_batches
from callcenter.validation import Validated, validate

STAGING_DIR = "_staging"  # leading underscore: pyarrow datasets and Glue skip it
# Columns with few distinct values per file benefit from dictionary pages; for
# near-unique ones (call_id, e-mail pseudonyms, notes) trying costs time for nothing.
# customer_id counts as near-unique: in a day's partition of the bench input a
# dictionary made it slower (95 vs 59 ns/row) and larger (4.4 vs 3.4 B/row). On
# the demo's day (~5 calls per customer) the file is 1.3% larger without it.
# Min/max statistics only where readers prune on them; on near-unique strings
# (ids, pseudonyms, notes) they cost write time and prune nothing.
STATISTICS_COLUMNS = ["customer_id", "agent_id", "call_start_time", "duration", "sentiment"]
QUARANTINE_RAW_CHARS = 64
_QUARANTINE_RAW_FIELDS = ("call_id", "customer_id", "agent_id", "call_start_time", "duration", "sentiment")
DICTIONARY_COLUMNS = ["customer_name_hash", "customer_phone_last4", "agent_id"]


FILE_SCHEMA = CURATED_SCHEMA.remove(CURATED_SCHEMA.get_field_index(PARTITION_COLUMN))


class ReconciliationError(RuntimeError):
    """Records were lost or duplicated between input and outputs."""


@dataclass
class IngestResult:
    source_id: str
    records_in: int = 0
    curated: int = 0
    quarantined: int = 0
    batches: int = 0
    max_batch_records: int = 0
    partitions: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)


def reconcile(records_in: int, curated: int, quarantined: int, where: str) -> None:
    if records_in != curated + quarantined:
        raise ReconciliationError(
            f"{where}: records_in={records_in} != curated={curated} + quarantined={quarantined}"
        )


class _Timer:
    """Wall time per stage. Stages may nest: time spent in an inner stage is
    counted there and not again in the outer one, so the stages always add up
    to the time measured."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self._sink = sink
        self._inner: list[float] = []  # per open stage: time spent in its inner stages

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._sink is None:
            yield
            return
        start = time.perf_counter()
        self._inner.append(0.0)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self._sink[name] = self._sink.get(name, 0.0) + elapsed - self._inner.pop()
            if self._inner:
                self._inner[-1] += elapsed


_NO_TIMER = _Timer(None)


def source_key(source_id: str) -> str:
    # File names must be safe on every store; the readable id goes in the counts.
    return hashlib.blake2b(source_id.encode("utf-8"), digest_size=8).hexdigest()


class _PartitionWriter:
    """One open Parquet file per call date. Rows are buffered per date until a
    row group's worth (or the global cap) is reached, so row groups stay large
    while memory stays bounded by FLUSH_ROWS, not by the partition size."""

    ROW_GROUP_ROWS = 128_000
    FLUSH_ROWS = 256_000  # all dates together

    def __init__(self, fs: pafs.FileSystem, root: str, prefix: str) -> None:
        self._fs, self._root, self._prefix = fs, root, prefix
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}
        self.files: dict[str, str] = {}  # partition dir name -> staged file path

    def write(self, table: pa.Table) -> None:
        # Rows must arrive grouped by date (_curate orders them so); a table that
        # is not is sorted here, one sort and then zero-copy slices per date.
        days = table.column(PARTITION_COLUMN).combine_chunks()
        runs = pc.run_end_encode(days)
        if len(runs.values) != len(pc.unique(runs.values)):
            table = table.take(pc.sort_indices(days))
            days = table.column(PARTITION_COLUMN).combine_chunks()
            runs = pc.run_end_encode(days)
        ends = runs.run_ends.to_pylist()
        values = runs.values.to_pylist()
        body = table.drop_columns([PARTITION_COLUMN])  # the folder name carries it (hive layout)
        start = 0
        for day, end in zip(values, ends, strict=True):
            name = f"{PARTITION_COLUMN}={day.isoformat()}"
            self._pending.setdefault(name, []).append(body.slice(start, end - start))
            self._pending_rows[name] = self._pending_rows.get(name, 0) + end - start
            if self._pending_rows[name] >= self.ROW_GROUP_ROWS:
                self._flush(name)
            start = end
        if sum(self._pending_rows.values()) >= self.FLUSH_ROWS:
            for name in list(self._pending):
                self._flush(name)

    def _flush(self, name: str) -> None:
        parts = self._pending.pop(name, [])
        self._pending_rows.pop(name, None)
        if not parts:
            return
        writer = self._writers.get(name)
        if writer is None:
            path = f"{self._root}/{name}/{self._prefix}.parquet"
            self._fs.create_dir(f"{self._root}/{name}", recursive=True)
            writer = pq.ParquetWriter(
                self._fs.open_output_stream(path),
                FILE_SCHEMA,
                compression="zstd",
                use_dictionary=DICTIONARY_COLUMNS,
                write_statistics=STATISTICS_COLUMNS,
            )
            self._writers[name], self.files[name] = writer, path
        writer.write_table(pa.concat_tables(parts), row_group_size=self.ROW_GROUP_ROWS)

    def close(self) -> None:
        for name in list(self._pending):
            self._flush(name)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def abort(self) -> None:
        self._pending.clear()
        self._pending_rows.clear()
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _curated_order(checked: Validated, valid: pa.Array) -> pa.Array:
    """Indices of the valid rows, grouped by call date (stable within a date).

    Taking each needed column once in this order replaces a filter of every
    column followed by the writer's sort-and-take of the whole table.
    """
    keep = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
    if len(keep) == 0:
        return pa.array(keep)
    # Microseconds since the epoch, floor-divided into days as the date32 cast
    # does (and if they ever disagreed, the writer would sort instead).
    micros = checked.call_start_time.cast(pa.int64()).to_numpy(zero_copy_only=False)
    days = micros[keep] // 86_400_000_000
    lo = int(days.min())
    if int(days.max()) - lo < 1 << 15:  # the usual case: a radix sort on int16
        order = np.argsort((days - lo).astype(np.int16), kind="stable")
    else:
        order = np.argsort(days, kind="stable")
    return pa.array(keep[order])


def _curate(batch_cols: dict[str, pa.Array], checked: Validated, valid: pa.Array, key: bytes,
            timer: _Timer = _NO_TIMER) -> pa.Table:
    """Masked valid rows, ordered by call date (see _PartitionWriter.write).

    Timed in parts, as masking is where most of the per-record Python is:
    gather (rows in date order), pseudonymise (keyed BLAKE2b per distinct
    value) and redact (regexes over notes); the rest counts as mask.
    """
    with timer.stage("mask:gather"):
        idx = _curated_order(checked, valid)

        def take(arr: pa.Array) -> pa.Array:
            return pc.take(arr, idx)

        ts = take(checked.call_start_time)
        cols = {name: take(batch_cols[name]) for name in
                ("call_id", "customer_id", "customer_name", "customer_email", "agent_id", "notes")}
        digits, duration, sentiment = take(checked.phone_digits), take(checked.duration), take(checked.sentiment)
    with timer.stage("mask:pseudonymise"):
        name_hash, email_hash = hash_name(cols["customer_name"], key), hash_email(cols["customer_email"], key)
    with timer.stage("mask:redact"):
        notes = redact_notes(cols["notes"])
    return pa.table(
        {
            "call_id": cols["call_id"],
            "customer_id": cols["customer_id"],
            "customer_name_hash": name_hash,
            "customer_phone_last4": phone_last4(digits),
            "customer_email_hash": email_hash,
            "agent_id": cols["agent_id"],
            "call_start_time": ts,
            "duration": duration,
            "sentiment": sentiment,
            "notes_redacted": notes,
            "call_date": ts.cast(pa.date32()),
        },
        schema=CURATED_SCHEMA,
    )


def _quarantine_rows(
    batch_cols: dict[str, pa.Array] | None, checked: Validated, picked: np.ndarray, key: bytes
) -> list[dict[str, object]]:
    """Masked view of rejected records: producers can find and fix them by line
    number, but the quarantine never stores the raw PII it could not validate."""
    if batch_cols is None or len(picked) == 0:
        return [{} for _ in picked]
    idx = pa.array(picked)
    take = {name: pc.take(arr, idx) for name, arr in batch_cols.items()}
    # Structured fields are kept (capped) so producers can debug them, minus
    # any e-mail or phone number typed into the wrong field (review V2); ids and
    # timestamps in their own shape keep their digits (masking.redact_structured).
    raw = {name: redact_structured(pc.utf8_slice_codeunits(take[name], 0, QUARANTINE_RAW_CHARS), name)
           for name in _QUARANTINE_RAW_FIELDS}
    masked = {
        "call_id": raw["call_id"],
        "customer_id": raw["customer_id"],
        "agent_id": raw["agent_id"],
        "customer_name_hash": hash_name(take["customer_name"], key),
        "customer_phone_last4": phone_last4(pc.take(checked.phone_digits, idx)),
        "customer_email_hash": hash_email(take["customer_email"], key),
        "call_start_time": raw["call_start_time"],
        "duration": raw["duration"],
        "sentiment": raw["sentiment"],
        "notes_redacted": redact_notes(take["notes"]),
    }
    return pa.table(masked).to_pylist()


def ingest(
    source: str | BinaryIO,
    *,
    out_dir: str,
    quarantine_dir: str,
    key: bytes,
    source_id: str | None = None,
    in_fs: pafs.FileSystem | None = None,
    out_fs: pafs.FileSystem | None = None,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    threads: int = 1,
    timings: dict[str, float] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> IngestResult:
    """Validate, mask and write one input. `source` is a path on `in_fs` or an
    open binary stream; `source_id` names it in outputs (defaults to the path)."""
    check_key(key)
    if isinstance(source, str):
        in_fs = in_fs or pafs.LocalFileSystem()
        source_id = source_id or source
    elif source_id is None:
        raise ValueError("source_id is required when source is a stream")
    out_fs = out_fs or pafs.LocalFileSystem()
    out_dir, quarantine_dir = out_dir.rstrip("/"), quarantine_dir.rstrip("/")
    result = IngestResult(source_id=source_id)
    prefix = f"part-{source_key(source_id)}"
    nonce = uuid.uuid4().hex[:12]
    staging = f"{out_dir}/{STAGING_DIR}/{prefix}-{nonce}"
    q_final = f"{quarantine_dir}/{prefix}.jsonl"
    q_staged = f"{quarantine_dir}/{STAGING_DIR}/{prefix}-{nonce}.jsonl"
    timer = _Timer(timings)
    out_fs.create_dir(staging, recursive=True)
    out_fs.create_dir(f"{quarantine_dir}/{STAGING_DIR}", recursive=True)
    writer = _PartitionWriter(out_fs, staging, prefix)
    extractor = FieldExtractor(threads=threads)
    try:
        with _open(source, in_fs) as stream, out_fs.open_output_stream(q_staged) as q_out:
            batches = iter_line_batches(stream, batch_bytes)
            while True:
                with timer.stage("read"):
                    lb = next(batches, None)
                if lb is None:
                    break
                _ingest_batch(lb, result, writer, extractor, q_out, key, timer)
                if on_batch is not None:
                    on_batch(len(lb.lines))
        with timer.stage("write"):  # flushes the rows still buffered
            writer.close()
        reconcile(result.records_in, result.curated, result.quarantined, source_id)
        with timer.stage("write"):
            _publish(out_fs, out_dir, prefix, writer.files)
            out_fs.move(q_staged, q_final)
        result.partitions = sorted(writer.files)
        return result
    finally:
        writer.abort()
        extractor.close()
        _remove_quietly(out_fs, staging, is_dir=True)
        _remove_quietly(out_fs, q_staged, is_dir=False)


@contextmanager
def _open(source: str | BinaryIO, fs: pafs.FileSystem | None) -> Iterator[BinaryIO]:
    if isinstance(source, str):
        assert fs is not None
        with fs.open_input_stream(source) as stream:
            yield stream
    else:
        yield source


def _ingest_batch(lb: LineBatch, result: IngestResult, writer: _PartitionWriter, extractor: FieldExtractor,
                  q_out: pa.NativeFile, key: bytes, timer: _Timer) -> None:
    q_records: list[dict[str, object]] = []
    for line_no in lb.too_long_line_nos:
        q_records.append({"line": line_no, "reason": Reason.LINE_TOO_LONG})
    curated_n = 0
    n = len(lb.lines)
    if n:
        with timer.stage("read"):
            lines, bad_utf8 = decode_utf8(lb.lines)
        with timer.stage("parse"):
            cols, status = extractor.extract(lines)
        with timer.stage("validate"):
            checked = validate(cols)
            status = pc.if_else(pa.array(bad_utf8), pa.scalar(Reason.INVALID_UTF8), status)
            # Lines over the limit that fit inside one block were parsed anyway;
            # the contract still rejects them.
            oversized = pc.greater(pc.binary_length(lb.lines), MAX_LINE_BYTES)
            status = pc.if_else(oversized, pa.scalar(Reason.LINE_TOO_LONG), status)
            blank = pc.fill_null(pc.equal(status, "blank"), False)
            reasons = pc.coalesce(status, checked.reasons)
            valid = pc.fill_null(pc.is_null(reasons), False)
            rejected = pc.and_(pc.invert(valid), pc.invert(blank))
        with timer.stage("mask"):
            table = _curate(cols, checked, valid, key, timer)
            curated_n = table.num_rows
        with timer.stage("write"):
            if curated_n:
                writer.write(table)
        with timer.stage("quarantine"):
            picked = pc.indices_nonzero(rejected).to_numpy()
            if len(picked):
                rows = _quarantine_rows(cols, checked, picked, key)
                reason_list = pc.take(reasons, pa.array(picked)).to_pylist()
                parsed = pc.take(status, pa.array(picked)).to_pylist()
                for i, row, reason, st in zip(picked, rows, reason_list, parsed, strict=True):
                    rec: dict[str, object] = {"line": lb.first_line_no + int(i), "reason": reason}
                    if st is None:  # the line parsed; keep its masked fields
                        rec.update(row)
                    q_records.append(rec)
        records = n - int(pc.sum(blank).as_py() or 0) + len(lb.too_long_line_nos)
    else:
        records = len(lb.too_long_line_nos)
    with timer.stage("quarantine"):
        for rec in q_records:
            rec["source"] = result.source_id
            code = str(rec["reason"])
            for part in code.split(";"):
                result.reasons[part] = result.reasons.get(part, 0) + 1
        if q_records:
            q_out.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in q_records).encode("utf-8"))
    # Checked per batch as well as at the end, so a bug surfaces at the batch
    # that caused it, before any of that batch's rows are published.
    reconcile(records, curated_n, len(q_records), f"{result.source_id} line {lb.first_line_no}")
    result.records_in += records
    result.curated += curated_n
    result.quarantined += len(q_records)
    result.batches += 1
    result.max_batch_records = max(result.max_batch_records, n)


def _publish(fs: pafs.FileSystem, out_dir: str, prefix: str, staged: dict[str, str]) -> None:
    """Replace everything this source wrote before with what it wrote now."""
    listing = fs.get_file_info(pafs.FileSelector(out_dir, recursive=True, allow_not_found=True))
    for info in listing:
        if (info.type == pafs.FileType.File and info.base_name.startswith(prefix + ".")
                and f"/{STAGING_DIR}/" not in info.path):
            fs.delete_file(info.path)
    for part_name, path in staged.items():
        fs.create_dir(f"{out_dir}/{part_name}", recursive=True)
        fs.move(path, f"{out_dir}/{part_name}/{prefix}.parquet")


def _remove_quietly(fs: pafs.FileSystem, path: str, *, is_dir: bool) -> None:
    try:
        if is_dir:
            fs.delete_dir(path)
        else:
            fs.delete_file(path)
    except (FileNotFoundError, OSError):
        pass
