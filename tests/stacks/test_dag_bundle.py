"""The DAG bundle: an edit to one DAG file changes exactly one aws_s3_object; a changed
requirements.txt (or its constraints lock) changes the object MWAA pins by version.

Each variant is a temporary copy of an airflow/ folder, synthesized for dev through
the real stacks with ``airflow_dir`` pointed at it (one subprocess for all variants,
so the jsii runtime starts once). The repo's airflow/ is never touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

STACK = "dev-aws-orchestration"
DRIVER = """
import json, os, sys
from pathlib import Path
import modules
from cdktf import App
from environments.schema import load_environment
from stacks.aws import AwsNetworkStack, AwsPlatformStack
from stacks.aws_orchestration import AwsOrchestrationStack

base = load_environment(Path("environments/dev.yaml"))
for variant in json.loads(sys.argv[1]):
    # "update": {section: {field: value}} overrides dev's file for this variant.
    env = base.model_copy(update={
        section: getattr(base, section).model_copy(update=fields) for section, fields in variant["update"].items()
    })
    app = App(outdir=variant["outdir"])
    network, platform = AwsNetworkStack(app, env), AwsPlatformStack(app, env)
    AwsOrchestrationStack(app, env, network, platform, airflow_dir=Path(variant["airflow_dir"]))
    app.synth()
sys.stdout.flush()
os._exit(0)
"""


def make_airflow(root: Path) -> Path:
    files = {
        "dags/ingest.py": "from airflow.sdk import dag\n",
        "dags/callcenter/__init__.py": "",
        "dags/callcenter/masking.py": "def mask(x):\n    return '***'\n",
        "dags/.airflowignore": "callcenter/\n",
        "dags/__pycache__/ingest.cpython-311.pyc": "bytecode",
        "dags/callcenter/__pycache__/masking.cpython-311.pyc": "bytecode",
        "requirements.txt": '--constraint "/usr/local/airflow/dags/constraints.txt"\napache-airflow-providers-amazon\n',
        "constraints.txt": "apache-airflow-providers-amazon==9.0.0\n",
        "plugins/operators.py": "class Noop: ...\n",
        "startup.sh": "#!/bin/sh\nexport LOCAL=1\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("bundle")
    base = make_airflow(tmp / "base" / "airflow")

    def variant(name: str, edit) -> Path:
        copy = tmp / name / "airflow"
        shutil.copytree(base, copy)
        edit(copy)
        return copy

    dirs = {
        "base": base,
        "same": variant("same", lambda d: None),
        "dag_edit": variant("dag_edit", lambda d: (d / "dags/callcenter/masking.py").write_text("def mask(x):\n    return '#'\n")),
        "requirements_edit": variant("requirements_edit", lambda d: (d / "requirements.txt").write_text(
            '--constraint "/usr/local/airflow/dags/constraints.txt"\napache-airflow-providers-amazon\nduckdb\n')),
        "constraints_edit": variant("constraints_edit", lambda d: (d / "constraints.txt").write_text(
            "apache-airflow-providers-amazon==9.1.0\n")),
    }
    specs = [
        {"outdir": str(tmp / name / "out"), "airflow_dir": str(path),
         "update": {"orchestration": {"startup_script": "startup.sh"}} if name == "base" else {}}
        for name, path in dirs.items()
    ]
    return {name: {**synthesized, "airflow": dirs[name]} for name, synthesized in zip(dirs, synth_variants(specs))}


def synth_variants(specs: list[dict]) -> list[dict]:
    """Synthesize dev's orchestration stack once per spec (outdir, airflow_dir, update), in one subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "CDKTF_OUTDIR"}
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(specs)], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    out = []
    for spec in specs:
        stack_dir = Path(spec["outdir"]) / "stacks" / STACK
        out.append({"doc": json.loads((stack_dir / "cdk.tf.json").read_text()), "dir": stack_dir})
    return out


def constraints_name(airflow: Path) -> str:
    return f"constraints-{sha256(airflow / 'constraints.txt')[:16]}.txt"


def plugins_entries(variant: dict) -> dict[str, bytes]:
    with zipfile.ZipFile(variant["dir"] / objects(variant)["plugins.zip"]["source"]) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def objects(variant: dict) -> dict[str, dict]:
    """aws_s3_object bodies by key, without cdktf's metadata."""
    return {
        body["key"]: {k: v for k, v in body.items() if k != "//"}
        for body in variant["doc"]["resource"]["aws_s3_object"].values()
    }


def logical_ids(variant: dict) -> dict[str, str]:
    return {body["key"]: name for name, body in variant["doc"]["resource"]["aws_s3_object"].items()}


def mwaa(variant: dict) -> dict:
    (body,) = variant["doc"]["resource"]["aws_mwaa_environment"].values()
    return {k: v for k, v in body.items() if k != "//"}


def sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_every_file_under_dags_is_one_object_keyed_by_its_path_with_its_hash(variants):
    base = variants["base"]
    found = objects(base)
    assert set(found) == {
        "dags/ingest.py", "dags/callcenter/__init__.py", "dags/callcenter/masking.py", "dags/.airflowignore",
        "requirements.txt", "plugins.zip", "startup.sh",
    }
    airflow = base["airflow"]
    for key in ("dags/ingest.py", "dags/callcenter/masking.py", "dags/.airflowignore"):
        assert found[key]["source_hash"] == sha256(airflow / key)
        # The uploaded file is the stack's own copy (a cdktf asset), so the stack folder is self-contained.
        assert (base["dir"] / found[key]["source"]).read_bytes() == (airflow / key).read_bytes()
    # The lock is no object of its own: it travels in plugins.zip, whose version MWAA pins with requirements'.
    assert plugins_entries(base)[constraints_name(airflow)] == (airflow / "constraints.txt").read_bytes()


def test_the_same_sources_synthesize_identical_objects(variants):
    """No timestamps or temp paths leak into the plan: plugins.zip is byte-stable too."""
    assert objects(variants["base"]).keys() - {"startup.sh"} == objects(variants["same"]).keys()
    for key, body in objects(variants["same"]).items():
        assert objects(variants["base"])[key] == body, key


def test_editing_one_dag_file_changes_exactly_one_object(variants):
    before, after = objects(variants["same"]), objects(variants["dag_edit"])
    assert before.keys() == after.keys()
    changed = [key for key in before if before[key] != after[key]]
    assert changed == ["dags/callcenter/masking.py"]
    assert logical_ids(variants["same"]) == logical_ids(variants["dag_edit"])  # updated in place, not replaced
    assert mwaa(variants["same"]) == mwaa(variants["dag_edit"])


@pytest.mark.parametrize("edit", ["requirements_edit", "constraints_edit"])
def test_changing_requirements_or_their_lock_changes_the_version_mwaa_pins(variants, edit):
    before, after = objects(variants["same"]), objects(variants[edit])
    changed = {key for key in before.keys() & after.keys() if before[key] != after[key]}
    # No object appears or disappears: a deploy never deletes a lock an older pinned version still names.
    assert before.keys() == after.keys()
    if edit == "constraints_edit":
        # A new lock is a new plugins.zip version (the lock inside it, named by its hash) and a new
        # requirements version naming it; the old pair stays intact for MWAA to run or roll back to.
        assert changed == {"requirements.txt", "plugins.zip"}
        assert constraints_name(variants[edit]["airflow"]) in plugins_entries(variants[edit])
        assert constraints_name(variants["same"]["airflow"]) not in plugins_entries(variants[edit])
        plugins_id = logical_ids(variants[edit])["plugins.zip"]
        assert mwaa(variants[edit])["plugins_s3_object_version"] == f"${{aws_s3_object.{plugins_id}.version_id}}"
    else:
        assert changed == {"requirements.txt"}
    requirements_id = logical_ids(variants[edit])["requirements.txt"]
    assert mwaa(variants[edit])["requirements_s3_path"] == "requirements.txt"
    # MWAA pins the version of exactly the object whose content changed, so Terraform updates the environment.
    assert mwaa(variants[edit])["requirements_s3_object_version"] == f"${{aws_s3_object.{requirements_id}.version_id}}"
    airflow = variants[edit]["airflow"]
    uploaded = variants[edit]["dir"] / after["requirements.txt"]["source"]
    assert after["requirements.txt"]["source_hash"] == sha256(uploaded)
    # The uploaded requirements name exactly the lock shipped with them, where MWAA extracts plugins.zip.
    first, *rest = uploaded.read_text().splitlines()
    assert first == f'--constraint "/usr/local/airflow/plugins/{constraints_name(airflow)}"'
    assert rest == (airflow / "requirements.txt").read_text().splitlines()[1:]


def test_requirements_without_a_constraint_line_are_refused():
    from modules.aws.dag_bundle import pin_constraint

    with pytest.raises(ValueError, match="--constraint"):
        pin_constraint("--constraint=/x.txt\napache-airflow\n", "constraints-0.txt")


def test_plugins_zip_and_startup_script_are_pinned_by_version(variants):
    base = variants["base"]
    ids, found, env = logical_ids(base), objects(base), mwaa(base)
    assert env["plugins_s3_path"] == "plugins.zip"
    assert env["plugins_s3_object_version"] == f"${{aws_s3_object.{ids['plugins.zip']}.version_id}}"
    assert env["startup_script_s3_path"] == "startup.sh"
    assert env["startup_script_s3_object_version"] == f"${{aws_s3_object.{ids['startup.sh']}.version_id}}"
    with zipfile.ZipFile(base["dir"] / found["plugins.zip"]["source"]) as archive:
        # dev ships its Vault CA (vault.ca_file) and the lock requirements.txt names.
        assert archive.namelist() == ["operators.py", constraints_name(base["airflow"]), "vault-ca.pem"]
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert "startup_script_s3_path" not in mwaa(variants["same"])
