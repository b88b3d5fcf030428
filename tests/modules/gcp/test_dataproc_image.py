"""The Spark job's runtime image on Dataproc Serverless (issue 12): the Artifact Registry repository (CMEK with
the lake key after the service agent's grant, immutable tags, cleanup, readers = the batch accounts only), the
Variable naming the image by its content tag, the Dockerfile following "Use custom containers", and the route
to the registry (the pkg.dev private zone). Docker is not run here: the build is README's "unproven"."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from environments import naming
from environments.schema import ENVIRONMENTS_DIR, load_environment
from modules.gcp.artifact_registry import DockerRepositoryProps
from modules.spark_image import IMAGE_SCRIPT, dataproc_image_uri, image_module
from tests.conftest import REPO
from tests.modules.aws.spark_support import engine_choice, spark_stacks

DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
DOMAINS = sorted(d.name for d in DEV.domains)
DOCKERFILE = REPO / "spark" / "image" / "dataproc.Dockerfile"
LOCK_TEXT = (REPO / "airflow" / "constraints.txt").read_text()
image = image_module()


@pytest.fixture(scope="module")
def platform():
    return spark_stacks()["dev-gcp-platform"]


def _logical(reference: str) -> str:
    return reference.split("}", 1)[0].removeprefix("${").split(".")[1]


# --------------------------------------------------------------------------- the repository


def test_repository_is_docker_cmek_with_the_lake_key_immutable_and_cleaned(platform):
    repo = platform.only("google_artifact_registry_repository")
    assert repo["repository_id"] == naming.gcp_spark_repository(DEV.prefix, DEV.name) == "ccd-dev-spark"
    assert (repo["format"], repo["mode"], repo["location"]) == ("DOCKER", "STANDARD_REPOSITORY", DEV.gcp.region)
    assert repo["docker_config"] == {"immutable_tags": True}
    lake_key = next(k for k in platform.resources("google_kms_crypto_key") if "lake" in k)
    assert repo["kms_key_name"] == f"${{google_kms_crypto_key.{lake_key}.id}}"
    assert repo["cleanup_policy_dry_run"] is False
    policies = {p["id"]: p for p in repo["cleanup_policies"]}
    assert policies["keep-newest"]["action"] == "KEEP"
    assert policies["keep-newest"]["most_recent_versions"] == {"keep_count": 10}
    assert policies["delete-old"]["action"] == "DELETE"
    assert policies["delete-old"]["condition"] == {"tag_state": "ANY", "older_than": f"{30 * 86400}s"}


def test_the_registry_agent_may_use_the_lake_key_before_the_repository_exists(platform):
    grants = {k: v for k, v in platform.resources("google_kms_crypto_key_iam_member").items()
              if "gcp-sa-artifactregistry.iam.gserviceaccount.com" in v["member"]}
    [(grant_id, grant)] = grants.items()
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter" and "lake" in _logical(grant["crypto_key_id"])
    assert re.fullmatch(r"serviceAccount:service-\$\{data\.google_project\.[^}]+\.number\}@gcp-sa-artifactregistry"
                        r"\.iam\.gserviceaccount\.com", grant["member"]), grant["member"]
    repo = platform.only("google_artifact_registry_repository")
    assert f"google_kms_crypto_key_iam_member.{grant_id}" in repo["depends_on"]


def test_only_the_domains_batch_accounts_may_pull(platform):
    members = list(platform.resources("google_artifact_registry_repository_iam_member").values())
    spark_accounts = {k for k in platform.resources("google_service_account") if k.startswith("spark_account-")}
    assert len(spark_accounts) == len(DOMAINS)
    assert {m["role"] for m in members} == {"roles/artifactregistry.reader"}
    assert sorted(_logical(m["member"].removeprefix("serviceAccount:")) for m in members) == sorted(spark_accounts)
    repo_id = next(iter(platform.resources("google_artifact_registry_repository")))
    assert {m["repository"] for m in members} == {f"${{google_artifact_registry_repository.{repo_id}.name}}"}
    # No other binding of any kind on the repository (a writer is CI's project role, never a member here).
    assert platform.resources("google_artifact_registry_repository_iam_binding") == {}
    assert platform.resources("google_artifact_registry_repository_iam_policy") == {}


@pytest.mark.parametrize("readers, keep, rule", [
    (("allUsers",), 10, "must not include allUsers"),
    (("serviceAccount:a@p.iam.gserviceaccount.com", "allAuthenticatedUsers"), 10, "must not include allAuthenticatedUsers"),
    ((), 0, "keep_versions must be at least 1, not 0"),
])
def test_props_refuse_public_readers_and_an_empty_keep(readers, keep, rule):
    with pytest.raises(ValueError, match=rule):
        DockerRepositoryProps(project="p", location="europe-west1", repository_id="r", kms_key_id="k",
                              readers=readers, keep_versions=keep)


def test_the_network_stack_enables_the_registry_api_with_dataprocs():
    services = {s["service"] for s in spark_stacks()["dev-gcp-network"].resources("google_project_service").values()}
    assert {"dataproc.googleapis.com", "artifactregistry.googleapis.com"} <= services


def test_ci_deployer_manages_the_registry_and_the_planner_reads_it():
    from modules.gcp.workload_identity_federation import DEPLOYER_ROLES, PLANNER_ROLES

    assert "roles/artifactregistry.admin" in DEPLOYER_ROLES and "roles/artifactregistry.reader" in PLANNER_ROLES


# --------------------------------------------------------------------------- the Variable names the image


def test_every_domains_variable_names_the_image_by_its_content_tag():
    vault = spark_stacks()["dev-vault"]
    runtime = DEV.spark.gcp.runtime_version
    expected = dataproc_image_uri(DEV.gcp.project_id, DEV.gcp.region, "ccd-dev-spark", runtime)
    tag = image.image_tag(f"dataproc-{runtime}", engine="dataproc")
    assert expected == f"{DEV.gcp.region}-docker.pkg.dev/{DEV.gcp.project_id}/ccd-dev-spark/spark-job:{tag}"
    assert re.fullmatch(r"dataproc-2\.2-[0-9a-f]{16}", tag)
    for domain in DOMAINS:
        text = vault.doc["output"][f"variable-{domain}_spark"]["value"]
        # The DAGs' own reader accepts it (its rule: Artifact Registry, tagged).
        settings = engine_choice().SparkSettings.from_json(text, f"{domain}_spark")
        assert settings.gcp.container_image == expected


def test_tag_follows_the_dockerfile_and_the_jobs_pins_not_airflows():
    label = "dataproc-2.2"
    tag = image.image_tag(label, LOCK_TEXT, engine="dataproc")
    assert tag == image.image_tag(label, LOCK_TEXT, engine="dataproc")
    assert tag != image.image_tag(label, LOCK_TEXT, engine="emr")                       # another Dockerfile
    assert tag != image.image_tag(label, LOCK_TEXT, dockerfile=b"FROM x\n", engine="dataproc")
    bumped = re.sub(r"^pyarrow==(\S+)$", r"pyarrow==\1.post99", LOCK_TEXT, flags=re.M)
    assert image.image_tag(label, bumped, engine="dataproc") != tag
    airflow_only = re.sub(r"^a2wsgi==(\S+)$", r"a2wsgi==\1.post99", LOCK_TEXT, flags=re.M)
    assert airflow_only != LOCK_TEXT and image.image_tag(label, airflow_only, engine="dataproc") == tag


# --------------------------------------------------------------------------- the Dockerfile


def _dataproc_image_python() -> str:
    """callcenter/dataproc.IMAGE_PYTHON, read as text: the module imports Airflow, absent from this venv."""
    text = (REPO / "airflow" / "dags" / "callcenter" / "dataproc.py").read_text()
    return re.search(r'^IMAGE_PYTHON = "([^"]+)"$', text, flags=re.M).group(1)


def test_dockerfile_follows_the_custom_container_rules():
    text = DOCKERFILE.read_text()
    setup = (REPO / "scripts" / "setup_airflow_env.sh").read_text()
    worker = re.search(r'^PYTHON_VERSION="(3\.\d+)"', setup, flags=re.M).group(1)
    # Debian 12 with the workers' Python minor.
    assert re.findall(r"^FROM (\S+)$", text, flags=re.M) == [f"python:{worker}-slim-bookworm"]
    # Spark's scripts need ps (procps) and tini; no Spark and no JDK (Dataproc mounts both).
    assert re.search(r"apt-get install -y --no-install-recommends [^\n]*\bprocps\b[^\n]*\btini\b", text)
    for forbidden in ("openjdk", "default-jre", "pyspark", "spark-3", "JAVA_HOME"):
        assert forbidden not in text.lower().replace("pyspark_python", ""), forbidden
    # The spark user and group, UID/GID 1099, with a home; the container runs as it.
    assert "groupadd -g 1099 spark" in text and re.search(r"useradd -u 1099 -g 1099 (-d \S+ )?-m spark\b", text)
    assert re.findall(r"^USER (\S+)$", text, flags=re.M)[-1] == "spark"


def test_dockerfile_installs_exactly_the_derived_pins_on_the_interpreter_the_batch_names():
    text = DOCKERFILE.read_text()
    python = image.ENGINES["dataproc"].python
    assert python == _dataproc_image_python() == "/usr/local/bin/python3.12"
    assert f"ENV PYSPARK_PYTHON={python}" in text
    copied = re.search(r"^COPY requirements\.txt (\S+)$", text, flags=re.M).group(1)
    install = re.search(rf"{re.escape(python)} -m pip install ([^\n\\]*)", text).group(1)
    assert "--no-deps" in install and "--only-binary=:all:" in install and f"-r {copied}" in install
    assert f"{python} -m pip check" in text
    assert not re.search(r"==\d", text), "versions come from the lock, never from the Dockerfile"


# --------------------------------------------------------------------------- pushing


def _push(env: str, engine: str, path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(IMAGE_SCRIPT), "push", "--env", env, "--engine", engine],
                          capture_output=True, text=True, env={**os.environ, "PATH": path}, check=False)


def test_push_without_its_tools_or_its_spark_is_one_clear_line(tmp_path):
    missing = _push("dev", "dataproc", str(tmp_path))  # an empty PATH: no docker, no gcloud
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == ("make spark-image: `docker` is not on PATH (the images are built with docker "
                                      "and pushed with the aws CLI's ECR login or gcloud's access token)")
    off = _push("local", "dataproc", str(tmp_path))
    assert off.returncode == 1 and "Traceback" not in off.stderr
    assert off.stderr.strip() == "environments/local.yaml: spark.enabled is false, no Spark image to build"


# --------------------------------------------------------------------------- the route to the registry


def test_pkg_dev_answers_the_private_google_access_vip_where_googleapis_does():
    network = spark_stacks()["dev-gcp-network"]
    assert DEV.fabric.enabled and DEV.fabric.gcs_access == "private"
    zones = {z["dns_name"]: z for z in network.resources("google_dns_managed_zone").values()}
    assert zones["pkg.dev."]["visibility"] == "private"
    assert zones["pkg.dev."]["private_visibility_config"] == zones["googleapis.com."]["private_visibility_config"]
    records = {(r["name"], r["type"]): r["rrdatas"] for r in network.resources("google_dns_record_set").values()}
    assert records[("pkg.dev.", "A")] == records[("private.googleapis.com.", "A")]
    assert records[("*.pkg.dev.", "CNAME")] == ["pkg.dev."]
    assert records[("pkg.dev.", "A")] == ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
