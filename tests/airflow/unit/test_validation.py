from __future__ import annotations

import json

import pytest
from callcenter.contract import MAX_DURATION_S, Reason
from helpers import good_record, line, quarantined, run


def reasons_for(tmp_path, key: bytes, raw_line: str) -> str | None:
    result = run([raw_line], tmp_path, key)
    assert result.records_in == 1
    if result.curated == 1:
        return None
    [rec] = quarantined(tmp_path)
    return rec["reason"]


def test_valid_record_passes(tmp_path, key) -> None:
    assert reasons_for(tmp_path, key, line(good_record())) is None


@pytest.mark.parametrize("field", ["call_id", "customer_id", "customer_phone", "customer_email",
                                   "agent_id", "call_start_time", "duration", "sentiment"])
@pytest.mark.parametrize("how", ["absent", "null", "blank"])
def test_required_field_missing(tmp_path, key, field: str, how: str) -> None:
    rec = good_record()
    if how == "absent":
        del rec[field]
    elif how == "null":
        rec[field] = None
    else:
        rec[field] = "   " if field not in ("duration", "sentiment") else ""
    assert reasons_for(tmp_path, key, line(rec)) == Reason.missing(field)


@pytest.mark.parametrize("field", ["customer_name", "notes"])
def test_optional_fields_may_be_absent(tmp_path, key, field: str) -> None:
    rec = good_record()
    del rec[field]
    assert reasons_for(tmp_path, key, line(rec)) is None


@pytest.mark.parametrize("phone", ["call me", "12345", "1234567890123456", "555-123-4567 ext 9",
                                   "５５５１２３４５６７"])
def test_bad_phone(tmp_path, key, phone: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(customer_phone=phone))) == Reason.BAD_PHONE


@pytest.mark.parametrize("phone", ["5551234", "+1 (555) 123-4567", "123456789012345"])
def test_phone_digit_bounds_accepted(tmp_path, key, phone: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(customer_phone=phone))) is None


@pytest.mark.parametrize("email", ["jane at example.com", "jane@", "@example.com", "jane@example",
                                   "ja ne@example.com", "a@b@c.com"])
def test_bad_email(tmp_path, key, email: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(customer_email=email))) == Reason.BAD_EMAIL


@pytest.mark.parametrize("ts", ["2026-11-20T10:11:12", "2026-11-20 10:11:12"])
def test_missing_timezone(tmp_path, key, ts: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(call_start_time=ts))) == Reason.MISSING_TIMEZONE


@pytest.mark.parametrize("ts", ["yesterday", "2026-13-20T10:11:12Z", "2026-02-30T10:00:00+00:00",
                                "20/11/2026 10:11+00:00", "1732097472"])
def test_bad_timestamp(tmp_path, key, ts: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(call_start_time=ts))) == Reason.BAD_TIMESTAMP


@pytest.mark.parametrize(("ts", "utc"), [("2026-11-20T10:11:12Z", "2026-11-20 10:11:12"),
                                         ("2026-11-20T10:11:12.5+05:30", "2026-11-20 04:41:12.5"),
                                         ("2026-11-20T23:30:00-0200", "2026-11-21 01:30:00")])
def test_timestamps_with_offsets_are_normalised_to_utc(tmp_path, key, ts: str, utc: str) -> None:
    from helpers import curated

    run([line(good_record(call_start_time=ts))], tmp_path, key)
    table = curated(tmp_path)
    got = table.column("call_start_time")[0].as_py()
    assert str(got.replace(tzinfo=None)).startswith(utc)
    assert str(table.column("call_date")[0].as_py()) == utc[:10]


def test_negative_duration(tmp_path, key) -> None:
    assert reasons_for(tmp_path, key, line(good_record(duration=-5))) == Reason.NEGATIVE_DURATION


@pytest.mark.parametrize("duration", [MAX_DURATION_S + 1, 12345678901])
def test_duration_too_long(tmp_path, key, duration: int) -> None:
    assert reasons_for(tmp_path, key, line(good_record(duration=duration))) == Reason.DURATION_TOO_LONG


@pytest.mark.parametrize("duration", [1.5, "abc", "12s", True])
def test_bad_duration(tmp_path, key, duration: object) -> None:
    assert reasons_for(tmp_path, key, line(good_record(duration=duration))) == Reason.BAD_DURATION


def test_duration_bounds_accepted(tmp_path, key) -> None:
    assert reasons_for(tmp_path, key, line(good_record(duration=0))) is None
    assert reasons_for(tmp_path / "b", key, line(good_record(duration=MAX_DURATION_S))) is None


@pytest.mark.parametrize("sentiment", ["good", "nan", "0.5.1"])
def test_bad_sentiment(tmp_path, key, sentiment: str) -> None:
    assert reasons_for(tmp_path, key, line(good_record(sentiment=sentiment))) == Reason.BAD_SENTIMENT


@pytest.mark.parametrize("sentiment", [1.01, -2, 7.25])
def test_sentiment_out_of_range(tmp_path, key, sentiment: float) -> None:
    assert reasons_for(tmp_path, key, line(good_record(sentiment=sentiment))) == Reason.SENTIMENT_OUT_OF_RANGE


@pytest.mark.parametrize("sentiment", [-1, 1, 0, -0.999])
def test_sentiment_bounds_accepted(tmp_path, key, sentiment: float) -> None:
    assert reasons_for(tmp_path, key, line(good_record(sentiment=sentiment))) is None


@pytest.mark.parametrize("raw", ['{"call_id": "x", ', "not json", '{"a": 1}}', "{'single': 'quotes'}"])
def test_invalid_json_is_quarantined_not_fatal(tmp_path, key, raw: str) -> None:
    assert reasons_for(tmp_path, key, raw) == Reason.INVALID_JSON


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "42", "null"])
def test_not_an_object(tmp_path, key, raw: str) -> None:
    assert reasons_for(tmp_path, key, raw) == Reason.NOT_AN_OBJECT


def test_invalid_utf8_is_quarantined(tmp_path, key) -> None:
    data = line(good_record()).encode() + b"\n" + b'{"call_id": "\xff\xfe"}\n'
    result = run(data, tmp_path, key)
    assert (result.records_in, result.curated, result.quarantined) == (2, 1, 1)
    assert quarantined(tmp_path)[0]["reason"] == Reason.INVALID_UTF8


@pytest.mark.parametrize("batch_bytes", [64 << 10, 8 << 20])  # line spans blocks / fits in one
def test_line_too_long_is_quarantined(tmp_path, key, batch_bytes: int) -> None:
    huge = line(good_record(notes="x" * (2 << 20)))
    result = run([line(good_record()), huge, line(good_record(call_id="c2"))], tmp_path, key,
                 batch_bytes=batch_bytes)
    assert (result.records_in, result.curated, result.quarantined) == (3, 2, 1)
    [rec] = quarantined(tmp_path)
    assert (rec["line"], rec["reason"]) == (2, Reason.LINE_TOO_LONG)
    assert "x" * 100 not in json.dumps(rec)


def test_all_failing_rules_are_reported_in_contract_order(tmp_path, key) -> None:
    rec = good_record(customer_email="nope", duration=-1)
    del rec["agent_id"]
    assert reasons_for(tmp_path, key, line(rec)) == "bad_email;missing:agent_id;negative_duration"


def test_bad_lines_do_not_poison_their_batch(tmp_path, key) -> None:
    lines = [line(good_record(call_id=f"c{i}")) for i in range(50)]
    lines[10] = "{broken"
    lines[20] = line(good_record(call_id="c20", duration="x"))
    result = run(lines, tmp_path, key)
    assert (result.records_in, result.curated, result.quarantined) == (50, 48, 2)
    assert [r["line"] for r in quarantined(tmp_path)] == [11, 21]


def test_blank_lines_are_not_records(tmp_path, key) -> None:
    data = ("\n" + line(good_record()) + "\n   \n\r\n" + line(good_record(call_id="c2")) + "\n").encode()
    result = run(data, tmp_path, key)
    assert (result.records_in, result.curated, result.quarantined) == (2, 2, 0)


def test_quarantine_record_is_masked(tmp_path, key) -> None:
    rec = good_record(customer_email="jane at example.com", notes="call +1 555 123 4567")
    run([line(rec)], tmp_path, key)
    [q] = quarantined(tmp_path)
    text = json.dumps(q)
    assert q["reason"] == Reason.BAD_EMAIL
    assert "jane" not in text.lower() and "555 123" not in text and "Doe" not in text
    assert q["customer_phone_last4"] == "4567"
    assert q["notes_redacted"] == "call [PHONE]"


def test_timestamp_rules_hold_in_a_mixed_batch(tmp_path, key) -> None:
    # Canonical values are settled by one regex, the others by the narrower
    # head/tail checks; both kinds in one batch must keep their own verdicts.
    cases = {
        "2026-11-20T10:11:12+00:00": None,
        "2026-11-20T10:11:12": Reason.MISSING_TIMEZONE,
        "2026-11-20 10:11:12.123456Z": None,
        "2026-11-20T10:11Z": None,
        "2026-11-20T23:30:00-0200": None,
        "2026-13-20T10:11:12Z": Reason.BAD_TIMESTAMP,
        "yesterday": Reason.BAD_TIMESTAMP,
        "2026-11-20T10:11:12+05:30": None,
    }
    lines = [line(good_record(call_id=f"c{i}", call_start_time=ts)) for i, ts in enumerate(cases)]
    result = run(lines, tmp_path, key)
    got = {r["line"]: r["reason"] for r in quarantined(tmp_path)}
    expected = {i + 1: reason for i, reason in enumerate(cases.values()) if reason}
    assert got == expected
    assert result.curated == len(cases) - len(expected)


@pytest.mark.parametrize("batch_bytes", [4 << 10, 8 << 20])  # many blocks / one block
def test_malformed_lines_mid_block_quarantine_exactly_those_lines(tmp_path, key, batch_bytes: int) -> None:
    good = line(good_record())
    bad = {
        40: (good[:-7], Reason.INVALID_JSON),  # truncated export
        41: ("not json at all", Reason.INVALID_JSON),
        77: (good.replace('"sentiment": ', '"sentiment": 7-', 1), Reason.INVALID_JSON),  # looks like {...}
        78: ("[1, 2, 3]", Reason.NOT_AN_OBJECT),
        120: (good.replace('"duration": 125', '"duration": true', 1), Reason.BAD_DURATION),
        # The parser accepts the NaN literal (a JSON extension); not a sentiment.
        121: (good.replace('"sentiment": 0.25', '"sentiment": NaN', 1), Reason.BAD_SENTIMENT),
        150: (" " + good, None),  # leading whitespace is still a valid record
    }
    lines = [line(good_record(call_id=f"c{i}")) for i in range(200)]
    for no, (text, _) in bad.items():
        lines[no - 1] = text
    result = run(lines, tmp_path, key, batch_bytes=batch_bytes)
    expected = {no: reason for no, (_, reason) in bad.items() if reason}
    assert {r["line"]: r["reason"] for r in quarantined(tmp_path)} == expected
    assert (result.records_in, result.quarantined) == (200, len(expected))


@pytest.mark.parametrize("filler", ["2026-11-20T10:11:12+05:30", "2026-11-20T10:11:12Z", "x"])
def test_canonical_timestamp_byte_check_agrees_with_the_regex(filler: str) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    from callcenter import validation

    odd = ["2026-11-20T10:11:12+05:30", "2026-11-20 10:11:12-02:00", "2026-11-20T10:11:12.1234Z",
           "2026-11-20T10:11:12Z", "2026-11-20T10:11:12", "2026-11-20T10:11:12+0530", "2026-11-20T10:11:1a+05:30",
           "2026-11-20X10:11:12+05:30", "2026-11-20T10:11:12*05:30", "2026-11-2T10:11:12+05:30", "",
           "2026-11-20T10:11:12+05:3é", "２０２６-11-20T10:11:12Z", "2026-11-20T10:11:12.123456789+05:30"]
    values = pa.array(["pad"] + [filler] * 40 + odd + [filler] * 5).slice(1)
    expected = pc.match_substring_regex(values, validation.CANONICAL_TIMESTAMP).to_pylist()
    assert validation._canonical(values).to_pylist() == expected


def test_validate_accepts_chunked_and_large_string_columns() -> None:
    # Callers may hand in columns of a pyarrow Table (chunked) or large_string;
    # the numpy fast paths must not change their verdicts.
    import pyarrow as pa
    from callcenter.contract import FIELDS
    from callcenter.validation import validate

    rows = [good_record(), good_record(customer_phone="call me", duration=-1),
            good_record(call_start_time="2026-11-20T10:11:12")]
    plain = {f: pa.array([None if r.get(f) is None else str(r[f]) for r in rows], pa.string()) for f in FIELDS}
    expected = validate(plain).reasons.to_pylist()
    assert expected == [None, "bad_phone;negative_duration", "missing_timezone"]
    for ty in (pa.string(), pa.large_string()):
        chunked = {f: pa.chunked_array([a.slice(0, 1).cast(ty), a.slice(1).cast(ty)]) for f, a in plain.items()}
        assert validate(chunked).reasons.to_pylist() == expected
        assert validate({f: a.cast(ty) for f, a in plain.items()}).reasons.to_pylist() == expected
