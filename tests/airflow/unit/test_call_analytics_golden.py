"""call_analytics' output stays byte for byte what it was before the kernel read
contract files (issue 13: "same masked output byte for byte").

The digests were produced by running `outputs_digest` below against the kernel of
commit 7468e4e (before airflow/dags/domains/ existed): extract that commit's
airflow/dags into a scratch folder, put it first on sys.path and call
outputs_digest for both inputs. They cover every curated Parquet file and the
quarantine JSON lines, names and bytes. Parquet files embed the writer's version
("parquet-cpp-arrow version ..."), so a pyarrow upgrade means re-running that
recipe, not editing the numbers by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import pathlib

import pytest
from callcenter import synthetic
from callcenter.ingest import ingest

GOLDEN = {
    "messy": "d0d7c8cfab7af63cc17742d39d3f67e684967457e7575eae9465265332c28f21",
    "generated": "5a5209353cac49ddd832a8770fce6eff3be8fcf1cba32ad1c8e0d7601fc8be09",
}
KEY = bytes(range(32))
DAY = dt.date(2026, 11, 20)


def inputs() -> dict[str, bytes]:
    generated = io.BytesIO()
    synthetic.write_jsonl(generated, 5000, seed=11, malformed_rate=0.02)
    return {
        # BOM, CRLF, PII in every field and form, impossible timestamps, duplicates, a 2 MB line.
        "messy": synthetic.messy_export(synthetic.messy_records(400, DAY) + [synthetic.huge_record(DAY)]),
        "generated": generated.getvalue(),
    }


def outputs_digest(data: bytes, source_id: str, root: pathlib.Path) -> str:
    ingest(io.BytesIO(data), source_id=source_id, out_dir=str(root / "curated"),
           quarantine_dir=str(root / "quarantine"), key=KEY)
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "_staging" not in path.parts:
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_curated_and_quarantine_bytes_are_unchanged(tmp_path, name) -> None:
    source_id = f"raw/call_records/incoming/{'messy' if name == 'messy' else 'day'}.jsonl"
    assert outputs_digest(inputs()[name], source_id, tmp_path) == GOLDEN[name]
