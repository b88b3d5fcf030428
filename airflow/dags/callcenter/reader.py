"""Bounded, streaming reading of JSON-lines and CSV input, and field extraction.

Memory is bounded by `batch_bytes` (plus one line of carry-over, itself capped by
MAX_LINE_BYTES), never by the input size: the reader holds one raw block at a
time and the Arrow arrays of a batch wrap that block without copying it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callcenter.contract import FIELDS, MAX_LINE_BYTES, Reason

DEFAULT_BATCH_BYTES = 8 << 20  # ~30k call records: big enough to amortise kernel overheads
# Windows tools (Excel, PowerShell's Out-File) start UTF-8 files with a byte-order
# mark. RFC 8259 s8.1 lets a JSON parser ignore it; left in place it glues onto the
# first record's "{" and that good record would be quarantined as invalid JSON.
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class LineBatch:
    """One block of complete lines. `lines` keep their trailing newline, which
    JSON treats as whitespace, so no copy is needed to strip it."""

    first_line_no: int  # 1-based physical line number of lines[0]
    lines: pa.BinaryArray
    # Lines dropped before this batch because they exceeded MAX_LINE_BYTES.
    too_long_line_nos: list[int] = field(default_factory=list)


def _split(block: memoryview | bytes, first_line_no: int) -> LineBatch:
    buf = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(buf == 10) + 1
    offsets = np.empty(len(ends) + 1, dtype=np.int32)
    offsets[0] = 0
    offsets[1:] = ends
    lines = pa.BinaryArray.from_buffers(
        pa.binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(block)]
    )
    return LineBatch(first_line_no=first_line_no, lines=lines)


class _BlockPool:
    """Reuses read buffers once nothing references them any more.

    A fresh 8 MiB bytearray costs ~4 ms (zero-filling plus a page fault per
    4 KiB), ~170 ns per record. The batch's Arrow arrays wrap the buffer without
    copying, so a buffer is only handed out again when its reference count
    shows that no array, view or LineBatch still holds it; otherwise a new one
    is allocated, which is always safe.
    """

    KEEP = 3
    SLACK = 64 << 10  # room for the partial line carried over from the previous block

    def __init__(self, batch_bytes: int) -> None:
        self._capacity = batch_bytes + self.SLACK
        self._buffers: list[bytearray] = []

    def get(self, size: int) -> bytearray:
        """A buffer of at least `size` bytes."""
        if size > self._capacity:
            return bytearray(size)
        for buf in self._buffers:
            # References: the list, the loop variable and getrefcount's argument.
            if sys.getrefcount(buf) <= 3:
                return buf
        buf = bytearray(self._capacity)
        if len(self._buffers) >= self.KEEP:
            self._buffers.pop(0)
        self._buffers.append(buf)
        return buf


def _fill(stream: BinaryIO, carry: bytes, batch_bytes: int, pool: _BlockPool | None = None) -> tuple[bytearray, int]:
    """A buffer holding `carry` followed by up to `batch_bytes` read from the
    stream in place, so the block is never copied again: the batch's Arrow
    arrays wrap this buffer directly."""
    size = len(carry) + batch_bytes
    buf = pool.get(size) if pool is not None else bytearray(size)
    buf[: len(carry)] = carry
    view = memoryview(buf)[:size]  # a pooled buffer may be larger
    filled = len(carry)
    readinto = getattr(stream, "readinto", None)
    while filled < size:
        if readinto is not None:
            got = readinto(view[filled:])
        else:  # plain read() streams: one extra copy
            chunk = stream.read(size - filled)
            got = len(chunk)
            view[filled : filled + got] = chunk
        if not got:
            break
        filled += got
    return buf, filled - len(carry)


def iter_line_batches(
    stream: BinaryIO, batch_bytes: int = DEFAULT_BATCH_BYTES, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[LineBatch]:
    """Yield blocks of whole lines read from `stream`, each at most about
    `batch_bytes` + one carried-over partial line."""
    if batch_bytes <= 0:
        raise ValueError(f"batch_bytes must be positive, got {batch_bytes}")
    carry = b""
    line_no = 1
    skipping = False  # inside a line that already exceeded max_line_bytes
    pending_too_long: list[int] = []
    pool = _BlockPool(batch_bytes)
    while True:
        buf, got = _fill(stream, carry, batch_bytes, pool)
        if not got:
            break
        end, pos = len(carry) + got, 0
        if line_no == 1 and not carry and not skipping and buf[:3] == UTF8_BOM:
            pos = 3  # only the stream's first bytes: a BOM inside the file is data
        if skipping:  # carry is empty here: drop bytes up to the end of the long line
            nl = buf.find(b"\n", 0, end)
            if nl < 0:
                continue
            pos, skipping = nl + 1, False
            line_no += 1
        cut = buf.rfind(b"\n", pos, end)
        if cut < 0:
            if end - pos > max_line_bytes:
                pending_too_long.append(line_no)
                skipping, carry = True, b""
            else:
                carry = bytes(buf[pos:end])
            continue
        carry = bytes(buf[cut + 1 : end])
        batch = _split(memoryview(buf)[pos : cut + 1], line_no)
        batch.too_long_line_nos, pending_too_long = pending_too_long, []
        line_no += len(batch.lines)
        yield batch
        if len(carry) > max_line_bytes:
            pending_too_long.append(line_no)
            skipping, carry = True, b""
    if carry or pending_too_long:
        # A final line without a newline is still a line.
        batch = _split(carry + b"\n", line_no) if carry else LineBatch(line_no, pa.array([], pa.binary()))
        batch.too_long_line_nos = pending_too_long
        yield batch


def decode_utf8(lines: pa.BinaryArray) -> tuple[pa.StringArray, np.ndarray]:
    """Lines as strings plus a mask of lines that were not valid UTF-8 (those are
    replaced by empty strings so the batch can still be processed column-wise)."""
    try:
        return lines.cast(pa.string()), np.zeros(len(lines), dtype=bool)
    except pa.ArrowInvalid:
        pass
    # Rare path: find the offending lines one by one.
    bad = np.zeros(len(lines), dtype=bool)
    values = lines.to_pylist()
    for i, raw in enumerate(values):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            bad[i] = True
            values[i] = b"\n"
    return pa.array(values, pa.binary()).cast(pa.string()), bad


class FieldExtractor:
    """Pulls the contract fields out of JSON lines as text, one line at a time in
    C++, so a malformed line yields a null row instead of failing the batch.

    Every field comes back as text (numbers as their JSON spelling); typing is
    the validator's job, which lets a wrongly typed value be quarantined with a
    precise reason rather than breaking the parse.
    """

    def __init__(self, threads: int = 1, fields: tuple[str, ...] = FIELDS) -> None:
        self._con = duckdb.connect(":memory:", config={"threads": threads})
        self._fields = tuple(fields)
        # Field names come from a checked contract (^[a-z][a-z0-9_]*$): safe inside the SQL literal.
        struct = "{" + ",".join(f'"{f}":"VARCHAR"' for f in self._fields) + "}"
        # json_valid first: try() around json_transform costs ~6 us per row once
        # any row in the vector fails, while the guard costs ~0.3 us. The guard
        # picks the text (NULL when invalid) rather than wrapping the struct in a
        # CASE: same result, ~0.7 ms less per query.
        self._expr = f"json_transform(if(json_valid(line), line, NULL), '{struct}') AS r"

    def close(self) -> None:
        self._con.close()

    def extract(self, lines: pa.StringArray) -> tuple[dict[str, pa.Array], pa.Array]:
        """Columns per field, and for each line its parse status: null when it
        parsed as an object, else one of "blank", invalid_json, not_an_object."""
        # A relation over the Arrow table: no named view to register and drop
        # per batch (~0.4 ms), and DuckDB scans the Arrow buffers in place.
        relation = self._con.from_arrow(pa.table({"line": lines}))
        result = relation.project(self._expr).to_arrow_table().column("r").combine_chunks()
        # json_transform returns a struct of nulls for valid non-objects and null
        # for broken JSON; both are rare, so classify them in Python and scatter
        # the few codes into an all-null column.
        suspicious = pc.or_(pc.is_null(result), pc.invert(pc.starts_with(lines, "{")))
        idx = pc.indices_nonzero(pc.fill_null(suspicious, True))
        status = pa.nulls(len(lines), pa.string())
        if len(idx):
            codes = [_classify(text) for text in pc.take(lines, idx).to_pylist()]
            mask = np.zeros(len(lines), dtype=bool)
            mask[idx.to_numpy()] = True
            status = pc.replace_with_mask(status, pa.array(mask), pa.array(codes, pa.string()))
        columns = {name: result.field(i) for i, name in enumerate(self._fields)}
        return columns, status


def _classify(text: str) -> str | None:
    if not text.strip():
        return "blank"
    try:
        value = json.loads(text)
    except ValueError:
        return Reason.INVALID_JSON
    return None if isinstance(value, dict) else Reason.NOT_AN_OBJECT


# --------------------------------------------------------------------------- CSV (RFC 4180)
#: A CSV record whose column count differs from the header's. Quarantined with
#: its record number only (no content: the columns cannot be told apart).
TOO_MANY_COLUMNS = "too_many_columns"
TOO_FEW_COLUMNS = "too_few_columns"
CSV_BLOCK_DIVISOR = 4  # pyarrow block = batch_bytes / 4 (read-ahead, see iter_csv_batches)


@dataclass
class CsvBatch:
    """Contract columns (text) of one block of CSV records.

    `line_nos` are record numbers: the header is 1, blank lines are not counted
    (pyarrow's row numbering), so a record holding quoted newlines is one number.
    `status` is null for a usable record, else invalid_utf8. `rejected` lists
    (record number, reason) of records pyarrow could not split into the
    header's columns; they carry no fields."""

    columns: dict[str, pa.Array]
    status: pa.Array
    line_nos: np.ndarray
    rejected: list[tuple[int, str]] = field(default_factory=list)


def _utf8(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A binary column as text, plus a mask of values that were not UTF-8 (emptied)."""
    try:
        return values.cast(pa.string()), np.zeros(len(values), dtype=bool)
    except pa.ArrowInvalid:
        pass
    bad = np.zeros(len(values), dtype=bool)  # rare path: find the values one by one
    listed = values.to_pylist()
    for i, raw in enumerate(listed):
        try:
            raw is None or raw.decode("utf-8")
        except UnicodeDecodeError:
            bad[i], listed[i] = True, b""
    return pa.array(listed, pa.binary()).cast(pa.string()), bad


def _too_long(exc: pa.ArrowInvalid, block: int) -> Exception:
    # pyarrow's message for a record spanning more than one block; anything else is re-raised as is.
    if "straddl" not in str(exc):
        return exc
    return ValueError(f"a CSV record is longer than the {block}-byte block (batch_bytes / {CSV_BLOCK_DIVISOR}; "
                      "raise batch_bytes for this source)")


def iter_csv_batches(stream: BinaryIO, fields: tuple[str, ...],
                     batch_bytes: int = DEFAULT_BATCH_BYTES) -> Iterator[CsvBatch]:
    """Stream CSV records (header row; quoted commas, quotes and newlines; BOM
    and CRLF tolerated) as text columns of `fields`, about `batch_bytes` of
    input at a time (pyarrow's streaming reader: one block in memory).

    Columns the header lacks come back as nulls, so a missing required field
    quarantines every record as missing:<field>; columns the contract does not
    name are ignored (as unknown JSON keys are). Every value is read as bytes
    and decoded per column, so one bad byte quarantines one record, not the file.
    A single record larger than a block (batch_bytes / CSV_BLOCK_DIVISOR, 2 MiB
    by default) cannot be split by pyarrow: the file fails with one line naming
    the limit.
    """
    import pyarrow.csv as pcsv

    rejected: dict[int, str] = {}

    def on_invalid(row: pcsv.InvalidRow) -> str:
        # Called while pyarrow parses a block, before that block's batch is
        # yielded: every bad record before a batch's rows is known by then.
        if row.number is None:  # only unknown with use_threads=True
            raise ValueError("CSV row number unknown")
        rejected[row.number] = TOO_MANY_COLUMNS if row.actual_columns > row.expected_columns else TOO_FEW_COLUMNS
        return "skip"

    # pyarrow's streaming reader reads blocks ahead on its IO pool (8 threads) however
    # use_threads is set: with 8 MiB blocks ~100 MB of a 180 MB export was held after the
    # first batch (pa.total_allocated_bytes), with 2 MiB ~70 MB. Quarter-size blocks, grouped
    # back into one batch below: the 1M-record CSV run peaks at ~460 MB RSS instead of ~500-540 MB,
    # same CPU per record (measured 2026-12-04, bench/pipeline_bench.py --format csv).
    block = max(batch_bytes // CSV_BLOCK_DIVISOR, 1)
    try:
        reader = pcsv.open_csv(
            stream,
            read_options=pcsv.ReadOptions(use_threads=False, block_size=block),
            parse_options=pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.binary() for name in fields}, include_columns=list(fields),
                include_missing_columns=True, strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return
        raise _too_long(exc, block) from None
    last = 1  # the header's record number
    batches = iter(reader)
    while True:
        # CSV_BLOCK_DIVISOR small blocks make one batch: the kernel's per-batch costs are paid
        # per ~batch_bytes as for JSON lines (2 MiB batches measured ~25% more CPU per record).
        group: list[pa.RecordBatch] = []
        try:
            while len(group) < CSV_BLOCK_DIVISOR and (batch := next(batches, None)) is not None:
                group.append(batch)
        except pa.ArrowInvalid as exc:
            raise _too_long(exc, block) from None
        if not group:
            break
        table = pa.Table.from_batches(group)
        n = table.num_rows
        # The records are the next n numbers that are not rejected ones.
        skipped = sorted(k for k in rejected if k > last)
        numbers = np.arange(last + 1, last + 1 + n + len(skipped), dtype=np.int64)
        if skipped:
            numbers = numbers[~np.isin(numbers, np.array(skipped, dtype=np.int64))]
        numbers = numbers[:n]
        top = int(numbers[-1]) if n else last
        done = [(k, rejected.pop(k)) for k in skipped if k < top]
        columns: dict[str, pa.Array] = {}
        bad = np.zeros(n, dtype=bool)
        for name in fields:
            col = table.column(name).combine_chunks()
            if col.type == pa.null():  # a column the header lacks
                columns[name] = pa.nulls(n, pa.string())
                continue
            columns[name], col_bad = _utf8(col)
            bad |= col_bad
        status = pa.nulls(n, pa.string())
        if bad.any():
            status = pc.if_else(pa.array(bad), pa.scalar(Reason.INVALID_UTF8), status)
        last = top
        yield CsvBatch(columns, status, numbers, done)
    if rejected:  # bad records after the last good one
        yield CsvBatch({name: pa.array([], pa.string()) for name in fields}, pa.array([], pa.string()),
                       np.zeros(0, dtype=np.int64), sorted(rejected.items()))
