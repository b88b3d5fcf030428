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


def init(stack_dir: Path, workdir: Path, env: dict[str, str]) -> tuple[str, str] | None:
    """`terraform init` in a copy of the stack; None when it worked, else the failure."""
    shutil.copytree(stack_dir, workdir)
    result = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=workdir, env=env, capture_output=True, text=True,
    )
    return None if result.returncode == 0 else ("init-failed", result.stdout + result.stderr)


def validate(workdir: Path, env: dict[str, str]) -> tuple[str, str]:
    result = subprocess.run(
        ["terraform", "validate", "-json", "-no-color"], cwd=workdir, env=env, capture_output=True, text=True
    )
    return ("valid" if json.loads(result.stdout or "{}").get("valid") else "invalid"), result.stdout + result.stderr


@pytest.fixture(scope="session")
def validation(synth_root, terraform_rc, tmp_path_factory) -> dict[str, tuple[str, str]]:
    """Validate every installable stack once.

    Two phases. Every init runs first, one at a time: without a lock file,
    Terraform re-installs a provider into the shared plugin cache on each init,
    and a validate reading the cache through its symlinks at that moment found
    nothing ("no package for registry.terraform.io/hashicorp/aws 5.100.0 cached
    in .terraform/providers", seen in a clean-clone run). Then the validates,
    mostly provider start-up, run four at a time against a cache nobody writes.
    """
    require_tool("terraform")
    mirrored = mirrored_providers(terraform_rc)
    online = os.environ.get("TF_REGISTRY_ONLINE") == "1" or mirrored is None
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(terraform_rc), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    work = tmp_path_factory.mktemp("validate")
    results: dict[str, tuple[str, str]] = {}
    ready: list[str] = []
    for stack_dir in sorted((synth_root / "stacks").iterdir()):
        missing = required_sources(stack_dir) - (mirrored or set())
        if missing and not online:
            results[stack_dir.name] = ("not-installable", ", ".join(sorted(missing)))
            continue
        failure = init(stack_dir, work / stack_dir.name, env)
        if failure:
            results[stack_dir.name] = failure
        else:
            ready.append(stack_dir.name)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, outcome in zip(ready, pool.map(lambda n: validate(work / n, env), ready), strict=True):
            results[name] = outcome
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
