"""CSV exports (RFC 4180) through the whole ingest, on agent_performance's contract."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from callcenter import domain
from callcenter.ingest import ingest
from callcenter.reader import TOO_FEW_COLUMNS, TOO_MANY_COLUMNS
from helpers import quarantined

AGENTS = domain.load("agent_performance")
HEADER = "event_id,agent_id,event_time,event_type,handled_calls,avg_handle_seconds"


def row(i: int, event_type: str = "call", handled: str = "12") -> str:
    return f"ev-{i},agent-1,2026-11-20T10:00:{i % 60:02d}Z,{event_type},{handled},95.5"


def run_csv(tmp_path, text: str | bytes, key: bytes, **kwargs):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return ingest(io.BytesIO(data), source_id="raw/agent_events/incoming/a.csv", out_dir=str(tmp_path / "curated"),
                  quarantine_dir=str(tmp_path / "quarantine"), key=key, contract=AGENTS, fmt="csv", **kwargs)


def curated(tmp_path) -> pa.Table:
    part = ds.partitioning(pa.schema([("event_date", pa.date32())]), flavor="hive")
    return ds.dataset(str(tmp_path / "curated"), format="parquet", partitioning=part).to_table()


def test_quoted_commas_quotes_and_newlines_bom_and_crlf(tmp_path, key) -> None:
    body = "\r\n".join([HEADER, row(1, '"a, b"'), row(2, '"said ""hi"""'), row(3, '"two\r\nlines"'), row(4)])
    result = run_csv(tmp_path, "\ufeff" + body + "\r\n", key)
    assert (result.records_in, result.curated, result.quarantined) == (4, 4, 0)
    table = curated(tmp_path).sort_by("event_id")
    assert table.column("event_id").to_pylist() == ["ev-1", "ev-2", "ev-3", "ev-4"]  # BOM not glued to the header
    assert table.column("event_type").to_pylist() == ["a, b", 'said "hi"', "two\r\nlines", "call"]
    assert table.column("handled_calls").to_pylist() == [12] * 4
    assert table.schema.field("event_time").type.tz == "UTC"


def test_rows_of_the_wrong_width_are_quarantined_by_record_number(tmp_path, key) -> None:
    # Record numbers count the header as 1; a quoted newline keeps a record one number.
    lines = [HEADER, row(1, '"multi\nline"'), row(2) + ",extra", row(3), "ev-4,agent-1", row(5)]
    result = run_csv(tmp_path, "\n".join(lines) + "\n", key)
    assert (result.records_in, result.curated, result.quarantined) == (5, 3, 2)
    got = sorted((q["line"], q["reason"]) for q in quarantined(tmp_path))
    assert got == [(3, TOO_MANY_COLUMNS), (5, TOO_FEW_COLUMNS)]


def test_record_numbers_stay_right_across_batches(tmp_path, key) -> None:
    lines = [HEADER]
    bad = set()
    for i in range(2, 400):
        if i % 37 == 0:
            lines.append(row(i) + ",x,y")
            bad.add(i)
        elif i % 41 == 0:
            lines.append(row(i, handled="-3"))
            bad.add(i)
        else:
            lines.append(row(i))
    result = run_csv(tmp_path, "\n".join(lines) + "\n", key, batch_bytes=1 << 10)
    assert result.batches > 5 and result.records_in == 398
    assert {q["line"] for q in quarantined(tmp_path)} == bad
    negative = [q for q in quarantined(tmp_path) if q["reason"] == "handled_calls_out_of_range"]
    assert negative and all(q["event_id"] == f"ev-{q['line']}" for q in negative)  # the number is that record's


def test_a_header_without_a_required_field_quarantines_every_record(tmp_path, key) -> None:
    header = HEADER.replace(",handled_calls", "")
    lines = [header] + [f"ev-{i},agent-1,2026-11-20T10:00:00Z,call,95.5" for i in range(3)]
    result = run_csv(tmp_path, "\n".join(lines) + "\n", key)
    assert (result.records_in, result.curated, result.quarantined) == (3, 0, 3)
    assert result.reasons == {"missing:handled_calls": 3}


def test_invalid_utf8_quarantines_that_record_only(tmp_path, key) -> None:
    data = ("\n".join([HEADER, row(1), row(2, "caf\udce9")]) + "\n").encode("utf-8", "surrogateescape")
    result = run_csv(tmp_path, data, key)
    assert (result.curated, result.quarantined) == (1, 1)
    assert quarantined(tmp_path)[0]["reason"] == "invalid_utf8" and "event_id" not in quarantined(tmp_path)[0]


@pytest.mark.parametrize("text", ["", HEADER + "\r\n", HEADER])
def test_empty_exports_reconcile_to_zero(tmp_path, key, text) -> None:
    result = run_csv(tmp_path, text, key)
    assert (result.records_in, result.curated, result.quarantined) == (0, 0, 0)


def test_unknown_columns_are_ignored_and_order_does_not_matter(tmp_path, key) -> None:
    text = "note,avg_handle_seconds,handled_calls,event_type,event_time,agent_id,event_id\n" \
           "hello,1.5,3,call,2026-11-20T10:00:00+00:00,agent-2,ev-9\n"
    result = run_csv(tmp_path, text, key)
    assert result.curated == 1
    assert curated(tmp_path).to_pylist()[0]["handled_calls"] == 3


def test_a_record_longer_than_a_block_fails_with_one_line(tmp_path, key) -> None:
    text = "\n".join([HEADER, row(1, '"' + "x" * 4000 + '"'), row(2)]) + "\n"
    with pytest.raises(ValueError, match="longer than the 1024-byte block") as err:
        run_csv(tmp_path, text, key, batch_bytes=4 << 10)
    assert "\n" not in str(err.value)
    assert not list((tmp_path / "curated").rglob("*.parquet"))  # nothing published

