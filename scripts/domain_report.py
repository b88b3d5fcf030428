"""What a data domain gets in one environment, read from the synthesized stacks.

Usage: python scripts/domain_report.py --name call_analytics --env prod [--root cdktf.out]
(`make domain-report NAME=<name> ENV=<env>` synthesizes first.)

Lists every resource of the domain per stack (type and logical id; a resource belongs to the domain when
its domain tag/label names it or its logical id does), the Vault policy, paths and roles it is granted,
and the DAG files in the bundle that name it. Exit 0; 2 with one line for bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_TAG_ATTRIBUTES = ("tags", "labels", "user_labels")
#: Attributes that carry a Vault object's name (policies, engine roles, auth roles).
_VAULT_NAMES = ("name", "role", "role_name", "impersonated_account")


class InputError(Exception):
    pass


@dataclass
class Report:
    resources: list[tuple[str, str, str]] = field(default_factory=list)  # (stack, type, logical id)
    vault: list[str] = field(default_factory=list)
    dags: list[str] = field(default_factory=list)


def _name_pattern(domain: str) -> re.Pattern[str]:
    """The domain's name (snake or kebab, as derived names use either) as a whole token of a logical id."""
    forms = "|".join(re.escape(f) for f in {domain, domain.replace("_", "-")})
    return re.compile(rf"(?:^|[-_./])(?:{forms})(?:[-_./]|$)")


def _tagged(body: dict, domain: str) -> bool:
    return any(isinstance(body.get(a), dict) and body[a].get("domain") == domain for a in _TAG_ATTRIBUTES)


def build(root: Path, env: str, domain: str) -> Report:
    stacks = sorted(p for p in root.glob(f"{env}-*") if (p / "cdk.tf.json").is_file())
    if not stacks:
        raise InputError(f"{root}: --env: {env!r}: no synthesized stacks {env}-* (run make synth)")
    pattern, report = _name_pattern(domain), Report()
    for stack in stacks:
        doc = json.loads((stack / "cdk.tf.json").read_text(encoding="utf-8"))
        bundle = {
            str(body["key"]): stack / str(body.get("source", ""))
            for body in doc.get("resource", {}).get("aws_s3_object", {}).values()
            if str(body.get("key", "")).startswith("dags/")
        }
        report.dags += [f"{key} ({stack.name})" for key in _dags_of(bundle, domain)]
        report.dags += [f"{dag_id} (generated from dags/domains/{domain}.yaml, {stack.name})"
                        for dag_id in _generated_dags(doc, bundle, domain)]
        for rtype, items in sorted(doc.get("resource", {}).items()):
            for logical, body in sorted(items.items()):
                if rtype == "aws_s3_object" and str(body.get("key", "")) in bundle:
                    continue
                if not (_tagged(body, domain) or pattern.search(logical)):
                    continue
                report.resources.append((stack.name, rtype, logical))
                if rtype.startswith("vault_"):
                    _vault(rtype, body, report)
    if not report.resources:
        raise InputError(f"{root}: --name: {domain!r}: no resource of environment {env!r} belongs to this domain")
    return report


def _vault(rtype: str, body: dict, report: Report) -> None:
    name = next((str(body[a]) for a in _VAULT_NAMES if isinstance(body.get(a), str)), "")
    if rtype == "vault_policy":
        paths = re.findall(r'path "([^"]+)"', str(body.get("policy", "")))
        report.vault.append(f"policy {name}: " + ", ".join(paths))
    elif rtype == "vault_kv_secret_v2":
        report.vault.append(f"kv {name}")
    else:
        policies = ",".join(body.get("token_policies", []))
        report.vault.append(f"{rtype.removeprefix('vault_')} {name}" + (f" (policies {policies})" if policies else ""))


def _dags_of(bundle: dict[str, Path], domain: str) -> list[str]:
    """Top-level DAG files of the bundle that name the domain (quoted), themselves or in a bundle module
    they import (e.g. a package's layout.DOMAIN)."""
    def text(key: str) -> str:
        path = bundle.get(key)
        return path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""

    def names(source: str) -> bool:
        return f'"{domain}"' in source or f"'{domain}'" in source

    found = []
    for key in sorted(k for k in bundle if k.count("/") == 1 and k.endswith(".py")):
        source = text(key)
        modules = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", source, flags=re.MULTILINE)
        imported = [
            text(f"dags/{m.replace('.', '/')}{suffix}") for m in modules for suffix in (".py", "/__init__.py")
        ]
        if names(source) or any(names(t) for t in imported):
            found.append(key)
    return found


def _generated_dags(doc: dict, bundle: dict[str, Path], domain: str) -> list[str]:
    """The DAG ids dags/domain_pipelines.py generates for `domain` on this stack's MWAA: its contract
    ships in the bundle and the MWAA option callcenter.domains (the ACTIVE domains) names it."""
    import yaml

    contract = bundle.get(f"dags/domains/{domain}.yaml")
    if contract is None or not contract.is_file():
        return []
    active: set[str] = set()
    for mwaa in doc.get("resource", {}).get("aws_mwaa_environment", {}).values():
        option = (mwaa.get("airflow_configuration_options") or {}).get("callcenter.domains")
        try:
            active |= set(json.loads(option)) if isinstance(option, str) else set()
        except ValueError:
            continue
    if domain not in active:
        return []
    dataset = (yaml.safe_load(contract.read_text(encoding="utf-8")) or {}).get("dataset", domain)
    return [f"{dataset}_ingest", f"{dataset}_distribute"]


def render(report: Report, env: str, domain: str) -> str:
    lines = [f"domain {domain} in {env}: {len(report.resources)} resources"]
    current = None
    for stack, rtype, logical in report.resources:
        if stack != current:
            lines.append(f"{stack}:")
            current = stack
        lines.append(f"  {rtype}.{logical}")
    lines.append("vault:" if report.vault else "vault: none")
    lines += [f"  {v}" for v in sorted(report.vault)]
    lines.append("dags:" if report.dags else "dags: none")
    lines += [f"  {d}" for d in sorted(report.dags)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="domain name, as in environments/<env>.yaml")
    parser.add_argument("--env", required=True)
    parser.add_argument("--root", type=Path, default=REPO / "cdktf.out", help="synth output (holds stacks/)")
    args = parser.parse_args(argv)
    root = args.root / "stacks" if (args.root / "stacks").is_dir() else args.root
    try:
        report = build(root, args.env, args.name)
    except InputError as exc:
        print(f"domain report: {exc}", file=sys.stderr)
        return 2
    print(render(report, args.env, args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
