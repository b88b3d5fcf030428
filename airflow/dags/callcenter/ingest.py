"""Ingest one export (JSON lines or CSV) of a domain into masked, date-partitioned Parquet.

The domain's contract (callcenter.domain, airflow/dags/domains/<domain>.yaml)
names the fields, their rules and masks, the unique field and the partition;
call_analytics is the default so older call sites keep working.

    records_in == curated + quarantined, or the run raises and publishes nothing.

Output is staged under `<out_dir>/_staging/` and only moved into place after the
whole input reconciled. Publishing never deletes first (review D6): a journal
listing every staged->final move and every stale file is written before the
first move; each move overwrites one fixed name per partition
(`part-<source key>.parquet`), which is atomic per object (POSIX rename; S3/GCS
copy to a key); stale files of partitions this source no longer has go last;
the journal goes after them. A failure at any point leaves every partition with
the previous or the new file of this source, and the next ingest of the source
(or the next run's find step) rolls the journal forward. Duplicate call_ids go
to quarantine (review V6) and the published files are read back and reconciled
(review V9). Works on any pyarrow FileSystem (local disk in tests, S3/GCS in the DAGs).
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

from callcenter.contract import MAX_LINE_BYTES, Reason
from callcenter.dedup import first_occurrence
from callcenter.domain import ContractError, DomainContract
from callcenter.domain import load as load_contract
from callcenter.masking import check_key, mask_field, mask_input, redact_structured
from callcenter.reader import (
    DEFAULT_BATCH_BYTES,
    CsvBatch,
    FieldExtractor,
    LineBatch,
    decode_utf8,
    iter_csv_batches,
    iter_line_batches,
)
from callcenter.validation import Validated, validate

STAGING_DIR = "_staging"  # leading underscore: pyarrow datasets and Glue skip it
# Parquet layout per contract (DomainContract.dictionary_columns/statistics_columns):
# dictionary pages only on columns with few distinct values per file; for
# near-unique ones (call_id, e-mail pseudonyms, notes) trying costs time for nothing.
# call_analytics' customer_id counts as near-unique: in a day's partition of the
# bench input a dictionary made it slower (95 vs 59 ns/row) and larger (4.4 vs
# 3.4 B/row). Min/max statistics only where readers prune on them; on
# near-unique strings (pseudonyms, notes) they cost write time and prune nothing.
QUARANTINE_RAW_CHARS = 64


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
    # Written plus emptied: every partition whose content for this source changed,
    # so distribute re-syncs a partition this source left too (review D8).
    partitions: list[str] = field(default_factory=list)
    removed_partitions: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    # Read back from the published files, not counted in memory (review V9).
    read_back_curated: int = 0
    read_back_quarantined: int = 0


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

    def __init__(self, fs: pafs.FileSystem, root: str, prefix: str, contract: DomainContract | None = None) -> None:
        self._fs, self._root, self._prefix = fs, root, prefix
        self._contract = contract or load_contract()
        self._column = self._contract.partition_column
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._pending: dict[str, list[pa.Table]] = {}
        self._pending_rows: dict[str, int] = {}
        self.files: dict[str, str] = {}  # partition dir name -> staged file path

    def write(self, table: pa.Table) -> None:
        # Rows must arrive grouped by date (_curate orders them so); a table that
        # is not is sorted here, one sort and then zero-copy slices per date.
        days = table.column(self._column).combine_chunks()
        runs = pc.run_end_encode(days)
        if len(runs.values) != len(pc.unique(runs.values)):
            table = table.take(pc.sort_indices(days))
            days = table.column(self._column).combine_chunks()
            runs = pc.run_end_encode(days)
        ends = runs.run_ends.to_pylist()
        values = runs.values.to_pylist()
        body = table.drop_columns([self._column])  # the folder name carries it (hive layout)
        start = 0
        for day, end in zip(values, ends, strict=True):
            name = f"{self._column}={day.isoformat()}"
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
                self._contract.file_schema,
                compression="zstd",
                use_dictionary=self._contract.dictionary_columns,
                write_statistics=self._contract.statistics_columns,
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
    """Indices of the valid rows, grouped by partition date (stable within a date).

    Taking each needed column once in this order replaces a filter of every
    column followed by the writer's sort-and-take of the whole table.
    """
    keep = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
    if len(keep) == 0:
        return pa.array(keep)
    # Microseconds since the epoch, floor-divided into days as the date32 cast
    # does (and if they ever disagreed, the writer would sort instead).
    micros = checked.partition_time.cast(pa.int64()).to_numpy(zero_copy_only=False)
    days = micros[keep] // 86_400_000_000
    lo = int(days.min())
    if int(days.max()) - lo < 1 << 15:  # the usual case: a radix sort on int16
        order = np.argsort((days - lo).astype(np.int16), kind="stable")
    else:
        order = np.argsort(days, kind="stable")
    return pa.array(keep[order])


def _curate(batch_cols: dict[str, pa.Array], checked: Validated, valid: pa.Array, key: bytes,
            timer: _Timer = _NO_TIMER, contract: DomainContract | None = None) -> pa.Table:
    """Masked valid rows in the contract's curated schema, ordered by partition
    date (see _PartitionWriter.write).

    Timed in parts, as masking is where most of the per-record Python is:
    gather (rows in date order), pseudonymise (keyed BLAKE2b per distinct
    value) and redact (regexes over free text); the rest counts as mask.
    """
    contract = contract or load_contract()
    with timer.stage("mask:gather"):
        idx = _curated_order(checked, valid)

        def take(arr: pa.Array) -> pa.Array:
            return pc.take(arr, idx)

        # One gather per curated column: typed values for timestamps and
        # numbers, the mask's input for pii fields, text types as delivered.
        # Dropped fields are not read.
        out: dict[str, pa.Array] = {
            spec.output: take(mask_input(spec, batch_cols, checked.values) if spec.pii
                              else checked.values[spec.name] if spec.type in _TYPED else batch_cols[spec.name])
            for spec in contract.fields if spec.output is not None}
    for spec in contract.pii_fields:
        if spec.output is not None:
            with timer.stage(_MASK_STAGES.get(spec.mask or "", "mask")):
                out[spec.output] = mask_field(spec, out[spec.output], key)
    out[contract.partition_column] = out[contract.field(contract.partition_field).output].cast(pa.date32())
    return pa.table(out, schema=contract.curated_schema)


_TYPED = ("timestamp", "integer", "number")
_MASK_STAGES = {"keyed_hash": "mask:pseudonymise", "redact": "mask:redact"}


def _quarantine_order(contract: DomainContract) -> list:
    # Ids first (what a producer searches for), then the other fields in contract order.
    return sorted(contract.fields, key=lambda f: f.type != "id")


def _quarantine_rows(
    batch_cols: dict[str, pa.Array] | None, checked: Validated, picked: np.ndarray, key: bytes,
    contract: DomainContract | None = None, redact_quarantine: bool = True,
) -> list[dict[str, object]]:
    """Masked view of rejected records: producers can find and fix them by line
    number, but the quarantine never stores the raw PII it could not validate:
    pii fields appear only in their curated masked form (dropped ones not at all).

    Other fields are kept capped at QUARANTINE_RAW_CHARS, and lose any e-mail
    or phone number typed into the wrong field (review V2), whatever the
    domain: ids and timestamps in their own shape keep their digits
    (masking.redact_structured). redact_quarantine (the default, and what every
    `classification: pii` domain gets) also keeps no free text of a rejected
    record (non-pii `text` fields are null): in a pii domain free text can name
    people in ways no pattern finds. Without it (internal/public domains) that
    text is kept, redacted, for the producer to debug."""
    if batch_cols is None or len(picked) == 0:
        return [{} for _ in picked]
    contract = contract or load_contract()
    idx = pa.array(picked)
    masked: dict[str, pa.Array] = {}
    for spec in _quarantine_order(contract):
        if spec.pii:
            if spec.output is not None:
                masked[spec.output] = mask_field(spec, pc.take(mask_input(spec, batch_cols, checked.values), idx),
                                                 key)
            continue
        if redact_quarantine and spec.type == "text":
            masked[spec.name] = pa.nulls(len(picked), pa.string())
            continue
        capped = pc.utf8_slice_codeunits(pc.take(batch_cols[spec.name], idx), 0, QUARANTINE_RAW_CHARS)
        masked[spec.name] = redact_structured(capped, spec.name, spec.type)
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
    contract: DomainContract | None = None,
    fmt: str | None = None,
    redact_quarantine: bool = True,
) -> IngestResult:
    """Validate, mask and write one input. `source` is a path on `in_fs` or an
    open binary stream; `source_id` names it in outputs (defaults to the path).

    `contract` defaults to call_analytics. `fmt` (jsonl or csv) defaults to the
    path's suffix (.jsonl/.json/.ndjson, .csv), or for a stream to the
    contract's first format; a format the contract does not list is refused
    (ContractError, before anything is written). `redact_quarantine`: see
    _quarantine_rows (H2's DAGs pass classification == "pii")."""
    check_key(key)
    contract = contract or load_contract()
    if fmt is None:
        fmt = contract.format_of(source) if isinstance(source, str) else contract.formats[0]
    elif fmt not in contract.formats:
        raise ContractError(f"{source_id or source}: format {fmt!r} is not accepted by domain "
                            f"{contract.domain} (formats: {', '.join(contract.formats)} in {contract.path})")
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
    journal = journal_path(out_dir, prefix)
    roll_forward(out_fs, journal)  # an earlier run of this source died mid-publish
    writer = _PartitionWriter(out_fs, staging, prefix, contract)
    extractor = FieldExtractor(threads=threads, fields=contract.names)
    call_ids = CallIds(out_fs, out_dir, prefix, contract) if contract.unique else None
    publishing = False
    try:
        with _open(source, in_fs) as stream, out_fs.open_output_stream(q_staged) as q_out:
            batches: Iterator[LineBatch | CsvBatch] = (
                iter_csv_batches(stream, contract.names, batch_bytes) if fmt == "csv"
                else iter_line_batches(stream, batch_bytes))
            while True:
                with timer.stage("read"):
                    batch = next(batches, None)
                if batch is None:
                    break
                if isinstance(batch, CsvBatch):
                    _ingest_records(batch.columns, batch.status, batch.line_nos, batch.rejected, result, writer,
                                    q_out, key, timer, call_ids, contract, redact_quarantine)
                    size = len(batch.line_nos)
                else:
                    _ingest_batch(batch, result, writer, extractor, q_out, key, timer, call_ids, contract,
                                  redact_quarantine)
                    size = len(batch.lines)
                if on_batch is not None:
                    on_batch(size)
        with timer.stage("write"):  # flushes the rows still buffered
            writer.close()
        reconcile(result.records_in, result.curated, result.quarantined, source_id)
        with timer.stage("write"):
            plan = _plan_publish(out_fs, out_dir, prefix, writer.files, [staging, q_staged])
            plan["moves"].append([q_staged, q_final])
            publishing = True  # from here on, staging belongs to the journal
            _write_json_atomic(out_fs, journal, plan, f"{staging}/journal.json.tmp")
            _apply(out_fs, journal, plan)
        result.removed_partitions = plan["removed"]
        result.partitions = sorted(set(writer.files) | set(plan["removed"]))
        with timer.stage("verify"):
            _read_back(out_fs, [dst for _, dst in plan["moves"][:-1]], q_final, result)
        return result
    finally:
        writer.abort()
        extractor.close()
        if not publishing or not _exists(out_fs, journal):
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
                  q_out: pa.NativeFile, key: bytes, timer: _Timer, call_ids: CallIds | None = None,
                  contract: DomainContract | None = None, redact_quarantine: bool = True) -> None:
    """One block of JSON lines: decode, extract the contract's fields, then
    the format-independent part (_ingest_records)."""
    rejected = [(line_no, Reason.LINE_TOO_LONG) for line_no in lb.too_long_line_nos]
    n = len(lb.lines)
    if not n:
        _ingest_records(None, None, np.zeros(0, dtype=np.int64), rejected, result, writer, q_out, key, timer,
                        call_ids, contract, redact_quarantine)
        return
    with timer.stage("read"):
        lines, bad_utf8 = decode_utf8(lb.lines)
    with timer.stage("parse"):
        cols, status = extractor.extract(lines)
    with timer.stage("validate"):
        status = pc.if_else(pa.array(bad_utf8), pa.scalar(Reason.INVALID_UTF8), status)
        # Lines over the limit that fit inside one block were parsed anyway;
        # the contract still rejects them.
        oversized = pc.greater(pc.binary_length(lb.lines), MAX_LINE_BYTES)
        status = pc.if_else(oversized, pa.scalar(Reason.LINE_TOO_LONG), status)
    line_nos = np.arange(lb.first_line_no, lb.first_line_no + n, dtype=np.int64)
    _ingest_records(cols, status, line_nos, rejected, result, writer, q_out, key, timer, call_ids, contract,
                    redact_quarantine)


def _ingest_records(cols: dict[str, pa.Array] | None, status: pa.Array | None, line_nos: np.ndarray,
                    rejected: list[tuple[int, str]], result: IngestResult, writer: _PartitionWriter,
                    q_out: pa.NativeFile, key: bytes, timer: _Timer, call_ids: CallIds | None,
                    contract: DomainContract | None, redact_quarantine: bool) -> None:
    """Validate, dedup, mask, write and quarantine one batch of records.

    `status` is null for a record that parsed, "blank" for a blank JSON line
    (not a record), else a line-level reason; `rejected` are records that
    never reached columns (line_too_long, a CSV row of the wrong width)."""
    contract = contract or load_contract()
    q_records: list[dict[str, object]] = [{"line": line_no, "reason": reason} for line_no, reason in rejected]
    curated_n = 0
    n = len(line_nos)
    if n and cols is not None and status is not None:
        with timer.stage("validate"):
            checked = validate(cols, contract=contract)
            blank = pc.fill_null(pc.equal(status, "blank"), False)
            reasons = pc.coalesce(status, checked.reasons)
            valid = pc.fill_null(pc.is_null(reasons), False)
        if call_ids is not None:
            with timer.stage("dedup"):
                dup = call_ids.duplicates(cols[call_ids.field], checked.partition_time, valid)
                if dup is not None:
                    reasons = pc.if_else(dup, pa.scalar(contract.duplicate_reason), reasons)
                    valid = pc.and_(valid, pc.invert(dup))
        with timer.stage("validate"):
            rejected_rows = pc.and_(pc.invert(valid), pc.invert(blank))
        with timer.stage("mask"):
            table = _curate(cols, checked, valid, key, timer, contract)
            curated_n = table.num_rows
        with timer.stage("write"):
            if curated_n:
                writer.write(table)
        with timer.stage("quarantine"):
            picked = pc.indices_nonzero(rejected_rows).to_numpy()
            if len(picked):
                rows = _quarantine_rows(cols, checked, picked, key, contract, redact_quarantine)
                reason_list = pc.take(reasons, pa.array(picked)).to_pylist()
                parsed = pc.take(status, pa.array(picked)).to_pylist()
                for i, row, reason, st in zip(picked, rows, reason_list, parsed, strict=True):
                    rec: dict[str, object] = {"line": int(line_nos[i]), "reason": reason}
                    if st is None:  # the record parsed; keep its masked fields
                        rec.update(row)
                    q_records.append(rec)
        records = n - int(pc.sum(blank).as_py() or 0) + len(rejected)
    else:
        records = len(rejected)
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
    first = int(line_nos[0]) if n else (rejected[0][0] if rejected else 0)
    reconcile(records, curated_n, len(q_records), f"{result.source_id} line {first}")
    result.records_in += records
    result.curated += curated_n
    result.quarantined += len(q_records)
    result.batches += 1
    result.max_batch_records = max(result.max_batch_records, n)


JOURNAL_SUFFIX = ".journal.json"


def journal_path(out_dir: str, prefix: str) -> str:
    # One per source (not per run), so the next run of the source finds it.
    return f"{out_dir.rstrip('/')}/{STAGING_DIR}/{prefix}{JOURNAL_SUFFIX}"


def _exists(fs: pafs.FileSystem, path: str) -> bool:
    try:
        return fs.get_file_info(path).type == pafs.FileType.File
    except OSError:
        return True  # cannot tell (store down): keep what the journal may need


def _plan_publish(fs: pafs.FileSystem, out_dir: str, prefix: str, staged: dict[str, str],
                  cleanup: list[str]) -> dict:
    """Moves of the staged files onto their final names, and the files of this
    source the new output no longer has (partitions it left: review D8)."""
    finals = {f"{out_dir}/{part}/{prefix}.parquet" for part in staged}
    listing = fs.get_file_info(pafs.FileSelector(out_dir, recursive=True, allow_not_found=True))
    stale = sorted(i.path for i in listing
                   if i.type == pafs.FileType.File and i.base_name.startswith(prefix + ".")
                   and f"/{STAGING_DIR}/" not in f"/{i.path[len(out_dir) + 1:]}" and i.path not in finals)
    removed = sorted({p[len(out_dir) + 1:].split("/")[0] for p in stale} - set(staged))
    return {"moves": [[path, f"{out_dir}/{part}/{prefix}.parquet"] for part, path in sorted(staged.items())],
            "delete": stale, "cleanup": cleanup, "removed": removed}


def _write_json_atomic(fs: pafs.FileSystem, path: str, data: dict, tmp: str) -> None:
    # Written under a temporary name (inside the run's staging folder, so a
    # failed run's cleanup takes it too) and moved: a half-written journal never
    # exists under its real name (rename on disk; one PUT/copy per key on S3/GCS).
    with fs.open_output_stream(tmp) as out:
        out.write(json.dumps(data, sort_keys=True).encode("utf-8"))
    fs.move(tmp, path)


def _apply(fs: pafs.FileSystem, journal: str, plan: dict) -> None:
    """Idempotent: a step already done (by an earlier attempt or a concurrent
    roll-forward) is skipped, so any number of retries converge."""
    for src, dst in plan["moves"]:
        if fs.get_file_info(src).type != pafs.FileType.File:
            continue  # moved by an earlier attempt
        fs.create_dir(dst.rsplit("/", 1)[0], recursive=True)
        try:
            fs.move(src, dst)  # replaces dst in one step (pyarrow FileSystem.move)
        except FileNotFoundError:
            pass
    # Stale partitions last: their rows may have moved to a new one. Only "already
    # gone" is tolerated; any other error keeps the journal, so a retry finishes.
    for path in plan["delete"]:
        _remove_if_present(fs, path, is_dir=False)
    for path in plan["cleanup"]:
        _remove_if_present(fs, path, is_dir=not path.endswith(".jsonl"))
    _remove_if_present(fs, journal, is_dir=False)  # the journal goes last


def _remove_if_present(fs: pafs.FileSystem, path: str, *, is_dir: bool) -> None:
    try:
        fs.delete_dir(path) if is_dir else fs.delete_file(path)
    except FileNotFoundError:
        pass


def roll_forward(fs: pafs.FileSystem, journal: str) -> bool:
    """Finish the publish a journal describes, if one is pending."""
    try:
        with fs.open_input_stream(journal) as stream:
            plan = json.loads(stream.read())
    except FileNotFoundError:
        return False
    _apply(fs, journal, plan)
    return True


def recover_publishes(fs: pafs.FileSystem, out_dir: str) -> int:
    """Roll every pending journal under out_dir forward (the run's first step, so
    no ingest of this run is publishing). Returns how many there were."""
    infos = fs.get_file_info(pafs.FileSelector(f"{out_dir.rstrip('/')}/{STAGING_DIR}", allow_not_found=True))
    return sum(roll_forward(fs, i.path) for i in infos
               if i.type == pafs.FileType.File and i.base_name.endswith(JOURNAL_SUFFIX))


def _read_back(fs: pafs.FileSystem, parquet_paths: list[str], quarantine_path: str, result: IngestResult) -> None:
    """Row counts from the published Parquet footers and the quarantine's line
    count, reconciled against records_in (review V9): the check trusts what a
    reader will find, not the counters that produced it."""
    curated = 0
    for path in parquet_paths:
        with fs.open_input_file(path) as f:
            curated += pq.ParquetFile(f).metadata.num_rows
    lines = 0
    with fs.open_input_stream(quarantine_path) as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")  # json.dumps escapes newlines inside values
    result.read_back_curated, result.read_back_quarantined = curated, lines
    reconcile(result.records_in, curated, lines, f"{result.source_id} (read back)")


class CallIds:
    """duplicate_<unique> (review V6; call_analytics: duplicate_call_id): a value
    of the contract's unique field seen earlier in this export, or present in
    another source's file of the same curated partition.

    Set operations run in C (set.intersection/update over a batch's list), the
    per-row mask is one pc.is_in against the few hits. Memory: this export's
    valid call_ids plus the call_ids of other sources' files in the partitions
    it writes, about 90 B per id as Python strings; the other files are read
    one row group of the call_id column at a time (measured in pipeline_bench).
    """

    def __init__(self, fs: pafs.FileSystem, out_dir: str, prefix: str,
                 contract: DomainContract | None = None) -> None:
        contract = contract or load_contract()
        self._fs, self._out_dir, self._own = fs, out_dir, f"{prefix}.parquet"
        self.field = contract.unique or ""  # non-pii by contract rule: stored as delivered
        self._partition_column = contract.partition_column
        self._seen: set[str] = set()
        self._others: dict[object, set[str]] = {}

    def _other_ids(self, day: object) -> set[str]:
        if day not in self._others:
            ids: set[str] = set()
            folder = f"{self._out_dir}/{self._partition_column}={day.isoformat()}"  # type: ignore[attr-defined]
            for info in self._fs.get_file_info(pafs.FileSelector(folder, allow_not_found=True)):
                # A re-export of the same source replaces its own file: not a duplicate.
                if info.type != pafs.FileType.File or info.base_name == self._own \
                        or not info.base_name.endswith(".parquet"):
                    continue
                try:
                    with self._fs.open_input_file(info.path) as f:
                        for batch in pq.ParquetFile(f).iter_batches(columns=[self.field]):
                            ids.update(batch.column(0).to_pylist())
                except FileNotFoundError:
                    continue  # deleted since the listing (that source left the partition)
            self._others[day] = ids
        return self._others[day]

    def duplicates(self, call_id: pa.Array, start: pa.Array, valid: pa.Array) -> pa.Array | None:
        """Mask over the batch: valid rows whose call_id is a duplicate."""
        cand = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
        if len(cand) == 0:
            return None
        take = pa.array(cand)
        ids = pc.take(call_id, take)
        days = pc.take(start, take).cast(pa.date32())
        listed = ids.to_pylist()
        batch = set(listed)
        # Fast paths for the usual case, no duplicate at all: a set as long as
        # the batch has no repeats, and isdisjoint stops at the first common id.
        dup = np.zeros(len(listed), dtype=bool) if len(batch) == len(listed) else ~first_occurrence(ids)

        def hits_mask(hits: set[str]) -> np.ndarray:
            return pc.is_in(ids, value_set=pa.array(list(hits), pa.string())).to_numpy(zero_copy_only=False)

        if not self._seen.isdisjoint(batch):
            dup |= hits_mask(self._seen & batch)
        for day in pc.unique(days).to_pylist():
            others = self._other_ids(day)
            if others and not others.isdisjoint(batch):
                dup |= hits_mask(others & batch) & pc.equal(days, pa.scalar(day, pa.date32())).to_numpy(
                    zero_copy_only=False)
        self._seen |= batch
        if not dup.any():
            return None
        mask = np.zeros(len(valid), dtype=bool)
        mask[cand[dup]] = True
        return pa.array(mask)


def _remove_quietly(fs: pafs.FileSystem, path: str, *, is_dir: bool) -> None:
    try:
        if is_dir:
            fs.delete_dir(path)
        else:
            fs.delete_file(path)
    except (FileNotFoundError, OSError):
        pass
