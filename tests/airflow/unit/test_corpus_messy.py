"""The messy corpus (synthetic.messy_records and friends) holds every case issue 11 lists,
and an export built from it, ingested in-process, reconciles and lands no PII in any
file, by the same scan the demo and the e2e run use (scripts/demo_platform.pii_leaks)."""

from __future__ import annotations

import sys
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

from callcenter import synthetic
from callcenter.pii_scan import find_pii
from helpers import run

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DAY = date(2026, 11, 22)


def _corpus() -> list[dict]:
    return synthetic.messy_records(160, DAY) + [synthetic.huge_record(DAY)]


def test_the_corpus_holds_every_messy_case():
    recs = _corpus()
    notes = " ".join(r["notes"] for r in recs)
    for mark in (" - ", "\u2013", "\u2014", "ext. ", "\uff0b"):  # spaced hyphen, dashes, ext., full-width
        assert mark in notes, mark
    assert any("." in r["notes"] and find_pii(r["notes"]) for r in recs)
    assert any(r["notes"].count("/") >= 2 for r in recs)
    assert any("@" in r["agent_id"] for r in recs) and any("@" in r["call_id"] for r in recs)
    assert any(find_pii(r["customer_id"]) for r in recs)  # a phone in an id
    assert any(unicodedata.normalize("NFKC", r["customer_phone"]) != r["customer_phone"] for r in recs)
    stamps = {r["call_start_time"][:10] for r in recs}
    assert {"0001-01-01", "9999-12-31", f"{DAY.year}-02-30"} <= stamps
    assert max(Counter(r["call_id"] for r in recs).values()) == 2  # duplicates
    assert len(recs[-1]["notes"]) >= synthetic.HUGE_NOTE_BYTES - 100
    data = synthetic.messy_export(recs)
    assert data.startswith("\ufeff".encode()) and data.count(b"\r\n") == len(recs)


def test_moved_rows_change_day_and_nothing_else():
    recs = _corpus()
    moved = synthetic.moved_to_next_day(recs, every=10)
    changed = [(a, b) for a, b in zip(recs, moved, strict=True) if a != b]
    assert changed and all(b["call_start_time"][:10] == "2026-11-23" for _, b in changed)
    assert all({k for k in a if a[k] != b[k]} == {"call_start_time"} for a, b in changed)


def test_raw_pii_knows_full_width_and_country_code_free_forms():
    phones, _ = synthetic.raw_pii([{"customer_phone": "\uff0b\uff11 (\uff14\uff19\uff18) 763-9882"}])
    assert phones == {"14987639882", "4987639882"}


def test_an_export_of_the_corpus_reconciles_and_lands_no_pii(tmp_path, key):
    from scripts.demo_platform import pii_leaks

    recs = _corpus()
    result = run(synthetic.messy_export(recs), tmp_path, key)
    assert result.records_in == result.curated + result.quarantined == len(recs)
    for reason in ("pii_in:call_id", "pii_in:customer_id", "pii_in:agent_id", "bad_timestamp"):
        assert result.reasons.get(reason), (reason, result.reasons)
    phones, emails = synthetic.raw_pii(recs)
    assert len(phones) > 5 and len(emails) > 5
    assert pii_leaks(tmp_path, phones, emails) == []
