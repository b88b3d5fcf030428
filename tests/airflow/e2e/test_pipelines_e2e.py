"""The three DAGs end to end, through real Airflow, on the local stand-ins.

One session platform (conftest.py); the runs build on each other:
  first run    ingest + distribute + customer_360 on export A (with known malformed lines)
  re-run       export A uploaded again, ingest + distribute again: nothing duplicated
  outage       export B; fake-gcs-server stopped as distribute starts, restarted 40 s later
  messy        export C from the messy corpus (synthetic.messy_records: BOM, CRLF, a huge line,
               duplicates, PII in ids, every typed phone form, impossible timestamps), then
               re-exported with some calls moved to the next day
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.airflow.e2e.conftest import REPO

DAY_A, DAY_B, DAY_C = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)
N_MESSY = 800
N_GOOD_A, N_GOOD_B = 3000, 1000
# Longer than one try against a stopped store (the client gives up after stores.CLIENT_RETRY; a try failed in
# ~4 s here), so Airflow must retry; shorter than the retries' minimum span (conftest.RETRY_DELAY_S), so one
# of them meets the restarted store. At 40 s a fast machine spent all four tries inside the outage.
GCS_DOWN_S = 15


def _good_lines(n: int, seed: int, day: date) -> list[str]:
    from callcenter.synthetic import records

    from scripts.demo_platform import move_to_day

    return [move_to_day(line, day) for line in records(n, seed=seed, malformed_rate=0.0)]


def _malformed(base: dict) -> list[tuple[str, str]]:
    """(line, the reason the contract gives it): one broken rule each."""
    def variant(**changes: object) -> str:
        rec = {**base, **changes}
        return json.dumps({k: v for k, v in rec.items() if v is not ...}, ensure_ascii=False)

    return [
        ("not json at all", "invalid_json"),
        ("[1, 2, 3]", "not_an_object"),
        (variant(call_id="bad-truncated")[:45], "invalid_json"),
        (variant(call_id="bad-1", duration=-5), "negative_duration"),
        (variant(call_id="bad-2", agent_id=...), "missing:agent_id"),
        (variant(call_id="bad-3", call_start_time="2026-11-20T10:11:12"), "missing_timezone"),
        (variant(call_id="bad-4", customer_email="jane at example.com"), "bad_email"),
        (variant(call_id="bad-5", sentiment=7.0), "sentiment_out_of_range"),
        (variant(call_id="bad-6", customer_phone="555-CALL-NOW"), "bad_phone"),
    ]


def _export_a(path: Path) -> dict[int, str]:
    """Export A: N_GOOD_A good records, the malformed ones spread between them, one
    blank line (ignored). Returns physical line number -> expected reason."""
    good = _good_lines(N_GOOD_A, 21, DAY_A)
    bad = _malformed(json.loads(good[0]))
    lines: list[str] = []
    expected: dict[int, str] = {}
    step = N_GOOD_A // (len(bad) + 1)
    for i, line in enumerate(good):
        if i and i % step == 0 and bad:
            text, reason = bad.pop(0)
            lines.append(text)
            expected[len(lines)] = reason
        if i == 7:
            lines.append("")
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return expected


def _upload(platform, local: Path) -> None:
    from scripts.demo_platform import upload

    upload(platform.fss["s3"], local, f"{platform.layout.incoming}/{local.name}")


def _parquet(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))}


def _curated_roots(platform, out: Path) -> dict[str, Path]:
    layout = platform.layout
    return {"s3": out / "s3" / layout.curated, "gcs": out / "gcs" / layout.gcs_curated,
            "azure": out / "azure" / layout.azure_curated}


def _rows(root: Path) -> list[str]:
    return [cid for p in sorted(root.rglob("*.parquet")) for cid in pq.read_table(p).column("call_id").to_pylist()]


def _assert_succeeded(results: dict, *dag_ids: str) -> None:
    for dag_id in dag_ids:
        run = results[dag_id]
        assert run["state"] == "success", (dag_id, [t for t in run["tasks"] if t["state"] != "success"])


# --------------------------------------------------------------------------- runs


@pytest.fixture(scope="module")
def first_run(platform):
    from scripts.demo_platform import raw_pii, write_call_quality

    export = platform.tmp / "calls-a.jsonl"
    expected_quarantine = _export_a(export)
    _upload(platform, export)
    callers = sorted({json.loads(line)["customer_id"] for line in _good_lines(N_GOOD_A, 21, DAY_A)})
    quality = write_call_quality(platform.fss["azure"], platform.layout, DAY_A.isoformat(), callers)
    results = platform.run(("call_records_ingest", {}), ("call_records_distribute", {"full_resync": True}),
                           ("customer_360", {"days": [DAY_A.isoformat()]}))
    phones, emails = raw_pii(export)
    return {"export": export, "expected_quarantine": expected_quarantine, "results": results,
            "out": platform.read_back("out-first"), "callers": callers, "quality_rows": quality,
            "phones": phones, "emails": emails}


@pytest.fixture(scope="module")
def rerun(platform, first_run):
    _upload(platform, first_run["export"])  # same name and content, new version
    results = platform.run(("call_records_ingest", {}), ("call_records_distribute", {"full_resync": True}))
    return {"results": results, "out": platform.read_back("out-rerun")}


@pytest.fixture(scope="module")
def outage(platform, rerun):
    export = platform.tmp / "calls-b.jsonl"
    export.write_text("\n".join(_good_lines(N_GOOD_B, 22, DAY_B)) + "\n", encoding="utf-8")
    _upload(platform, export)
    gcs = platform.standins.gcs
    restarted = threading.Event()
    timers: list[threading.Timer] = []

    def restart() -> None:
        gcs.start()
        gcs.wait_ready()
        restarted.set()

    def on_line(line: str) -> None:
        if line == "running call_records_distribute" and not timers:
            gcs.stop()  # the DAG run has started; its GCS copies have not
            timers.append(threading.Timer(GCS_DOWN_S, restart))
            timers[0].start()

    try:
        results = platform.run(("call_records_ingest", {}), ("call_records_distribute", {"full_resync": True}),
                               on_line=on_line)
    finally:
        for timer in timers:
            timer.join()
        if gcs.process is None:
            restart()
    assert timers, "call_records_distribute never started"
    return {"results": results, "out": platform.read_back("out-outage"), "restarted": restarted.is_set()}


@pytest.fixture(scope="module")
def messy(platform, outage):
    """Export C, as a messy producer writes it, through all three DAGs; then the same export
    re-sent with every 10th call moved to the next day, through ingest and distribute."""
    from callcenter import synthetic

    recs = synthetic.messy_records(N_MESSY, DAY_C) + [synthetic.huge_record(DAY_C)]
    moved = synthetic.moved_to_next_day(recs)
    export = platform.tmp / "calls-c.jsonl"
    partitions = [f"call_date={DAY_C.isoformat()}", f"call_date={(DAY_C + timedelta(days=1)).isoformat()}"]
    export.write_bytes(synthetic.messy_export(recs))
    _upload(platform, export)
    first = platform.run(("call_records_ingest", {}), ("call_records_distribute", {"partitions": partitions[:1]}),
                         ("customer_360", {"days": [DAY_C.isoformat()]}))
    export.write_bytes(synthetic.messy_export(moved))
    _upload(platform, export)
    again = platform.run(("call_records_ingest", {}), ("call_records_distribute", {"partitions": partitions}))
    phones, emails = synthetic.raw_pii(recs)
    return {"recs": recs, "moved": moved, "first": first, "again": again, "phones": phones, "emails": emails,
            "out": platform.read_back("out-messy")}


# --------------------------------------------------------------------------- tests


def test_first_run_succeeds_and_reconciles(first_run):
    results = first_run["results"]
    _assert_succeeded(results, "call_records_ingest", "call_records_distribute", "customer_360")
    totals = results["call_records_ingest"]["returns"]["reconcile"][0]
    n_bad = len(first_run["expected_quarantine"])
    assert (totals["records_in"], totals["curated"], totals["quarantined"]) == (N_GOOD_A + n_bad, N_GOOD_A, n_bad)
    assert totals["partitions"] == [f"call_date={DAY_A.isoformat()}"]
    assert results["call_records_ingest"]["returns"]["start_crawler"] == ["started"]


def test_masked_output_in_s3_gcs_and_azure_without_raw_pii(platform, first_run):
    from scripts.demo_platform import pii_leaks

    out = first_run["out"]
    roots = _curated_roots(platform, out)
    for cloud, root in roots.items():
        call_ids = _rows(root)
        assert len(call_ids) == N_GOOD_A, cloud
        table = pq.read_table(next(root.rglob("*.parquet")))
        assert "customer_phone" not in table.column_names and "customer_email" not in table.column_names
        assert all(len(v) == 4 and v.isdigit() for v in table.column("customer_phone_last4").to_pylist())
        assert all(len(v) == 32 for v in table.column("customer_email_hash").to_pylist())
    assert _parquet(roots["gcs"]) == _parquet(roots["s3"]) == _parquet(roots["azure"])
    # Everything that landed anywhere: curated, quarantine, copies, customer_360, markers.
    assert len(first_run["phones"]) > 100 and len(first_run["emails"]) > 100
    assert pii_leaks(out, first_run["phones"], first_run["emails"]) == []


def test_quarantine_holds_exactly_the_malformed_records(platform, first_run):
    root = first_run["out"] / "s3" / platform.layout.quarantine
    rows = [json.loads(x) for p in sorted(root.rglob("*.jsonl")) for x in p.read_text().splitlines() if x.strip()]
    assert {r["line"]: r["reason"] for r in rows} == first_run["expected_quarantine"]
    assert {r["source"] for r in rows} == {f"{platform.layout.incoming}/calls-a.jsonl"}
    totals = first_run["results"]["call_records_ingest"]["returns"]["reconcile"][0]
    assert sum(totals["reasons"].values()) == len(first_run["expected_quarantine"])


def test_customer_360_joins_calls_and_quality(platform, first_run):
    root = first_run["out"] / "gcs" / platform.layout.customer_360 / f"call_date={DAY_A.isoformat()}"
    table = pq.read_table(root / "customer_360.parquet")
    quality = pq.read_table(next((first_run["out"] / "azure" / platform.layout.call_quality).rglob("*.parquet")))
    expected = set(first_run["callers"]) | set(quality.column("customer_id").to_pylist())
    assert sorted(table.column("customer_id").to_pylist()) == sorted(expected)
    assert table.num_rows == len(expected) > len(first_run["callers"])
    assert sum(table.column("calls").to_pylist()) == N_GOOD_A
    summary = first_run["results"]["customer_360"]["returns"]["summarize"][0]
    assert summary["rows"] == len(expected)


def test_xcom_holds_only_counts_and_paths(first_run, rerun):
    from scripts.demo_platform import has_pii

    for results in (first_run["results"], rerun["results"]):
        for run in results.values():
            for task_id, values in run["returns"].items():
                text = json.dumps(values)
                assert len(text) < 16_000, task_id
                assert not has_pii(text, first_run["phones"], first_run["emails"]), task_id


def test_rerun_creates_no_duplicates(platform, first_run, rerun):
    _assert_succeeded(rerun["results"], "call_records_ingest", "call_records_distribute")
    assert rerun["results"]["call_records_ingest"]["returns"]["reconcile"][0]["exports"] == 1  # A, again
    before, after = _curated_roots(platform, first_run["out"]), _curated_roots(platform, rerun["out"])
    for cloud in before:
        ids = _rows(after[cloud])
        assert len(ids) == len(set(ids)) == N_GOOD_A, cloud
        assert sorted(_parquet(after[cloud])) == sorted(_parquet(before[cloud])), cloud
    q_root = rerun["out"] / "s3" / platform.layout.quarantine
    q_rows = [x for p in q_root.rglob("*.jsonl") for x in p.read_text().splitlines() if x.strip()]
    assert len(q_rows) == len(first_run["expected_quarantine"])


def test_stand_in_outage_is_survived_through_retries(platform, outage):
    results = outage["results"]
    assert outage["restarted"]
    _assert_succeeded(results, "call_records_ingest", "call_records_distribute")
    to_gcs = [t for t in results["call_records_distribute"]["tasks"] if t["task_id"] == "to_gcs"]
    assert to_gcs and all(t["state"] == "success" for t in to_gcs)
    assert max(t["try_number"] for t in to_gcs) >= 2, to_gcs  # failed while GCS was down, then retried
    roots = _curated_roots(platform, outage["out"])
    assert _parquet(roots["gcs"]) == _parquet(roots["s3"]) == _parquet(roots["azure"])
    for cloud, root in roots.items():
        ids = _rows(root)
        assert len(ids) == len(set(ids)) == N_GOOD_A + N_GOOD_B, cloud


def test_logs_hold_no_raw_pii(platform, first_run, outage):
    """Task logs (in the run log and AIRFLOW_HOME/logs) never print an input phone or e-mail."""
    from scripts.demo_platform import has_pii

    logs = [platform.log, *sorted((platform.tmp / "airflow" / "logs").rglob("*.log"))]
    hits = [(str(p), n) for p in logs if p.is_file()
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if any(e in line for e in first_run["emails"]) or
            has_pii(line, first_run["phones"], set())]
    assert hits == []
    assert REPO.is_dir()


def test_a_messy_export_never_fails_and_reconciles(messy):
    for results in (messy["first"], messy["again"]):
        _assert_succeeded(results, "call_records_ingest", "call_records_distribute")
        totals = results["call_records_ingest"]["returns"]["reconcile"][0]
        assert totals["exports"] == 1
        assert totals["records_in"] == totals["curated"] + totals["quarantined"] == len(messy["recs"])
        for reason in ("pii_in:call_id", "pii_in:customer_id", "pii_in:agent_id", "bad_timestamp"):
            assert totals["reasons"].get(reason), (reason, totals["reasons"])  # each case is in the corpus
    _assert_succeeded(messy["first"], "customer_360")


def test_no_form_of_the_messy_pii_lands_anywhere(messy):
    """Curated, quarantine, the copies, customer_360 and markers after both messy runs."""
    from scripts.demo_platform import pii_leaks

    assert len(messy["phones"]) > 20 and len(messy["emails"]) > 20
    assert pii_leaks(messy["out"], messy["phones"], messy["emails"]) == []


def test_messy_pii_never_reaches_xcom_or_logs(platform, messy):
    from scripts.demo_platform import has_pii

    for results in (messy["first"], messy["again"]):
        for run in results.values():
            for task_id, values in run["returns"].items():
                assert not has_pii(json.dumps(values), messy["phones"], messy["emails"]), task_id
    logs = [platform.log, *sorted((platform.tmp / "airflow" / "logs").rglob("*.log"))]
    hits = [str(p) for p in logs if p.is_file()
            if has_pii(p.read_text(errors="replace"), messy["phones"], messy["emails"])]
    assert hits == []


def test_calls_moved_to_another_day_leave_the_old_partition_everywhere(platform, messy):
    moved_ids = {r["call_id"] for r, m in zip(messy["recs"], messy["moved"], strict=True)
                 if r["call_start_time"] != m["call_start_time"]}
    assert moved_ids
    for cloud, root in _curated_roots(platform, messy["out"]).items():
        old = _rows(root / f"call_date={DAY_C.isoformat()}")
        new = _rows(root / f"call_date={(DAY_C + timedelta(days=1)).isoformat()}")
        assert not (moved_ids & set(old)), cloud
        assert moved_ids & set(new), cloud
        assert len(old + new) == len(set(old + new)), cloud  # the corpus's duplicate calls land once
