"""scripts/drift.py: order, table, exit codes (a fake Terraform; the real CLI is the integration path)."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import drift
from scripts.plan_env import StackInfo


def _stacks(tmp: Path) -> dict[str, StackInfo]:
    return {
        "dev-app": StackInfo("dev-app", ("dev-net",), tmp / "dev-app", {}),
        "dev-net": StackInfo("dev-net", (), tmp / "dev-net", {}),
    }


_TAG_DRIFT = {
    "resource_drift": [
        {
            "address": "aws_s3_bucket.raw",
            "change": {
                "before": {"bucket": "b", "tags": {"owner": "data"}, "tags_all": {"owner": "data"}},
                "after": {"bucket": "b", "tags": {"owner": "someone"}, "tags_all": {"owner": "someone"}},
            },
        }
    ]
}


class FakeTerraform:
    def __init__(self, plans: dict[str, dict | None]):
        self.plans, self.calls = plans, []

    def refresh_plan(self, stack: StackInfo) -> dict | None:
        self.calls.append(stack.name)
        return self.plans[stack.name]


def test_drift_names_exactly_the_resource_and_attribute_and_exits_2(tmp_path):
    lines: list[str] = []
    fake = FakeTerraform({"dev-net": _TAG_DRIFT, "dev-app": {}})
    assert drift.drift_environment("dev", _stacks(tmp_path), fake, out=lines.append) == 2
    assert fake.calls == ["dev-net", "dev-app"]  # dependencies first, plan_env's order
    rows = [line.split() for line in lines[1:-1]]
    assert rows == [["dev-net", "aws_s3_bucket.raw", "tags.owner"]]
    assert "1 drifted resources" in lines[-1]


def test_clean_is_0_and_error_is_1(tmp_path):
    assert drift.drift_environment("dev", _stacks(tmp_path), FakeTerraform({"dev-net": {}, "dev-app": {}}), out=list().append) == 0
    failed = FakeTerraform({"dev-net": None, "dev-app": _TAG_DRIFT})
    assert drift.drift_environment("dev", _stacks(tmp_path), failed, out=list().append) == 1


def test_bad_env_is_one_line_exit_2(capsys):
    assert drift.main(["--env", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--env nope: no file environments/nope.yaml"]


def test_missing_manifest_is_one_line_exit_2(tmp_path, capsys):
    assert drift.main(["--env", "dev", "--outdir", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_nested_paths_not_whole_maps():
    assert drift.changed_attributes({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"x": 1, "y": 3}, "b": 1}) == ["a.y"]
    assert json.dumps(drift.changed_attributes(1, 1)) == "[]"
