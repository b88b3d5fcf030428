"""Provision the local platform on the stand-ins, feed it, and read back what landed.

Shared by `make demo` (scripts/demo.py) and the end-to-end tests, so both run the
same flow:
- the local AWS stacks applied by Terraform against moto (same helpers as
  tests/integration/test_local_aws_apply.py, from tests/integration/aws_local.py)
- the GCS buckets and the Azure container that environments/local.yaml names
  (terraform is switched off for GCP and Azure locally; same naming functions)
- Airflow connections, the layout and the masking key in OpenBao, where the
  VaultBackend reads them
- the call exports in the raw zone, the call-quality tables in Azure
- a read-back of every store into a local folder, and a scan of it for raw PII
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "airflow" / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from callcenter import stores
from callcenter.layout import Layout, Names
from callcenter.masking import NOTES_PHONE_PATTERN

from environments import naming
from environments.schema import Environment, load_environment
from scripts import airflow_secrets
from scripts.airflow_secrets import Conn
from scripts.standins import Standins

IAC_PYTHON = REPO / ".venv" / "bin" / "python"
#: Applied in this order: the first wave in parallel, then what reads its state.
AWS_WAVES: tuple[tuple[str, ...], ...] = (("aws-network", "aws-platform"), ("aws-orchestration",))


def local_environment() -> Environment:
    return load_environment(REPO / "environments" / "local.yaml")


# --------------------------------------------------------------------------- AWS via Terraform


def synth_local(outdir: Path) -> Path:
    """Synthesize only the local environment (the IaC venv has cdktf)."""
    env = {**os.environ, "CLOUD_CONDUCTOR_EAGER_PROVIDERS": "0"}
    env.pop("CDKTF_OUTDIR", None)
    result = subprocess.run([str(IAC_PYTHON), str(REPO / "main.py"), "--env", "local", "--outdir", str(outdir)],
                            cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"synth failed: {result.stderr.strip()[-2000:]}")
    return outdir / "stacks"


class StoppableTerraform:
    """terraform runs, each in its own process group and tracked, so an interrupted
    demo stops them at once instead of waiting ~2 min for an apply against moto.
    (tests/integration/aws_local.terraform runs to completion; a test has no Ctrl-C.)"""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def __call__(self, stack_dir: Path, *args: str) -> tuple[int, str]:
        with tempfile.TemporaryFile() as out:
            process = subprocess.Popen(["terraform", *args, "-no-color", "-input=false"], cwd=stack_dir,
                                       env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            with self._lock:
                self._running.add(process)
            try:
                code = process.wait()
            finally:
                with self._lock:
                    self._running.discard(process)
            out.seek(0)
            return code, out.read().decode("utf-8", "replace")

    def stop(self) -> None:
        """SIGINT first (terraform stops cleanly and releases its state), then SIGKILL."""
        with self._lock:
            running = list(self._running)
        for sig in (signal.SIGINT, signal.SIGKILL):
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
            deadline = time.monotonic() + 10
            while any(p.poll() is None for p in running) and time.monotonic() < deadline:
                time.sleep(0.1)


def apply_local_aws(stacks_dir: Path, moto_url: str, workdir: Path,
                    progress: Callable[[str], None] = print) -> dict[str, float]:
    """terraform init + apply of every local AWS stack against moto; seconds per stack."""
    from tests.integration.aws_local import terraform_env, terraform_rc

    terraform = StoppableTerraform(terraform_env(moto_url, terraform_rc(workdir)))
    waves = [[f"local-{c}" for c in wave if (stacks_dir / f"local-{c}").is_dir()] for wave in AWS_WAVES]
    timings: dict[str, float] = {}

    def run(name: str, *args: str) -> None:
        started = time.monotonic()
        code, output = terraform(stacks_dir / name, *args)
        if code != 0:
            raise RuntimeError(f"terraform {args[0]} {name} failed:\n{output[-3000:]}")
        if args[0] == "apply":
            timings[name] = round(time.monotonic() - started, 1)
            progress(f"  applied {name} in {timings[name]:.0f} s")

    done = threading.Event()

    def heartbeat() -> None:  # the platform apply is quiet for ~100 s (moto lifecycle polling)
        started = time.monotonic()
        while not done.wait(20):
            progress(f"  still applying ({time.monotonic() - started:.0f} s)")

    threading.Thread(target=heartbeat, daemon=True).start()
    pool = ThreadPoolExecutor(2)
    try:
        for wave in waves:  # one init at a time: parallel inits race on the shared plugin cache
            for name in wave:
                run(name, "init")
        for wave in waves:
            futures = [pool.submit(run, name, "apply", "-auto-approve", "-parallelism=30") for name in wave]
            for future in futures:
                future.result()
    except BaseException:
        terraform.stop()
        raise
    finally:
        done.set()
        pool.shutdown(wait=True, cancel_futures=True)
    return timings


def create_aws_directly(layout: Layout, env: Environment, conns: dict[str, Conn], domain: str) -> None:
    """Only what the DAGs touch (the three zone buckets, the Glue database and
    crawler), created with boto3 in about a second: for the e2e tests, whose
    budget a ~2 min Terraform apply would eat. `make demo` and
    tests/integration/test_local_aws_apply.py apply the real stacks."""
    import boto3

    aws = conns["aws"]
    kwargs = {"endpoint_url": aws.extra_dejson["endpoint_url"], "region_name": env.aws.region,
              "aws_access_key_id": aws.login, "aws_secret_access_key": aws.password}
    s3 = boto3.client("s3", **kwargs)
    for bucket in (layout.raw_bucket, layout.curated_bucket, layout.quarantine_bucket):
        s3.create_bucket(Bucket=bucket)
    glue = boto3.client("glue", **kwargs)
    database = naming.glue_database(env.prefix, env.name, domain)
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=layout.glue_crawler, DatabaseName=database,
                        Role=f"arn:aws:iam::{env.aws.account_id}:role/{layout.glue_crawler}",
                        Targets={"S3Targets": [{"Path": f"s3://{layout.curated_bucket}/"}]})


# --------------------------------------------------------------------------- connections


def connections(env: Environment, standins: Standins) -> dict[str, Conn]:
    """The stand-ins' fixed credentials per cloud ("aws", "gcp", "azure"); every domain's the same here."""
    from tests.integration.aws_local import DUMMY_CREDENTIALS

    return {
        "aws": Conn("aws", DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"], DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                          {"endpoint_url": standins.moto.url, "region_name": env.aws.region}),
        "gcp": Conn("google_cloud_platform", extra={"endpoint_url": standins.gcs.url, "is_anonymous": True,
                                                          "project": env.gcp.project_id}),
        "azure": Conn("wasb", standins.azure.name, standins.azure.key,
                            {"endpoint_url": f"{standins.azurite.url}"}),
    }


def filesystems(conns: dict[str, Conn]) -> dict[str, pafs.FileSystem]:
    return {"s3": stores.filesystem(conns["aws"]), "gcs": stores.filesystem(conns["gcp"]),
            "azure": stores.filesystem(conns["azure"])}


def create_gcs_and_azure(layout: Layout, env: Environment, standins: Standins, conns: dict[str, Conn]) -> None:
    """What Terraform creates on real GCP/Azure, created here on the stand-ins (idempotent)."""
    import urllib.error
    import urllib.request

    for bucket in (layout.gcs_curated_bucket, layout.gcs_exports_bucket):
        request = urllib.request.Request(
            f"{standins.gcs.url}/storage/v1/b?project={env.gcp.project_id}",
            data=json.dumps({"name": bucket}).encode(), headers={"Content-Type": "application/json"}, method="POST")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as error:
            if error.code != 409:  # 409: exists already (a restarted run)
                raise
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    azure = conns["azure"]
    service = BlobServiceClient(f"{standins.azurite.url}/{azure.login}", credential=azure.password)
    try:
        service.create_container(layout.azure_container)
    except ResourceExistsError:
        pass


def store_in_vault(env: Environment, standins: Standins, conns: dict[str, Conn], layout: Layout,
                   masking_key: bytes, domain: str) -> None:
    """One domain's connections and variables where Airflow's VaultBackend reads them, written
    exactly as `make vault-seed` writes them for a deployed environment."""
    import hvac

    client = hvac.Client(url=standins.bao.url, token=standins.vault_token)
    mount = env.vault.kv_mount
    airflow_secrets.ensure_kv_mount(client, mount)
    # Airflow's own AWS connection (the Glue crawler hook): moto's dummy keys, no data secret.
    airflow_secrets.write_connections(client, mount, {Names(domain).conn_id("aws"): conns["aws"]})
    airflow_secrets.write_layout(client, mount, layout, domain)
    airflow_secrets.write_spark_settings(client, mount, airflow_secrets.spark_settings_for(env), domain)  # worker
    # The domain's credentials behind callcenter.credentials: the stand-ins' fixed ones, in the domain's subtree,
    # read with a token that holds nothing but read on that subtree, so the demo's tasks show they need nothing
    # else. (No aws login here: the deployed flow assumes the pipeline role and logs in as the domain; README.)
    subtree = naming.vault_domain_kv_path(domain)
    policy = f"demo-{subtree.replace('/', '-')}"
    client.sys.create_or_update_acl_policy(name=policy, policy=f'path "{mount}/data/{subtree}/*" {{\n  capabilities = ["read"]\n}}\n')
    token_file = standins.workdir / f"{domain}-vault-token"
    token_file.write_text(client.auth.token.create(policies=[policy], ttl="24h")["auth"]["client_token"])
    token_file.chmod(0o600)
    settings = airflow_secrets.standin_settings(env, standins.bao.url, str(token_file), domain)
    airflow_secrets.write_settings(client, mount, settings)
    airflow_secrets.write_domain_connections(client, mount, settings, conns)
    airflow_secrets.ensure_masking_key(client, mount, masking_key, domain)


def vault_backend_kwargs(env: Environment, standins: Standins, token_file: Path) -> dict[str, Any]:
    """The same VaultBackend settings MWAA gets (stacks/mwaa_options.py), with token
    auth to the dev server instead of AWS IAM. The token is passed as a file."""
    token_file.write_text(standins.vault_token)
    token_file.chmod(0o600)
    return {"url": standins.bao.url, "auth_type": "token", "token_path": str(token_file),
            "mount_point": env.vault.kv_mount, "kv_engine_version": 2,
            "connections_path": naming.VAULT_AIRFLOW_CONNECTIONS_PATH,
            "variables_path": naming.VAULT_AIRFLOW_VARIABLES_PATH}


def new_masking_key() -> bytes:
    return secrets.token_bytes(airflow_secrets.MASKING_KEY_BYTES)


# --------------------------------------------------------------------------- data


_TIMESTAMP_DATE = re.compile(r'("call_start_time": "\d{4}-\d{2}-\d{2})')


def generate_day(path: Path, n: int, day: date, *, seed: int = 7) -> int:
    """n synthetic call records (1% malformed, PII in notes) all on `day`: the
    generator spreads a week, so the date part of each timestamp is moved."""
    from callcenter.synthetic import records

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in records(n, seed=seed):
            out.write(move_to_day(line, day) + "\n")
    return n


def move_to_day(line: str, day: date) -> str:
    """The record's call_start_time on `day` (time of day and offset kept)."""
    return _TIMESTAMP_DATE.sub(f'"call_start_time": "{day.isoformat()}', line, count=1)


def upload(fs: pafs.FileSystem, local: Path, target: str) -> None:
    fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
    with local.open("rb") as src, fs.open_output_stream(target) as dst:
        while chunk := src.read(8 << 20):
            dst.write(chunk)


def write_call_quality(fs_azure: pafs.FileSystem, layout: Layout, day: str, callers: list[str],
                       *, seed: int = 11) -> int:
    """The Azure "call quality" source for one day: scores for ~70% of the day's
    callers plus some customers who did not call, so both sides of customer_360's
    full outer join are exercised. One row per customer; ids and scores only."""
    rng = random.Random(f"{seed}-{day}")
    chosen = [c for c in callers if rng.random() < 0.7]
    chosen += [f"cust-q{i:06d}" for i in range(max(1, len(callers) // 20))]
    table = pa.table({
        "customer_id": pa.array(chosen, pa.string()),
        "quality_score": [round(rng.uniform(1, 5), 2) for _ in chosen],
        "avg_mos": [round(rng.uniform(2.5, 4.5), 2) for _ in chosen],
        "dropped_calls": pa.array([rng.randrange(0, 3) for _ in chosen], pa.int32()),
    })
    part = f"{layout.call_quality}/call_date={day}"
    fs_azure.create_dir(part, recursive=True)
    pq.write_table(table, f"{part}/part-0.parquet", filesystem=fs_azure)
    return table.num_rows


# --------------------------------------------------------------------------- read back


def read_back(fss: dict[str, pafs.FileSystem], layout: Layout, out: Path) -> dict[str, int]:
    """Copy every object under the pipelines' folders from each stand-in into
    out/<cloud>/<bucket>/..., verbatim. Returns files per cloud."""
    roots = {
        "s3": [layout.curated, layout.quarantine, layout.processed],
        "gcs": [layout.gcs_curated, layout.customer_360],
        "azure": [layout.azure_curated, layout.call_quality],
    }
    counts: dict[str, int] = {}
    for cloud, folders in roots.items():
        fs, n = fss[cloud], 0
        for folder in folders:
            for info in fs.get_file_info(pafs.FileSelector(folder, recursive=True, allow_not_found=True)):
                if info.type != pafs.FileType.File:
                    continue
                target = out / cloud / info.path
                target.parent.mkdir(parents=True, exist_ok=True)
                with fs.open_input_stream(info.path) as src:
                    target.write_bytes(src.read())
                n += 1
        counts[cloud] = n
    return counts


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def text_of(path: Path) -> Iterable[str]:
    """Every string value in a read-back file (Parquet cells, JSON values)."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        for column in table.columns:
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                yield from (v for v in column.to_pylist() if v)
    elif path.suffix in (".jsonl", ".json"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield from _strings(json.loads(line))


def raw_pii(calls: Path) -> tuple[set[str], set[str]]:
    """Phone numbers (as digits) and e-mail addresses in the input, for the leak scan, by
    the corpus's own rule (synthetic.raw_pii: NFKC first, phones also without country code)."""
    from callcenter.synthetic import raw_pii as records_pii

    phones: set[str] = set()
    emails: set[str] = set()
    with calls.open(encoding="utf-8-sig", errors="replace") as lines:
        for line in lines:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                found = records_pii([rec])
                phones |= found[0]
                emails |= found[1]
    return phones, emails


_EMAIL = re.compile(r"[^\s@\"'<>()\[\]{},;:]+@[^\s@\"'<>()\[\]{},;:]+\.[A-Za-z]{2,}")
# The masker's own notes pattern (every separator it knows), on NFKC text, so
# full-width digits and en-dash forms are seen as the redaction sees them.
_PHONE_RUN = re.compile(NOTES_PHONE_PATTERN)


def has_pii(text: str, phones: set[str], emails: set[str]) -> bool:
    """Any e-mail address, an input e-mail in any case, or a digit run equal to an input phone."""
    text = unicodedata.normalize("NFKC", text)
    if _EMAIL.search(text) or text.strip().lower() in emails:
        return True
    return bool({re.sub(r"\D", "", m) for m in _PHONE_RUN.findall(text)} & phones)


def pii_leaks(root: Path, phones: set[str], emails: set[str]) -> list[str]:
    """Files under root holding raw PII (see has_pii). Empty when everything is masked."""
    return [str(path.relative_to(root)) for path in sorted(p for p in root.rglob("*") if p.is_file())
            if any(has_pii(text, phones, emails) for text in text_of(path))]
