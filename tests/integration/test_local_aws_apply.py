"""The local AWS stacks, applied for real with Terraform to a moto server.

One module-scoped apply (network and platform in parallel, then orchestration,
which reads the platform's state), checked with boto3 against the environment
file, re-planned (must be empty), and destroyed. moto has no MWAA and cannot
destroy a Transit Gateway attachment, and the AWS Budgets API it mocks lacks a
call the provider polls; environments/local.yaml turns those off with reasons.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from environments import naming
from environments.schema import load_environment
from tests.conftest import REPO, require_tool, synth_into
from tests.integration.aws_local import MotoServer, terraform, terraform_env, terraform_rc

ENV = load_environment(REPO / "environments" / "local.yaml")
FIRST_WAVE = ("local-aws-network", "local-aws-platform")  # independent of each other
SECOND_WAVE = ("local-aws-orchestration",)  # reads local-aws-platform's outputs
STACKS = FIRST_WAVE + SECOND_WAVE


def _check(result, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    require_tool("terraform")
    tmp = tmp_path_factory.mktemp("local-aws")
    synth = synth_into(tmp / "cdktf.out", envs=["local"])
    assert synth.returncode == 0, synth.stderr
    stacks = {name: tmp / "cdktf.out" / "stacks" / name for name in STACKS}
    server = MotoServer(tmp / "moto.log")
    env = terraform_env(server.url, terraform_rc(tmp))
    timings: dict[str, float] = {}

    def apply(name: str) -> None:
        started = time.monotonic()
        _check(terraform(stacks[name], env, "apply", "-auto-approve", "-parallelism=30"), f"apply {name}")
        timings[name] = time.monotonic() - started

    try:
        for name in STACKS:  # one at a time: parallel inits race on the shared plugin cache
            _check(terraform(stacks[name], env, "init"), f"init {name}")
        started = time.monotonic()
        with ThreadPoolExecutor(len(FIRST_WAVE)) as pool:
            list(pool.map(apply, FIRST_WAVE))
        for name in SECOND_WAVE:
            apply(name)
        timings["total"] = time.monotonic() - started
        print(f"\nlocal AWS apply seconds: {json.dumps({k: round(v, 1) for k, v in timings.items()})}")
        yield {"endpoint": server.url, "stacks": stacks, "env": env}

        def destroy(name: str) -> None:
            result = terraform(stacks[name], env, "destroy", "-auto-approve", "-parallelism=30")
            for _ in range(3):
                if result.returncode == 0 or "BucketNotEmpty" not in result.stdout + result.stderr:
                    break
                # moto writes real access logs, also for the destroy's own calls on the other buckets
                # until their logging settings are gone (a clean-clone run with three domains saw one
                # more log object land after the first emptying); empty it and try again.
                _empty_bucket(server.url, env, naming.s3_platform_bucket(ENV.prefix, ENV.name, "access-logs"))
                result = terraform(stacks[name], env, "destroy", "-auto-approve", "-parallelism=30")
            _check(result, f"destroy {name}")

        for name in reversed(SECOND_WAVE):
            destroy(name)
        with ThreadPoolExecutor(len(FIRST_WAVE)) as pool:
            list(pool.map(destroy, FIRST_WAVE))
    finally:
        server.stop()
        shutil.rmtree(tmp / "cdktf.out", ignore_errors=True)


def _client(endpoint: str, env: dict[str, str], service: str):
    import boto3

    return boto3.client(
        service, endpoint_url=endpoint, region_name=ENV.aws.region,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _empty_bucket(endpoint: str, env: dict[str, str], bucket: str) -> None:
    s3 = _client(endpoint, env, "s3")
    listing = s3.list_object_versions(Bucket=bucket)
    for item in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


@pytest.fixture(scope="module")
def aws(applied):
    return lambda service: _client(applied["endpoint"], applied["env"], service)


def _lake_key_arn(aws) -> str:
    alias = f"alias/{naming.aws_resource(ENV.prefix, ENV.name, 'lake')}"
    return aws("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def _domain_buckets() -> list[str]:
    return [naming.s3_bucket(ENV.prefix, ENV.name, d.name, zone) for d in ENV.domains for zone in naming.ZONES]


def _raw_expiry() -> dict[str, int]:
    """raw bucket -> the days after which S3 expires its objects (pii domains, issue 13)."""
    return {naming.s3_bucket(ENV.prefix, ENV.name, d.name, "raw"): d.raw_expiry_days
            for d in ENV.domains if d.raw_expiry_days is not None}


def test_lake_buckets_are_encrypted_versioned_private_logged_and_tiered(aws):
    s3, key_arn, tiering = aws("s3"), _lake_key_arn(aws), ENV.storage.tiering
    log_bucket = naming.s3_platform_bucket(ENV.prefix, ENV.name, "access-logs")
    dag_bucket = naming.s3_platform_bucket(ENV.prefix, ENV.name, "dags")
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(_domain_buckets()) | {log_bucket, dag_bucket} <= existing
    for bucket in [*_domain_buckets(), dag_bucket]:
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}, bucket
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
        logging = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
        assert logging["TargetBucket"] == log_bucket and logging["TargetPrefix"] == f"{bucket}/"
        (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert lifecycle["Status"] == "Enabled"
        # The DAG bucket's current objects never transition (MWAA reads them); lake zones archive to GLACIER_IR;
        # a pii domain's raw zone expires, and S3 refuses a transition on or after the expiry day.
        expiry = _raw_expiry().get(bucket)
        assert sorted((t["Days"], t["StorageClass"]) for t in lifecycle.get("Transitions", [])) == ([] if bucket == dag_bucket else [
            (days, storage) for days, storage in ((tiering.warm_after_days, "STANDARD_IA"),
                                                  (tiering.archive_after_days, "GLACIER_IR"))
            if expiry is None or days < expiry
        ])
        assert lifecycle.get("Expiration", {}).get("Days") == expiry, bucket
        assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == tiering.noncurrent_expire_days
        assert lifecycle["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == tiering.abort_incomplete_multipart_days
    # S3 server access logging cannot target an SSE-KMS bucket: the log bucket alone is SSE-S3.
    rule = s3.get_bucket_encryption(Bucket=log_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_glue_database_and_scheduled_encrypted_crawler_per_domain(aws):
    glue = aws("glue")
    security = naming.aws_resource(ENV.prefix, ENV.name, "glue")
    config = glue.get_security_configuration(Name=security)["SecurityConfiguration"]["EncryptionConfiguration"]
    assert config["S3Encryption"][0]["S3EncryptionMode"] == "SSE-KMS"
    assert config["CloudWatchEncryption"]["CloudWatchEncryptionMode"] == "SSE-KMS"
    assert config["JobBookmarksEncryption"]["JobBookmarksEncryptionMode"] == "CSE-KMS"
    for domain in ENV.domains:
        database = naming.glue_database(ENV.prefix, ENV.name, domain.name)
        assert glue.get_database(Name=database)["Database"]["Name"] == database
        crawler = glue.get_crawler(Name=naming.glue_crawler(ENV.prefix, ENV.name, domain.name))["Crawler"]
        curated = naming.s3_bucket(ENV.prefix, ENV.name, domain.name, "curated")
        assert crawler["DatabaseName"] == database
        assert [t["Path"] for t in crawler["Targets"]["S3Targets"]] == [f"s3://{curated}/"]
        assert crawler["Schedule"]["ScheduleExpression"] == domain.crawler_schedule
        assert crawler["CrawlerSecurityConfiguration"] == security
        assert crawler["Role"].endswith(f"role/{naming.aws_resource(ENV.prefix, ENV.name, domain.name, 'crawler')}")


def test_network_vpcs_flow_logs_and_closed_default_groups(aws):
    ec2 = aws("ec2")
    wanted = {ENV.aws.network.hub_cidr, *ENV.aws.network.spokes.values()}
    vpcs = {v["CidrBlock"]: v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] in wanted}
    assert set(vpcs) == wanted
    logged = {f["ResourceId"] for f in ec2.describe_flow_logs()["FlowLogs"] if f["TrafficType"] == "ALL"}
    assert set(vpcs.values()) <= logged
    for vpc_id in vpcs.values():
        (group,) = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
        assert group["IpPermissions"] == [] and group["IpPermissionsEgress"] == []
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpcs[ENV.aws.network.spokes["orchestration"]]]}])
    services = {e["ServiceName"].removeprefix(f"com.amazonaws.{ENV.aws.region}.") for e in endpoints["VpcEndpoints"]}
    assert services == {"s3", *ENV.aws.network.interface_endpoints}


def test_dag_bundle_is_uploaded_with_versions(aws, applied):
    doc = json.loads((applied["stacks"]["local-aws-orchestration"] / "cdk.tf.json").read_text())
    synthesized = {o["key"] for o in doc["resource"]["aws_s3_object"].values()}
    bucket = naming.s3_platform_bucket(ENV.prefix, ENV.name, "dags")
    listed = aws("s3").list_object_versions(Bucket=bucket).get("Versions", [])
    assert {v["Key"] for v in listed} == synthesized
    assert any(k.startswith("dags/") and k.endswith(".py") for k in synthesized)
    if "requirements.txt" in synthesized:
        head = aws("s3").head_object(Bucket=bucket, Key="requirements.txt")
        assert head["VersionId"] and head["ServerSideEncryption"] == "aws:kms"


def test_alerts_topic_uses_the_lake_key(aws):
    name = naming.aws_resource(ENV.prefix, ENV.name, "alerts")
    arn = f"arn:aws:sns:{ENV.aws.region}:{ENV.aws.account_id}:{name}"
    attributes = aws("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attributes["KmsMasterKeyId"] == _lake_key_arn(aws)


def test_second_plan_is_empty(applied):
    for name, path in applied["stacks"].items():
        result = terraform(path, applied["env"], "plan", "-detailed-exitcode", "-lock=false")
        changes = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("# ")]
        assert result.returncode == 0, f"{name} plans changes after apply: {changes}\n{result.stderr[-2000:]}"


#: What ``aws.protect_stateful`` (set in prod) puts on the lake's stateful resources; the unit tests
#: assert prod's JSON carries exactly this, and this test proves Terraform then refuses to destroy them.
GUARDED = ("aws_kms_key", "aws_s3_bucket", "aws_glue_catalog_database")


def test_the_prod_guard_makes_terraform_refuse_to_destroy_the_lake(applied, tmp_path):
    source = applied["stacks"]["local-aws-platform"]
    guarded = source.parent / "local-aws-platform-guarded"  # a sibling: same relative path to the same state
    shutil.copytree(source, guarded, ignore=shutil.ignore_patterns(".terraform"))
    try:
        doc = json.loads((guarded / "cdk.tf.json").read_text())
        for rtype in GUARDED:
            for body in doc["resource"][rtype].values():
                body["lifecycle"] = {"prevent_destroy": True}
        (guarded / "cdk.tf.json").write_text(json.dumps(doc))
        _check(terraform(guarded, applied["env"], "init"), "init guarded copy")
        result = terraform(guarded, applied["env"], "plan", "-destroy", "-refresh=false", "-lock=false")
        assert result.returncode != 0
        assert "Instance cannot be destroyed" in result.stderr and "prevent_destroy" in result.stderr
    finally:
        shutil.rmtree(guarded, ignore_errors=True)
