"""The policy gate: checkov over synthesized stacks, minus the reviewed skips.

Usage: python scripts/policy_gate.py [--root cdktf.out/stacks] [--skips FILE] 'dev-*' 'prod-*' ...

checkov cannot read inline suppressions from JSON, and its --skip-check is
global, so findings are matched here per check *and* resource against the
reviewed list. Exit 0 when every finding is fixed or skipped with a reason and
every skip is used; 1 otherwise; 2 for bad input.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SKIPS = REPO / "policy" / "checkov_skips.yaml"
#: The repository's own policies (CKV_CC_*, CKV2_CC_*), run alongside checkov's built-in checks.
CUSTOM_CHECKS = REPO / "policy" / "custom_checks"
#: Logical names a domain that is not configured yet would get (stacks name a domain's constructs
#: "domain-<name>", "pipeline-role-<name>", "policy-<name>", ...). A skip whose resource pattern matches
#: one of them would silently absorb that new domain's findings.
NEW_DOMAIN_PROBES = (
    "domain-zzprobe_raw_bucket_0A1B2C3D", "pipeline-role-zzprobe_role_0A1B2C3D", "policy-zzprobe_policy_0A1B2C3D",
    "pipeline-account-zzprobe_account_0A1B2C3D", "lake_container-zzprobe_0A1B2C3D",
    "aws-auth_pipeline-zzprobe_0A1B2C3D", "aws-engine_aws-zzprobe_0A1B2C3D", "gke-auth_role-zzprobe_0A1B2C3D",
)


@dataclass(frozen=True)
class Skip:
    check: str
    resource: str
    stacks: str
    reason: str

    def matches(self, stack: str, check: str, resource: str) -> bool:
        return (
            self.check == check
            and fnmatch.fnmatchcase(resource, self.resource)
            and fnmatch.fnmatchcase(stack, self.stacks)
        )


@dataclass(frozen=True)
class Finding:
    stack: str
    check: str
    resource: str
    name: str
    #: The scanned stack folder (tests map fixtures by it).
    stack_path: Path = Path()


class InputError(Exception):
    pass


def load_skips(path: Path) -> list[Skip]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: <file>: cannot be read as YAML: {exc}") from None
    entries = data.get("skips") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{path}: skips: {entries!r}: must be a list of entries")
    skips, allowed = [], {"check", "resource", "stacks", "reason"}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InputError(f"{path}: skips[{i}]: {entry!r}: must be a mapping")
        unknown = set(entry) - allowed
        if unknown:
            raise InputError(f"{path}: skips[{i}].{sorted(unknown)[0]}: {entry[sorted(unknown)[0]]!r}: unknown key")
        for key in ("check", "resource", "reason"):
            if not str(entry.get(key) or "").strip():
                raise InputError(f"{path}: skips[{i}].{key}: {entry.get(key)!r}: required, non-empty")
        problem = _broad(str(entry["resource"]))
        if problem:
            raise InputError(f"{path}: skips[{i}].resource: {entry['resource']!r}: {problem}")
        skips.append(Skip(str(entry["check"]), str(entry["resource"]), str(entry.get("stacks", "*")), str(entry["reason"])))
    return skips


def _broad(pattern: str) -> str | None:
    """Why a skip's resource pattern is too broad, or None: it must name "<type>.<logical name>", where
    only the trailing cdktf hash may be a wildcard, and it must not match a future domain's resources."""
    _, _, name = pattern.partition(".")
    if not name or "*" in name.rstrip("*") or "?" in name or "[" in name:
        return "must be <resource type>.<logical name>, with at most a trailing * for the cdktf hash"
    if any(fnmatch.fnmatchcase(probe, name) for probe in NEW_DOMAIN_PROBES):
        return "would absorb findings of a domain added later; name the resource (per check and per resource)"
    return None


def _json_documents(text: str):
    """checkov prints one JSON document per scanned directory, back to back."""
    decoder, index = json.JSONDecoder(), 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return
        document, index = decoder.raw_decode(text, index)
        yield document


def _checkov(root: Path) -> list[dict]:
    """checkov's JSON reports for every stack under ``root``, with the built-in and the repository's checks."""
    checkov = Path(sys.executable).with_name("checkov")
    command = [
        str(checkov), "--compact", "-o", "json", "--framework", "terraform_json", "-d", str(root),
        "--external-checks-dir", str(CUSTOM_CHECKS),
    ]
    # BC_SKIP_MAPPING: checkov otherwise calls a web API for guideline mappings, which fails offline.
    # XDG_CACHE_HOME: checkov's update checker otherwise writes a cache file in ~/.cache.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "XDG_CACHE_HOME": str(REPO / ".cache" / "xdg")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in (0, 1):
        raise InputError(f"checkov exited {result.returncode}: {result.stderr.strip()[-2000:]}")
    return [
        report for document in _json_documents(result.stdout)
        for report in (document if isinstance(document, list) else [document])
    ]


def passed_check_ids(root: Path) -> set[str]:
    return {c["check_id"] for report in _checkov(root) for c in report.get("results", {}).get("passed_checks", [])}


def run_checkov(root: Path, selected: set[str]) -> tuple[list[Finding], dict[str, int]]:
    """One checkov run over the whole synth output (far cheaper than one per stack), filtered to ``selected``."""
    findings: list[Finding] = []
    passed = 0
    for report in _checkov(root):
        results = report.get("results", {})
        passed += sum(1 for c in results.get("passed_checks", []) if _stack_of(c) in selected)
        for failed in results.get("failed_checks", []):
            if _stack_of(failed) in selected:
                findings.append(Finding(
                    _stack_of(failed), failed["check_id"], _resource_of(failed), failed["check_name"],
                    Path(failed["file_abs_path"]).parent,
                ))
    return findings, {"passed": passed, "failed": len(findings)}


@functools.cache
def _types_by_name(path: str) -> dict[str, str]:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return {name: rtype for rtype, items in doc.get("resource", {}).items() for name in items}


def _resource_of(check: dict) -> str:
    """"<type>.<logical name>" for every check. checkov's terraform_json runner names a finding of a Python
    check (ours, policy/custom_checks) "resource.<logical name>" instead; cdktf logical ids are unique in a
    stack, so the type is looked up in the scanned file."""
    resource = str(check["resource"])
    if resource.startswith("resource."):
        name = resource.removeprefix("resource.")
        rtype = _types_by_name(check["file_abs_path"]).get(name)
        return f"{rtype}.{name}" if rtype else resource
    return resource


def _stack_of(check: dict) -> str:
    return Path(check["file_abs_path"]).parent.name


def gate(root: Path, selected: set[str], skips: list[Skip]) -> tuple[list[Finding], list[Skip], dict[str, int]]:
    """Returns the unskipped findings, the skips that matched nothing, and the counts."""
    findings, counts = run_checkov(root, selected)
    used: set[Skip] = set()
    open_findings = []
    for finding in findings:
        skip = next((s for s in skips if s.matches(finding.stack, finding.check, finding.resource)), None)
        if skip is None:
            open_findings.append(finding)
        else:
            used.add(skip)
    counts["skipped"] = len(findings) - len(open_findings)
    return open_findings, [s for s in skips if s not in used], counts


def select_stacks(root: Path, patterns: list[str]) -> set[str]:
    stacks = {p.parent.name for p in root.glob("*/cdk.tf.json")}
    if not stacks:
        raise InputError(f"{root}: <dir>: <empty>: no synthesized stacks (run make synth)")
    selected = set()
    for pattern in patterns:
        matched = {s for s in stacks if fnmatch.fnmatchcase(s, pattern)}
        if not matched:
            raise InputError(f"{root}: stack pattern: {pattern!r}: matches no synthesized stack")
        selected |= matched
    return selected


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skips", type=Path, default=DEFAULT_SKIPS)
    parser.add_argument("--root", type=Path, default=REPO / "cdktf.out" / "stacks")
    parser.add_argument("patterns", nargs="+", help="stack name globs, e.g. 'prod-*'")
    args = parser.parse_args(argv)
    try:
        selected = select_stacks(args.root, args.patterns)
        skips = load_skips(args.skips)
        open_findings, unused, counts = gate(args.root, selected, skips)
    except InputError as exc:
        print(f"policy gate: {exc}", file=sys.stderr)
        return 2
    for f in open_findings:
        print(f"FAILED {f.stack}: {f.check} {f.resource}: {f.name}")
    for s in unused:
        print(f"UNUSED SKIP {s.check} {s.resource} (stacks {s.stacks}): remove it from {args.skips.name}")
    print(
        f"checkov: {len(selected)} stacks, {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} of them skipped by review, {len(open_findings)} open"
    )
    return 1 if open_findings or unused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
