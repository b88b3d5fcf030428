"""Synthetic call records for tests, the demo and the benchmark.

Realistic on purpose: repeat customers, formatted phone numbers, unicode names,
PII inside free-text notes, and ~1% of lines malformed in the ways real exports
break (truncated lines, wrong types, missing fields, naive timestamps). The messy
corpus at the end adds what real producers send besides (BOM, CRLF, huge lines,
duplicates, PII in ids, every typed phone form, impossible timestamps, re-exports
that move rows to another day).
"""

from __future__ import annotations

import csv
import io
import json
import random
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from callcenter.domain import DomainContract, FieldSpec

FIRST = ["Ana", "Bruno", "Chloé", "Dmitri", "Émile", "Fatima", "Gustav", "Hana", "Ivan", "Jürgen",
         "Kenji", "Léa", "María", "Nikolaj", "Olga", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
         "Uma", "Victor", "Wei", "Xénia", "Yusuf", "Zoë", "李", "Ngozi", "Ahmed", "Grace"]
LAST = ["Smith", "García", "Müller", "Rossi", "Nakamura", "O'Brien", "Kowalski", "Dubois", "Silva",
        "Jensen", "Novak", "Haddad", "Kim", "Okafor", "Ivanova", "Lindqvist", "Patel", "王", "Costa", "Berg"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "example.co.uk"]
PHONE_FORMATS = ["+1 ({a}) {b}-{c}", "{a}-{b}-{c}", "+44 {a} {b} {c}", "({a}) {b} {c}", "{a}.{b}.{c}"]
NOTES = [
    "Customer asked about the invoice.",
    "Escalated to tier 2.",
    "Call back at {phone} after 5pm.",
    "Send the summary to {email} please.",
    "Customer confirmed new address; no further action.",
    "Reported outage, ticket 4471.",
    "Wants a refund, alt contact {phone} or {email}.",
    "",
]
START = datetime(2026, 11, 18, tzinfo=UTC)


def _malformed(rng: random.Random, good: str) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return good[: rng.randrange(5, max(6, len(good) - 5))]  # truncated export
    if kind == 1:
        return "not json at all"
    if kind == 2:
        return good.replace('"duration": ', '"duration": -', 1)
    if kind == 3:
        return good.replace('"agent_id"', '"agent"', 1)  # renamed field
    if kind == 4:
        return good.replace("+00:00", "", 1)  # naive timestamp
    if kind == 5:
        return good.replace("@", " at ", 1)  # unusable e-mail
    if kind == 6:
        return good.replace('"sentiment": ', '"sentiment": 7', 1)
    return "[1, 2, 3]"


def records(n: int, *, seed: int = 7, malformed_rate: float = 0.01,
            customers: int | None = None) -> Iterator[str]:
    """Yield n JSON lines (without newline)."""
    rng = random.Random(seed)
    n_customers = customers or max(1, n // 5)
    for i in range(n):
        c = rng.randrange(n_customers)
        crng = random.Random(c * 7919 + seed)  # stable identity per customer
        first, last = crng.choice(FIRST), crng.choice(LAST)
        phone = crng.choice(PHONE_FORMATS).format(
            a=crng.randrange(200, 999), b=crng.randrange(100, 999), c=crng.randrange(1000, 9999))
        email = f"{first.lower()}.{last.lower()}{c}@{crng.choice(DOMAINS)}"
        ts = START + timedelta(seconds=rng.randrange(0, 7 * 86400))
        note = rng.choice(NOTES).format(phone=phone, email=email)
        rec = {
            "call_id": f"call-{seed}-{i:09d}",
            "customer_id": f"cust-{c:07d}",
            "customer_name": f"{first} {last}",
            "customer_phone": phone,
            "customer_email": email,
            "agent_id": f"agent-{rng.randrange(500):03d}",
            "call_start_time": ts.isoformat(),
            "duration": rng.randrange(5, 3600),
            "sentiment": round(rng.uniform(-1, 1), 3),
            "notes": note,
        }
        line = json.dumps(rec, ensure_ascii=False)
        if rng.random() < malformed_rate:
            line = _malformed(rng, line)
        yield line


def write_jsonl(out: BinaryIO, n: int, **kwargs: object) -> int:
    """Write n records to a binary stream in bounded chunks; returns bytes written."""
    written, buf = 0, []
    for line in records(n, **kwargs):  # type: ignore[arg-type]
        buf.append(line)
        if len(buf) >= 50_000:
            data = ("\n".join(buf) + "\n").encode("utf-8")
            out.write(data)
            written += len(data)
            buf.clear()
    if buf:
        data = ("\n".join(buf) + "\n").encode("utf-8")
        out.write(data)
        written += len(data)
    return written


# --------------------------------------------------------------------------- the messy corpus
# What real exports carry that the generator above never does (issue 11, "PII in every field
# and every form"): the e2e run and the demo's leak scan read it, so every landed file is
# checked against each of these forms.

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")
#: How people type a phone into free text: spaced hyphens, en/em dashes, dots, slashes,
#: `ext.`, full-width digits (NFKC folds them to ASCII).
PHONE_FORMS = ["{a} - {b} - {c}", "{a}\u2013{b}\u2013{c}", "{a}\u2014{b}\u2014{c}", "{a}.{b}.{c}", "{a}/{b}/{c}",
               "+1 {a} {b} {c} ext. 42", "FW:+1 {a} {b} {c}"]
#: Out of range after the offset (year 0 / 10000) and a date that does not exist.
BAD_TIMESTAMPS = ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "{year}-02-30T10:00:00+00:00"]
HUGE_NOTE_BYTES = 2 << 20  # one line of ~2 MB, a phone at its end


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isascii() and ch.isdigit())


def _phone_in(form: str, phone: str) -> str:
    """The caller's own number (its last 10 digits) typed in `form`, so the leak scan knows it."""
    d = _digits(phone)[-10:]
    a, b, c = d[:3], d[3:6], d[6:]
    if form.startswith("FW:"):
        return form[3:].format(a=a, b=b, c=c).translate(FULL_WIDTH)
    return form.format(a=a, b=b, c=c)


def _on_day(rec: dict, day: date) -> dict:
    return {**rec, "call_start_time": day.isoformat() + rec["call_start_time"][10:]}


def messy_records(n: int, day: date, *, seed: int = 13) -> list[dict]:
    """n good records on `day`, and one of each messy case per 16 records (cycling):
    PII in an id field, a phone typed in each form (notes, and full-width in the phone
    field), an out-of-range or impossible timestamp, and the same call exported twice."""
    recs = [_on_day(json.loads(line), day) for line in records(n, seed=seed, malformed_rate=0.0)]
    out: list[dict] = []
    for i, rec in enumerate(recs):
        case = i % 16
        if case < len(PHONE_FORMS):
            rec = {**rec, "notes": f"call back on {_phone_in(PHONE_FORMS[case], rec['customer_phone'])} please"}
        elif case == 7:
            rec = {**rec, "customer_id": rec["customer_phone"]}  # a phone in an id field
        elif case == 8:
            rec = {**rec, "agent_id": rec["customer_email"]}  # an e-mail in an id field
        elif case == 9:
            rec = {**rec, "call_id": rec["customer_email"].upper()}
        elif case == 10:
            rec = {**rec, "customer_phone": rec["customer_phone"].translate(FULL_WIDTH)}
        elif case in (11, 12, 13):
            rec = {**rec, "call_start_time": BAD_TIMESTAMPS[case - 11].format(year=day.year)}
        out.append(rec)
        if case == 14:
            out.append(dict(rec))  # the same call twice in one export
    return out


def huge_record(day: date, *, seed: int = 13) -> dict:
    """One call whose notes are ~HUGE_NOTE_BYTES long, with the caller's phone at the very end."""
    rec = _on_day(json.loads(next(records(1, seed=seed + 1, malformed_rate=0.0))), day)
    phrase = "the customer described the problem again. "
    filler = phrase * (HUGE_NOTE_BYTES // len(phrase) + 1)
    return {**rec, "call_id": f"call-{seed}-huge",
            "notes": filler + "reach me at " + _phone_in(PHONE_FORMS[0], rec["customer_phone"])}


def moved_to_next_day(recs: list[dict], every: int = 10) -> list[dict]:
    """A re-export of `recs` in which every `every`-th call (by call_id, first seen) moved
    to the next day (the producer corrected its timestamp): its row must leave the old
    day's partition."""
    calls = list(dict.fromkeys(r["call_id"] for r in recs))  # both copies of a duplicate move together
    chosen = set(calls[::every])
    moved = []
    for rec in recs:
        if rec["call_id"] in chosen and rec["call_start_time"][:2] == "20":  # this century's calls only
            try:
                rec = _on_day(rec, date.fromisoformat(rec["call_start_time"][:10]) + timedelta(days=1))
            except (ValueError, OverflowError):
                pass  # an impossible timestamp stays as it was
        moved.append(rec)
    return moved


def messy_export(recs: list[dict]) -> bytes:
    """The bytes of an export as a messy producer writes it: UTF-8 with a BOM, CRLF line ends."""
    body = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\r\n"
    return ("\ufeff" + body).encode("utf-8")


def raw_pii(recs: list[dict]) -> tuple[set[str], set[str]]:
    """(phone digit strings, e-mail addresses) the records carry in their phone and e-mail
    fields, after NFKC (so a full-width phone is known by its ASCII digits), each phone
    also without its country code (the notes forms): what the leak scan must never find
    outside the raw zone."""
    phones, emails = set(), set()
    for rec in recs:
        digits = _digits(str(rec.get("customer_phone", "")))
        if len(digits) >= 7:
            phones.update({digits, digits[-10:]})
        email = unicodedata.normalize("NFKC", str(rec.get("customer_email", ""))).strip().lower()
        if "@" in email:
            emails.add(email)
    return phones, emails


# --------------------------------------------------------------------------- any domain's contract
WORDS = ["login", "logout", "break", "call", "training", "meeting", "review", "transfer"]
#: How a generated malformed record breaks: a required field emptied, a value of the wrong
#: type, a value out of range. Every case breaks a rule of any contract that has such a field.
BROKEN = {"id": "", "text": "", "phone": "call me", "email": "n/a", "timestamp": "2026-11-20 10:00",
          "integer": "12s", "number": "high"}


def _value(spec: FieldSpec, i: int, rng: random.Random, day: date, unique: bool) -> object:
    """A valid-looking value of `spec` for record i (ids per record when unique,
    else from a small pool so they repeat like customer or agent ids do)."""
    if spec.type == "id":
        # "k" splits the counter so no id holds a 7+ digit run a leak scan would take for a phone.
        return f"{spec.name.replace('_', '-')}-{i // 1000}k{i % 1000:03d}" if unique \
            else f"{spec.name[:5]}-{rng.randrange(500):04d}"
    if spec.type == "phone":
        return rng.choice(PHONE_FORMATS).format(a=rng.randrange(200, 999), b=rng.randrange(100, 999),
                                                c=rng.randrange(1000, 9999))
    if spec.type == "email":
        return f"{rng.choice(FIRST).lower()}.{rng.randrange(10_000)}@{rng.choice(DOMAINS)}"
    if spec.type == "timestamp":
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return (start + timedelta(seconds=rng.randrange(86_400))).isoformat()
    if spec.type == "integer":
        lo = int(spec.min) if spec.min is not None else 0
        return rng.randint(lo, int(spec.max) if spec.max is not None else lo + 1000)
    if spec.type == "number":
        lo = spec.min if spec.min is not None else 0.0
        return round(rng.uniform(lo, spec.max if spec.max is not None else lo + 1000.0), 3)
    if spec.pii and spec.mask == "redact":  # free text with PII in it, as agents type it
        return rng.choice(NOTES).format(phone=_value_of("phone", rng), email=_value_of("email", rng))
    if spec.pii:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return rng.choice(WORDS)


def _value_of(kind: str, rng: random.Random) -> str:
    from callcenter.domain import FieldSpec

    return str(_value(FieldSpec(name=kind, type=kind, required=True), 0, rng, START.date(), False))


def records_for(contract: DomainContract, n: int, *, seed: int = 7, malformed_rate: float = 0.0,
                day: date | None = None) -> list[dict]:
    """n records valid under `contract` (any domain), on `day` (default START's),
    about `malformed_rate` of them broken in one field (see BROKEN) so the
    quarantine has something to hold. Deterministic for a seed."""
    rng = random.Random(seed)
    day = day or START.date()
    out: list[dict] = []
    for i in range(n):
        rec = {spec.name: _value(spec, i, rng, day, spec.name == contract.unique) for spec in contract.fields}
        if rng.random() < malformed_rate:
            # Only fields where the BROKEN value breaks a rule: an empty optional id/text is valid.
            spec = rng.choice([f for f in contract.fields if f.required or f.type not in ("id", "text")])
            rec[spec.name] = BROKEN[spec.type]
        out.append(rec)
    return out


def write_export(contract: DomainContract, recs: Iterable[dict], out: str | BinaryIO, fmt: str = "jsonl") -> int:
    """Write records as a producer would: JSON lines, or CSV (RFC 4180: header row
    of the contract's field names, CRLF, quoted where needed). `out` is a local
    path or a binary stream. Returns bytes written."""
    if fmt not in ("jsonl", "csv"):
        raise ValueError(f"fmt {fmt!r}: one of jsonl, csv")
    if isinstance(out, str):
        with open(out, "wb") as f:
            return write_export(contract, recs, f, fmt)
    text = io.StringIO()
    if fmt == "csv":
        writer = csv.DictWriter(text, fieldnames=list(contract.names), extrasaction="ignore",
                                lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in rec.items()} for rec in recs)
    else:
        text.writelines(json.dumps(rec, ensure_ascii=False) + "\n" for rec in recs)
    data = text.getvalue().encode("utf-8")
    out.write(data)
    return len(data)
