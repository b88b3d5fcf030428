"""Airflow's VaultBackend, logging in with AWS IAM through the region's own STS endpoint.

Why not the stock backend: the hashicorp provider's ``_auth_aws_iam`` passes no
``header_value`` to hvac and hvac signs for the global STS host; vault_aws_login.py
(same folder) signs for the regional one with the server-id header, as the Vault
stack's ``vault_aws_auth_backend_client`` expects. Credentials are the worker's own
(the MWAA execution role, through boto3's default chain): no keys anywhere.

MWAA puts the plugins folder on ``sys.path``, so ``secrets.backend`` names this
module as ``regional_sts_vault.RegionalStsVaultBackend``.
"""

from __future__ import annotations

from airflow.providers.hashicorp.secrets.vault import VaultBackend

# The signing lives in an Airflow-free module so the Spark job on EMR can log in the same way.
from vault_aws_login import SERVER_ID_HEADER, login_payload, signed_get_caller_identity

__all__ = ["SERVER_ID_HEADER", "RegionalStsVaultBackend", "login_payload", "signed_get_caller_identity"]


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
