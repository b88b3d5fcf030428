"""The Spark job's Python environment on EMR Serverless: a custom image (issue 12), versioned by content.

Why an image: EMR 7.x images run Python 3.9 and the job needs the worker's Python (3.12, MWAA's Airflow
3.3.1 image; the code uses ``datetime.UTC``) and the worker's pyarrow/numpy/duckdb/hvac/boto3/google-auth.
EMR Serverless user guide, "Customizing an EMR Serverless image": build FROM
public.ecr.aws/emr-serverless/spark/<release>:latest, switch to root to install, back to hadoop:hadoop.

One source of versions: the requirements are *derived* from the Airflow lock (airflow/constraints.txt,
uv-compiled with ``# via`` annotations): the job's distributions plus everything the lock says they pull
in, at the lock's pins. Installed with ``--no-deps`` and then ``pip check``, so the image holds exactly
those versions and a dependency the closure missed fails the build instead of resolving a new version.

The tag is the content hash of the release label, the Dockerfile and the derived requirements: same
inputs, same tag (ECR tags are immutable); a lock bump of any job dependency is a new tag.

    python spark/emr-image/image.py requirements          # what the image installs
    python spark/emr-image/image.py tag --release emr-7.8.0
    python spark/emr-image/image.py push --env dev        # docker build + push, prints the image URI

Stdlib only at top level: stacks/aws.py loads this file to name the image the application runs.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DOCKERFILE = HERE / "Dockerfile"
LOCK = REPO / "airflow" / "constraints.txt"

#: What the job's code imports outside the standard library and Spark (callcenter/*.py and the
#: vault_aws_login plugin, telemetry off): tests/modules/aws/test_spark_image.py derives this set from
#: the code's imports and fails when it drifts.
#: pyyaml: the kernel reads the domain contracts (airflow/dags/domains/*.yaml, shipped in the job's zip).
JOB_DISTRIBUTIONS = ("boto3", "duckdb", "google-auth", "hvac", "numpy", "pyarrow", "pyyaml")
#: What PySpark itself needs on the Python side for the job's mapInArrow: in Spark 3.5 it goes through
#: pyspark.sql.pandas.functions.pandas_udf, which calls require_minimum_pandas_version() (pandas absent:
#: the driver fails before the first task).
SPARK_DISTRIBUTIONS = ("pandas",)
#: The interpreter the Dockerfile installs; spark_job.IMAGE_PYTHON names the same path (a test checks).
PYTHON = "/usr/bin/python3.12"

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


def image_tag(release_label: str, lock_text: str | None = None, dockerfile: bytes | None = None) -> str:
    """Content address of the image: release label, Dockerfile and derived requirements."""
    digest = hashlib.sha256()
    for part in (release_label.encode(), DOCKERFILE.read_bytes() if dockerfile is None else dockerfile,
                 requirements(lock_text).encode()):
        digest.update(part + b"\0")
    return f"{release_label}-{digest.hexdigest()[:16]}"


def registry(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def image_uri(account_id: str, region: str, repository: str, release_label: str) -> str:
    """Where `push` puts the image and the application reads it (the stack computes the same string)."""
    return f"{registry(account_id, region)}/{repository}:{image_tag(release_label)}"


def _run(*command: str, stdin: bytes | None = None) -> None:
    result = subprocess.run(command, input=stdin, check=False)
    if result.returncode:
        raise SystemExit(f"spark image: `{' '.join(command[:3])} ...` failed (exit {result.returncode})")


def push(env_name: str) -> str:
    """docker build + push of the environment's image; returns its URI. Needs docker and the aws CLI."""
    for tool in ("docker", "aws"):
        if shutil.which(tool) is None:
            raise SystemExit(f"make spark-image: `{tool}` is not on PATH (the image is built with docker and pushed with the aws CLI's ECR login)")
    daemon = subprocess.run(("docker", "info", "--format", "{{.ServerVersion}}"), capture_output=True, text=True, check=False)
    if daemon.returncode:
        raise SystemExit("make spark-image: docker is installed but its daemon is not reachable (`docker info` failed); start it or set DOCKER_HOST")
    sys.path.insert(0, str(REPO))
    from environments import naming
    from environments.schema import ENVIRONMENTS_DIR, load_environment

    env = load_environment(ENVIRONMENTS_DIR / f"{env_name}.yaml")
    if not env.spark.enabled:
        raise SystemExit(f"environments/{env_name}.yaml: spark.enabled is false, no EMR Serverless application to build for")
    release = env.spark.aws.release_label
    uri = image_uri(env.aws.account_id, env.aws.region, naming.emr_spark_application(env.prefix, env.name), release)
    with tempfile.TemporaryDirectory(prefix="spark-image-") as context:
        shutil.copy(DOCKERFILE, Path(context) / "Dockerfile")
        (Path(context) / "requirements.txt").write_text(requirements())
        # EMR Serverless runs the application's architecture (modules/aws/emr_serverless.ARCHITECTURE, x86_64).
        _run("docker", "build", "--platform", "linux/amd64", "--build-arg", f"RELEASE_LABEL={release}", "-t", uri, context)
    login = subprocess.run(("aws", "ecr", "get-login-password", "--region", env.aws.region), capture_output=True, check=False)
    if login.returncode:
        raise SystemExit(f"spark image: aws ecr get-login-password failed: {login.stderr.decode().strip()[:200]}")
    _run("docker", "login", "--username", "AWS", "--password-stdin", registry(env.aws.account_id, env.aws.region), stdin=login.stdout)
    _run("docker", "push", uri)
    return uri


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("requirements")
    sub.add_parser("tag").add_argument("--release", required=True)
    sub.add_parser("push").add_argument("--env", required=True)
    args = parser.parse_args(argv)
    if args.command == "requirements":
        sys.stdout.write(requirements())
    elif args.command == "tag":
        print(image_tag(args.release))
    else:
        print(push(args.env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
