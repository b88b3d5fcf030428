"""Synthetic call records for tests, the demo and the benchmark.

Realistic on purpose: repeat customers, formatted phone numbers, unicode names,
PII inside free-text notes, and ~1% of lines malformed in the ways real exports
break (truncated lines, wrong types, missing fields, naive timestamps).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

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
