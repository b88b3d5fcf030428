"""Airflow's VaultBackend, logging in with AWS IAM through the region's own STS endpoint.

Why not the stock backend: the hashicorp provider's ``_auth_aws_iam`` passes no
``header_value`` to hvac (no replay protection), and hvac always signs for the
global host ``sts.amazonaws.com`` with the given region in the credential scope
(``hvac/aws_utils.py``), which only ``us-east-1`` satisfies. Here the request is
signed with botocore for ``sts.<region>.amazonaws.com`` and region ``<region>``,
and carries the signed ``X-Vault-AWS-IAM-Server-ID`` header: exactly what the Vault
stack's ``vault_aws_auth_backend_client`` (sts_endpoint, sts_region,
iam_server_id_header_value) makes Vault expect. Credentials are the worker's own
(the MWAA execution role, through boto3's default chain): no keys anywhere.

MWAA puts the plugins folder on ``sys.path``, so ``secrets.backend`` names this
module as ``regional_sts_vault.RegionalStsVaultBackend``.
"""

from __future__ import annotations

import json
from base64 import b64encode

from airflow.providers.hashicorp.secrets.vault import VaultBackend

SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
_BODY = "Action=GetCallerIdentity&Version=2011-06-15"


def signed_get_caller_identity(credentials, region: str, server_id: str):
    """A GetCallerIdentity request signed (SigV4, botocore) for the regional STS host, with the server-id header."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    host = f"sts.{region}.amazonaws.com"
    request = AWSRequest(
        method="POST", url=f"https://{host}/", data=_BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Host": host, SERVER_ID_HEADER: server_id},
    )
    SigV4Auth(credentials, "sts", region).add_auth(request)
    return request


def login_payload(request, role: str) -> dict:
    """The ``auth/<mount>/login`` body Vault's aws iam method reads (the same fields hvac's iam_login sends)."""
    headers = {k: [v] for k, v in request.headers.items()}
    body = request.data if isinstance(request.data, str) else request.data.decode()
    return {
        "iam_http_request_method": request.method,
        "iam_request_url": b64encode(request.url.encode()).decode(),
        "iam_request_headers": b64encode(json.dumps(headers).encode()).decode(),
        "iam_request_body": b64encode(body.encode()).decode(),
        "role": role,
    }


class RegionalStsVaultBackend(VaultBackend):
    """``VaultBackend`` whose ``aws_iam`` login signs for the regional STS host with the server-id header.

    Extra kwarg: ``iam_server_id_header`` (required with ``auth_type=aws_iam``); ``region`` is required too.
    """

    def __init__(self, *, iam_server_id_header: str | None = None, **kwargs):
        super().__init__(**kwargs)
        client = self.vault_client
        if client.auth_type != "aws_iam":
            return
        if not iam_server_id_header or not client.region:
            raise ValueError("RegionalStsVaultBackend with auth_type=aws_iam needs region and iam_server_id_header")
        mount = client.auth_mount_point or "aws"

        def login(hvac_client) -> None:
            import boto3

            found = boto3.Session().get_credentials()
            if found is None:
                raise RuntimeError("Vault aws_iam login: no AWS credentials found (on MWAA: the execution role's)")
            credentials = found.get_frozen_credentials()
            request = signed_get_caller_identity(credentials, client.region, iam_server_id_header)
            hvac_client.login(f"/v1/auth/{mount}/login", json=login_payload(request, client.role_id))

        # The provider's client calls self._auth_aws_iam(hvac_client) when it first logs in.
        client._auth_aws_iam = login
