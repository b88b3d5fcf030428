"""The Spark job's runtime image on EMR Serverless (issue 12): the ECR repository (KMS, scan on push,
immutable tags, lifecycle, a pull policy for this application only), the application naming the image by
its content tag, and the image installing exactly the lock's versions of what the job imports.
Docker is not run here: the Dockerfile is checked as text, the build is README's "unproven"."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from cdktf import Testing as CdktfTesting  # renamed: pytest would try to collect "Test*" classes
from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider

from environments.schema import ENVIRONMENTS_DIR, load_environment
from modules.aws.ecr_repository import EcrRepositoryProps
from modules.aws.emr_serverless import EmrServerlessProps, EmrServerlessSpark, SparkNetwork
from tests.conftest import REPO
from tests.modules.aws.spark_support import spark_stacks

DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
IMAGE_DIR = REPO / "spark" / "image"
CALLCENTER = REPO / "airflow" / "dags" / "callcenter"
LOCK_TEXT = (REPO / "airflow" / "constraints.txt").read_text()


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


image = _load("spark_image_for_tests", IMAGE_DIR / "image.py")
spark_job = _load("spark_job_for_image", CALLCENTER / "spark_job.py")


@pytest.fixture(scope="module")
def platform():
    return spark_stacks()["dev-aws-platform"]


def _ref(reference: str) -> str:
    """``${<type>.<logical id>.<attr>}`` -> ``<type>.<logical id>``."""
    return ".".join(reference.removeprefix("${").split("}", 1)[0].split(".")[:2])


# --------------------------------------------------------------------------- the repository


def test_repository_is_kms_encrypted_with_the_lake_key_scanned_and_immutable(platform):
    repo = platform.only("aws_ecr_repository")
    assert repo["name"] == "ccd-dev-spark"
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    [encryption] = repo["encryption_configuration"]
    assert encryption["encryption_type"] == "KMS"
    platform.only("aws_kms_key")  # the stack's one key, the lake key: the repository adds none
    assert _ref(encryption["kms_key"]) == "aws_kms_key." + next(iter(platform.resources("aws_kms_key")))


def test_lifecycle_keeps_only_the_newest_images(platform):
    policy = json.loads(platform.only("aws_ecr_lifecycle_policy")["policy"])
    [rule] = policy["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rule["action"] == {"type": "expire"}


def test_only_emr_serverless_pulls_and_only_for_this_application(platform):
    policy = platform.only("aws_ecr_repository_policy")
    doc_id = _ref(policy["policy"].replace("${data.", "${"))
    assert doc_id.startswith("aws_iam_policy_document."), policy["policy"]
    doc_id = doc_id.split(".", 1)[1]
    [statement] = platform.doc["data"]["aws_iam_policy_document"][doc_id]["statement"]
    assert statement["effect"] == "Allow"
    assert statement["principals"] == [{"type": "Service", "identifiers": ["emr-serverless.amazonaws.com"]}]
    assert sorted(statement["actions"]) == ["ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
    conditions = {c["variable"]: c for c in statement["condition"]}
    assert conditions["aws:SourceAccount"]["values"] == [DEV.aws.account_id]
    [source] = conditions["aws:SourceArn"]["values"]
    app_id = next(iter(platform.resources("aws_emrserverless_application")))
    assert source == f"${{aws_emrserverless_application.{app_id}.arn}}"
    assert conditions["aws:SourceArn"]["test"] == "StringEquals"


def test_keep_images_must_be_positive():
    with pytest.raises(ValueError, match="keep_images"):
        EcrRepositoryProps(name="r", account_id="1", kms_key_arn="k", puller="s", source_arn="a", keep_images=0)


def test_local_has_no_repository():
    assert spark_stacks()["local-aws-platform"].resources("aws_ecr_repository") == {}


# --------------------------------------------------------------------------- the application names the image


def test_application_runs_the_image_of_its_release_by_content_tag(platform):
    app = platform.only("aws_emrserverless_application")
    release = DEV.spark.aws.release_label
    expected = f"{DEV.aws.account_id}.dkr.ecr.{DEV.aws.region}.amazonaws.com/ccd-dev-spark:{image.image_tag(release)}"
    assert app["image_configuration"] == {"image_uri": expected}
    assert image.image_tag(release).startswith(release + "-")
    # EMR Serverless API reference, ImageConfigurationInput.imageUri: the service refuses any other shape.
    api = (r"([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+).([a-z0-9._-]+)\/((?:[a-z0-9]+(?:[-._][a-z0-9]+)*/)*[a-z0-9]+"
           r"(?:[-._][a-z0-9]+)*)(?::([a-zA-Z0-9_]+[a-zA-Z0-9-._]*)|@(sha256:[0-9a-f]{64}))")
    assert re.fullmatch(api, expected), expected


def _application(image_uri: str | None) -> dict:
    app = CdktfTesting.app()
    stack = TerraformStack(app, "test")
    AwsProvider(stack, "aws", region="eu-west-1")
    EmrServerlessSpark(stack, "spark", EmrServerlessProps(
        name="x-dev-spark", account_id="111122223333", region="eu-west-1", release_label="emr-7.8.0", max_vcpu=4,
        max_memory_gb=16, max_disk_gb=20, idle_stop_minutes=5, image_uri=image_uri,
        network=SparkNetwork(vpc_id="vpc-1", vpc_cidr="10.0.0.0/16", subnet_ids=("s-1",), route_table_ids=("r-1",),
                             vault_ips=("10.0.0.5",), vault_port=8200),
    ))
    [body] = json.loads(CdktfTesting.synth(stack))["resource"]["aws_emrserverless_application"].values()
    return body


def test_custom_image_off_leaves_the_releases_own_image():
    assert "image_configuration" not in _application(None)
    assert _application("r/x:t")["image_configuration"] == {"image_uri": "r/x:t"}
    assert DEV.spark.aws.custom_image is True  # on by default: the job cannot run on the release's Python 3.9


# --------------------------------------------------------------------------- the tag


def _bump(lock: str, name: str) -> str:
    bumped, count = re.subn(rf"^{re.escape(name)}==(\S+)$", lambda m: f"{name}=={m.group(1)}.post99", lock, flags=re.M)
    assert count == 1, name
    return bumped


def test_tag_is_deterministic_and_follows_the_jobs_pins_only():
    tag = image.image_tag("emr-7.8.0", LOCK_TEXT)
    assert tag == image.image_tag("emr-7.8.0", LOCK_TEXT)
    assert re.fullmatch(r"emr-7\.8\.0-[0-9a-f]{16}", tag)
    assert image.image_tag("emr-7.8.0", _bump(LOCK_TEXT, "pyarrow")) != tag      # a job dependency
    assert image.image_tag("emr-7.8.0", _bump(LOCK_TEXT, "urllib3")) != tag      # a transitive one
    assert image.image_tag("emr-7.8.0", _bump(LOCK_TEXT, "a2wsgi")) == tag       # Airflow's, not the job's
    assert image.image_tag("emr-7.9.0", LOCK_TEXT) != tag
    assert image.image_tag("emr-7.8.0", LOCK_TEXT, dockerfile=b"FROM x\n") != tag
    # The Dataproc image: its own Dockerfile, the same pins (tests/modules/gcp/test_dataproc_image.py).
    assert image.image_tag("emr-7.8.0", LOCK_TEXT, engine="dataproc") != tag


def test_missing_pin_is_one_clear_error():
    lock = re.sub(r"^duckdb==.*$", "", LOCK_TEXT, flags=re.M)
    with pytest.raises(SystemExit, match=r"airflow/constraints.txt: no pin for duckdb"):
        image.requirements(lock)


# --------------------------------------------------------------------------- what the image installs

#: Import name -> distribution, for the third-party names the job's code imports.
DISTRIBUTION = {"pyarrow": "pyarrow", "numpy": "numpy", "duckdb": "duckdb", "hvac": "hvac", "boto3": "boto3",
                "botocore": "botocore", "google": "google-auth", "yaml": "pyyaml"}
#: Provided by the runtime (Spark's own pyspark), Airflow-only, or off in the job (telemetry).
NOT_SHIPPED = {"pyspark", "airflow", "opentelemetry", "callcenter", "vault_aws_login"}


def _job_modules() -> list[Path]:
    """spark_job.py and every callcenter module it reaches through callcenter imports, plus the plugin."""
    seen, todo = set(), [CALLCENTER / "spark_job.py"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            if isinstance(node, ast.ImportFrom) and node.module == "callcenter":
                names = [f"callcenter.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("callcenter.") and (CALLCENTER / f"{name.split('.')[1]}.py").is_file():
                    todo.append(CALLCENTER / f"{name.split('.')[1]}.py")
    return sorted(seen) + [REPO / "airflow" / "plugins" / "vault_aws_login.py"]


def _imported_distributions() -> set[str]:
    found = set()
    for path in _job_modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top == "__future__" or top in NOT_SHIPPED:
                    continue
                assert top in DISTRIBUTION, f"{path.name} imports {top}: map it to its distribution and ship it"
                found.add(DISTRIBUTION[top])
    return found


def test_image_installs_exactly_the_locks_versions_of_what_the_job_imports():
    lines = image.requirements(LOCK_TEXT).splitlines()
    pinned = dict(line.split("==", 1) for line in lines)
    imported = _imported_distributions()
    assert imported <= pinned.keys(), imported - pinned.keys()
    assert set(image.JOB_DISTRIBUTIONS) == imported - {"botocore"}  # botocore comes with boto3
    for line in lines:
        assert re.search(rf"^{re.escape(line)}$", LOCK_TEXT, flags=re.M), f"{line} is not the lock's pin"
    assert pinned["pyarrow"].startswith("26.")
    # PySpark 3.5's mapInArrow goes through pandas_udf, which refuses to run without pandas, and its version
    # check imports distutils, gone from Python 3.12 (setuptools' shim; tests/airflow/unit/test_spark_image_env.py).
    assert image.SPARK_DISTRIBUTIONS == ("pandas", "setuptools") and {"pandas", "setuptools"} <= pinned.keys()


def test_dockerfile_builds_on_the_release_installs_the_derived_pins_and_runs_as_hadoop():
    text = (IMAGE_DIR / "emr.Dockerfile").read_text()
    assert re.search(r"^FROM public\.ecr\.aws/emr-serverless/spark/\$\{RELEASE_LABEL\}:latest$", text, flags=re.M)
    install = re.search(r"pip install ([^\n\\]*)", text).group(1)
    copied = re.search(r"^COPY requirements\.txt (\S+)$", text, flags=re.M).group(1)
    assert "--no-deps" in install and f"-r {copied}" in install
    assert "pip check" in text
    assert re.findall(r"^USER (\S+)$", text, flags=re.M)[-1] == "hadoop:hadoop"
    assert not re.search(r"==\d", text), "versions come from the lock, never from the Dockerfile"


def test_one_interpreter_the_workers_python_named_by_image_and_job():
    text = (IMAGE_DIR / "emr.Dockerfile").read_text()
    setup = (REPO / "scripts" / "setup_airflow_env.sh").read_text()
    worker = re.search(r'^PYTHON_VERSION="(3\.\d+)"', setup, flags=re.M).group(1)
    python = image.ENGINES["emr"].python
    assert python == spark_job.IMAGE_PYTHON == f"/usr/bin/python{worker}"
    assert f"ENV PYSPARK_PYTHON={python}" in text and f"dnf install -y python{worker} " in text
    assert f"{python} -m pip install" in text


def test_job_runs_its_driver_and_python_workers_on_the_images_interpreter():
    aws = type("Aws", (), {"code_uri": "s3://b/spark/", "log_uri": "s3://q/spark-logs/"})()
    params = spark_job.emr_job_driver(aws, credentials_json="{}", layout_json="{}", summary="s", items=["i"],
                                      digest="ab")["sparkSubmit"]["sparkSubmitParameters"]
    for key in ("spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON", "spark.emr-serverless.driverEnv.PYSPARK_PYTHON",
                "spark.executorEnv.PYSPARK_PYTHON"):
        assert f"--conf {key}={spark_job.IMAGE_PYTHON}" in params
