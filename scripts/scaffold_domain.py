"""Scaffold a new data domain: `make domain NAME=<name> OWNER=<team> CLASSIFICATION=<pii|internal|public>`.

    make domain NAME=quality_assurance OWNER=qa-team CLASSIFICATION=pii [ENVS="dev staging prod local"]

Writes, and nothing else:
- environments/<env>.yaml, each env of ENVS: the domain appended to `domains` (and to `known_domains`
  where the file keeps that registry). Text is inserted, never re-dumped, so comments stay.
- airflow/dags/domains/<name>.yaml: a valid starter contract (an id, a timestamp partition field,
  a category and a score; with CLASSIFICATION=pii one masked e-mail field) to edit to the real exports.
- tests/airflow/unit/domains/test_<name>.py: runs the domain's pipeline on generated records of its
  contract (callcenter.synthetic.records_for) and asserts reconciliation and no raw PII landed.
- docs/domains/<name>.md: a stub for the owners to fill in.
- policy/checkov_skips.yaml (when a scanned environment, dev/staging/prod, gets the domain): the domain's
  own per-resource entries, copied from an existing domain's (same checks, same reasons), appended under
  a comment naming the domain, so the new findings are reviewed in the change, never absorbed by a wildcard.

No DAG file: the DAGs are generated from the contract where an environment configures the domain
(airflow/dags/domain_pipelines.py).

Bad input (a name or owner breaking the schema's rules, an unknown environment, a domain or data set
that exists already) -> one line naming what and why, exit status 2, nothing written: every file is
staged next to its target and renamed into place only after all of them are built and the edited
environment files pass environments/schema.py with the new contract.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _path in (REPO, REPO / "airflow" / "dags"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

CLASSIFICATIONS = ("pii", "internal", "public")
DEFAULT_ENVS = ("dev", "staging", "prod", "local")
#: The environments the checkov gate scans (Makefile SCANNED_ENVS): a skip that matches nothing there fails it.
SCANNED_ENVS = ("dev", "staging", "prod")
#: = environments/schema.py Identifier and Slug (the schema gives the final word on the edited files).
NAME_RULE = re.compile(r"[a-z][a-z0-9_]{1,29}")
OWNER_RULE = re.compile(r"[a-z][a-z0-9-]{1,39}")


class ScaffoldError(Exception):
    """Bad input: printed as one line, exit status 2."""


def contract_text(name: str, classification: str) -> str:
    pii = (
        "  # pii: true needs a mask (keyed_hash | last4 | redact | drop) and CLASSIFICATION=pii everywhere\n"
        "  - {name: contact_email, type: email,     required: true,  pii: true, mask: keyed_hash}\n"
        if classification == "pii" else "")
    return (
        f"# {name}: starter contract written by `make domain`; make the fields those of the real exports.\n"
        "# Keys and rules: airflow/dags/callcenter/CONTRACT.md (types id|text|phone|email|timestamp|integer|number).\n"
        f"domain: {name}\n"
        f"dataset: {name}                # folder under each zone; DAG ids {name}_ingest / {name}_distribute\n"
        "formats: [jsonl, csv]           # by the export's suffix: .jsonl/.json/.ndjson, .csv (header row)\n"
        "unique: record_id               # repeats -> quarantine reason duplicate_record_id\n"
        "partition: {field: event_time, column: event_date}\n"
        "fields:                         # contract order = quarantine reason order = curated column order\n"
        "  - {name: record_id,     type: id,        required: true}\n"
        "  - {name: event_time,    type: timestamp, required: true}\n"
        "  - {name: category,      type: text,      required: true, dictionary: true}\n"
        "  - {name: score,         type: number,    required: false, min: 0, max: 100}\n"
        + pii
    )


def test_text(name: str, classification: str) -> str:
    return f'''"""{name}: the domain's pipeline on records generated from its contract (written by
`make domain`; it follows the contract, so it needs no edit when the fields change)."""

from __future__ import annotations

import json

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from callcenter import domain, synthetic, tasks
from callcenter.layout import Layout

DOMAIN = "{name}"
CLASSIFICATION = "{classification}"  # as in environments/*.yaml
RECORDS = 400


def _layout(root: str, dataset: str) -> Layout:
    return Layout(raw_bucket=f"{{root}}/raw", curated_bucket=f"{{root}}/curated", quarantine_bucket=f"{{root}}/quarantine",
                  gcs_curated_bucket=f"{{root}}/gcs", gcs_exports_bucket=f"{{root}}/exports",
                  azure_container=f"{{root}}/azure", glue_crawler="local", dataset=dataset)


def _landed_text(fs: pafs.FileSystem, layout: Layout) -> str:
    """Every curated row and every quarantine line, as text."""
    out = []
    for root in (layout.curated, layout.quarantine):
        for info in fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True)):
            if info.type != pafs.FileType.File:
                continue
            if info.path.endswith(".parquet"):
                out.append(json.dumps(pq.read_table(info.path, filesystem=fs).to_pylist(), default=str))
            else:
                with fs.open_input_stream(info.path) as f:
                    out.append(f.read().decode("utf-8", "replace"))
    return "\\n".join(out)


@pytest.mark.parametrize("fmt", domain.load(DOMAIN).formats)
def test_pipeline_reconciles_and_lands_no_raw_pii(tmp_path, key, fmt):
    contract = domain.load(DOMAIN)
    assert not contract.pii_fields or CLASSIFICATION == "pii"  # environments/schema.py holds every env to it
    fs = pafs.LocalFileSystem()
    layout = _layout(tmp_path.as_posix(), contract.dataset)
    records = synthetic.records_for(contract, RECORDS, seed=11, malformed_rate=0.05)
    fs.create_dir(layout.incoming, recursive=True)
    path = f"{{layout.incoming}}/export.{{'csv' if fmt == 'csv' else 'jsonl'}}"
    synthetic.write_export(contract, records, path, fmt)

    summary = tasks.ingest_export(fs, layout, path, key, contract=contract,
                                  redact_quarantine=CLASSIFICATION == "pii")
    totals = tasks.reconcile_totals([summary])  # raises on any count that does not add up
    assert totals["records_in"] == RECORDS == totals["curated"] + totals["quarantined"]
    assert 0 < totals["quarantined"] < RECORDS  # the malformed ones, and only those
    assert totals["partitions"] and all(p.startswith(f"{{contract.partition_column}}=") for p in totals["partitions"])

    landed = _landed_text(fs, layout)
    raw = {{str(r[f.name]) for r in records for f in contract.pii_fields if r.get(f.name) not in (None, "")}}
    assert [v for v in raw if v in landed] == []  # no raw value of a pii field, curated or quarantined
'''


def doc_text(name: str, owner: str, classification: str) -> str:
    return (
        f"# Domain `{name}`\n\n"
        f"- Owner: `{owner}`; classification: `{classification}`.\n"
        f"- Contract: [airflow/dags/domains/{name}.yaml](../../airflow/dags/domains/{name}.yaml) "
        "(fields, PII masks, partition, formats).\n"
        f"- DAGs (generated where an environment configures the domain): `{name}_ingest`, `{name}_distribute`.\n"
        f"- Test on generated data: tests/airflow/unit/domains/test_{name}.py.\n"
        f"- What it gets in an environment: `make domain-report NAME={name} ENV=dev`.\n\n"
        "## Sources\n\nWho drops exports into `raw/" + name + "/incoming/`, how often, in which format.\n\n"
        "## Consumers\n\nWho reads the curated data (GCS and Azure copies) and for what.\n"
    )


def _top_level_block(lines: list[str], key: str) -> tuple[int, int] | None:
    """(index of the `key:` line, index after its last indented/list line) in a YAML file's lines."""
    start = next((i for i, line in enumerate(lines) if re.match(rf"{key}:\s*(#.*)?$", line)), None)
    if start is None:
        return None
    end = start + 1
    last = start
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.startswith((" ", "\t", "-", "#")):
            break
        if line.strip() and not line.lstrip().startswith("#"):
            last = end
        end += 1
    return start, last + 1


def env_text(path: Path, text: str, name: str, owner: str, classification: str) -> str:
    """`text` with the domain appended to `domains` (and `known_domains` if present)."""
    lines = text.splitlines(keepends=True)
    block = _top_level_block(lines, "domains")
    if block is None:
        raise ScaffoldError(f"{path}: domains: no block-style `domains:` list to append to")
    start, end = block
    item = next((line for line in lines[start + 1:end] if line.lstrip().startswith("- ")), "  - name: x\n")
    dash = item[: len(item) - len(item.lstrip())]
    pad = dash + "  "
    source = f"aws_{name}" if len(name) <= 26 else "aws_exports"
    entry = [f"{dash}- name: {name}\n", f"{pad}owner: {owner}\n", f"{pad}classification: {classification}\n",
             f"{pad}sources: [{source}]\n"]
    if end > 0 and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    lines[end:end] = entry
    for i, line in enumerate(lines):
        flow = re.match(r"(known_domains:\s*\[)([^\]]*)(\].*)$", line, flags=re.DOTALL)
        if flow:
            listed = [n.strip() for n in flow.group(2).split(",") if n.strip()]
            lines[i] = f"{flow.group(1)}{', '.join([*listed, name])}{flow.group(3)}"
            break
        if re.match(r"known_domains:\s*(#.*)?$", line):
            known = _top_level_block(lines, "known_domains")
            assert known is not None
            item = next((x for x in lines[known[0] + 1:known[1]] if x.lstrip().startswith("- ")), "  - x\n")
            lines.insert(known[1], f"{item[: len(item) - len(item.lstrip())]}- {name}\n")
            break
    return "".join(lines)


def plan(name: str, owner: str, classification: str, envs: list[str], repo: Path) -> dict[Path, str]:
    """{target: content} of every file the scaffold writes; raises ScaffoldError on bad input."""
    import yaml

    if not NAME_RULE.fullmatch(name):
        raise ScaffoldError(f"NAME={name!r}: must be a lowercase identifier: a letter, then 1-29 of a-z, 0-9, _")
    if not OWNER_RULE.fullmatch(owner):
        raise ScaffoldError(f"OWNER={owner!r}: must be a lowercase slug: a letter, then 1-39 of a-z, 0-9, -")
    if classification not in CLASSIFICATIONS:
        raise ScaffoldError(f"CLASSIFICATION={classification!r}: must be one of {', '.join(CLASSIFICATIONS)}")
    if not envs:
        raise ScaffoldError("ENVS='': name at least one environment (e.g. ENVS=\"dev staging prod local\")")
    contracts = repo / "airflow" / "dags" / "domains"
    targets = {
        contracts / f"{name}.yaml": contract_text(name, classification),
        repo / "tests" / "airflow" / "unit" / "domains" / f"test_{name}.py": test_text(name, classification),
        repo / "docs" / "domains" / f"{name}.md": doc_text(name, owner, classification),
    }
    for target in targets:
        if target.exists():
            raise ScaffoldError(f"NAME={name}: {target.relative_to(repo)} exists already: pick another name")
    for existing in sorted(contracts.glob("*.yaml")):
        dataset = (yaml.safe_load(existing.read_text(encoding="utf-8")) or {}).get("dataset")
        if dataset == name:
            raise ScaffoldError(f"NAME={name}: {existing.relative_to(repo)} uses it as its dataset (DAG ids would clash)")
    for env in dict.fromkeys(envs):
        path = repo / "environments" / f"{env}.yaml"
        if not path.is_file():
            raise ScaffoldError(f"ENVS: {env}: no such environment file environments/{env}.yaml")
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
        if name in {d.get("name") for d in data.get("domains") or []} | set(data.get("known_domains") or []):
            raise ScaffoldError(f"NAME={name}: environments/{env}.yaml already has this domain")
        targets[path] = env_text(path.relative_to(repo), text, name, owner, classification)
    skips = repo / "policy" / "checkov_skips.yaml"
    if skips.is_file() and set(envs) & set(SCANNED_ENVS):
        targets[skips] = skips_text(skips.read_text(encoding="utf-8"), name, contracts)
    return targets


def _per_domain_tokens(domain: str) -> tuple[str, str]:
    """How a domain appears in checkov resource names: `domain-<name>_` (S3) and `container-<slug>_` (Azure)."""
    return f"domain-{domain}_", f"container-{domain.replace('_', '-')}_"


def skips_text(text: str, name: str, contracts: Path) -> str:
    """`text` (policy/checkov_skips.yaml) with the new domain's own per-resource entries appended: the same
    checks and reasons an existing domain's buckets and container carry (its reviewed decisions), one entry
    per resource, so they show up in the change for review instead of being absorbed by a wildcard."""
    import textwrap

    import yaml

    entries = (yaml.safe_load(text) or {}).get("skips") or []
    best: list[dict] = []
    reference = ""
    for domain in sorted(p.stem for p in contracts.glob("*.yaml")):
        mine = [e for e in entries if any(t in str(e.get("resource", "")) for t in _per_domain_tokens(domain))]
        if len(mine) > len(best):
            best, reference = mine, domain
    if not best:
        return text
    lines = [f"  # {name} (make domain): the per-resource decisions {reference}'s storage carries; review them.\n"]
    for entry in best:
        resource = str(entry["resource"])
        for old, new in zip(_per_domain_tokens(reference), _per_domain_tokens(name), strict=True):
            resource = resource.replace(old, new)
        reason = textwrap.fill(" ".join(str(entry["reason"]).split()), 100, initial_indent=" " * 6,
                               subsequent_indent=" " * 6)
        lines += [f"  - check: {entry['check']}\n", f"    resource: \"{resource}\"\n",
                  f"    stacks: \"{entry.get('stacks', '*')}\"\n", "    reason: >-\n", f"{reason}\n"]
    return text + ("" if text.endswith("\n") else "\n") + "".join(lines)


def check_environments(targets: dict[Path, str], repo: Path, name: str) -> None:
    """The edited environment files must pass the schema, with the new contract in place (staged copies)."""
    from environments.schema import ConfigError, load_environment

    with tempfile.TemporaryDirectory(prefix="scaffold-") as tmp:
        contracts = Path(tmp) / "domains"
        contracts.mkdir()
        for existing in (repo / "airflow" / "dags" / "domains").glob("*.yaml"):
            (contracts / existing.name).write_bytes(existing.read_bytes())
        (contracts / f"{name}.yaml").write_text(targets[repo / "airflow" / "dags" / "domains" / f"{name}.yaml"],
                                                encoding="utf-8")
        envs = Path(tmp) / "environments"
        envs.mkdir()
        for target, content in targets.items():
            if target.parent == repo / "environments":
                staged = envs / target.name
                staged.write_text(content, encoding="utf-8")
                try:
                    load_environment(staged, contracts)
                except ConfigError as error:
                    first = str(error).splitlines()[0].replace(str(staged), f"environments/{target.name}")
                    raise ScaffoldError(f"{first} (after adding {name})") from None


def check_contract(targets: dict[Path, str], repo: Path, name: str) -> None:
    import yaml
    from callcenter import domain

    path = repo / "airflow" / "dags" / "domains" / f"{name}.yaml"
    domain.parse(yaml.safe_load(targets[path]), str(path.relative_to(repo)), expected_domain=name)


def write_all(targets: dict[Path, str]) -> None:
    """Stage every file next to its target, then rename them into place (each rename is atomic)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, content in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".scaffold", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(content)
            if target.exists():
                os.chmod(tmp, target.stat().st_mode & 0o777)
            else:
                os.chmod(tmp, 0o644)
            staged.append((Path(tmp), target))
    except OSError:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in staged:
        os.replace(tmp, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make domain", description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="")
    parser.add_argument("--owner", default="")
    parser.add_argument("--classification", default="")
    parser.add_argument("--envs", default=" ".join(DEFAULT_ENVS), help="space-separated environment names")
    args = parser.parse_args(argv)
    repo = REPO
    try:
        targets = plan(args.name, args.owner, args.classification, args.envs.split(), repo)
        check_contract(targets, repo, args.name)
        check_environments(targets, repo, args.name)
        write_all(targets)
    except ScaffoldError as error:
        print(f"make domain: {error}", file=sys.stderr)
        return 2
    except ValueError as error:  # callcenter.domain.ContractError: the starter contract itself
        print(f"make domain: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    for target in targets:
        print(f"wrote {target.relative_to(repo)}")
    print(f"next: fill in airflow/dags/domains/{args.name}.yaml, then `make test` (README, Onboard a domain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
