"""`make demo` answers bad input with one line and a non-zero exit, before starting anything."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.airflow.e2e.conftest import REPO


@pytest.mark.parametrize(("args", "message"), [
    (["--calls", "/nonexistent/calls.jsonl"], "demo: CALLS=/nonexistent/calls.jsonl: no such file"),
    (["--records", "lots"], "demo: RECORDS=lots: not a whole number"),
    (["--records", "0"], "demo: RECORDS=0: must be between 1 and 20000000"),
])
def test_bad_input_is_one_line_and_nonzero(args, message):
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), *args],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == message
    assert "Traceback" not in result.stderr + result.stdout


def test_empty_calls_file_is_refused(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), "--calls", str(empty)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr.strip()) == (2, f"demo: CALLS={empty}: the file is empty")


def _demo():
    sys.path.insert(0, str(REPO))
    from scripts import demo

    return demo


def test_the_second_domain_gets_a_csv_export_generated_from_its_contract(tmp_path):
    """make demo's agent_performance input: CSV with the contract's header, no pii values to scan for."""
    from datetime import date

    from callcenter import domain

    contract = domain.load("agent_performance")
    path, phones, emails = _demo().other_export(contract, tmp_path, 50, date(2026, 11, 20))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert path.suffix == ".csv" and lines[0] == ",".join(contract.names) and len(lines) == 51
    assert (phones, emails) == (set(), set())


def test_the_summary_has_figures_per_domain():
    from callcenter.layout import Names

    def run(dag_id, returns):
        return {"dag_id": dag_id, "state": "success", "seconds": 1.0, "returns": returns}

    ingest = {"records_in": 10, "curated": 9, "quarantined": 1, "reasons": {"missing:event_id": 1},
              "partitions": ["event_date=2026-11-20"]}
    copied = {"gcs": {"partitions": 1, "files": 1, "bytes": 10, "verified": 1}}
    results, domains = [], {}
    for d, dataset in (("call_analytics", "call_records"), ("agent_performance", "agent_events")):
        names = Names(d, dataset)
        results += [run(names.ingest_dag_id, {"reconcile": [ingest]}), run(names.distribute_dag_id, {"verify": [copied]})]
        domains[d] = (names, {"gcs": "match (1/1 files)", "azure": "match (1/1 files)"})
    table = _demo().summary_table(results, domains, [], {"s3": 4})
    assert "call_analytics" in table and "agent_performance" in table
    assert table.count("  reconciled") == 2 and "agent_events_ingest + agent_events_distribute" in table
    leak_row = table.splitlines()[-2]
    assert leak_row.startswith("raw phone/e-mail found") and leak_row.endswith("  none")
