"""The workflows lint clean (zizmor) and pin every action to a full commit SHA."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ZIZMOR = REPO / ".cache" / "tools" / "bin" / "zizmor"


def test_zizmor_finds_nothing():
    require(ZIZMOR.is_file(), "zizmor missing: run make setup")
    result = subprocess.run([str(ZIZMOR), "--offline", str(WORKFLOWS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_pinned_to_a_sha_and_no_pull_request_target():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
    for path in files:
        text = path.read_text()
        assert "pull_request_target" not in text, path.name
        for ref in re.findall(r"uses:\s*(\S+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"
