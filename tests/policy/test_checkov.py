"""The policy gate: zero open checkov findings on dev, staging and prod, and a gate that can fail."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import policy_gate  # noqa: E402

from tests.conftest import REPO, require  # noqa: E402

SCANNED = ["dev-*", "staging-*", "prod-*"]


def checkov_installed() -> None:
    require(Path(sys.executable).with_name("checkov").exists(), "checkov is not installed in this environment")


def test_dev_staging_prod_have_no_open_findings(synth_root):
    checkov_installed()
    root = synth_root / "stacks"
    selected = policy_gate.select_stacks(root, SCANNED)
    skips = policy_gate.load_skips(policy_gate.DEFAULT_SKIPS)
    open_findings, unused, counts = policy_gate.gate(root, selected, skips)
    print(f"checkov: {counts}")  # shown with -rP; the figures go into the closing note
    assert counts["passed"] > 0
    assert [f"{f.stack}: {f.check} {f.resource}" for f in open_findings] == []
    assert [f"{s.check} {s.resource}" for s in unused] == []


def test_every_reviewed_skip_has_a_reason():
    for skip in policy_gate.load_skips(policy_gate.DEFAULT_SKIPS):
        assert skip.reason.strip() and skip.check.startswith("CKV") and skip.resource


def planted_stack(root: Path) -> Path:
    """A deliberately insecure stack: a bare S3 bucket fails several checks."""
    stack = root / "dev-planted"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps({
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {"aws_s3_bucket": {"open_bucket_ABC123": {"bucket": "planted"}}},
    }))
    return stack


def test_gate_fails_on_an_insecure_stack(tmp_path):
    checkov_installed()
    planted_stack(tmp_path)
    open_findings, _, counts = policy_gate.gate(tmp_path, {"dev-planted"}, [])
    assert counts["failed"] > 0
    assert {f.resource for f in open_findings} == {"aws_s3_bucket.open_bucket_ABC123"}


def test_a_reviewed_skip_suppresses_exactly_its_check_and_resource(tmp_path):
    checkov_installed()
    planted_stack(tmp_path)
    findings, _ = policy_gate.run_checkov(tmp_path, {"dev-planted"})
    first = findings[0]
    skips = [
        policy_gate.Skip(first.check, "aws_s3_bucket.open_bucket_*", "dev-*", "test"),
        policy_gate.Skip("CKV_AWS_999", "aws_s3_bucket.*", "*", "matches nothing"),
    ]
    open_findings, unused, counts = policy_gate.gate(tmp_path, {"dev-planted"}, skips)
    assert counts["skipped"] == 1
    assert first.check not in {f.check for f in open_findings}
    assert [s.check for s in unused] == ["CKV_AWS_999"]


def test_a_skip_without_reason_is_rejected(tmp_path):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - check: CKV_AWS_18\n    resource: 'aws_s3_bucket.*'\n")
    with pytest.raises(policy_gate.InputError) as caught:
        policy_gate.load_skips(path)
    assert str(caught.value) == f"{path}: skips[0].reason: None: required, non-empty"


def test_gate_cli_rejects_a_pattern_matching_no_stack(synth_root, capsys):
    code = policy_gate.main(["--root", str(synth_root / "stacks"), "qa-*"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        f"policy gate: {synth_root / 'stacks'}: stack pattern: 'qa-*': matches no synthesized stack"
    )
    assert REPO.is_dir()
