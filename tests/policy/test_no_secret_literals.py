"""No synthesized stack of any environment carries a secret-looking literal.

Secrets reach Terraform only as sensitive variables (TF_VAR_...), references or
the provider's own login, so a literal key, token, password or private key in
``cdk.tf.json`` is a leak waiting for a commit. The scanner walks every value
(including JSON documents embedded in strings, such as IAM policies and
Airflow's backend_kwargs) and reports each finding with its JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

#: Values that look like a credential wherever they appear.
SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private key block": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"),
    "Vault/OpenBao token": re.compile(r"\b(?:hv[sbr]\.[A-Za-z0-9_-]{20,}|[sbr]\.[A-Za-z0-9]{24})\b"),
    "GCP service-account key JSON": re.compile(r'"type"\s*:\s*"service_account"|"private_key_id"\s*:'),
    "Azure client secret": re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}"),
    "Azure storage account key": re.compile(r"AccountKey=[A-Za-z0-9+/]{20,}"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@${}]+:[^/\s@${}]+@"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
}

#: Fields whose value is a secret by name: only a reference (``${var.x}``, ``${data...}``) may fill them.
SECRET_FIELD = re.compile(
    r"(?:^|[_.-])(?:password|passwd|passphrase|secret|secret_key|access_key|client_secret|token|api_key|"
    r"private_key|credentials|jwt|sas|sas_token|connection_string|account_key|master_key)(?:_wo)?$",
    re.IGNORECASE,
)
#: A whole value that is one Terraform interpolation with no string literal inside it.
PURE_REFERENCE = re.compile(r'^\$\{[^"}]*\}$')


def _embedded_json(value: str):
    stripped = value.strip()
    if stripped[:1] in "{[" and stripped[-1:] in "}]":
        try:
            return json.loads(stripped)
        except ValueError:
            return None
    return None


def scan(document, where: str = "") -> Iterator[str]:
    """Every secret-looking literal in a (synthesized) JSON document, as ``<json path>: <why>``."""
    if isinstance(document, dict):
        for key, value in document.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(value, str) and value and SECRET_FIELD.search(str(key)) and not PURE_REFERENCE.match(value):
                yield f"{path}: field named like a secret holds a literal"
            yield from scan(value, path)
        if where.startswith("variable.") and where.count(".") == 1:
            secret_variable = document.get("sensitive") is True or SECRET_FIELD.search(where.split(".", 1)[1])
            if secret_variable and "default" in document:
                yield f"{where}.default: a sensitive variable has a default value"
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from scan(value, f"{where}[{index}]")
    elif isinstance(document, str):
        for why, pattern in SECRET_PATTERNS.items():
            if pattern.search(document):
                yield f"{where}: looks like a {why}"
        embedded = _embedded_json(document)
        if embedded is not None:
            yield from scan(embedded, f"{where}<json>")


def test_no_stack_of_any_environment_holds_a_secret_literal(stacks):
    envs = {name.split("-", 1)[0] for name in stacks}
    assert {"dev", "staging", "prod", "local"} <= envs
    findings = [f"{name}: {finding}" for name, stack in stacks.items() for finding in scan(stack.doc)]
    assert findings == []


def test_engine_credentials_are_sensitive_variables_without_defaults(stacks):
    """The scanner's field rule holds because these are variables; check they exist as such."""
    for name, stack in stacks.items():
        if not name.endswith("-vault"):
            continue
        variables = stack.doc["variable"]
        engine_inputs = {k: v for k, v in variables.items() if k.startswith("vault_") and k.endswith(
            ("_access_key", "_secret_key", "_credentials", "_client_id", "_client_secret"))}
        assert {"vault_aws_engine_access_key", "vault_aws_engine_secret_key"} <= set(engine_inputs), name
        for var, body in engine_inputs.items():
            assert body["sensitive"] is True and "default" not in body, f"{name}: {var}"


# --------------------------------------------------------------------------- the scanner itself can fail
# Planted values are assembled at run time so this file holds no secret-shaped literal itself.
_AWS_KEY_ID = "AKIA" + "Q3EXAMPLE7" + "ABCDEF"
_PEM = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----"
_VAULT_TOKEN = "hvs" + "." + "CAESIJ" + "x" * 24
_SA_KEY = json.dumps({"type": "service" + "_account", "private_key_id": "abc", "client_email": "x@p.iam"})
_AZURE_SECRET = "abc" + "8Q~" + "Z" * 34


@pytest.mark.parametrize(
    "document, expected",
    [
        ({"provider": {"aws": [{"region": "eu-west-1", "access_key": _AWS_KEY_ID}]}}, "AWS access key id"),
        ({"resource": {"t": {"x": {"tags": {"note": f"key {_AWS_KEY_ID} here"}}}}}, "AWS access key id"),
        ({"resource": {"t": {"x": {"ca": _PEM}}}}, "private key block"),
        ({"provider": {"vault": [{"address": "https://v:8200", "token": _VAULT_TOKEN}]}}, "Vault/OpenBao token"),
        ({"resource": {"t": {"x": {"credentials": _SA_KEY}}}}, "GCP service-account key JSON"),
        ({"resource": {"t": {"x": {"description": _AZURE_SECRET}}}}, "Azure client secret"),
        ({"resource": {"t": {"x": {"admin_password": "Winter2026!"}}}}, "field named like a secret"),
        ({"resource": {"t": {"x": {"client_secret": "${var.x}-suffix"}}}}, "field named like a secret"),
        ({"resource": {"t": {"x": {"url": "postgres://app:hunter2@db:5432/x"}}}}, "credentials in a URL"),
        ({"resource": {"t": {"x": {"doc": json.dumps({"inner": {"secret_key": "plain"}})}}}}, "field named like a secret"),
        ({"variable": {"db_password": {"type": "string", "sensitive": True, "default": "x"}}}, "has a default value"),
    ],
)
def test_the_scanner_catches_a_planted_secret(document, expected):
    findings = list(scan(document))
    assert any(expected in f for f in findings), findings


def test_the_scanner_passes_references_and_harmless_names():
    clean = {
        "variable": {"engine_secret_key": {"type": "string", "sensitive": True}},
        "resource": {
            "vault_aws_secret_backend": {"b": {"secret_key": "${var.engine_secret_key}", "access_key": "${var.k}"}},
            "vault_kubernetes_auth_backend_role": {"r": {"token_policies": ["dev-domain-x"], "token_ttl": 3600}},
            "vault_gcp_secret_roleset": {"g": {"secret_type": "access_token"}},
        },
    }
    assert list(scan(clean)) == []
