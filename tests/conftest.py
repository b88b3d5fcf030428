"""Shared fixtures: one synth per test session, stack loading, and tool requirements.

In CI (CI=true) a missing tool fails the test; locally it skips with the reason,
so a developer without terraform can still run the rest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, why: str) -> None:
    """Skip locally, fail in CI: CI must never pass by skipping a missing tool."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {why}")
    pytest.skip(why)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    require(path is not None, f"'{name}' is not on PATH")
    return path  # type: ignore[return-value]


def synth_into(
    outdir: Path, *, eager: bool = False, envs: list[str] | None = None, extra: list[str] | None = None
) -> subprocess.CompletedProcess:
    env = {**os.environ, "CLOUD_CONDUCTOR_EAGER_PROVIDERS": "1" if eager else "0"}
    env.pop("CDKTF_OUTDIR", None)
    cmd = [sys.executable, str(REPO / "main.py"), "--outdir", str(outdir)]
    for name in envs or []:
        cmd += ["--env", name]
    cmd += extra or []
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    """All environments, synthesized once per session (lazy provider loading, as `make synth`)."""
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    result = synth_into(outdir)
    assert result.returncode == 0, result.stderr
    return outdir


class Stack:
    """A synthesized stack's JSON, with helpers to find resources by type."""

    def __init__(self, name: str, path: Path):
        self.name = name
        self.path = path
        self.doc = json.loads((path / "cdk.tf.json").read_text())

    def resources(self, rtype: str) -> dict[str, dict]:
        return self.doc.get("resource", {}).get(rtype, {})

    def only(self, rtype: str) -> dict:
        found = self.resources(rtype)
        assert len(found) == 1, f"{self.name}: expected one {rtype}, found {sorted(found)}"
        return next(iter(found.values()))

    def all_resources(self):
        for rtype, items in self.doc.get("resource", {}).items():
            for name, body in items.items():
                yield rtype, name, body


@pytest.fixture(scope="session")
def stacks(synth_root) -> dict[str, Stack]:
    root = synth_root / "stacks"
    return {p.name: Stack(p.name, p) for p in sorted(root.iterdir()) if (p / "cdk.tf.json").is_file()}


def synth_environment(data: dict, name: str, workdir: Path):
    """Synthesize one environment given as data (e.g. a copy of dev with every knob flipped).

    Returns the validated Environment and its stacks by name. Goes through main.py,
    exactly as `make synth` does.
    """
    import yaml

    from environments.schema import load_environment

    envdir = workdir / "environments"
    envdir.mkdir(parents=True, exist_ok=True)
    (envdir / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    result = synth_into(workdir / "cdktf.out", extra=["--environments", str(envdir)])
    assert result.returncode == 0, result.stderr
    stacks = workdir / "cdktf.out" / "stacks"
    env = load_environment(envdir / f"{name}.yaml")
    return env, {p.name: Stack(p.name, p) for p in stacks.iterdir() if (p / "cdk.tf.json").is_file()}
