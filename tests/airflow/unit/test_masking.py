from __future__ import annotations

import re
import unicodedata

import pyarrow as pa
import pytest
from callcenter import synthetic
from callcenter.masking import (
    PERSON_EMAIL,
    PERSON_NAME,
    MaskingKeyError,
    hash_email,
    hash_name,
    keyed_hash,
    phone_digits,
    phone_last4,
    redact_notes,
)
from helpers import curated, good_record, line, quarantined, run


@pytest.mark.parametrize(
    ("raw", "last4"),
    [
        ("+1 (555) 123-4567", "4567"),
        ("555.123.4567", "4567"),
        ("+44 20 7946 0958", "0958"),
        ("  (555) 123 4567  ", "4567"),
        ("555/123/4567", "4567"),
    ],
)
def test_phone_keeps_only_last_four_digits(raw: str, last4: str) -> None:
    assert phone_last4(phone_digits(pa.array([raw]))).to_pylist() == [last4]


def test_phone_missing_stays_null() -> None:
    assert phone_last4(phone_digits(pa.array([None], pa.string()))).to_pylist() == [None]


def test_keyed_hash_is_stable_keyed_and_null_preserving(key: bytes) -> None:
    values = pa.array(["a@example.com", None, "a@example.com", "b@example.com"])
    first = keyed_hash(values, key, PERSON_EMAIL).to_pylist()
    assert first == keyed_hash(values, key, PERSON_EMAIL).to_pylist()
    assert first[0] == first[2] and first[0] != first[3]
    assert first[1] is None
    assert all(re.fullmatch(r"[0-9a-f]{32}", h) for h in first if h)
    other_key = keyed_hash(values, bytes(reversed(key)), PERSON_EMAIL).to_pylist()
    assert other_key[0] != first[0], "a different key must give a different pseudonym"


def test_hash_is_domain_separated(key: bytes) -> None:
    v = pa.array(["same text"])
    assert keyed_hash(v, key, PERSON_NAME).to_pylist() != keyed_hash(v, key, PERSON_EMAIL).to_pylist()


def test_email_hash_ignores_case_and_padding(key: bytes) -> None:
    h = hash_email(pa.array(["Jane.Doe@Example.com", " jane.doe@example.com "]), key).to_pylist()
    assert h[0] == h[1]


def test_name_hash_is_unicode_normalised(key: bytes) -> None:
    composed = "Chlo\u00e9 M\u00fcller"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    h = hash_name(pa.array([composed, decomposed, "李 王"]), key).to_pylist()
    assert h[0] == h[1]
    assert h[2] is not None and h[2] != h[0]


@pytest.mark.parametrize("bad_key", [b"short", b"x" * 65, "not-bytes"])
def test_unusable_key_is_rejected(bad_key: object) -> None:
    with pytest.raises(MaskingKeyError):
        keyed_hash(pa.array(["x"]), bad_key, PERSON_EMAIL)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("call me at +1 (555) 123-4567 today", "call me at [PHONE] today"),
        ("mobile 555.123.4567", "mobile [PHONE]"),
        ("uk: +44 20 7946 0958.", "uk: [PHONE]."),
        ("mail jane.doe@example.com please", "mail [EMAIL] please"),
        ("zoë.müller@exämple.de wrote", "[EMAIL] wrote"),
        ("both 5551234567 and a+b@x.io", "both [PHONE] and [EMAIL]"),
        ("ticket 4471 closed", "ticket 4471 closed"),
        ("no pii here", "no pii here"),
        ("", ""),
    ],
)
def test_notes_redaction(note: str, expected: str) -> None:
    assert redact_notes(pa.array([note])).to_pylist() == [expected]


def test_notes_redaction_keeps_nulls_and_order() -> None:
    out = redact_notes(pa.array([None, "x 555-123-4567", "plain"])).to_pylist()
    assert out == [None, "x [PHONE]", "plain"]


def test_no_raw_pii_survives_ingest(tmp_path, key: bytes) -> None:
    lines = list(synthetic.records(3000, seed=11, malformed_rate=0.05))
    lines.append(line(good_record(call_id="x", customer_phone="call me", notes="ring 555 123 4567")))
    result = run(lines, tmp_path, key)
    assert result.quarantined > 0 and result.curated > 0

    pii: set[str] = set()
    digit_runs: set[str] = set()
    for raw in lines:
        for m in re.finditer(r"[^\s\"@,]+@[^\s\",]+\.[a-z.]+", raw):
            pii.add(m.group(0))
        for m in re.finditer(r'"customer_(?:phone|name)": "([^"]+)"', raw):
            value = m.group(1)
            if len(re.sub(r"\D", "", value)) >= 7:
                digit_runs.add(re.sub(r"\D", "", value))
            elif not any(ch.isdigit() for ch in value):
                pii.add(value)
    assert pii and digit_runs

    dump = []
    for path in (tmp_path / "curated").rglob("*.parquet"):
        dump.append(str(__import__("pyarrow.parquet").parquet.read_table(path).to_pylist()))
    dump.extend(str(r) for r in quarantined(tmp_path))
    text = "\n".join(dump)
    digits_only = re.sub(r"\D", "", text)
    leaked = [p for p in pii if p in text]
    assert not leaked, f"raw PII in output: {leaked[:5]}"
    # Phone numbers must not survive even with their formatting stripped.
    leaked_phones = [d for d in digit_runs if d in digits_only]
    assert not leaked_phones, f"raw phone digits in output: {leaked_phones[:5]}"
    assert curated(tmp_path).num_rows == result.curated


@pytest.mark.parametrize(
    "phones",
    [
        ["+1 (555) 123-4567", "555.123.4567", "", "   ", "12a34", "555/123/4567", "+++"],
        ["555 123 4567", "\t555 123 4567\n", "5551234"],  # other whitespace: general path
        ["(555) 123 4567", "５５５１２３４５６７", "Jürgen"],  # non-ASCII: general path
    ],
)
def test_phone_digits_fast_path_matches_general_path(phones: list[str]) -> None:
    from callcenter.contract import PHONE_FORMATTING_CHARS

    expected = pc_general_phone_digits(pa.array(phones), PHONE_FORMATTING_CHARS)
    assert phone_digits(pa.array(phones)).to_pylist() == expected
    # A slice (non-zero offset) must give the same digits.
    assert phone_digits(pa.array(["x"] + phones).slice(1)).to_pylist() == expected


def pc_general_phone_digits(phones: pa.Array, chars: tuple[str, ...]) -> list[str]:
    import pyarrow.compute as pc

    out = pc.utf8_trim_whitespace(phones)
    for ch in chars:
        out = pc.replace_substring(out, ch, "")
    return out.to_pylist()


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("code 1a2b3c4d5e6f7g", "code 1a2b3c4d5e6f7g"),  # 7 digits, not a phone run
        ("six 555-123 only", "six 555-123 only"),
        ("é then 555 123 4567", "é then [PHONE]"),
        ("x@y", "x@y"),
        ("a@b.c and 5551234", "[EMAIL] and [PHONE]"),
    ],
)
def test_notes_redaction_prefilter_edges(note: str, expected: str) -> None:
    notes = pa.array(["plain", note, None])
    assert redact_notes(notes).to_pylist() == ["plain", expected, None]
    assert redact_notes(notes.slice(1, 1)).to_pylist() == [expected]
