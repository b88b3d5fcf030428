"""callcenter.stores builds real pyarrow filesystems from connection fields;
what each was built with is read back from the filesystem itself."""

from __future__ import annotations

import pyarrow.fs as pafs
import pytest
from callcenter import stores
from callcenter.stores import UnsupportedConnectionError, azure_account_name

from scripts.airflow_secrets import Conn


def built_with(fs) -> dict:
    return fs.__reduce__()[1][0]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://ccddevlake.blob.core.windows.net", "ccddevlake"),
        ("https://ccddevlake.blob.core.windows.net/", "ccddevlake"),
        ("ccddevlake.blob.core.windows.net", "ccddevlake"),
        ("ccddevlake", "ccddevlake"),
        ("", None),
        (None, None),
    ],
)
def test_azure_account_name_from_account_url(url, name) -> None:
    assert azure_account_name(url) == name


def test_azure_entra_id_connection_uses_client_secret_credentials_and_no_shared_key() -> None:
    conn = Conn("wasb", login="client-id", password="client-secret", host="https://ccddevlake.blob.core.windows.net",
                extra={"tenant_id": "tenant"})
    args = built_with(stores.filesystem(conn))
    assert (args["account_name"], args["tenant_id"], args["client_id"], args["client_secret"]) == (
        "ccddevlake", "tenant", "client-id", "client-secret")
    assert args["account_key"] == ""
    assert args["blob_storage_authority"] == ".blob.core.windows.net" and args["blob_storage_scheme"] == "https"


def test_azure_shared_key_connection_for_azurite() -> None:
    conn = Conn("wasb", login="devaccount", password="a2V5", extra={"endpoint_url": "http://127.0.0.1:10000"})
    args = built_with(stores.filesystem(conn))
    assert (args["account_name"], args["account_key"], args["tenant_id"]) == ("devaccount", "a2V5", "")
    assert (args["blob_storage_authority"], args["blob_storage_scheme"]) == ("127.0.0.1:10000", "http")


@pytest.mark.parametrize(
    ("conn", "missing"),
    [
        (Conn("wasb", login="id", password="s", extra={"tenant_id": "t"}), "host (account URL)"),
        (Conn("wasb", password="s", host="https://a.blob.core.windows.net", extra={"tenant_id": "t"}),
         "login (client id)"),
        (Conn("wasb", login="id", host="https://a.blob.core.windows.net", extra={"tenant_id": "t"}),
         "password (client secret)"),
    ],
)
def test_azure_entra_id_connection_missing_a_field_names_it(conn, missing) -> None:
    with pytest.raises(UnsupportedConnectionError, match=rf"also needs: .*{missing.split(' ')[0]}"):
        stores.filesystem(conn)


def test_azure_connection_without_account_or_tenant_is_refused() -> None:
    with pytest.raises(UnsupportedConnectionError, match="storage account name as login"):
        stores.filesystem(Conn("wasb"))


def test_s3_from_keys_and_endpoint_or_from_the_execution_role() -> None:
    local = built_with(stores.filesystem(Conn("aws", "id", "secret", {"endpoint_url": "http://127.0.0.1:5000",
                                                                      "region_name": "eu-west-1"})))
    assert (local["scheme"], local["endpoint_override"], local["region"]) == ("http", "127.0.0.1:5000", "eu-west-1")
    role = built_with(stores.filesystem(Conn("aws")))  # MWAA: no keys, the execution role's
    assert not role["access_key"] and not role["endpoint_override"]


def test_gcs_anonymous_against_fake_gcs_server() -> None:
    fs = stores.filesystem(Conn("google_cloud_platform", extra={"is_anonymous": True,
                                                               "endpoint_url": "http://127.0.0.1:4443"}))
    assert isinstance(fs, pafs.GcsFileSystem)


def test_unknown_connection_type_is_refused() -> None:
    with pytest.raises(UnsupportedConnectionError, match="'ftp'"):
        stores.filesystem(Conn("ftp"))


def test_gcs_from_a_vault_oauth_token_carries_its_expiry() -> None:
    """Vault's GCP engine answers token + expires_at_seconds; the filesystem uses that token, never ADC."""
    fs = stores.filesystem(Conn("google_cloud_platform", extra={"access_token": "ya29.made-up",
                                                                "expires_at_seconds": 1_900_000_000}))
    args = built_with(fs)
    assert args["access_token"] == "ya29.made-up" and args["anonymous"] is False
    assert int(args["credential_token_expiration"].timestamp()) == 1_900_000_000


def test_a_vault_kv_connection_round_trips_into_the_same_connection() -> None:
    conn = Conn("wasb", "account", "key", {"endpoint_url": "http://127.0.0.1:1"})
    assert stores.Connection.from_vault_secret(conn.vault_secret()) == stores.Connection(
        "wasb", "account", "key", {"endpoint_url": "http://127.0.0.1:1"})
