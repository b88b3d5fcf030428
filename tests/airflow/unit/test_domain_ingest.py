"""The kernel on contracts other than call_analytics: a CSV domain end to end on a local
filesystem, a throwaway contract using every mask, the quarantine redaction flag."""

from __future__ import annotations

import json
import unicodedata

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pytest
import yaml
from callcenter import domain, synthetic
from callcenter.domain import ContractError
from callcenter.ingest import ingest
from callcenter.pii_scan import find_pii

THROWAWAY = {
    "domain": "throwaway",
    "dataset": "tickets",
    "formats": ["jsonl", "csv"],
    "unique": "ticket_id",
    "partition": {"field": "opened_at", "column": "opened_date"},
    "fields": [
        {"name": "ticket_id", "type": "id", "required": True},
        {"name": "opened_at", "type": "timestamp", "required": True},
        {"name": "caller_name", "type": "text", "required": False, "pii": True, "mask": "drop"},
        {"name": "caller_phone", "type": "phone", "required": True, "pii": True, "mask": "last4"},
        {"name": "caller_email", "type": "email", "required": True, "pii": True, "mask": "keyed_hash"},
        {"name": "summary", "type": "text", "required": False, "pii": True, "mask": "redact"},
        {"name": "priority", "type": "integer", "required": True, "min": 1, "max": 5},
    ],
}


def layout(tmp_path, dataset):
    return {"out_dir": str(tmp_path / "curated" / dataset), "quarantine_dir": str(tmp_path / "quarantine" / dataset)}


def read_curated(tmp_path, contract) -> pa.Table:
    part = ds.partitioning(pa.schema([(contract.partition_column, pa.date32())]), flavor="hive")
    return ds.dataset(str(tmp_path / "curated" / contract.dataset), format="parquet", partitioning=part).to_table()


def read_quarantine(tmp_path, contract) -> list[dict]:
    files = sorted((tmp_path / "quarantine" / contract.dataset).glob("*.jsonl"))
    return [json.loads(x) for f in files for x in f.read_text(encoding="utf-8").splitlines()]


def test_agent_performance_csv_end_to_end_on_a_local_filesystem(tmp_path, key) -> None:
    contract = domain.load("agent_performance")
    recs = synthetic.records_for(contract, 3000, seed=5, malformed_rate=0.03)
    recs.append(dict(recs[0]))  # the same event exported twice
    export = tmp_path / "raw" / "agent_events" / "incoming" / "events-2026-11-18.csv"
    export.parent.mkdir(parents=True)
    synthetic.write_export(contract, recs, str(export), fmt="csv")
    result = ingest(str(export), in_fs=pafs.LocalFileSystem(), contract=contract, key=key,
                    redact_quarantine=False, **layout(tmp_path, contract.dataset))
    assert result.records_in == 3001 == result.curated + result.quarantined
    assert (result.read_back_curated, result.read_back_quarantined) == (result.curated, result.quarantined)
    assert result.reasons["duplicate_event_id"] == 1 and result.quarantined > 50
    assert result.partitions == ["event_date=2026-11-18"]
    table = read_curated(tmp_path, contract)
    assert table.num_rows == result.curated
    assert table.schema.names == contract.curated_schema.names
    assert pa.compute.max(table.column("handled_calls")).as_py() <= 10_000
    assert len(read_quarantine(tmp_path, contract)) == result.quarantined


def test_an_export_in_a_format_the_contract_does_not_list_is_refused_before_any_write(tmp_path, key) -> None:
    export = tmp_path / "calls.csv"
    export.write_text("call_id\nc1\n", encoding="utf-8")
    with pytest.raises(ContractError, match="format 'csv' is not accepted by domain call_analytics"):
        ingest(str(export), key=key, **layout(tmp_path, "call_records"))
    assert not (tmp_path / "curated").exists()


def _raw_pii(recs: list[dict]) -> set[str]:
    """Every raw PII value the records carry (phones as digits too), NFKC-folded."""
    out: set[str] = set()
    for rec in recs:
        for name in ("caller_name", "caller_phone", "caller_email"):
            value = unicodedata.normalize("NFKC", str(rec.get(name) or "")).strip()
            if len(value) >= 5:
                out.add(value.lower())
        digits = "".join(ch for ch in str(rec.get("caller_phone") or "") if ch.isdigit())
        if len(digits) >= 7:
            out.add(digits)
    return out


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_throwaway_contract_with_every_mask_lands_no_raw_pii(tmp_path, key, fmt) -> None:
    path = tmp_path / "throwaway.yaml"
    path.write_text(yaml.safe_dump(THROWAWAY), encoding="utf-8")
    contract = domain.load_file(path)
    recs = synthetic.records_for(contract, 1500, seed=9, malformed_rate=0.1)
    export = tmp_path / f"tickets.{fmt}"
    synthetic.write_export(contract, recs, str(export), fmt=fmt)
    result = ingest(str(export), contract=contract, key=key, **layout(tmp_path, contract.dataset))
    assert result.records_in == 1500 == result.curated + result.quarantined and result.quarantined > 50

    table = read_curated(tmp_path, contract)
    assert table.schema.names == ["ticket_id", "opened_at", "caller_phone_last4", "caller_email_hash",
                                  "summary_redacted", "priority", "opened_date"]  # caller_name dropped
    assert set(map(len, table.column("caller_phone_last4").to_pylist())) == {4}
    assert set(map(len, table.column("caller_email_hash").to_pylist())) == {32}
    quarantine = read_quarantine(tmp_path, contract)
    assert all("caller_name" not in q and "caller_phone" not in q and "caller_email" not in q for q in quarantine)

    landed = json.dumps(table.to_pylist(), default=str, ensure_ascii=False) + json.dumps(quarantine, ensure_ascii=False)
    folded = unicodedata.normalize("NFKC", landed).lower()
    leaks = sorted(v for v in _raw_pii(recs) if v in folded)
    assert leaks == []
    assert find_pii(json.dumps(table.column("summary_redacted").to_pylist(), ensure_ascii=False)) == []


def test_quarantine_never_keeps_a_pii_shape_and_pii_domains_keep_no_free_text(tmp_path, key) -> None:
    contract = domain.load("agent_performance")
    rec = synthetic.records_for(contract, 1, seed=1)[0]
    bad = {**rec, "event_type": "call back jane@example.com", "handled_calls": "+1 555 123 4567"}
    for flag in (True, False):
        out = tmp_path / str(flag)
        synthetic.write_export(contract, [bad], str(out.with_suffix(".csv")), fmt="csv")
        ingest(str(out.with_suffix(".csv")), contract=contract, key=key, redact_quarantine=flag,
               **layout(out, contract.dataset))
        (q,) = read_quarantine(out, contract)
        assert q["reason"] == "pii_in:event_type;bad_handled_calls"
        assert q["handled_calls"] == "[PHONE]"  # a phone shifted into a count, redacted for every domain
        assert q["event_type"] == (None if flag else "call back [EMAIL]")
        assert q["event_id"] == rec["event_id"]  # ids keep their own shape either way


@pytest.mark.parametrize("value", ["jane@example.com", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ring 0171-555 1234",
                                   "+４４ ２０ ７９４６ ０９５８", "card 4111 1111 1111 1111"])
def test_a_contact_in_a_text_field_the_contract_does_not_mask_never_reaches_curated(tmp_path, key, value) -> None:
    contract = domain.load("agent_performance")
    good, bad = synthetic.records_for(contract, 2, seed=3)
    bad = {**bad, "event_type": f"escalated {value}"}
    export = tmp_path / "events.jsonl"
    synthetic.write_export(contract, [good, bad], str(export), fmt="jsonl")
    result = ingest(str(export), contract=contract, key=key, redact_quarantine=False, **layout(tmp_path, contract.dataset))
    assert (result.curated, result.quarantined) == (1, 1)
    assert read_curated(tmp_path, contract).column("event_type").to_pylist() == [good["event_type"]]
    (q,) = read_quarantine(tmp_path, contract)
    assert q["reason"] == "pii_in:event_type" and find_pii(json.dumps(q, ensure_ascii=False)) == []


def test_optional_typed_fields_store_null_and_bounds_pick_the_integer_width(tmp_path, key) -> None:
    doc = {"domain": "readings", "dataset": "readings", "formats": ["jsonl"], "unique": "reading_id",
           "partition": {"field": "taken_at", "column": "taken_date"},
           "fields": [{"name": "reading_id", "type": "id", "required": True},
                      {"name": "taken_at", "type": "timestamp", "required": True},
                      {"name": "delta", "type": "integer", "required": False, "min": -50, "max": 50},
                      {"name": "counter", "type": "integer", "required": False},
                      {"name": "checked_at", "type": "timestamp", "required": False},
                      {"name": "level", "type": "number", "required": False}]}
    path = tmp_path / "readings.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    contract = domain.load_file(path)
    assert [str(f.type) for f in contract.curated_schema][2:4] == ["int32", "int64"]
    base = {"taken_at": "2026-11-20T10:00:00Z"}
    recs = [{**base, "reading_id": "r-a", "delta": -7, "counter": 12345678901234,
             "checked_at": "2026-11-20T11:00:00+01:00", "level": 0.5},
            {**base, "reading_id": "r-b"},  # every optional field absent
            {**base, "reading_id": "r-c", "delta": -51},
            {**base, "reading_id": "r-d", "counter": "12x", "checked_at": "soon"}]
    export = tmp_path / "readings.jsonl"
    synthetic.write_export(contract, recs, str(export))
    result = ingest(str(export), contract=contract, key=key, **layout(tmp_path, contract.dataset))
    assert (result.curated, result.quarantined) == (2, 2)
    rows = {r["reading_id"]: r for r in read_curated(tmp_path, contract).to_pylist()}
    assert rows["r-a"]["delta"] == -7 and rows["r-a"]["counter"] == 12345678901234
    assert rows["r-a"]["checked_at"].isoformat() == "2026-11-20T10:00:00+00:00"
    assert [rows["r-b"][f] for f in ("delta", "counter", "checked_at", "level")] == [None] * 4
    assert sorted(q["reason"] for q in read_quarantine(tmp_path, contract)) == \
        ["bad_counter;bad_timestamp", "delta_out_of_range"]
