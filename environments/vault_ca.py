"""Rules for ``vault.ca_file``: the PEM CA certificate MWAA trusts for Vault's TLS.

The file ships inside plugins.zip (modules/aws/dag_bundle.py), so it must be a CA
certificate and nothing else: a private key in it would be uploaded to S3.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

REPO_DIR = Path(__file__).resolve().parent.parent
#: Names no public CA may issue a certificate for (CA/Browser Forum Baseline Requirements 4.2.2: internal
#: names are not allowed; RFC 6762 .local, RFC 8375 .home.arpa, common private suffixes).
PRIVATE_SUFFIXES = (".internal", ".local", ".lan", ".corp", ".home.arpa")
LOOPBACK_NAMES = ("localhost",)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_NAMES or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


def ca_file_problem(ca_file: str) -> str | None:
    """Why ``ca_file`` (relative to the repo) is not a usable CA certificate, or None."""
    path = REPO_DIR / ca_file
    if not path.is_file():
        return "no such file (a path relative to the repository)"
    data = path.read_bytes()
    if b"PRIVATE KEY" in data:
        return "holds a private key; ship only the CA certificate"
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        return "is not a PEM X.509 certificate"
    try:
        constraints = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        return "is not a CA certificate (basicConstraints CA:TRUE)"
    return None


def address_problem(address: str, ca_file: str | None) -> str | None:
    """http only to loopback; https to a private-use name needs the CA that signed it."""
    parts = urlsplit(address)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and not _is_loopback(host):
        return "http:// is only allowed for a loopback Vault (local); use https://"
    private = _is_ip(host) or host.endswith(PRIVATE_SUFFIXES)
    if parts.scheme == "https" and private and ca_file is None and not _is_loopback(host):
        return "a private-use name or IP: no public CA can sign it, so vault.ca_file must name its CA"
    return None
