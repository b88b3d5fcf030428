"""plan_env's one real Terraform call that decides "deploy first": `terraform output -json` on an
initialized stack with no state yet (a fresh account), then with state that has the outputs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

from scripts import plan_env
from tests.conftest import require_tool
from tests.integration.test_terraform_validate import terraform_rc  # noqa: F401 (fixture)


def test_fresh_state_reads_as_not_deployed_then_deployed(synth_root, terraform_rc, tmp_path, monkeypatch):  # noqa: F811
    require_tool("terraform")
    # The local backend path (../../../.state) resolves inside tmp_path from this depth, never in the repo.
    outdir = tmp_path / "a" / "cdktf.out"
    stacks = plan_env.load_manifest(synth_root, "local")
    upstream = stacks["local-aws-network"]
    shutil.copytree(upstream.directory, outdir / "stacks" / upstream.name)
    copy = plan_env.StackInfo(upstream.name, (), outdir / "stacks" / upstream.name, {})
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(terraform_rc))
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    init = subprocess.run(["terraform", "init", "-input=false", "-no-color"], cwd=copy.directory, capture_output=True, text=True, check=False)
    assert init.returncode == 0, init.stdout + init.stderr

    terraform = plan_env.CdktfTerraform("cdktf-not-called", [])
    assert not terraform.outputs(copy)
    downstream = plan_env.StackInfo("local-aws-orchestration", (copy.name,), copy.directory.parent / "local-aws-orchestration",
                                    {copy.name: frozenset({"wanted"})})
    assert plan_env.missing_upstreams(downstream, terraform) == [(copy.name, "its state has no outputs yet")]

    # A state holding the output (as after `make deploy`): nothing is missing any more.
    backend = json.loads((copy.directory / "cdk.tf.json").read_text())["terraform"]["backend"]["local"]["path"]
    state = (copy.directory / backend).resolve()
    assert state.is_relative_to(tmp_path)
    state.parent.mkdir(exist_ok=True)
    state.write_text(json.dumps({
        "version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": "plan-env-test",
        "outputs": {"wanted": {"value": "x", "type": "string"}}, "resources": [],
    }))
    assert terraform.outputs(copy) == {"wanted"}
    assert plan_env.missing_upstreams(downstream, terraform) == []
    assert os.environ["TF_CLI_CONFIG_FILE"] == str(terraform_rc)
