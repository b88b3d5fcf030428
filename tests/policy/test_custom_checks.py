"""The repository's own checkov policies (policy/custom_checks, issue 13): each one fails its failing
fixture and passes its passing one under real checkov, the gate runs them, and reviewed skips cannot
absorb the findings of a domain added later."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import policy_gate  # noqa: E402

from tests.conftest import REPO, require, synth_environment  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CUSTOM_IDS = ["CKV_CC_1", "CKV_CC_2", "CKV_CC_3", "CKV_CC_4", "CKV_CC_5", "CKV2_CC_6", "CKV2_CC_7"]


@pytest.fixture(scope="module")
def fixture_results() -> dict[tuple[str, str], dict[str, set[str]]]:
    """(check folder, pass|fail) -> {"passed"|"failed": check ids}, from one checkov run over all fixtures."""
    require(Path(sys.executable).with_name("checkov").exists(), "checkov is not installed in this environment")
    results: dict[tuple[str, str], dict[str, set[str]]] = {}
    findings, _ = policy_gate.run_checkov(FIXTURES, {"pass", "fail"})
    for finding in findings:
        results.setdefault((finding.stack_path.parent.name, finding.stack), {"failed": set()})["failed"].add(finding.check)
    return results


def test_every_custom_check_has_a_passing_and_a_failing_fixture():
    for check_id in CUSTOM_IDS:
        assert (FIXTURES / check_id / "pass" / "cdk.tf.json").is_file()
        assert (FIXTURES / check_id / "fail" / "cdk.tf.json").is_file()
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(CUSTOM_IDS)


@pytest.mark.parametrize("check_id", CUSTOM_IDS)
def test_custom_check_fails_its_failing_fixture_only(fixture_results, check_id):
    failed = fixture_results.get((check_id, "fail"), {"failed": set()})["failed"]
    assert check_id in failed
    # The failing fixture breaks exactly this rule of ours, no other one.
    assert {c for c in failed if "_CC_" in c} == {check_id}
    passing = fixture_results.get((check_id, "pass"), {"failed": set()})["failed"]
    assert not {c for c in passing if "_CC_" in c}


def test_custom_checks_run_on_the_passing_fixtures():
    """A check that never loads would 'pass' everything: prove each one reports a PASSED result."""
    require(Path(sys.executable).with_name("checkov").exists(), "checkov is not installed in this environment")
    passed = policy_gate.passed_check_ids(FIXTURES)
    assert set(CUSTOM_IDS) <= passed


def test_a_skip_that_would_absorb_a_new_domain_is_rejected(tmp_path):
    path = tmp_path / "skips.yaml"
    for pattern in ("aws_s3_bucket.*", "*.domain-*", "aws_s3_bucket.domain-*_raw_bucket_*", "*.lake_container-*"):
        path.write_text(yaml.safe_dump({"skips": [{"check": "CKV_AWS_144", "resource": pattern, "reason": "r"}]}))
        with pytest.raises(policy_gate.InputError) as caught:
            policy_gate.load_skips(path)
        assert str(caught.value).startswith(f"{path}: skips[0].resource: {pattern!r}: ")
    assert policy_gate.main(["--skips", str(path), "--root", str(tmp_path), "dev-*"]) == 2


def test_reviewed_skips_name_resources_not_wildcards():
    for skip in policy_gate.load_skips(policy_gate.DEFAULT_SKIPS):
        assert policy_gate._broad(skip.resource) is None, skip


def test_a_new_pii_domain_is_not_absorbed_by_existing_skips(tmp_path, monkeypatch):
    """dev plus a new pii domain: its findings are open (for review) or absent (secure defaults); none is
    swallowed by a skip written for another domain, and our own policies pass on it."""
    require(Path(sys.executable).with_name("checkov").exists(), "checkov is not installed in this environment")
    data = yaml.safe_load((REPO / "environments" / "dev.yaml").read_text())
    data["domains"].append({
        "name": "zz_quality", "owner": "qa-team", "classification": "pii", "sources": ["aws_qa_exports"],
    })
    # Every active domain needs a data contract (environments/schema.py): the shipped ones plus this one.
    import shutil

    from environments.schema import CONTRACTS_DIR, CONTRACTS_DIR_ENV
    contracts = shutil.copytree(CONTRACTS_DIR, tmp_path / "contracts")
    (contracts / "zz_quality.yaml").write_text("domain: zz_quality\n")
    monkeypatch.setenv(CONTRACTS_DIR_ENV, str(contracts))
    synth_environment(data, "dev", tmp_path)
    root = tmp_path / "cdktf.out" / "stacks"
    selected = policy_gate.select_stacks(root, ["dev-*"])
    skips = policy_gate.load_skips(policy_gate.DEFAULT_SKIPS)
    findings, _ = policy_gate.run_checkov(root, selected)
    new = [f for f in findings if "zz_quality" in f.resource or "zz-quality" in f.resource]
    assert new, "a new domain's buckets lack cross-region replication like every other: CKV_AWS_144 must show"
    absorbed = [f for f in new if any(s.matches(f.stack, f.check, f.resource) for s in skips)]
    assert absorbed == []
    open_findings, _, _ = policy_gate.gate(root, selected, skips)
    assert {(f.check, f.resource) for f in new} <= {(f.check, f.resource) for f in open_findings}
    print(sorted(f"{f.check} {f.resource}" for f in new))  # shown with -rP
    assert not [f for f in new if "_CC_" in f.check]  # CMK, public-access block, tags: the modules' defaults


def test_findings_of_our_python_checks_name_the_resource_type(fixture_results):
    """checkov reports them as "resource.<name>"; the gate restores "<type>.<name>" so skips match as usual."""
    findings, _ = policy_gate.run_checkov(FIXTURES, {"fail"})
    by_check = {f.check: f.resource for f in findings if "_CC_" in f.check}
    assert by_check["CKV_CC_1"] == "google_storage_bucket.lake"
    assert by_check["CKV_CC_4"] == "azurerm_storage_account.lake"
    assert by_check["CKV_CC_5"] == "aws_s3_bucket.lake"
