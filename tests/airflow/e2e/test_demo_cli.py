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
