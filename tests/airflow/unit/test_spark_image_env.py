"""The Spark images' Python environment, proven without docker (issue 12).

`make spark-image-env` builds a venv holding exactly the images' derived pins, installed as the Dockerfiles
install them; `make test` hands it to the Spark tests as SPARK_WORKER_PYTHON, so test_spark_engine.py and
test_spark_job.py run the kernel's Python workers on what the images ship. This file checks that environment
itself: current with the lock, nothing more or less than the pins, `pip check` clean, and the driver's side
(PySpark's own pandas/pyarrow checks, the job's modules) importing with Spark's Python libraries on the path
the way EMR and Dataproc mount them. Locally without the env it skips; in CI it fails."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from test_spark_engine import spark  # noqa: F401 - the session fixture

from modules.spark_image import image_module
from tests.conftest import require

REPO = Path(__file__).resolve().parents[3]


image = image_module()


@pytest.fixture(scope="module")
def env_python() -> Path:
    given = os.environ.get("SPARK_WORKER_PYTHON")
    require(bool(given), "SPARK_WORKER_PYTHON is not set: `make test` runs the Spark tests' workers on the images' "
                         "environment (make spark-image-env)")
    python = Path(given)
    require(python.exists(), f"SPARK_WORKER_PYTHON={given} does not exist: run make spark-image-env")
    return python


def _run(python: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], capture_output=True, text=True, check=False, **kwargs)


def test_the_env_holds_the_current_pins(env_python):
    marker = env_python.parent.parent / image.ENV_MARKER
    current = hashlib.sha256(image.requirements().encode()).hexdigest()
    assert marker.read_text().strip() == current, "the images' pins changed since the env was built: make spark-image-env"
    frozen = _run(env_python, "-m", "pip", "freeze", "--all", "--disable-pip-version-check")
    assert frozen.returncode == 0, frozen.stderr
    installed = {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1]
                 for line in frozen.stdout.splitlines() if "==" in line}
    installed.pop("pip")  # the venv's own installer, as in the base images
    wanted = {line.split("==")[0].lower(): line.split("==")[1] for line in image.requirements().splitlines()}
    assert installed == wanted


def test_pip_check_is_clean(env_python):
    checked = _run(env_python, "-m", "pip", "check", "--disable-pip-version-check")
    assert checked.returncode == 0 and "No broken requirements found" in checked.stdout, checked.stdout + checked.stderr


def test_both_dockerfiles_install_the_way_the_env_was_built():
    for dockerfile in sorted((REPO / "spark" / "image").glob("*.Dockerfile")):
        line = re.search(r"-m pip install ([^\n\\]*)", dockerfile.read_text()).group(1).split()
        assert set(image.PIP_INSTALL) <= set(line) and "-r" in line, f"{dockerfile.name}: {line}"


def _spark_python_libs() -> list[str]:
    """pyspark.zip and py4j's zip: what spark-submit puts on PYTHONPATH on EMR and Dataproc (never in the images)."""
    import pyspark

    lib = Path(pyspark.__file__).parent / "python" / "lib"
    zips = sorted(str(p) for p in lib.glob("*.zip"))
    assert any(p.endswith("pyspark.zip") for p in zips) and any("py4j" in p for p in zips), zips
    return zips


def test_the_driver_side_imports_on_the_images_environment(env_python, tmp_path):
    """PySpark 3.5's own checks (pandas, pyarrow, and distutils' LooseVersion, which Python 3.12 no longer has:
    the images need setuptools' shim) and the job's modules, from the job's zip as --py-files ships it."""
    from callcenter import spark_job

    zip_path, entry = spark_job.build_package(tmp_path)
    assert "callcenter/spark_engine.py" in zipfile.ZipFile(zip_path).namelist()
    probe = ("from pyspark.sql.pandas.utils import require_minimum_pandas_version, require_minimum_pyarrow_version\n"
             "require_minimum_pandas_version(); require_minimum_pyarrow_version()\n"
             "import callcenter.spark_job, callcenter.spark_engine, callcenter.credentials, vault_aws_login, hvac\n"
             "import pyarrow, pyarrow.compute as pc\n"
             "assert pc.utf8_normalize(pyarrow.array(['e\\u0301']), form='NFC').to_pylist() == ['\\u00e9']\n"
             "print(pyarrow.__version__)")
    path = os.pathsep.join([*_spark_python_libs(), str(zip_path)])
    done = _run(env_python, "-c", probe, env={"PYTHONPATH": path, "PATH": os.environ.get("PATH", "")}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    pinned = dict(line.split("==") for line in image.requirements().splitlines())
    assert done.stdout.strip() == pinned["pyarrow"]


def test_the_spark_tests_python_workers_run_on_this_env(env_python, spark):  # noqa: F811 - the session fixture
    """So test_spark_engine.py and test_spark_job.py prove parity on the images' pins, not the Airflow venv's."""
    where = spark.sparkContext.parallelize([0], 1).map(lambda _: __import__("sys").prefix).collect()
    assert [Path(p).resolve() for p in where] == [env_python.parent.parent.resolve()]
