"""`make domain` end to end: scaffold a throwaway pii domain into a copy of the repository, then
in the copy the environment files pass the schema, dev synthesizes with the domain's stacks, the
Airflow DAG integrity tests pass with its DAGs, and its generated pipeline test passes on
generated data. Bad input: one line, exit 2, nothing written.

The copy holds the working tree's files that git does not ignore (tracked and new) with the two virtual
environments linked in, so the IaC venv (this test, the synth) and the Airflow venv (the DAG and
pipeline tests, in a subprocess) each run what they run in `make test`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, require

# Not README's example name: a team that scaffolds `quality_assurance` for real keeps this test green.
NAME = "scaffold_probe"
AIRFLOW_PYTHON = REPO / ".venv-airflow" / "bin" / "python"


def _copy_repo(dst: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                           capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = REPO / rel
        if src.is_file():  # a file deleted in the working tree is not copied
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    for venv in (".venv", ".venv-airflow"):
        (dst / venv).symlink_to(REPO / venv)
    return dst


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and ".venv" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + path.read_bytes())
    return digest.hexdigest()


def _scaffold(copy: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(copy / "scripts" / "scaffold_domain.py"), *args], cwd=copy,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return _copy_repo(tmp_path_factory.mktemp("repo"))


@pytest.mark.parametrize(("args", "expected"), [
    (["--name", "Quality", "--owner", "qa-team", "--classification", "pii"], "NAME='Quality': must be a lowercase"),
    (["--name", "qa", "--owner", "QA team", "--classification", "pii"], "OWNER='QA team': must be a lowercase slug"),
    (["--name", "qa", "--owner", "qa-team", "--classification", "secret"], "CLASSIFICATION='secret': must be one of"),
    (["--name", "qa", "--owner", "qa-team", "--classification", "pii", "--envs", "dev nowhere"],
     "ENVS: nowhere: no such environment file"),
    (["--name", "call_analytics", "--owner", "qa-team", "--classification", "pii"],
     "call_analytics.yaml exists already"),
    (["--name", "call_records", "--owner", "qa-team", "--classification", "pii"], "uses it as its dataset"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(copy, args, expected):
    before = _tree_digest(copy)
    result = _scaffold(copy, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and expected in result.stderr and "Traceback" not in result.stderr
    assert _tree_digest(copy) == before


@pytest.mark.slow
def test_a_scaffolded_domain_synthesizes_and_its_pipeline_passes(copy, tmp_path):
    require(AIRFLOW_PYTHON.is_file(), "the Airflow environment (.venv-airflow, `make setup`) is not installed")
    result = _scaffold(copy, "--name", NAME, "--owner", "qa-team", "--classification", "pii",
                       "--envs", "dev staging prod local")
    assert result.returncode == 0, result.stderr
    written = sorted(line.removeprefix("wrote ") for line in result.stdout.splitlines() if line.startswith("wrote "))
    assert written == sorted([f"airflow/dags/domains/{NAME}.yaml", f"tests/airflow/unit/domains/test_{NAME}.py",
                              f"docs/domains/{NAME}.md", "policy/checkov_skips.yaml",
                              *(f"environments/{e}.yaml" for e in ("dev", "staging", "prod", "local"))])
    # The new storage's checkov findings get their own per-resource entries, visible in the change for review.
    skips = yaml.safe_load((copy / "policy" / "checkov_skips.yaml").read_text(encoding="utf-8"))["skips"]
    slug = NAME.replace("_", "-")
    mine = sorted((e["check"], e["resource"]) for e in skips if NAME in e["resource"] or slug in e["resource"])
    assert mine == sorted([*(("CKV_AWS_144", f"aws_s3_bucket.domain-{NAME}_{zone}_bucket_*")
                             for zone in ("raw", "curated", "quarantine")),
                           ("CKV2_AZURE_21", f"azurerm_storage_container.lake_container-{slug}_*")])
    assert all("*" not in r.split(".", 1)[0] for _, r in mine) and all(e["reason"] for e in skips)
    prod = (copy / "environments" / "prod.yaml").read_text(encoding="utf-8")
    assert f"known_domains: [call_analytics, agent_performance, {NAME}]" in prod
    assert prod.count("\n#") == (REPO / "environments" / "prod.yaml").read_text(encoding="utf-8").count("\n#")
    assert _scaffold(copy, "--name", NAME, "--owner", "qa-team", "--classification", "pii").returncode == 2

    # The Airflow side runs while dev synthesizes (~60-90 s): DAG integrity for every contract
    # (the new one included) and the domain's own generated test.
    airflow = subprocess.Popen(
        [str(copy / ".venv-airflow" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/airflow/integrity", f"tests/airflow/unit/domains/test_{NAME}.py"],
        cwd=copy, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={k: v for k, v in os.environ.items() if k != "AIRFLOW__CALLCENTER__DOMAINS"})
    active = f"from environments.schema import load_environments as l; print([d.name for e in l() " \
             f"for d in e.active_domains if d.name == '{NAME}'])"
    schema = subprocess.run([sys.executable, "-c", active], cwd=copy, capture_output=True, text=True, check=False)
    out = tmp_path / "cdktf.out"
    synth = subprocess.run([sys.executable, "main.py", "--env", "dev", "--outdir", str(out)], cwd=copy,
                           env={**os.environ, "CLOUD_CONDUCTOR_EAGER_PROVIDERS": "0"},
                           capture_output=True, text=True, check=False)
    log, _ = airflow.communicate(timeout=600)
    assert schema.returncode == 0, schema.stderr[-2000:]
    assert schema.stdout.strip() == str([NAME] * 4)  # in all four environment files, active
    assert synth.returncode == 0, synth.stderr[-3000:]
    assert airflow.returncode == 0, log[-4000:]
    assert f"test_{NAME}.py" in log or " passed" in log

    stacks = {p.parent.name: p.read_text(encoding="utf-8") for p in (out / "stacks").glob("*/cdk.tf.json")}
    slug = NAME.replace("_", "-")
    holding = sorted(name for name, text in stacks.items() if slug in text or NAME in text)
    assert {"dev-aws-platform", "dev-vault"} <= set(holding), holding
    platform = json.loads(stacks["dev-aws-platform"])
    buckets = [r["bucket"] for r in platform["resource"]["aws_s3_bucket"].values() if slug in str(r.get("bucket"))]
    assert len(buckets) == 3, buckets  # raw, curated, quarantine
    # MWAA is told the domain is active (callcenter.domains), so the DAGs exist there.
    orchestration = stacks["dev-aws-orchestration"]
    assert NAME in orchestration and "callcenter.domains" in orchestration
    # make domain-report lists what the domain gets, its generated DAGs included.
    report = subprocess.run([sys.executable, "scripts/domain_report.py", "--name", NAME, "--env", "dev",
                             "--root", str(out)], cwd=copy, capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    assert f"  {NAME}_ingest (generated from dags/domains/{NAME}.yaml, dev-aws-orchestration)" in report.stdout
    assert f"  {NAME}_distribute (generated from" in report.stdout


def test_a_scaffolded_internal_domain_has_no_pii_field_and_its_test_passes(tmp_path_factory):
    """CLASSIFICATION=internal, one environment: a contract without pii fields (the schema would refuse
    one), only dev.yaml touched, and the generated test green as written."""
    require(AIRFLOW_PYTHON.is_file(), "the Airflow environment (.venv-airflow, `make setup`) is not installed")
    copy = _copy_repo(tmp_path_factory.mktemp("repo-internal"))
    before = {e: (copy / "environments" / f"{e}.yaml").read_bytes() for e in ("staging", "prod", "local")}
    result = _scaffold(copy, "--name", "shift_plans", "--owner", "workforce-team", "--classification", "internal",
                       "--envs", "dev")
    assert result.returncode == 0, result.stderr
    contract = (copy / "airflow" / "dags" / "domains" / "shift_plans.yaml").read_text(encoding="utf-8")
    dev = (copy / "environments" / "dev.yaml").read_text(encoding="utf-8")
    assert "pii: true" not in contract
    assert "  - name: shift_plans\n    owner: workforce-team\n    classification: internal\n" in dev
    assert {e: (copy / "environments" / f"{e}.yaml").read_bytes() for e in before} == before
    run = subprocess.run([str(AIRFLOW_PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/airflow/unit/domains/test_shift_plans.py"], cwd=copy, capture_output=True, text=True,
                         check=False, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "2 passed" in run.stdout  # one per accepted format: jsonl, csv
