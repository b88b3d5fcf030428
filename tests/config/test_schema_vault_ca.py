"""vault.ca_file and the Vault address: each rule fails with its one-line error (file, field, value, rule)."""

from __future__ import annotations

import pytest

from environments.schema import load_environment
from tests.certs import generate_ca
from tests.config.test_schema import only_problem, write_env
from tests.conftest import REPO


def _vault(**changes):
    return lambda d: d["vault"].update(changes)


def _repo_relative(path) -> str:
    # ca_file is relative to the repo; a tmp file outside it is reached with "..".
    import os

    return os.path.relpath(path, REPO)


def test_shipped_environments_name_their_ca():
    for name in ("dev", "staging", "prod"):
        assert load_environment(REPO / f"environments/{name}.yaml").vault.ca_file == f"environments/certs/{name}-vault-ca.pem"


def test_ca_file_must_exist(tmp_path):
    path = write_env(tmp_path, _vault(ca_file="environments/certs/nope.pem"))
    assert only_problem(path) == (
        f"{path}: vault.ca_file: 'environments/certs/nope.pem': no such file (a path relative to the repository)"
    )


def test_ca_file_must_be_a_certificate(tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    rel = _repo_relative(bogus)
    path = write_env(tmp_path, _vault(ca_file=rel))
    assert only_problem(path) == f"{path}: vault.ca_file: {rel!r}: is not a PEM X.509 certificate"


def test_ca_file_must_be_a_ca(tmp_path):
    rel = _repo_relative(generate_ca(tmp_path / "leaf.pem", "leaf", ca=False))
    path = write_env(tmp_path, _vault(ca_file=rel))
    assert only_problem(path) == f"{path}: vault.ca_file: {rel!r}: is not a CA certificate (basicConstraints CA:TRUE)"


def test_ca_file_must_hold_no_private_key(tmp_path):
    ca = generate_ca(tmp_path / "ca.pem", "test CA")
    with ca.open("a") as handle:
        handle.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    rel = _repo_relative(ca)
    path = write_env(tmp_path, _vault(ca_file=rel))
    assert only_problem(path) == f"{path}: vault.ca_file: {rel!r}: holds a private key; ship only the CA certificate"


@pytest.mark.parametrize("address", [
    "https://vault.dev.cloudconductor.internal:8200", "https://vault.corp:8200", "https://vault.home.arpa",
    "https://vault.lan", "https://vault.local:8200", "https://10.10.255.10:8200",
])
def test_private_https_name_requires_ca_file(tmp_path, address):
    path = write_env(tmp_path, _vault(address=address, ca_file=None))
    assert only_problem(path) == (
        f"{path}: vault.address: {address!r}: a private-use name or IP: no public CA can sign it, so vault.ca_file must name its CA"
    )


def test_public_https_name_needs_no_ca_file(tmp_path):
    env = load_environment(write_env(tmp_path, _vault(address="https://vault.example.com:8200", ca_file=None)))
    assert env.vault.ca_file is None


def test_http_only_for_loopback(tmp_path):
    path = write_env(tmp_path, _vault(address="http://vault.example.com:8200"))
    assert only_problem(path) == (
        f"{path}: vault.address: 'http://vault.example.com:8200': http:// is only allowed for a loopback Vault (local); use https://"
    )
    assert load_environment(REPO / "environments/local.yaml").vault.address.startswith("http://127.0.0.1")
