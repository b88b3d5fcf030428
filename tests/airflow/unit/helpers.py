"""Small builders shared by the tests."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
from callcenter.contract import PARTITION_COLUMN
from callcenter.ingest import IngestResult, ingest


def good_record(**overrides: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "call_id": "call-1",
        "customer_id": "cust-1",
        "customer_name": "Jane Doe",
        "customer_phone": "+1 (555) 123-4567",
        "customer_email": "jane.doe@example.com",
        "agent_id": "agent-7",
        "call_start_time": "2026-11-20T10:11:12+00:00",
        "duration": 125,
        "sentiment": 0.25,
        "notes": "Customer asked about the invoice.",
    }
    rec.update(overrides)
    return rec


def line(rec: dict[str, Any]) -> str:
    return json.dumps(rec, ensure_ascii=False)


def run(lines: list[str] | bytes, tmp: Path, key: bytes, source_id: str = "test-source",
        **kwargs: Any) -> IngestResult:
    data = lines if isinstance(lines, bytes) else ("\n".join(lines) + "\n").encode("utf-8")
    return ingest(io.BytesIO(data), source_id=source_id, out_dir=str(tmp / "curated"),
                  quarantine_dir=str(tmp / "quarantine"), key=key, **kwargs)


def curated(tmp: Path) -> pa.Table:
    part = ds.partitioning(pa.schema([(PARTITION_COLUMN, pa.date32())]), flavor="hive")
    return ds.dataset(str(tmp / "curated"), format="parquet", partitioning=part).to_table()


def quarantined(tmp: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted((tmp / "quarantine").glob("*.jsonl")):
        out.extend(json.loads(x) for x in path.read_text(encoding="utf-8").splitlines())
    return out
