"""`make drift ENV=<env>`: what changed behind Terraform's back, per stack, in dependency order.

Usage: python scripts/drift.py --env dev [--outdir cdktf.out]

- Order and stack selection come from scripts/plan_env.py (cdktf.out/manifest.json), not a list here.
- Per stack: ``terraform plan -refresh-only -detailed-exitcode -out`` then ``terraform show -json``;
  the plan's ``resource_drift`` (Terraform's JSON plan format) names each drifted resource and
  the attributes whose refreshed value differs from the state.
- One table: stack, drifted resource, changed attributes.
- Exit 0 clean, 2 drift found (also bad input: one line), 1 any stack errored.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

try:  # run as `python scripts/drift.py` (Makefile) or imported as scripts.drift (tests)
    from scripts.plan_env import REPO, BadInput, StackInfo, load_manifest, plan_order
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from plan_env import REPO, BadInput, StackInfo, load_manifest, plan_order  # type: ignore[no-redef]


@dataclass(frozen=True)
class Drift:
    stack: str
    address: str
    attributes: tuple[str, ...]


class RefreshPlanner(Protocol):
    def refresh_plan(self, stack: StackInfo) -> dict | None:
        """The JSON plan of a refresh-only plan, or None when Terraform failed."""


def changed_attributes(before: object, after: object, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (tags.owner, not the whole tags map)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths: list[str] = []
        for key in sorted(set(before) | set(after)):
            paths += changed_attributes(before.get(key), after.get(key), f"{prefix}{key}.")
        return paths
    return [] if before == after else [prefix.rstrip(".")]


def drifts_of(stack: str, plan: dict) -> list[Drift]:
    found = []
    for entry in plan.get("resource_drift", []):
        change = entry.get("change", {})
        attrs = changed_attributes(change.get("before") or {}, change.get("after") or {})
        # tags_all mirrors tags (+ provider default_tags): report the attribute the code sets.
        attrs = [a for a in attrs if not (a.startswith("tags_all.") and f"tags.{a[9:]}" in attrs)]
        found.append(Drift(stack, entry["address"], tuple(attrs)))
    return found


def drift_environment(env: str, stacks: dict[str, StackInfo], terraform: RefreshPlanner, out=print) -> int:
    drifts: list[Drift] = []
    failed: list[str] = []
    for name in plan_order(stacks):
        plan = terraform.refresh_plan(stacks[name])
        if plan is None:
            failed.append(name)
            continue
        drifts += drifts_of(name, plan)
    rows = [("STACK", "DRIFTED RESOURCE", "CHANGED ATTRIBUTES")]
    rows += [(d.stack, d.address, ", ".join(d.attributes) or "(deleted)") for d in drifts]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    for row in rows:
        out(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
    out(f"drift {env}: {len(stacks)} stacks, {len(drifts)} drifted resources, {len(failed)} failed"
        + (f" ({', '.join(failed)})" if failed else ""))
    if failed:
        return 1
    return 2 if drifts else 0


class TerraformCli:
    """``terraform init`` + refresh-only plan + ``show -json`` in the stack's synthesized folder."""

    def refresh_plan(self, stack: StackInfo) -> dict | None:
        def run(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(["terraform", *args], cwd=stack.directory, capture_output=True, text=True, check=False)

        if run("init", "-input=false", "-no-color").returncode != 0:
            print(f"{stack.name}: terraform init failed", file=sys.stderr)
            return None
        planned = run("plan", "-refresh-only", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false",
                      "-out=drift.tfplan")
        if planned.returncode not in (0, 2):
            print(f"{stack.name}: {planned.stderr.strip().splitlines()[-1:] or 'plan failed'}", file=sys.stderr)
            return None
        shown = run("show", "-json", "drift.tfplan")
        try:
            return json.loads(shown.stdout) if shown.returncode == 0 else None
        except json.JSONDecodeError:
            return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=REPO / "cdktf.out")
    args = parser.parse_args(argv)
    if not (REPO / "environments" / f"{args.env}.yaml").is_file():
        print(f"--env {args.env}: no file environments/{args.env}.yaml", file=sys.stderr)
        return 2
    try:
        return drift_environment(args.env, load_manifest(args.outdir, args.env), TerraformCli())
    except BadInput as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
