"""Spark on AWS (issue 12): the EMR Serverless application, its network and each domain's job role,
read from dev's synthesized JSON; local (Spark off) gets none of it. Also the Vault side: the job role
logs in as its domain, and the <domain>_spark Variable parses with the DAG's own reader."""

from __future__ import annotations

import re

import pytest

from environments.schema import ENVIRONMENTS_DIR, load_environment
from modules.spark_image import dataproc_image_uri
from tests.modules.aws.spark_support import engine_choice, spark_stacks

DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
ACCOUNT = DEV.aws.account_id


@pytest.fixture(scope="module")
def platform():
    return spark_stacks()["dev-aws-platform"]


def _ref_id(reference: str) -> str:
    """``${[data.]<type>.<logical id>.<attr>}`` -> logical id."""
    parts = reference.split("}", 1)[0].removeprefix("${").split(".")
    return parts[2] if parts[0] == "data" else parts[1]


def _doc(stack, reference: str) -> list[dict]:
    return stack.doc["data"]["aws_iam_policy_document"][_ref_id(reference)]["statement"]


def _spark_roles(stack) -> dict[str, dict]:
    return {body["tags"]["domain"]: body for name, body in stack.resources("aws_iam_role").items() if "spark-job" in name}


def test_application_is_spark_3_5_capped_and_stops_when_idle(platform):
    app = platform.only("aws_emrserverless_application")
    spark = DEV.spark.aws
    assert (app["type"], app["release_label"], app["name"]) == ("spark", "emr-7.8.0", "ccd-dev-spark")
    assert app["maximum_capacity"] == {
        "cpu": f"{spark.max_vcpu} vCPU", "memory": f"{spark.max_memory_gb} GB", "disk": f"{spark.max_disk_gb} GB",
    }
    assert app["auto_start_configuration"] == {"enabled": True}
    assert app["auto_stop_configuration"] == {"enabled": True, "idle_timeout_minutes": spark.idle_stop_minutes}
    assert "initial_capacity" not in app  # no standing (billed) workers


def test_application_runs_in_the_data_spokes_private_subnets_behind_its_own_group(platform):
    net = platform.only("aws_emrserverless_application")["network_configuration"]
    assert len(net["subnet_ids"]) == len(DEV.aws.network.availability_zones)
    assert all(re.search(r"aws_subnetspoke-data_private-", s) for s in net["subnet_ids"]), net["subnet_ids"]
    group = _ref_id(net["security_group_ids"][0])
    assert platform.resources("aws_security_group")[group]["vpc_id"].find("vpcspoke-data") > 0


def test_workers_have_no_ingress_and_egress_only_to_s3_vault_and_the_spokes_endpoints(platform):
    group = _ref_id(platform.only("aws_emrserverless_application")["network_configuration"]["security_group_ids"][0])
    mine = lambda rules: [r for r in rules.values() if _ref_id(r["security_group_id"]) == group]
    assert mine(platform.resources("aws_vpc_security_group_ingress_rule")) == []
    assert "ingress" not in platform.resources("aws_security_group")[group]
    endpoint_name, endpoint = next(iter(platform.resources("aws_vpc_endpoint").items()))
    egress = {
        (r.get("cidr_ipv4") or r.get("prefix_list_id"), r["ip_protocol"], r["from_port"], r["to_port"])
        for r in mine(platform.resources("aws_vpc_security_group_egress_rule"))
    }
    assert egress == {
        (f"${{aws_vpc_endpoint.{endpoint_name}.prefix_list_id}}", "tcp", 443, 443),
        (DEV.aws.network.spokes["data"], "tcp", 443, 443),
        *((f"{ip}/32", "tcp", 8200, 8200) for ip in DEV.vault.private_ips),
    }
    assert endpoint["service_name"] == f"com.amazonaws.{DEV.aws.region}.s3"
    assert endpoint["vpc_endpoint_type"] == "Gateway" and "aws:ResourceAccount" in endpoint["policy"]
    assert all("spoke-data_private-rt" in t for t in endpoint["route_table_ids"])


def test_each_domain_has_a_job_role_only_emr_serverless_of_this_application_may_assume(platform):
    roles = _spark_roles(platform)
    assert sorted(roles) == sorted(d.name for d in DEV.domains)
    app = next(iter(platform.resources("aws_emrserverless_application")))
    for role in roles.values():
        [trust] = _doc(platform, role["assume_role_policy"])
        assert trust["principals"] == [{"type": "Service", "identifiers": ["emr-serverless.amazonaws.com"]}]
        conditions = {c["variable"]: (c["test"], c["values"]) for c in trust["condition"]}
        assert conditions == {
            "aws:SourceAccount": ("StringEquals", [ACCOUNT]),
            "aws:SourceArn": ("ArnLike", [f"${{aws_emrserverless_application.{app}.arn}}",
                                          f"${{aws_emrserverless_application.{app}.arn}}/*"]),
        }


def test_job_role_reads_raw_and_code_writes_curated_and_quarantine_of_its_domain_only(platform):
    buckets = platform.resources("aws_s3_bucket")
    policies = {p["role"]: p for p in platform.resources("aws_iam_role_policy").values()}
    for logical, role in ((k, v) for k, v in platform.resources("aws_iam_role").items() if "spark-job" in k):
        domain = role["tags"]["domain"]
        statements = _doc(platform, policies[f"${{aws_iam_role.{logical}.id}}"]["policy"])
        grants: dict[str, set[str]] = {}
        for s in statements:
            assert s["effect"] == "Allow" and not any("*" in a for a in s["actions"]), s
            for resource in s["resources"]:
                target = _ref_id(resource)
                name = buckets[target]["bucket"] if target in buckets else target
                grants.setdefault(name + resource.split("}", 1)[1], set()).update(s["actions"])
        zone = {z: f"ccd-dev-{domain.replace('_', '-')}-{z}" for z in ("raw", "curated", "quarantine")}.__getitem__
        key = next(iter(platform.resources("aws_kms_key")))
        assert grants == {
            zone("raw"): {"s3:ListBucket"}, zone("raw") + "/*": {"s3:GetObject"},
            "ccd-dev-dags": {"s3:ListBucket"}, "ccd-dev-dags/spark/*": {"s3:GetObject"},
            zone("curated"): {"s3:ListBucket"}, zone("quarantine"): {"s3:ListBucket"},
            **{zone(z) + "/*": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                "s3:ListMultipartUploadParts"} for z in ("curated", "quarantine")},
            key: {"kms:Decrypt", "kms:GenerateDataKey"},
        }
        code = next(s for s in statements if s["sid"] == "CodeList")
        assert code["condition"] == [{"test": "StringLike", "variable": "s3:prefix", "values": ["spark/*"]}]


def test_local_has_no_spark():
    stacks = spark_stacks()
    assert stacks["local-aws-platform"].resources("aws_emrserverless_application") == {}
    # Without Spark the platform reads nothing of the network stack, so the demo applies both in one wave.
    assert "terraform_remote_state" not in stacks["local-aws-platform"].doc.get("data", {})
    assert "terraform_remote_state" in spark_stacks()["dev-aws-platform"].doc["data"]
    assert _spark_roles(stacks["local-aws-platform"]) == {}
    assert not any(name.startswith("variable-") for name in stacks["local-vault"].doc.get("output", {}))


def test_the_job_role_logs_in_to_vault_as_its_domain():
    vault = spark_stacks()["dev-vault"]
    roles = {r["role"]: r for r in vault.resources("vault_aws_auth_backend_role").values()}
    for domain in DEV.domains:
        bound = roles[f"dev-{domain.name.replace('_', '-')}-pipeline"]["bound_iam_principal_arns"]
        assert any(f"aws_iam_rolespark-job-{domain.name}_role" in arn for arn in bound), bound
        assert any(f"aws_iam_rolepipeline-role-{domain.name}_role" in arn for arn in bound), bound
    # The orchestration login never binds a job role.
    assert not any("spark-job" in arn for arn in roles["dev-airflow"]["bound_iam_principal_arns"])


def test_spark_variable_is_an_output_per_domain_and_parses_with_the_dags_reader():
    vault = spark_stacks()["dev-vault"]
    outputs = {k: v for k, v in vault.doc["output"].items() if k.startswith("variable-")}
    assert sorted(outputs) == sorted(f"variable-{d.name}_spark" for d in DEV.domains)
    output = outputs["variable-call_analytics_spark"]
    assert "platform/airflow/variables/call_analytics_spark" in output["description"]
    assert vault.resources("vault_kv_secret_v2") == {}  # the Vault stack keeps no kv data in its state
    text = output["value"]
    settings = engine_choice().SparkSettings.from_json(text)
    assert settings.thresholds == engine_choice().Thresholds(DEV.spark.thresholds.max_worker_bytes,
                                                             DEV.spark.thresholds.max_worker_days)
    aws = settings.aws
    assert "aws_emrserverless_application" in aws.application_id
    assert "spark-job-call_analytics_role" in aws.execution_role_arn
    assert re.fullmatch(r"s3://\$\{[^}]+dag-bucket[^}]+\}/spark/", aws.code_uri), aws.code_uri
    assert re.fullmatch(r"s3://\$\{[^}]+call_analytics_quarantine[^}]+\}/spark-logs/", aws.log_uri), aws.log_uri
    gcp = settings.gcp
    assert (gcp.project, gcp.region) == (DEV.gcp.project_id, DEV.gcp.region)
    assert "spark-call_analytics_staging_bucket" in gcp.staging_bucket and "vpc-data" in gcp.subnetwork
    assert "spark_account-call_analytics" in gcp.service_account
    # The batch's image: the environment's Artifact Registry repository, the Dockerfile's content tag.
    assert "kms_key-lake" in gcp.kms_key, gcp.kms_key  # the batch's disks under the lake key, as its buckets
    assert gcp.container_image == dataproc_image_uri(DEV.gcp.project_id, DEV.gcp.region, f"{DEV.prefix}-dev-spark",
                                                     DEV.spark.gcp.runtime_version)
    # No secret travels in the Variable: the masking key stays in the domain's kv subtree.
    assert "masking" not in text.lower() and engine_choice().SPARK_VARIABLE == "call_analytics_spark"


def _mwaa_statements(stack) -> dict[str, dict]:
    (logical,) = [k for k, v in stack.resources("aws_iam_role").items() if v["name"].endswith("-mwaa-execution")]
    policies = {p["role"]: p for p in stack.resources("aws_iam_role_policy").values()}
    return {s["sid"]: s for s in _doc(stack, policies[f"${{aws_iam_role.{logical}.id}}"]["policy"])}


def test_mwaa_may_run_jobs_on_this_application_and_pass_only_the_job_roles_to_emr_serverless(platform):
    """The deferrable EmrServerlessStartJobOperator runs as the MWAA role (StartJobRun, the triggerer's GetJobRun,
    on_kill's CancelJobRun) and passes a domain's job role: without these a Spark-branch run fails AccessDenied."""
    statements = _mwaa_statements(platform)
    app = next(iter(platform.resources("aws_emrserverless_application")))
    run = statements["RunSparkJobs"]
    assert set(run["actions"]) == {"emr-serverless:GetApplication", "emr-serverless:StartApplication",
                                   "emr-serverless:StartJobRun", "emr-serverless:GetJobRun",
                                   "emr-serverless:CancelJobRun"}
    assert run["resources"] == [f"${{aws_emrserverless_application.{app}.arn}}",
                                f"${{aws_emrserverless_application.{app}.arn}}/jobruns/*"]
    passing = statements["PassSparkJobRoles"]
    assert passing["actions"] == ["iam:PassRole"]
    assert sorted(_ref_id(r) for r in passing["resources"]) == sorted(
        k for k in platform.resources("aws_iam_role") if "spark-job" in k)
    assert passing["condition"] == [{"test": "StringEquals", "variable": "iam:PassedToService",
                                     "values": ["emr-serverless.amazonaws.com"]}]
    assert not {"RunSparkJobs", "PassSparkJobRoles"} & set(_mwaa_statements(spark_stacks()["local-aws-platform"]))


def test_jobs_reach_the_other_clouds_only_when_the_data_spoke_is_a_fabric_spoke(platform):
    """customer_360 on Spark reads Azure and writes GCS. dev keeps the data spoke AWS-only (the fabric
    blackholes the peers there), so its Variable says cross_cloud false and the group has no peer egress."""
    from stacks.aws import spark_peer_cidrs
    from stacks.fabric import azure_ranges, gcp_ranges

    settings = engine_choice().SparkSettings.from_json(
        spark_stacks()["dev-vault"].doc["output"]["variable-call_analytics_spark"]["value"])
    assert settings.cross_cloud is False and spark_peer_cidrs(DEV) == ()
    egress = platform.resources("aws_vpc_security_group_egress_rule")
    assert not any("to-peer" in name for name in egress)
    opted_in = DEV.model_copy(update={"fabric": DEV.fabric.model_copy(update={"aws_spokes": ["orchestration", "data"]})})
    assert spark_peer_cidrs(opted_in) == gcp_ranges(DEV) + azure_ranges(DEV) and len(spark_peer_cidrs(opted_in)) > 2
