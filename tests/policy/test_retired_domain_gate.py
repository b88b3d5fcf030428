"""The policy gate on prod with a domain retired (issue 13): the read-only locks (GCS retention policy, Azure
container immutability policy and CanNotDelete lock) add exactly one kind of finding, for a reviewer to accept:
CKV_GCP_78 (versioning) on each of the retired domain's GCS buckets, whose versioning GCS refuses next to a
retention policy (modules/gcp/bucket.py). Nothing of the retirement is absorbed by an existing skip."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import policy_gate  # noqa: E402

from environments.schema import ENVIRONMENTS_DIR  # noqa: E402
from tests.conftest import require, synth_environment  # noqa: E402

RETIRED = "agent_performance"


def test_retirement_opens_only_the_versioning_finding_of_the_locked_gcs_buckets(tmp_path):
    require(Path(sys.executable).with_name("checkov").exists(), "checkov is not installed in this environment")
    prod = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    retired = {**prod, "domains": [{**d, "retired": d["name"] == RETIRED} for d in prod["domains"]]}
    _, stacks = synth_environment(retired, "prod", tmp_path)
    root = tmp_path / "cdktf.out" / "stacks"
    selected = policy_gate.select_stacks(root, ["prod-*"])
    open_findings, _, _ = policy_gate.gate(root, selected, policy_gate.load_skips(policy_gate.DEFAULT_SKIPS))
    locked = {f"google_storage_bucket.{name}" for name, body in stacks["prod-gcp-platform"].resources("google_storage_bucket").items()
              if "retention_policy" in body}
    assert len(locked) >= 2 and all(RETIRED in name for name in locked)
    assert sorted(f"{f.stack}: {f.check} {f.resource}" for f in open_findings) == sorted(
        f"prod-gcp-platform: CKV_GCP_78 {name}" for name in locked
    )
