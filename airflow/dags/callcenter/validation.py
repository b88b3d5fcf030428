"""Column-wise validation of extracted fields against a domain contract (callcenter.domain).

Each rule produces a column holding its reason code where the rule fails and
null elsewhere; the columns are then joined, so a record breaking several rules
reports all of them ("missing:agent_id;bad_email") in contract order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from callcenter.contract import (
    ID_PII_PATTERN,
    PHONE_MAX_DIGITS,
    PHONE_MIN_DIGITS,
    TIMESTAMP_MAX_AHEAD_S,
    TIMESTAMP_MIN_ISO,
    Reason,
)
from callcenter.domain import DomainContract, FieldSpec
from callcenter.domain import load as load_contract
from callcenter.masking import holds_contact, phone_digits

# Deliberately loose: one '@', no whitespace, a dot in the domain. Deliverability
# is not ours to judge; catching "n/a", "none" or a phone typed in the wrong box is.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TIMESTAMP_SHAPE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
TIMEZONE_SUFFIX = r"(Z|[+-]\d{2}(:?\d{2})?)$"  # matched against the last 6 chars
# The layout nearly every producer writes. A value in it has both the shape and
# an offset, so the two narrower checks above only run on the other values.
CANONICAL_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
FLOAT_PATTERN = r"^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class Validated:
    reasons: pa.Array  # string; null for a valid record
    # Per field, the value the curated zone stores or masks: timestamps
    # (timestamp[us, UTC]), integers, floats, phone digits; text types as given.
    # Meaningless where the record is invalid.
    values: dict[str, pa.Array]
    partition_time: pa.Array  # the partition field's timestamps

    # The call_analytics names of the typed columns, kept for older callers.
    @property
    def phone_digits(self) -> pa.Array:
        return self.values["customer_phone"]

    @property
    def call_start_time(self) -> pa.Array:
        return self.values["call_start_time"]

    @property
    def duration(self) -> pa.Array:
        return self.values["duration"]

    @property
    def sentiment(self) -> pa.Array:
        return self.values["sentiment"]


class _Flags:
    """Rule failures as bits of one integer per row. Cheap numeric ops for every
    row; reason strings are only built once per distinct combination of
    failures and scattered into an otherwise all-null column."""

    def __init__(self, n: int) -> None:
        self.bits = np.zeros(n, dtype=np.uint32)
        self.codes: list[str] = []

    def add(self, condition: pa.Array, code: str) -> None:
        bit = len(self.codes)
        self.codes.append(code)
        hit = pc.fill_null(condition, False).to_numpy(zero_copy_only=False)
        self.bits |= hit.astype(np.uint32) << np.uint32(bit)

    def reasons(self) -> pa.Array:
        n = len(self.bits)
        out = pa.nulls(n, pa.string())
        bad = np.flatnonzero(self.bits)
        if len(bad) == 0:
            return out
        combos, which = np.unique(self.bits[bad], return_inverse=True)
        texts = [";".join(code for k, code in enumerate(self.codes) if int(c) >> k & 1) for c in combos]
        values = pc.take(pa.array(texts, pa.string()), pa.array(which.astype(np.int32)))
        mask = np.zeros(n, dtype=bool)
        mask[bad] = True
        return pc.replace_with_mask(out, pa.array(mask), values)


def _blank(values: pa.Array) -> pa.Array:
    # Null (absent or JSON null), empty and whitespace-only all count as missing;
    # utf8_is_space is a predicate, far cheaper than trimming every value.
    return pc.fill_null(pc.or_(pc.equal(values, ""), pc.utf8_is_space(values)), True)


_TS = pa.timestamp("us", tz="UTC")
_CAST_CHUNK = 1024


def _parse_one(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1/9999 pushed past the range by the offset
        return None


def _parse_timestamps(text: pa.Array, shape_ok: pa.Array) -> tuple[pa.Array, pa.Array]:
    """UTC timestamps, plus a mask of values that are not valid timestamps.

    Values that look right but do not exist (month 13, Feb 30) make Arrow's cast
    fail for the whole array, so on failure the cast is retried in small chunks
    and only a failing chunk is parsed value by value.
    """
    safe = pc.if_else(shape_ok, text, pa.scalar("1970-01-01T00:00:00Z"))
    try:
        return safe.cast(_TS), pc.invert(shape_ok)
    except (pa.ArrowInvalid, OverflowError):
        pass
    parts: list[pa.Array] = []
    for start in range(0, len(safe), _CAST_CHUNK):
        chunk = safe.slice(start, _CAST_CHUNK)
        try:
            parts.append(chunk.cast(_TS))
        except (pa.ArrowInvalid, OverflowError):  # the message would quote the raw value: not logged
            parts.append(pa.array([_parse_one(v) for v in chunk.to_pylist()], _TS))
    ts = pa.concat_arrays(parts)
    bad = pc.or_(pc.invert(shape_ok), pc.is_null(ts))
    return pc.fill_null(ts, pa.scalar(0, _TS)), bad


# Byte layouts of the two canonical forms: "2026-11-20T10:11:12+05:30" and
# "2026-11-20T10:11:12Z". D = ASCII digit; other entries are the allowed bytes.
_D = b"0123456789"
_LAYOUTS = {
    25: [_D] * 4 + [b"-"] + [_D] * 2 + [b"-"] + [_D] * 2 + [b"T "] + [_D] * 2 + [b":"] + [_D] * 2 + [b":"]
        + [_D] * 2 + [b"+-"] + [_D] * 2 + [b":"] + [_D] * 2,
    20: [_D] * 4 + [b"-"] + [_D] * 2 + [b"-"] + [_D] * 2 + [b"T "] + [_D] * 2 + [b":"] + [_D] * 2 + [b":"]
        + [_D] * 2 + [b"Z"],
}
_LAYOUT_TABLES = {width: np.array([[b in allowed for b in range(256)] for allowed in layout], dtype=bool)
                  for width, layout in _LAYOUTS.items()}


def _fixed_layout(text: pa.Array, width: int) -> np.ndarray | None:
    """Per value: is it exactly `width` bytes in that canonical layout. Values
    of other widths are swapped for a filler first so that the bytes form one
    (n, width) matrix checked column by column, no regex and no gather; None
    when too few values have that width to be worth it."""
    lengths = pc.binary_length(text).to_numpy(zero_copy_only=False)
    right_width = lengths == width
    if right_width.sum() * 4 < len(lengths):
        return None
    if not right_width.all():
        text = pc.if_else(pa.array(right_width), text, pa.scalar("0" * width))
    _, offsets, data = text.buffers()
    start = np.frombuffer(offsets, np.int32, 1, text.offset * 4)[0]
    matrix = np.frombuffer(data, np.uint8, len(text) * width, int(start)).reshape(len(text), width)
    ok = right_width.copy()
    for col, table in enumerate(_LAYOUT_TABLES[width]):
        ok &= table[matrix[:, col]]
    return ok


def _canonical(text: pa.Array) -> pa.Array:
    """The CANONICAL_TIMESTAMP regex, or a subset of what it accepts: values in
    the two fixed layouts are checked byte by byte (~20 ns instead of ~80 ns
    per value); the regex runs only on values in neither."""
    if not isinstance(text, pa.Array) or text.type != pa.string():  # e.g. chunked or large_string input
        return pc.match_substring_regex(text, CANONICAL_TIMESTAMP)
    found = np.zeros(len(text), dtype=bool)
    checked = np.zeros(len(text), dtype=bool)
    for width in _LAYOUTS:
        ok = _fixed_layout(text, width)
        if ok is not None:
            found |= ok
            checked |= ok
    rest = np.flatnonzero(~checked)
    if len(rest):
        found[rest] = pc.match_substring_regex(pc.take(text, pa.array(rest)), CANONICAL_TIMESTAMP).to_numpy(
            zero_copy_only=False)
    return pa.array(found)


def _timestamp_shape(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Per value: does it start like an ISO date-time, and does it end in a UTC
    offset or Z. Values in the canonical layout have both (settled cheaply by
    _canonical); the rest get the two narrower regexes, each only on the short
    head/tail of the value (~190 ns together when run on every value)."""
    canonical = _canonical(text)
    other = pc.invert(canonical)
    picked = pc.indices_nonzero(other)
    if len(picked) == 0:
        return canonical, canonical
    rest = pc.take(text, picked)
    shape = pc.match_substring_regex(pc.utf8_slice_codeunits(rest, 0, 16), TIMESTAMP_SHAPE)
    has_tz = pc.match_substring_regex(pc.utf8_slice_codeunits(rest, -6), TIMEZONE_SUFFIX)
    return pc.replace_with_mask(canonical, other, shape), pc.replace_with_mask(canonical, other, has_tz)


def _pii_in_id(values: pa.Array) -> pa.Array:
    """Id values that are an e-mail or a phone number in disguise (ID_PII_PATTERN).
    One regex pass over every id; the pattern lists the full-width forms."""
    return pc.fill_null(pc.match_substring_regex(values, ID_PII_PATTERN), False)


def _parse_floats(text: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Floats and a mask of values that are numbers. The plain cast succeeds for
    almost every batch; only a batch holding a non-number pays for the regex."""
    try:
        values = text.cast(pa.float64())
        finite = pc.is_finite(values)  # "nan"/"inf" cast fine but are not sentiments
        return pc.fill_null(pc.if_else(finite, values, 0.0), 0.0), finite
    except pa.ArrowInvalid:
        ok = pc.match_substring_regex(text, FLOAT_PATTERN)
        return pc.if_else(ok, text, pa.scalar("0")).cast(pa.float64()), ok


def validate(columns: dict[str, pa.Array], *, ts_min: datetime | None = None,
             ts_max: datetime | None = None, contract: DomainContract | None = None) -> Validated:
    """Check every rule of the contract (call_analytics by default) on every
    row; see CONTRACT.md for the rules and codes. Rules run field by field in
    contract order, so a record's codes come out in that order.

    Numeric and timestamp fields are deliberately not trimmed: JSON numbers never
    carry whitespace, and a padded value is a producer bug worth reporting.
    """
    contract = contract or load_contract()
    # Chunked input (a column read from a table) is made contiguous once, so
    # every rule below works on plain arrays.
    columns = {name: arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
               for name, arr in columns.items()}
    n = len(next(iter(columns.values())))
    flags = _Flags(n)
    window = (ts_min or datetime.fromisoformat(TIMESTAMP_MIN_ISO),
              ts_max or datetime.now(UTC) + timedelta(seconds=TIMESTAMP_MAX_AHEAD_S))
    values = {spec.name: _RULES[spec.type](flags, spec, columns[spec.name], window) for spec in contract.fields}
    return Validated(reasons=flags.reasons(), values=values, partition_time=values[contract.partition_field])


def _missing_flag(flags: _Flags, spec: FieldSpec, missing: pa.Array) -> None:
    if spec.required:
        flags.add(missing, Reason.missing(spec.name))


def _optional(spec: FieldSpec, missing: pa.Array, value: pa.Array) -> pa.Array:
    # An optional field left blank is stored as null, not as the placeholder.
    return value if spec.required else pc.if_else(missing, pa.scalar(None, value.type), value)


def _check_id(flags: _Flags, spec: FieldSpec, values: pa.Array, window: tuple) -> pa.Array:
    _missing_flag(flags, spec, _blank(values))
    flags.add(_pii_in_id(values), Reason.pii_in(spec.name))
    return values


def _check_text(flags: _Flags, spec: FieldSpec, values: pa.Array, window: tuple) -> pa.Array:
    if spec.required:
        _missing_flag(flags, spec, _blank(values))
    if not spec.pii:
        # A text field the contract does not mask lands in curated and its copies as delivered: an e-mail
        # or phone number typed into it is PII in the wrong field, quarantined as for ids (pii_in:<field>).
        flags.add(holds_contact(values), Reason.pii_in(spec.name))
    return values


def _check_phone(flags: _Flags, spec: FieldSpec, phone: pa.Array, window: tuple) -> pa.Array:
    missing = _blank(phone)
    digits = phone_digits(pc.fill_null(phone, ""))
    n_digits = pc.utf8_length(digits)
    ok = pc.and_(
        pc.ascii_is_decimal(digits),
        pc.and_(pc.greater_equal(n_digits, PHONE_MIN_DIGITS), pc.less_equal(n_digits, PHONE_MAX_DIGITS)),
    )
    _missing_flag(flags, spec, missing)
    flags.add(pc.and_(pc.invert(missing), pc.invert(ok)), Reason.BAD_PHONE)
    return _optional(spec, missing, digits)


def _check_email(flags: _Flags, spec: FieldSpec, email: pa.Array, window: tuple) -> pa.Array:
    missing = _blank(email)
    _missing_flag(flags, spec, missing)
    flags.add(pc.and_(pc.invert(missing), pc.invert(pc.match_substring_regex(email, EMAIL_PATTERN))),
              Reason.BAD_EMAIL)
    return email


def _check_timestamp(flags: _Flags, spec: FieldSpec, values: pa.Array, window: tuple) -> pa.Array:
    text = pc.fill_null(values, "")
    missing = _blank(text)
    shape, has_tz = _timestamp_shape(text)
    ts, bad = _parse_timestamps(text, pc.and_(shape, has_tz))
    naive = pc.and_(shape, pc.invert(has_tz))
    _missing_flag(flags, spec, missing)
    flags.add(naive, Reason.MISSING_TIMEZONE)
    flags.add(pc.and_(pc.invert(missing), pc.and_(bad, pc.invert(naive))), Reason.BAD_TIMESTAMP)
    lo, hi = window
    outside = pc.or_(pc.less(ts, pa.scalar(lo, _TS)), pc.greater(ts, pa.scalar(hi, _TS)))
    flags.add(pc.and_(pc.invert(pc.or_(missing, pc.or_(bad, naive))), outside), Reason.TIMESTAMP_OUT_OF_RANGE)
    return _optional(spec, missing, ts)


def _range_flags(flags: _Flags, spec: FieldSpec, below: pa.Array, above: pa.Array) -> None:
    if spec.below_min == spec.above_max:  # one code: one rule (sentiment_out_of_range)
        flags.add(pc.or_(below, above), spec.below_min)
    else:
        flags.add(below, spec.below_min)
        flags.add(above, spec.above_max)


def _check_integer(flags: _Flags, spec: FieldSpec, values: pa.Array, window: tuple) -> pa.Array:
    text = pc.fill_null(values, "")
    missing = pc.equal(text, "")
    digits = pc.ascii_is_decimal(text)
    negative = pc.and_(pc.starts_with(text, "-"), pc.ascii_is_decimal(pc.utf8_slice_codeunits(text, 1)))
    width = 9 if spec.int32 else 18  # digits that always fit the column: no overflow in the cast
    length = pc.binary_length(text)
    pos_fits = pc.and_(digits, pc.less_equal(length, width))
    neg_fits = pc.and_(negative, pc.less_equal(length, width + 1))
    fits = pc.or_(pos_fits, neg_fits)
    number = pc.if_else(fits, text, pa.scalar("0")).cast(pa.int64())
    below = pc.and_(negative, pc.invert(neg_fits))
    if spec.min is not None:
        below = pc.or_(below, pc.and_(fits, pc.less(number, int(spec.min))))
    above = pc.and_(digits, pc.invert(pos_fits))
    if spec.max is not None:
        above = pc.or_(above, pc.greater(number, int(spec.max)))
    _missing_flag(flags, spec, missing)
    _range_flags(flags, spec, below, above)
    flags.add(pc.invert(pc.or_(pc.or_(missing, negative), digits)), f"bad_{spec.name}")
    out = pc.if_else(pc.or_(below, above), 0, number).cast(pa.int32() if spec.int32 else pa.int64())
    return _optional(spec, missing, out)


def _check_number(flags: _Flags, spec: FieldSpec, values: pa.Array, window: tuple) -> pa.Array:
    text = pc.fill_null(values, "")
    missing = pc.equal(text, "")
    number, is_number = _parse_floats(pc.if_else(missing, pa.scalar("0"), text))
    _missing_flag(flags, spec, missing)
    flags.add(pc.and_(pc.invert(missing), pc.invert(is_number)), f"bad_{spec.name}")
    below = pc.less(number, spec.min) if spec.min is not None else pa.array(np.zeros(len(text), dtype=bool))
    above = pc.greater(number, spec.max) if spec.max is not None else pa.array(np.zeros(len(text), dtype=bool))
    _range_flags(flags, spec, pc.and_(is_number, below), pc.and_(is_number, above))
    return _optional(spec, missing, number)


_RULES = {"id": _check_id, "text": _check_text, "phone": _check_phone, "email": _check_email,
          "timestamp": _check_timestamp, "integer": _check_integer, "number": _check_number}
