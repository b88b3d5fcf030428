"""Real `terraform init` + `terraform validate` on every synthesized stack whose providers can be installed.

Providers come from the offline filesystem mirror where one is configured
(scripts/terraform_rc.sh), else from the public registry. A provider that is in
neither place here (google, azurerm and vault on an offline machine holding only
hashicorp/aws) cannot be validated; those stacks are skipped with that reason,
unless TF_REGISTRY_ONLINE=1 says the registry is reachable. The AWS stacks must
validate: in CI, a missing terraform or mirror fails the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import IN_CI, REPO, require, require_tool

STACK_DIRS = None


def mirrored_providers(rc: Path) -> set[str] | None:
    """Provider sources in the configured filesystem mirror; None when no mirror (public registry)."""
    text = rc.read_text()
    if "filesystem_mirror" not in text:
        return None
    block = re.search(r"filesystem_mirror\s*{[^}]*include\s*=\s*\[([^\]]*)\]", text)
    return {s.strip().strip('"') for s in block.group(1).split(",")} if block else set()


@pytest.fixture(scope="session")
def terraform_rc(tmp_path_factory) -> Path:
    configured = os.environ.get("TF_CLI_CONFIG_FILE")
    if configured and Path(configured).is_file():
        return Path(configured)
    rc = tmp_path_factory.mktemp("tfrc") / "terraform.rc"
    subprocess.run([str(REPO / "scripts" / "terraform_rc.sh"), str(rc)], check=True, capture_output=True)
    return rc


def required_sources(stack_dir: Path) -> set[str]:
    doc = json.loads((stack_dir / "cdk.tf.json").read_text())
    sources = set()
    for spec in doc["terraform"].get("required_providers", {}).values():
        source = spec["source"]
        parts = source.split("/")
        if len(parts) == 1:
            parts = ["hashicorp", parts[0]]
        if len(parts) == 2:
            parts = ["registry.terraform.io", *parts]
        sources.add("/".join(parts))
    return sources


# Terraform's plugin cache is not safe for concurrent installs ("still not detected in
# .terraform/providers"), so inits take turns; validates, the slower half, run in parallel.
_INIT_LOCK = threading.Lock()


def validate(stack_dir: Path, workdir: Path, env: dict[str, str]) -> tuple[str, str]:
    shutil.copytree(stack_dir, workdir)
    with _INIT_LOCK:
        init = subprocess.run(
            ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
            cwd=workdir, env=env, capture_output=True, text=True,
        )
    if init.returncode != 0:
        return "init-failed", init.stdout + init.stderr
    result = subprocess.run(
        ["terraform", "validate", "-json", "-no-color"], cwd=workdir, env=env, capture_output=True, text=True
    )
    return ("valid" if json.loads(result.stdout or "{}").get("valid") else "invalid"), result.stdout + result.stderr


@pytest.fixture(scope="session")
def validation(synth_root, terraform_rc, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """Validate every installable stack once, four at a time (each run is mostly provider start-up)."""
    require_tool("terraform")
    mirrored = mirrored_providers(terraform_rc)
    online = os.environ.get("TF_REGISTRY_ONLINE") == "1" or mirrored is None
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(terraform_rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    work = tmp_path_factory.mktemp("validate")
    results: dict[str, tuple[str, str]] = {}
    jobs = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for stack_dir in sorted((synth_root / "stacks").iterdir()):
            missing = required_sources(stack_dir) - (mirrored or set())
            if missing and not online:
                results[stack_dir.name] = ("not-installable", ", ".join(sorted(missing)))
                continue
            jobs[stack_dir.name] = pool.submit(validate, stack_dir, work / stack_dir.name, env)
        for name, job in jobs.items():
            results[name] = job.result()
    return results


def stack_names() -> list[str]:
    from environments.schema import load_environments
    from tests.stacks.test_synth import expected_stacks

    return sorted(set().union(*(expected_stacks(env) for env in load_environments())))


@pytest.mark.parametrize("stack", stack_names())
def test_stack_validates(validation, stack):
    status, detail = validation[stack]
    if status == "not-installable":
        is_aws_stack = "-aws-" in stack
        require(not is_aws_stack, f"{stack}: AWS provider not installable ({detail}); the mirror must hold it")
        pytest.skip(f"{stack}: {detail} not in the offline provider mirror; set TF_REGISTRY_ONLINE=1 where the registry is reachable")
    assert status == "valid", detail


def test_aws_stacks_were_validated_for_real(validation):
    aws = {name: status for name, (status, _) in validation.items() if "-aws-" in name}
    assert aws and set(aws.values()) == {"valid"}, aws
    if IN_CI:
        assert len(aws) >= 8
