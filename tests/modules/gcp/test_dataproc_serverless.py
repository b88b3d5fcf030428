"""Spark on GCP (issue 12): Dataproc Serverless batches need a per-domain account, a staging bucket,
Private Google Access on the data subnet and open connectivity inside it; read from dev's JSON."""

from __future__ import annotations

import pytest

from environments import naming
from environments.schema import ENVIRONMENTS_DIR, load_environment
from tests.modules.aws.spark_support import spark_stacks

DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
DOMAINS = sorted(d.name for d in DEV.domains)


@pytest.fixture(scope="module")
def platform():
    return spark_stacks()["dev-gcp-platform"]


def _logical(reference: str) -> str:
    return reference.split("}", 1)[0].removeprefix("${").split(".")[1]


def _spark_accounts(platform) -> dict[str, str]:
    """logical id -> account_id of the Spark accounts."""
    return {k: v["account_id"] for k, v in platform.resources("google_service_account").items() if k.startswith("spark_")}


def test_one_spark_account_per_domain_with_the_dataproc_worker_role(platform):
    accounts = _spark_accounts(platform)
    assert sorted(accounts.values()) == sorted(naming.gcp_spark_account(DEV.prefix, DEV.name, d) for d in DOMAINS)
    assert all(len(a) <= 30 for a in accounts.values())
    workers = {
        _logical(m["member"].removeprefix("serviceAccount:")): m["role"]
        for m in platform.resources("google_project_iam_member").values() if "spark_account" in m["member"]
    }
    # The only project-level grant: what a batch's own account must hold.
    assert workers == {logical: "roles/dataproc.worker" for logical in accounts}


def test_spark_account_reaches_its_domains_buckets_and_its_staging_bucket_only(platform):
    buckets = {k: v["name"] for k, v in platform.resources("google_storage_bucket").items()}
    grants: dict[str, set[tuple[str, str]]] = {}
    for m in platform.resources("google_storage_bucket_iam_member").values():
        if "spark_account" in m["member"]:
            account = _spark_accounts(platform)[_logical(m["member"].removeprefix("serviceAccount:"))]
            grants.setdefault(account, set()).add((buckets[_logical(m["bucket"])], m["role"]))
    for domain in DOMAINS:
        zones = (*naming.GCS_ZONES, naming.GCS_SPARK_STAGING)
        assert grants[naming.gcp_spark_account(DEV.prefix, DEV.name, domain)] == {
            (naming.gcs_bucket(DEV.prefix, DEV.name, domain, z), "roles/storage.objectUser") for z in zones
        }


def test_staging_buckets_are_cmek_uniform_and_never_public(platform):
    lake_key = next(k for k in platform.resources("google_kms_crypto_key") if "lake" in k)
    staging = [b for b in platform.resources("google_storage_bucket").values() if b["name"].endswith("-spark-staging")]
    assert len(staging) == len(DOMAINS)
    for bucket in staging:
        assert bucket["encryption"] == {"default_kms_key_name": f"${{google_kms_crypto_key.{lake_key}.id}}"}
        assert bucket["uniform_bucket_level_access"] is True
        assert bucket["public_access_prevention"] == "enforced"


def test_only_the_domains_pipeline_account_may_submit_as_its_spark_account(platform):
    accounts = _spark_accounts(platform)
    pipeline = {k: v["account_id"] for k, v in platform.resources("google_service_account").items() if k.startswith("pipeline-account-")}
    act_as = {
        accounts[_logical(m["service_account_id"])]: pipeline[_logical(m["member"].removeprefix("serviceAccount:"))]
        for m in platform.resources("google_service_account_iam_member").values()
        if m["role"] == "roles/iam.serviceAccountUser"
    }
    assert act_as == {
        naming.gcp_spark_account(DEV.prefix, DEV.name, d): naming.gcp_domain_pipeline_account(DEV.prefix, DEV.name, d)
        for d in DOMAINS
    }


def test_workers_reach_each_other_inside_the_data_subnet_and_nothing_else_is_opened(platform):
    data = DEV.gcp.network.spokes["data"]
    [rule] = [r for r in platform.resources("google_compute_firewall").values() if "spark" in r["name"]]
    assert rule["direction"] == "INGRESS" and rule["allow"] == [{"protocol": "all"}]
    assert rule["source_ranges"] == [data] and rule["destination_ranges"] == [data]
    assert "vpc-data_network" in rule["network"] and rule["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"


def test_data_subnet_has_private_google_access_and_the_dataproc_api_is_on():
    network = spark_stacks()["dev-gcp-network"]
    subnets = {k: v for k, v in network.resources("google_compute_subnetwork").items() if k.startswith("vpc-data_")}
    assert [s["private_ip_google_access"] for s in subnets.values()] == [True]
    assert "dataproc.googleapis.com" in {s["service"] for s in network.resources("google_project_service").values()}
