"""Vault's AWS IAM login, signed for the region's own STS host: no Airflow import.

Three callers share it: the secrets backend (regional_sts_vault.py, on MWAA), the tasks'
per-domain login (callcenter/credentials.py) and the Spark job on EMR Serverless, which has
no Airflow (callcenter/spark_job.py ships this file at the root of its --py-files zip).

Why not hvac's iam_login: hvac always signs for the global host ``sts.amazonaws.com`` with
the given region in the credential scope (``hvac/aws_utils.py``), which only ``us-east-1``
satisfies, and the hashicorp provider passes no server-id header (no replay protection).
Here the request is signed with botocore for ``sts.<region>.amazonaws.com`` and carries the
signed ``X-Vault-AWS-IAM-Server-ID`` header: what the Vault stack's
``vault_aws_auth_backend_client`` (sts_endpoint, sts_region, iam_server_id_header_value)
makes Vault expect.
"""

from __future__ import annotations

import json
from base64 import b64encode

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
