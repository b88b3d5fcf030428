"""Reconciliation reads back what was published (review V9): the Parquet
footers' row counts and the quarantine's line count, not in-memory counters."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from callcenter import ingest as ingest_mod
from callcenter.ingest import ReconciliationError
from helpers import good_record, line, run

LINES = [line(good_record(call_id=f"c{i}")) for i in range(5)] + ['{"broken', "[1]"]


def test_result_carries_read_back_counts(tmp_path, key) -> None:
    result = run(LINES, tmp_path, key)
    assert (result.read_back_curated, result.read_back_quarantined) == (5, 2)
    assert result.records_in == result.read_back_curated + result.read_back_quarantined


def test_published_file_short_of_rows_fails_the_run(tmp_path, key, monkeypatch) -> None:
    real_apply = ingest_mod._apply

    def lossy_store(fs, journal, plan):  # the store kept fewer rows than were written
        real_apply(fs, journal, plan)
        target = plan["moves"][0][1]
        table = pq.read_table(target)
        pq.write_table(table.slice(1), target)

    monkeypatch.setattr(ingest_mod, "_apply", lossy_store)
    with pytest.raises(ReconciliationError, match=r"read back.*records_in=7 != curated=4 \+ quarantined=2"):
        run(LINES, tmp_path, key)


def test_quarantine_short_of_lines_fails_the_run(tmp_path, key, monkeypatch) -> None:
    real_apply = ingest_mod._apply

    def truncating_store(fs, journal, plan):
        real_apply(fs, journal, plan)
        q_final = plan["moves"][-1][1]
        with fs.open_input_stream(q_final) as s:
            first = s.read().split(b"\n")[0] + b"\n"
        with fs.open_output_stream(q_final) as out:
            out.write(first)

    monkeypatch.setattr(ingest_mod, "_apply", truncating_store)
    with pytest.raises(ReconciliationError, match="quarantined=1"):
        run(LINES, tmp_path, key)
