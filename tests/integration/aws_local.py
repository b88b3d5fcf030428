"""Helpers for applying the local AWS stacks to a moto server: the server, and terraform runs.

Everything a run writes stays in the caller's temporary folder: the synthesized
stacks live there, so their local backend (``../../../.state``) and the
cross-stack remote-state reads resolve there too, never in the repo's .state/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import REPO, require

MOTO_SERVER = REPO / ".venv" / "bin" / "moto_server"
#: moto ignores credentials; these placeholders only satisfy the AWS SDK. Passed by environment, never in JSON.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "moto-local", "AWS_SECRET_ACCESS_KEY": "moto-local"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``moto_server`` on 127.0.0.1 at a free port; stopped by its own PID."""

    def __init__(self, log: Path):
        require(MOTO_SERVER.is_file(), f"{MOTO_SERVER} is missing (make setup installs moto[server])")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)], stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).close()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"moto_server not ready on {self.url} after {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def terraform_env(endpoint: str, rc: Path) -> dict[str, str]:
    return {
        **os.environ,
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
        "TF_VAR_aws_endpoint": endpoint,
        "TF_CLI_CONFIG_FILE": str(rc),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }


def terraform(stack_dir: Path, env: dict[str, str], *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["terraform", *args, "-no-color", "-input=false"], cwd=stack_dir, env=env,
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def terraform_rc(tmp: Path) -> Path:
    """The Makefile's provider config (offline mirror) if set, else one generated the same way."""
    configured = os.environ.get("TF_CLI_CONFIG_FILE")
    if configured and Path(configured).is_file():
        return Path(configured)
    rc = tmp / "terraform.rc"
    subprocess.run([str(REPO / "scripts" / "terraform_rc.sh"), str(rc)], check=True, capture_output=True)
    return rc
