"""Shared by the Spark tests (AWS, GCP, Vault): dev (Spark on) and local (Spark off), synthesized once
through main.py, and airflow/dags/callcenter/engine_choice.py loaded without Airflow (it is stdlib-only)."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from tests.conftest import REPO, Stack, synth_into

ENGINE_CHOICE = REPO / "airflow" / "dags" / "callcenter" / "engine_choice.py"


@functools.lru_cache(maxsize=1)
def spark_stacks() -> dict[str, Stack]:
    root = Path(tempfile.mkdtemp(prefix="spark-stacks-"))
    atexit.register(shutil.rmtree, root, True)
    result = synth_into(root / "cdktf.out", envs=["dev", "local"])
    assert result.returncode == 0, result.stderr
    stacks = root / "cdktf.out" / "stacks"
    return {p.name: Stack(p.name, p) for p in stacks.iterdir() if (p / "cdk.tf.json").is_file()}


@functools.lru_cache(maxsize=1)
def engine_choice():
    """The DAG side's reader of the Variable (dataclasses need the module registered to resolve annotations)."""
    spec = importlib.util.spec_from_file_location("spark_engine_choice", ENGINE_CHOICE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
