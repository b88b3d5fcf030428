"""scripts/plan_env.py: `make plan` in dependency order, one line per stack waiting for an upstream deploy.

Only the terraform/cdktf calls are faked (FakeTerraform); the manifest and stack JSON are real files."""

from __future__ import annotations

import json

import pytest

from scripts import plan_env


def write_manifest(root, deps: dict[str, list[str]], reads: dict[str, dict[str, list[str]]]):
    stacks = {}
    for name, dependencies in deps.items():
        folder = root / "stacks" / name
        folder.mkdir(parents=True)
        refs = [
            f"${{data.terraform_remote_state.cross-stack-reference-input-{up}.outputs.{out}}}"
            for up, outs in reads.get(name, {}).items() for out in outs
        ]
        (folder / "cdk.tf.json").write_text(json.dumps({"output": {f"o{i}": {"value": r} for i, r in enumerate(refs)}}))
        stacks[name] = {
            "dependencies": dependencies, "workingDirectory": f"stacks/{name}",
            "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
        }
    stacks["other-aws-network"] = {**stacks[next(iter(deps))], "dependencies": []}  # another environment: ignored
    (root / "manifest.json").write_text(json.dumps({"stacks": stacks}))


class FakeTerraform:
    """Stands in for `cdktf plan` and `terraform output -json`: states are given, calls are recorded."""

    def __init__(self, states: dict[str, set[str]]):
        self.states, self.planned = states, []

    def plan(self, stack) -> int:
        self.planned.append(stack.name)
        return 0

    def outputs(self, stack):
        return self.states.get(stack.name, set())


DEPS = {
    "dev-vault": ["dev-aws-platform", "dev-gcp-platform"],
    "dev-aws-orchestration": ["dev-aws-platform", "dev-aws-network"],
    "dev-aws-platform": [],
    "dev-aws-network": [],
    "dev-gcp-platform": ["dev-gcp-network"],
    "dev-gcp-network": [],
}
READS = {
    "dev-vault": {"dev-aws-platform": ["role"], "dev-gcp-platform": ["bucket"]},
    "dev-aws-orchestration": {"dev-aws-platform": ["dag"], "dev-aws-network": ["subnets"]},
    "dev-gcp-platform": {"dev-gcp-network": ["net"]},
}


def test_fresh_account_plans_the_roots_and_names_what_to_deploy_first(tmp_path):
    write_manifest(tmp_path, DEPS, READS)
    stacks = plan_env.load_manifest(tmp_path, "dev")
    assert "other-aws-network" not in stacks
    lines, terraform = [], FakeTerraform({})
    assert plan_env.plan_environment("dev", stacks, terraform, out=lines.append) == 1
    assert terraform.planned == ["dev-aws-network", "dev-aws-platform", "dev-gcp-network"]
    assert "dev-aws-orchestration: needs dev-aws-network, dev-aws-platform deployed first (dev-aws-network: its state has no outputs yet; dev-aws-platform: its state has no outputs yet); run make deploy ENV=dev" in lines
    assert "dev-gcp-platform: needs dev-gcp-network deployed first (its state has no outputs yet); run make deploy ENV=dev" in lines
    waiting = [line for line in lines if "deployed first" in line]
    assert len(waiting) == 3 and all(line.count("\n") == 0 for line in waiting)
    assert lines[-1] == "plan dev: 3 planned, 3 waiting for an upstream deploy, 0 failed"


def test_deployed_upstreams_let_everything_plan_in_dependency_order(tmp_path):
    write_manifest(tmp_path, DEPS, READS)
    states = {"dev-aws-platform": {"role", "dag"}, "dev-aws-network": {"subnets"}, "dev-gcp-network": {"net"}, "dev-gcp-platform": {"bucket"}}
    terraform = FakeTerraform(states)
    assert plan_env.plan_environment("dev", plan_env.load_manifest(tmp_path, "dev"), terraform, out=lambda _: None) == 0
    order = terraform.planned
    assert order == ["dev-aws-network", "dev-aws-platform", "dev-gcp-network", "dev-aws-orchestration", "dev-gcp-platform", "dev-vault"]


def test_an_upstream_missing_a_new_output_is_named_too(tmp_path):
    write_manifest(tmp_path, DEPS, READS)
    states = {"dev-aws-platform": {"role"}, "dev-aws-network": {"subnets"}, "dev-gcp-network": {"net"}, "dev-gcp-platform": {"bucket"}}
    lines = []
    assert plan_env.plan_environment("dev", plan_env.load_manifest(tmp_path, "dev"), FakeTerraform(states), out=lines.append) == 1
    assert "dev-aws-orchestration: needs dev-aws-platform deployed first (its state lacks 1 output(s) this stack reads); run make deploy ENV=dev" in lines


def test_a_cycle_and_an_unknown_environment_are_one_line_errors(tmp_path, capsys):
    write_manifest(tmp_path, {"dev-a": ["dev-b"], "dev-b": ["dev-a"]}, {})
    with pytest.raises(plan_env.BadInput, match=r"dependency cycle among \['dev-a', 'dev-b'\]"):
        plan_env.plan_order(plan_env.load_manifest(tmp_path, "dev"))
    assert plan_env.main(["--env", "nope", "--outdir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"{tmp_path / 'manifest.json'}: stacks: no stack named nope-*; environments are the files in environments/\n"
    assert plan_env.main(["--env", "dev", "--outdir", str(tmp_path / "absent")]) == 2


@pytest.mark.parametrize("env_name", ["dev", "prod"])
def test_order_of_a_real_synthesized_manifest(synth_root, env_name):
    stacks = plan_env.load_manifest(synth_root, env_name)
    order = plan_env.plan_order(stacks)
    assert sorted(order) == sorted(p.name for p in (synth_root / "stacks").iterdir() if p.name.startswith(f"{env_name}-"))
    for name in order:
        for dep in stacks[name].dependencies:
            assert order.index(dep) < order.index(name), f"{dep} must be planned before {name}"
        # Every stack it reads outputs from is a declared dependency, so it is planned (and initialized) first.
        assert set(stacks[name].reads) <= set(stacks[name].dependencies)
    assert order.index(f"{env_name}-aws-platform") < order.index(f"{env_name}-aws-orchestration")
    assert order.index(f"{env_name}-aws-platform") < order.index(f"{env_name}-vault")
    assert stacks[f"{env_name}-vault"].reads[f"{env_name}-aws-platform"]
