"""`make plan ENV=<env>`: plan every <env>-* stack in dependency order, on a fresh account too.

Usage: python scripts/plan_env.py --env dev [--outdir cdktf.out] [--cdktf PATH] [--skip-provider-lock]

- The order comes from the synthesized graph (``<outdir>/manifest.json``,
  ``stacks.<name>.dependencies``), never from a hand-kept list, so a new stack needs
  no change here or in the Makefile.
- Before planning a stack that reads other stacks' outputs (cdktf cross-stack
  references: ``terraform_remote_state.cross-stack-reference-input-<stack>``), the
  upstream states are asked for those outputs (``terraform output -json`` in the
  upstream's folder, initialized by its own plan just before). If one is missing,
  ONE line says which stack to deploy first, instead of Terraform's
  "Unsupported attribute" trace, and the next stacks are planned.
- Exit 0 when every stack was planned; 1 when any was skipped or failed; 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parent.parent
_REMOTE = re.compile(r"terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")


class BadInput(Exception):
    """One line for the user: file, field, value, rule."""


@dataclass(frozen=True)
class StackInfo:
    name: str
    dependencies: tuple[str, ...]
    #: The stack's folder (where Terraform runs).
    directory: Path
    #: upstream stack -> the output names this stack reads from it.
    reads: dict[str, frozenset[str]]


class Terraform(Protocol):
    def plan(self, stack: StackInfo) -> int: ...

    def outputs(self, stack: StackInfo) -> set[str] | None:
        """The output names in the stack's state, or None when they cannot be read."""


def load_manifest(outdir: Path, env: str) -> dict[str, StackInfo]:
    path = outdir / "manifest.json"
    if not path.is_file():
        raise BadInput(f"{path}: missing; run make synth first")
    try:
        stacks = json.loads(path.read_text())["stacks"]
    except (json.JSONDecodeError, KeyError) as err:
        raise BadInput(f"{path}: stacks: not a cdktf manifest ({err})") from None
    selected = {name: body for name, body in stacks.items() if name.startswith(f"{env}-")}
    if not selected:
        raise BadInput(f"{path}: stacks: no stack named {env}-*; environments are the files in environments/")
    infos = {}
    for name, body in selected.items():
        directory = outdir / body["workingDirectory"]
        reads: dict[str, set[str]] = {}
        for upstream, output in _REMOTE.findall((outdir / body["synthesizedStackPath"]).read_text()):
            reads.setdefault(upstream, set()).add(output)
        infos[name] = StackInfo(
            name, tuple(body.get("dependencies", ())), directory, {k: frozenset(v) for k, v in reads.items()}
        )
    return infos


def plan_order(stacks: dict[str, StackInfo]) -> list[str]:
    """Dependencies first; stacks of the same wave by name, so the order is stable."""
    order: list[str] = []
    done: set[str] = set()
    pending = dict(stacks)
    while pending:
        ready = sorted(n for n, s in pending.items() if all(d in done or d not in stacks for d in s.dependencies))
        if not ready:
            raise BadInput(f"manifest.json: stacks: dependency cycle among {sorted(pending)}")
        for name in ready:
            order.append(name)
            done.add(name)
            del pending[name]
    return order


def missing_upstreams(stack: StackInfo, terraform: Terraform) -> list[tuple[str, str]]:
    """(upstream, why) for every upstream whose state lacks an output this stack reads."""
    missing = []
    for upstream in sorted(stack.reads):
        wanted = stack.reads[upstream]
        found = terraform.outputs(_upstream_info(stack, upstream))
        if not found:
            missing.append((upstream, "its state has no outputs yet"))
        elif not wanted <= found:
            missing.append((upstream, f"its state lacks {len(wanted - found)} output(s) this stack reads"))
    return missing


def _upstream_info(stack: StackInfo, upstream: str) -> StackInfo:
    return StackInfo(upstream, (), stack.directory.parent / upstream, {})


def plan_environment(env: str, stacks: dict[str, StackInfo], terraform: Terraform, out=print) -> int:
    skipped, failed = [], []
    for name in plan_order(stacks):
        stack = stacks[name]
        missing = missing_upstreams(stack, terraform)
        if missing:
            ups = ", ".join(u for u, _ in missing)
            why = "; ".join(f"{u}: {w}" for u, w in missing) if len(missing) > 1 else missing[0][1]
            out(f"{name}: needs {ups} deployed first ({why}); run make deploy ENV={env}")
            skipped.append(name)
            continue
        out(f"== {name}")
        if terraform.plan(stack) != 0:
            failed.append(name)
    planned = len(stacks) - len(skipped) - len(failed)
    out(f"plan {env}: {planned} planned, {len(skipped)} waiting for an upstream deploy, {len(failed)} failed")
    return 1 if skipped or failed else 0


class CdktfTerraform:
    """The real calls: ``cdktf plan <stack> --skip-synth`` and ``terraform output -json``."""

    def __init__(self, cdktf: str, extra: list[str], outdir: Path = REPO / "cdktf.out"):
        self.cdktf, self.extra, self.outdir = cdktf, extra, outdir

    def plan(self, stack: StackInfo) -> int:
        command = [self.cdktf, "plan", stack.name, "--skip-synth", "--output", str(self.outdir), *self.extra]
        return subprocess.run(command, cwd=REPO, check=False).returncode

    def outputs(self, stack: StackInfo) -> set[str] | None:
        result = subprocess.run(
            ["terraform", "output", "-json"], cwd=stack.directory, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            return None
        try:
            return set(json.loads(result.stdout or "{}"))
        except json.JSONDecodeError:
            return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=REPO / "cdktf.out")
    parser.add_argument("--cdktf", default=str(REPO / "node_modules" / ".bin" / "cdktf"))
    parser.add_argument("--skip-provider-lock", action="store_true")
    args = parser.parse_args(argv)
    try:
        stacks = load_manifest(args.outdir, args.env)
        extra = ["--skip-provider-lock"] if args.skip_provider_lock else []
        return plan_environment(args.env, stacks, CdktfTerraform(args.cdktf, extra, args.outdir))
    except BadInput as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
