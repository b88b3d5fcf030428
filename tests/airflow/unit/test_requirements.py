"""The files shipped to MWAA agree with each other (no Airflow needed)."""

from __future__ import annotations

import re
from pathlib import Path

AIRFLOW = Path(__file__).resolve().parents[3] / "airflow"
MWAA_CONSTRAINT_LINE = '--constraint "/usr/local/airflow/dags/constraints.txt"'


def pins(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\],]+)==([^\s;#]+)", raw.strip())
        if m:
            out[re.sub(r"\[.*\]", "", m.group(1)).lower().replace("_", "-")] = m.group(2)
    return out


def test_requirements_start_with_the_mwaa_constraint_line() -> None:
    assert (AIRFLOW / "requirements.txt").read_text().splitlines()[0] == MWAA_CONSTRAINT_LINE


def test_every_requirement_is_pinned_and_locked_at_the_same_version() -> None:
    lock = pins(AIRFLOW / "constraints.txt")
    for req_file in ("requirements.txt", "requirements-dev.txt"):
        lines = [x.strip() for x in (AIRFLOW / req_file).read_text().splitlines()]
        reqs = [x for x in lines if x and not x.startswith(("#", "-"))]
        wanted = pins(AIRFLOW / req_file)
        assert len(wanted) == len(reqs), f"{req_file}: every requirement must be pinned with =="
        for name, version in wanted.items():
            assert lock.get(name) == version, f"{name}=={version} in {req_file} but {lock.get(name)} in the lock"


def test_lock_honours_the_mwaa_image_critical_pins() -> None:
    lock = pins(AIRFLOW / "constraints.txt")
    essential = pins(AIRFLOW / "mwaa-essential-constraints.txt")
    assert essential["apache-airflow"] == pins(AIRFLOW / "requirements.txt")["apache-airflow"]
    clashes = {k: (v, lock[k]) for k, v in essential.items() if k in lock and lock[k] != v}
    assert not clashes, f"lock disagrees with the MWAA image: {clashes}"


def test_the_airflow_runtime_runs_the_python_of_the_mwaa_image() -> None:
    """The venv these tests run in, and the lock, target the interpreter of the MWAA image
    (aws/amazon-mwaa-docker-images images/airflow/3.3.1/Dockerfile.base.j2: Python 3.12)."""
    import sys

    setup = (AIRFLOW.parent / "scripts" / "setup_airflow_env.sh").read_text()
    wanted = re.search(r'^PYTHON_VERSION="(\d+\.\d+)"', setup, re.M)
    assert wanted and wanted.group(1) == "3.12"
    assert "%d.%d" % sys.version_info[:2] == wanted.group(1)
