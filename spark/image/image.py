"""The Spark job's Python environment: one custom image per engine, from one set of pins (issue 12).

Why images: the job needs the worker's Python (3.12, MWAA's Airflow 3.3.1 image; the code uses
``datetime.UTC``) and the worker's pyarrow/numpy/duckdb/hvac/boto3/google-auth/pyyaml, and neither
managed runtime has them: EMR 7.x images run Python 3.9; Dataproc Serverless runtime 2.2 runs a conda
Python 3.12 without hvac and with another pyarrow.

- ``emr``: EMR Serverless user guide, "Customizing an EMR Serverless image": FROM
  public.ecr.aws/emr-serverless/spark/<release>:latest, install as root, run as hadoop:hadoop.
- ``dataproc``: Dataproc Serverless "Use custom containers": no Spark and no JDK in the image (the
  service mounts both at run time), ``procps`` and ``tini`` installed, the ``spark`` user and group with
  UID/GID 1099 and a home directory, PYSPARK_PYTHON naming the interpreter, hosted in Artifact Registry
  (Dataproc pulls from no other registry) and readable by the batch's service account.

One source of versions: the requirements are *derived* from the Airflow lock (airflow/constraints.txt,
uv-compiled with ``# via`` annotations): the job's distributions plus everything the lock says they pull
in, at the lock's pins. Both images install them with ``--no-deps`` and then ``pip check``, so they hold
exactly those versions and a dependency the closure missed fails the build instead of resolving a new one.

The tag is the content hash of the runtime label, the engine's Dockerfile and the derived requirements:
same inputs, same tag (both registries keep tags immutable); a lock bump of any job dependency is a new tag.

    python spark/image/image.py requirements                 # what both images install
    python spark/image/image.py tag --engine emr --label emr-7.8.0
    python spark/image/image.py push --env dev [--engine emr|dataproc]   # docker build + push, prints URIs
    python spark/image/image.py env --out .cache/spark-image-env         # the same pins as a local venv

Stdlib only at top level: modules/spark_image.py loads this file so the stacks name the images the
EMR application and the Dataproc batches run.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOCK = REPO / "airflow" / "constraints.txt"

#: What the job's code imports outside the standard library and Spark (callcenter/*.py and the
#: vault_aws_login plugin, telemetry off): tests/modules/aws/test_spark_image.py derives this set from
#: the code's imports and fails when it drifts.
#: pyyaml: the kernel reads the domain contracts (airflow/dags/domains/*.yaml, shipped in the job's zip).
JOB_DISTRIBUTIONS = ("boto3", "duckdb", "google-auth", "hvac", "numpy", "pyarrow", "pyyaml")
#: What PySpark itself needs on the Python side for the job's mapInArrow: in Spark 3.5 it goes through
#: pyspark.sql.pandas.functions.pandas_udf, which calls require_minimum_pandas_version() (pandas absent:
#: the driver fails before the first task); and that check does ``from distutils.version import
#: LooseVersion`` (pyspark/sql/pandas/utils.py, 3.5.x), a module Python 3.12 removed: setuptools' distutils
#: shim provides it. Found by running the kernel's Spark tests with the workers on exactly these pins
#: (make spark-image-env): ModuleNotFoundError: No module named 'distutils' at the first mapInArrow.
SPARK_DISTRIBUTIONS = ("pandas", "setuptools")


@dataclass(frozen=True)
class Engine:
    dockerfile: Path
    #: The interpreter the image runs the job on; the job names the same path per run (a test checks):
    #: spark_job.IMAGE_PYTHON (EMR) and dataproc.IMAGE_PYTHON.
    python: str


ENGINES = {
    # AL2023's python3.12 package, beside the system Python 3.9 that EMR's own tooling keeps.
    "emr": Engine(HERE / "emr.Dockerfile", "/usr/bin/python3.12"),
    # The python:3.12-slim-bookworm base (Debian 12, the custom-container guide's recommended OS).
    "dataproc": Engine(HERE / "dataproc.Dockerfile", "/usr/local/bin/python3.12"),
}
#: The image's name inside the Artifact Registry repository (ECR names the image by the repository alone).
DATAPROC_IMAGE = "spark-job"

#: How both Dockerfiles and `env` install the requirements: exactly the pins, wheels only (a test checks
#: that each Dockerfile's pip line carries these flags).
PIP_INSTALL = ("--no-deps", "--only-binary=:all:")
#: The marker `env` leaves in a built environment: the sha256 of the requirements it holds.
ENV_MARKER = ".spark-image-requirements.sha256"

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _normalise(name: str) -> str:
    """PEP 503 name: the lock and the ``# via`` lines spell names the same way after this."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, tuple[str, frozenset[str]]]:
    """name -> (pinned line, names the lock says require it)."""
    pins: dict[str, tuple[str, set[str]]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            current = _normalise(match.group(1))
            pins[current] = (line.split("#", 1)[0].strip(), set())
            continue
        comment = line.strip().removeprefix("#").strip()
        if current is None or not line.startswith(" ") or not comment:
            continue
        # "# via a", or "# via" followed by "#   a" lines; -c / -r lines name files, not packages.
        comment = comment.removeprefix("via").strip()
        if comment and not comment.startswith(("-c ", "-r ")):
            pins[current][1].add(_normalise(comment.split()[0]))
    return {name: (line, frozenset(parents)) for name, (line, parents) in pins.items()}


def requirements(lock_text: str | None = None) -> str:
    """The job's (and PySpark's) distributions and their closure in the lock, at the lock's versions."""
    pins = parse_lock(LOCK.read_text() if lock_text is None else lock_text)
    wanted = {_normalise(n) for n in (*JOB_DISTRIBUTIONS, *SPARK_DISTRIBUTIONS)}
    missing = sorted(wanted - pins.keys())
    if missing:
        raise SystemExit(f"{LOCK.relative_to(REPO)}: no pin for {', '.join(missing)} (the Spark image installs the lock's versions)")
    while True:
        more = {name for name, (_, parents) in pins.items() if parents & wanted} - wanted
        if not more:
            break
        wanted |= more
    return "".join(f"{pins[name][0]}\n" for name in sorted(wanted))


def image_tag(label: str, lock_text: str | None = None, dockerfile: bytes | None = None, *, engine: str = "emr") -> str:
    """Content address of an engine's image: runtime label, the engine's Dockerfile, derived requirements."""
    digest = hashlib.sha256()
    for part in (label.encode(), ENGINES[engine].dockerfile.read_bytes() if dockerfile is None else dockerfile,
                 requirements(lock_text).encode()):
        digest.update(part + b"\0")
    return f"{label}-{digest.hexdigest()[:16]}"


def registry(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def image_uri(account_id: str, region: str, repository: str, release_label: str) -> str:
    """The EMR image: where `push` puts it and the application reads it (the stack computes the same string)."""
    return f"{registry(account_id, region)}/{repository}:{image_tag(release_label)}"


def dataproc_label(runtime_version: str) -> str:
    """The Dataproc image's tag prefix: the runtime it is built for (Spark 3.5 on runtime 2.2)."""
    return f"dataproc-{runtime_version}"


def artifact_registry_host(region: str) -> str:
    return f"{region}-docker.pkg.dev"


def dataproc_image_uri(project: str, region: str, repository: str, runtime_version: str) -> str:
    """The Dataproc image: <region>-docker.pkg.dev/<project>/<repository>/spark-job:<content tag>, the
    batch's runtimeConfig.containerImage (the stack writes it into the domain's Spark Variable)."""
    tag = image_tag(dataproc_label(runtime_version), engine="dataproc")
    return f"{artifact_registry_host(region)}/{project}/{repository}/{DATAPROC_IMAGE}:{tag}"


def _run(*command: str, stdin: bytes | None = None) -> None:
    result = subprocess.run(command, input=stdin, check=False)
    if result.returncode:
        raise SystemExit(f"spark image: `{' '.join(command[:3])} ...` failed (exit {result.returncode})")


def _secret(command: tuple[str, ...], what: str) -> bytes:
    """A registry password from the cloud's CLI (never echoed: it goes to docker login's stdin)."""
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode:
        raise SystemExit(f"spark image: {what} failed: {result.stderr.decode().strip()[:200]}")
    return result.stdout.strip()


def _require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise SystemExit(f"make spark-image: `{tool}` is not on PATH (the images are built with docker and "
                             "pushed with the aws CLI's ECR login or gcloud's access token)")
    daemon = subprocess.run(("docker", "info", "--format", "{{.ServerVersion}}"), capture_output=True, text=True, check=False)
    if daemon.returncode:
        raise SystemExit("make spark-image: docker is installed but its daemon is not reachable (`docker info` failed); start it or set DOCKER_HOST")


def _build_and_push(engine: str, uri: str, label: str, registry_host: str, login: tuple[str, bytes]) -> str:
    with tempfile.TemporaryDirectory(prefix="spark-image-") as context:
        shutil.copy(ENGINES[engine].dockerfile, Path(context) / "Dockerfile")
        (Path(context) / "requirements.txt").write_text(requirements())
        # Both services run x86_64 (modules/aws/emr_serverless.ARCHITECTURE; Dataproc Serverless is amd64 only).
        build_arg = ("--build-arg", f"RELEASE_LABEL={label}") if engine == "emr" else ()
        _run("docker", "build", "--platform", "linux/amd64", *build_arg, "-t", uri, context)
    user, password = login
    _run("docker", "login", "--username", user, "--password-stdin", registry_host, stdin=password)
    _run("docker", "push", uri)
    return uri


def build_env(out: Path, python: str = sys.executable) -> Path:
    """The images' Python environment without docker: a venv on a Python of the images' minor holding
    exactly the derived pins, installed as the Dockerfiles install them, then `pip check`. `make test` runs
    the Spark tests with their Python workers on it (SPARK_WORKER_PYTHON), so the kernel's parity is proven
    on what the images ship, not on the Airflow venv. Returns its interpreter; a current one is kept."""
    wanted = re.search(r"python(3\.\d+)$", ENGINES["dataproc"].python).group(1)
    found = subprocess.run((python, "-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"),
                           capture_output=True, text=True, check=False).stdout.strip()
    if found != wanted:
        raise SystemExit(f"spark image env: {python} is Python {found or '?'}, the images run {wanted} (pass --python)")
    text = requirements()
    digest = hashlib.sha256(text.encode()).hexdigest()
    interpreter = out / "bin" / "python"
    if (out / ENV_MARKER).is_file() and (out / ENV_MARKER).read_text().strip() == digest and interpreter.exists():
        return interpreter
    shutil.rmtree(out, ignore_errors=True)
    _run(python, "-m", "venv", str(out))
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
        pins.write(text)
    try:
        _run(str(interpreter), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PIP_INSTALL, "-r", pins.name)
    finally:
        Path(pins.name).unlink()
    _run(str(interpreter), "-m", "pip", "check", "--disable-pip-version-check")
    (out / ENV_MARKER).write_text(digest + "\n")  # last: an interrupted build is rebuilt next time
    return interpreter


def push(env_name: str, engines: tuple[str, ...] = tuple(ENGINES)) -> list[str]:
    """docker build + push of the environment's images; returns their URIs. EMR needs the aws CLI,
    Dataproc gcloud (its repository exists where the GCP side is deployed)."""
    sys.path.insert(0, str(REPO))
    from environments import naming
    from environments.schema import ENVIRONMENTS_DIR, load_environment

    env = load_environment(ENVIRONMENTS_DIR / f"{env_name}.yaml")
    if not env.spark.enabled:
        raise SystemExit(f"environments/{env_name}.yaml: spark.enabled is false, no Spark image to build")
    if "dataproc" in engines and not env.gcp.terraform.enabled:
        if engines == ("dataproc",):
            raise SystemExit(f"environments/{env_name}.yaml: gcp.terraform.enabled is false, no Artifact Registry to push to")
        engines = tuple(e for e in engines if e != "dataproc")
    _require("docker", *(("aws",) if "emr" in engines else ()), *(("gcloud",) if "dataproc" in engines else ()))
    uris = []
    if "emr" in engines:
        release = env.spark.aws.release_label
        host = registry(env.aws.account_id, env.aws.region)
        password = _secret(("aws", "ecr", "get-login-password", "--region", env.aws.region), "aws ecr get-login-password")
        uri = image_uri(env.aws.account_id, env.aws.region, naming.emr_spark_application(env.prefix, env.name), release)
        uris.append(_build_and_push("emr", uri, release, host, ("AWS", password)))
    if "dataproc" in engines:
        runtime = env.spark.gcp.runtime_version
        # Artifact Registry's Docker login: the user "oauth2accesstoken" and a short-lived access token.
        password = _secret(("gcloud", "auth", "print-access-token"), "gcloud auth print-access-token")
        uri = dataproc_image_uri(env.gcp.project_id, env.gcp.region, naming.gcp_spark_repository(env.prefix, env.name), runtime)
        uris.append(_build_and_push("dataproc", uri, dataproc_label(runtime), artifact_registry_host(env.gcp.region),
                                    ("oauth2accesstoken", password)))
    return uris


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("requirements")
    tag = sub.add_parser("tag")
    tag.add_argument("--engine", choices=sorted(ENGINES), default="emr")
    tag.add_argument("--label", required=True, help="the EMR release label, or dataproc-<runtime version>")
    push_parser = sub.add_parser("push")
    push_parser.add_argument("--env", required=True)
    push_parser.add_argument("--engine", choices=sorted(ENGINES), help="one engine's image only (default: every engine the environment has)")
    build = sub.add_parser("env", help="the images' Python environment as a local venv (no docker)")
    build.add_argument("--out", required=True, type=Path)
    build.add_argument("--python", default=sys.executable, help="a Python of the images' minor version")
    args = parser.parse_args(argv)
    if args.command == "requirements":
        sys.stdout.write(requirements())
    elif args.command == "tag":
        print(image_tag(args.label, engine=args.engine))
    elif args.command == "env":
        print(build_env(args.out.resolve(), args.python))
    else:
        print("\n".join(push(args.env, (args.engine,) if args.engine else tuple(ENGINES))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
