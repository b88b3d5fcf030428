"""PII in every field and every form (issue 11): ids, quarantine, notes forms,
timestamps out of range, blank names."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from callcenter.contract import FIELDS
from callcenter.masking import hash_name, redact_notes
from callcenter.pii_scan import find_pii
from callcenter.validation import validate
from helpers import curated, good_record, line, quarantined, run


@pytest.mark.parametrize("note, expected", [
    ("call 555 - 123 - 4567 pls", "call [PHONE] pls"),
    ("555\u2013123\u20134567", "[PHONE]"),
    ("555\u2014123\u20144567", "[PHONE]"),
    ("\uff0b\uff11 \uff15\uff15\uff15 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17", "[PHONE]"),
    ("555.123.4567 ext. 89", "[PHONE]"),
    ("(555) 123-4567 x12", "[PHONE]"),
    ("555/123/4567", "[PHONE]"),
    ("+44 20 7946 0958", "[PHONE]"),
    ("card 4111 1111 1111 1111 ok", "card [NUMBER] ok"),
    ("iban DE89370400440532013000 x", "iban [NUMBER] x"),
    ("DE89 3704 0044 0532 0130 00", "[NUMBER]"),
    ("\uff41\uff20\uff42\uff0e\uff43\uff4f", "[EMAIL]"),
    ("order 12345 ok", "order 12345 ok"),
])
def test_notes_redaction_catches_every_typed_form(note, expected) -> None:
    assert redact_notes(pa.array([note])).to_pylist() == [expected]


def test_blank_names_hash_to_null(key) -> None:
    out = hash_name(pa.array(["", "   ", None, "Ann"]), key)
    assert out.to_pylist()[:3] == [None, None, None] and out[3].as_py() is not None


def _validate(**overrides):
    rec = {k: str(v) for k, v in good_record(**overrides).items()}
    return validate({f: pa.array([rec[f]]) for f in FIELDS}).reasons.to_pylist()[0]


@pytest.mark.parametrize("field, value", [
    ("customer_id", "ann.lee@example.com"), ("agent_id", "+15551234567"), ("agent_id", "+1 555 222 3333"),
    ("call_id", "(555) 123-4567"), ("agent_id", "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"),
])
def test_pii_in_id_fields_is_quarantined(field, value) -> None:
    assert _validate(**{field: value}) == f"pii_in:{field}"


def test_ordinary_ids_pass_the_shape_rule() -> None:
    assert _validate(call_id="call-7-000000123", customer_id="cust-0000042", agent_id="agent-007") is None


@pytest.mark.parametrize("ts, reason", [
    # Arrow's cast accepts year 0/10000 after the offset (out of the window);
    # Python's parse, used when a sibling value fails the cast, cannot (bad).
    ("0001-01-01T00:30:00+01:00", {"bad_timestamp", "timestamp_out_of_range"}),
    ("9999-12-31T23:30:00-01:00", {"bad_timestamp", "timestamp_out_of_range"}),
    ("2026-02-30T10:00:00Z", {"bad_timestamp"}),
    ("1970-01-01T00:00:00Z", {"timestamp_out_of_range"}),
    ("2099-01-01T00:00:00Z", {"timestamp_out_of_range"}),
])
def test_timestamps_out_of_range_are_quarantined_not_fatal(ts, reason) -> None:
    assert _validate(call_start_time=ts) in reason


def test_year_one_next_to_an_invalid_date_does_not_crash() -> None:
    # Feb 30 makes the vectorised cast fail, so year 1 reaches datetime's own
    # parse, whose astimezone raised OverflowError (review V1).
    ts = ["2026-02-30T10:00:00Z", "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00"]
    rec = {k: str(v) for k, v in good_record().items()}
    cols = {f: pa.array([rec[f]] * 3) for f in FIELDS} | {"call_start_time": pa.array(ts)}
    assert validate(cols).reasons.to_pylist() == ["bad_timestamp"] * 3


def test_timestamp_window_is_configurable() -> None:
    rec = {k: str(v) for k, v in good_record(call_start_time="1999-06-01T00:00:00Z").items()}
    cols = {f: pa.array([rec[f]]) for f in FIELDS}
    assert validate(cols, ts_min=datetime(1990, 1, 1, tzinfo=UTC)).reasons.to_pylist() == [None]


def test_quarantine_and_curated_hold_no_phone_or_email_in_any_field(tmp_path, key) -> None:
    recs = [
        good_record(call_id="c1", duration="+1 555 987 6543"),
        good_record(call_id="c2", agent_id="+1 555 222 3333"),
        good_record(call_id="c3", customer_id="ann.lee@example.com"),
        good_record(call_id="c4", sentiment="bob@example.com"),
        good_record(call_id="c5", call_start_time="555-123-4567"),
        good_record(call_id="c6", call_start_time="0001-01-01T00:30:00+01:00"),
        good_record(call_id="c7", notes="ring 555\u2013123\u20134567"),
        good_record(call_id="c8", customer_name="  "),
    ]
    result = run([line(r) for r in recs], tmp_path, key)
    q = quarantined(tmp_path)
    assert result.quarantined == 6 and len(q) == 6
    for rec in q:
        for field, value in rec.items():
            assert not find_pii(str(value)) or field == "line", (field, value)
    assert {r["call_id"] for r in q} == {"c1", "c2", "c3", "c4", "c5", "c6"}
    table = curated(tmp_path).to_pylist()
    for row in table:
        assert not any(find_pii(str(v)) for k, v in row.items() if k != "call_start_time"), row
    assert {r["call_id"]: r["customer_name_hash"] for r in table}["c8"] is None
    assert {r["call_id"]: r["notes_redacted"] for r in table}["c7"] == "ring [PHONE]"


def test_scanner_sees_every_form() -> None:
    assert find_pii("x \uff15\uff15\uff15 \uff11\uff12\uff13 \uff14\uff15\uff16\uff17")
    assert find_pii("a@b.co") and find_pii("555 - 123 - 4567")
    assert not find_pii("agent-7 " + "0123456789abcdef" * 2)


def test_messy_corpus_lands_no_pii_anywhere(tmp_path, key) -> None:
    """BOM, CRLF, a huge line, duplicates, PII in ids, every phone form, full-width
    digits and out-of-range timestamps in one file: counts reconcile and no
    landed field holds anything the broad scanner calls PII."""
    recs = [good_record(call_id=f"m{i}", notes=n) for i, n in enumerate([
        "555 - 123 - 4567", "555\u2013123\u20134567", "\uff15\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "+49 30 1234567 ext. 12", "card 4111-1111-1111-1111", "x@y.org"])]
    recs += [good_record(call_id="m-id", customer_id="+1 (555) 000-1111"),
             good_record(call_id="m-ts", call_start_time="9999-12-31T23:30:00-01:00")]
    lines = [line(r) for r in recs] + [line(recs[0])]  # a duplicate
    huge = line(good_record(call_id="m-huge", notes="555-123-4567 " * 90_000))
    data = ("\ufeff" + "\r\n".join(lines + [huge]) + "\r\n").encode("utf-8")
    result = run(data, tmp_path, key)
    assert result.records_in == result.curated + result.quarantined == len(lines) + 1
    for rec in quarantined(tmp_path):
        assert not any(find_pii(str(v)) for k, v in rec.items() if k != "call_start_time"), rec
    for row in curated(tmp_path).to_pylist():
        assert not any(find_pii(str(v)) for k, v in row.items() if k != "call_start_time"), row
