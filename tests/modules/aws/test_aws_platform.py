"""<env>-aws-platform: the lake key, zone buckets per domain, Glue per domain, alerts, budget,
and MWAA's DAG bucket and execution role, asserted on the synthesized JSON."""

from __future__ import annotations

import pytest

from environments import naming
from environments.schema import load_environments
from tests.modules.aws.support import (
    by_path, document_for, key_policy, knob_stacks, logical, ref, resource_named, statements_by_sid,
)

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]
ALL = [*CLOUD, "local"]


#: stacks/aws.py DAG_BUCKET_KEPT_VERSIONS, stated here so that a change to it is a visible decision.
DAG_BUCKET_KEPT_VERSIONS = 10


def platform(stacks, env_name):
    return stacks[f"{env_name}-aws-platform"]


def lake_key(stack) -> str:
    return ref("aws_kms_key", logical(stack, "aws_kms_key", "lake-key/key"), "arn")


def bucket_paths(env) -> dict[str, str]:
    """construct path -> bucket name, for every bucket that must be SSE-KMS."""
    paths = {"dag-bucket": naming.s3_platform_bucket(env.prefix, env.name, "dags")}
    for d in env.domains:
        for zone in naming.ZONES:
            paths[f"domain-{d.name}/{zone}"] = naming.s3_bucket(env.prefix, env.name, d.name, zone)
    return paths


@pytest.mark.parametrize("env_name", ALL)
def test_one_lake_key_with_an_explicit_policy_and_rotation(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    body = by_path(stack, "aws_kms_key")["lake-key/key"]
    assert body["enable_key_rotation"] is True and body["deletion_window_in_days"] == 30
    policy = key_policy(body)
    root = {"AWS": [f"arn:aws:iam::{env.aws.account_id}:root"]}
    assert policy["AccountAdministers"]["Principal"] == root and "kms:PutKeyPolicy" in policy["AccountAdministers"]["Action"]
    assert policy["AccountUsesThroughIam"]["Principal"] == root
    logs = policy["CloudWatchLogsOfThisAccount"]
    assert logs["Principal"] == {"Service": [f"logs.{env.aws.region}.amazonaws.com"]}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == [
        f"arn:aws:logs:{env.aws.region}:{env.aws.account_id}:log-group:*"
    ]
    assert by_path(stack, "aws_kms_alias")["lake-key/alias"]["name"] == f"alias/{env.prefix}-{env.name}-lake"


@pytest.mark.parametrize("env_name", ALL)
def test_every_bucket_is_versioned_private_kms_encrypted_logged_and_tiered(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    tiering, key = env.storage.tiering, lake_key(stack)
    buckets = by_path(stack, "aws_s3_bucket")
    log_bucket = ref("aws_s3_bucket", logical(stack, "aws_s3_bucket", "access-logs/bucket"), "id")
    assert buckets["access-logs/bucket"]["bucket"] == naming.s3_platform_bucket(env.prefix, env.name, "access-logs")
    for path, name in bucket_paths(env).items():
        assert buckets[f"{path}/bucket"]["bucket"] == name
        this = ref("aws_s3_bucket", logical(stack, "aws_s3_bucket", f"{path}/bucket"), "id")
        sse = by_path(stack, "aws_s3_bucket_server_side_encryption_configuration")[f"{path}/encryption"]
        assert sse["bucket"] == this
        assert sse["rule"] == [{
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key},
            "bucket_key_enabled": True,
        }]
        assert by_path(stack, "aws_s3_bucket_versioning")[f"{path}/versioning"]["versioning_configuration"] == {"status": "Enabled"}
        block = by_path(stack, "aws_s3_bucket_public_access_block")[f"{path}/public-access-block"]
        assert all(block[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))
        assert by_path(stack, "aws_s3_bucket_ownership_controls")[f"{path}/ownership"]["rule"] == {"object_ownership": "BucketOwnerEnforced"}
        logging = by_path(stack, "aws_s3_bucket_logging")[f"{path}/logging"]
        assert logging["target_bucket"] == log_bucket and logging["target_prefix"] == f"{name}/"
        (rule,) = by_path(stack, "aws_s3_bucket_lifecycle_configuration")[f"{path}/lifecycle"]["rule"]
        assert rule["status"] == "Enabled" and rule["filter"] == [{"prefix": ""}]
        if path == "dag-bucket":
            # MWAA reads the bundle on every worker start: current objects never transition, and the
            # last versions MWAA may be pinned to survive however old they are.
            assert "transition" not in rule
            kept = {"newer_noncurrent_versions": DAG_BUCKET_KEPT_VERSIONS} if env.aws.dag_bucket_kept_versions.enabled else {}
            assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": tiering.noncurrent_expire_days, **kept}]
        else:
            # Lake zones are read by crawlers, Athena and DAGs: GLACIER_IR serves GetObject, GLACIER does not.
            # A pii domain's raw zone expires (schema Domain.raw_expiry_days); S3 refuses later transitions.
            domain, _, zone = path.removeprefix("domain-").partition("/")
            expiry = env.domain(domain).raw_expiry_days if zone == "raw" else None
            assert rule["transition"] == [
                t for t in (
                    {"days": tiering.warm_after_days, "storage_class": "STANDARD_IA"},
                    {"days": tiering.archive_after_days, "storage_class": "GLACIER_IR"},
                ) if expiry is None or t["days"] < expiry
            ]
            assert rule.get("expiration") == ([{"days": expiry}] if expiry else None)
            assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": tiering.noncurrent_expire_days}]
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": tiering.abort_incomplete_multipart_days}]


@pytest.mark.parametrize("env_name", CLOUD)
def test_every_bucket_denies_plain_http_and_sends_events(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    policies = by_path(stack, "aws_s3_bucket_policy")
    for path in [*bucket_paths(env), "access-logs"]:
        deny = statements_by_sid(document_for(stack, policies[f"{path}/policy"]["policy"]))["DenyInsecureTransport"]
        bucket_arn = ref("aws_s3_bucket", logical(stack, "aws_s3_bucket", f"{path}/bucket"), "arn")
        assert deny["effect"] == "Deny" and deny["actions"] == ["s3:*"]
        assert deny["resources"] == [bucket_arn, f"{bucket_arn}/*"]
        assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
        assert by_path(stack, "aws_s3_bucket_notification")[f"{path}/events"]["eventbridge"] is True


def test_the_access_log_bucket_is_sse_s3_and_admits_only_the_logging_service(stacks):
    stack = platform(stacks, "dev")
    sse = by_path(stack, "aws_s3_bucket_server_side_encryption_configuration")["access-logs/encryption"]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"] == {"sse_algorithm": "AES256"}
    assert "access-logs/logging" not in by_path(stack, "aws_s3_bucket_logging")
    delivery = statements_by_sid(document_for(stack, by_path(stack, "aws_s3_bucket_policy")["access-logs/policy"]["policy"]))[
        "S3ServerAccessLogsDelivery"
    ]
    assert delivery["actions"] == ["s3:PutObject"]
    assert delivery["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    assert delivery["condition"][0]["values"] == [ENVIRONMENTS["dev"].aws.account_id]


def test_local_leaves_out_what_moto_cannot_round_trip_and_says_why(stacks):
    aws, stack = ENVIRONMENTS["local"].aws, platform(stacks, "local")
    for feature in (aws.budget, aws.tls_only_buckets, aws.bucket_events, aws.dag_bucket_kept_versions):
        assert not feature.enabled and "moto" in feature.reason
    assert not stack.resources("aws_budgets_budget") and not stack.resources("aws_s3_bucket_notification")
    policies = by_path(stack, "aws_s3_bucket_policy")
    assert set(policies) == {"access-logs/policy"}  # only the log-delivery grant remains


@pytest.mark.parametrize("env_name", ALL)
def test_stateful_resources_are_guarded_exactly_where_the_environment_says(stacks, env_name):
    protect, stack = ENVIRONMENTS[env_name].aws.protect_stateful, platform(stacks, env_name)
    assert protect is (env_name == "prod")
    guarded = [
        *by_path(stack, "aws_kms_key").values(),
        *(b for p, b in by_path(stack, "aws_s3_bucket").items() if p != "dag-bucket/bucket"),
        *stack.resources("aws_glue_catalog_database").values(),
    ]
    for body in guarded:
        assert body.get("lifecycle", {}).get("prevent_destroy", False) is protect, body["//"]["metadata"]["path"]


@pytest.mark.parametrize("env_name", ALL)
def test_glue_database_and_scheduled_encrypted_crawler_per_domain(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    security = by_path(stack, "aws_glue_security_configuration")["glue-security/configuration"]
    key = lake_key(stack)
    assert security["encryption_configuration"] == {
        "cloudwatch_encryption": {"cloudwatch_encryption_mode": "SSE-KMS", "kms_key_arn": key},
        "job_bookmarks_encryption": {"job_bookmarks_encryption_mode": "CSE-KMS", "kms_key_arn": key},
        "s3_encryption": {"s3_encryption_mode": "SSE-KMS", "kms_key_arn": key},
    }
    databases, crawlers = by_path(stack, "aws_glue_catalog_database"), by_path(stack, "aws_glue_crawler")
    assert len(databases) == len(crawlers) == len(env.domains)
    for d in env.domains:
        db = databases[f"domain-{d.name}/catalog/database"]
        crawler = crawlers[f"domain-{d.name}/catalog/crawler"]
        curated = naming.s3_bucket(env.prefix, env.name, d.name, "curated")
        assert db["name"] == naming.glue_database(env.prefix, env.name, d.name)
        assert crawler["name"] == naming.glue_crawler(env.prefix, env.name, d.name)
        assert crawler["database_name"] == ref("aws_glue_catalog_database", logical(stack, "aws_glue_catalog_database", f"domain-{d.name}/catalog/database"), "name")
        assert crawler["schedule"] == d.crawler_schedule
        assert crawler["s3_target"] == [{"path": f"s3://{curated}/"}]
        assert crawler["security_configuration"] == ref("aws_glue_security_configuration", logical(stack, "aws_glue_security_configuration", "glue-security/configuration"), "name")
        assert crawler["role"] == ref("aws_iam_role", logical(stack, "aws_iam_role", f"domain-{d.name}/catalog/crawler-role/role"), "arn")
        assert db["tags"]["domain"] == d.name and db["tags"]["classification"] == d.classification


@pytest.mark.parametrize("env_name", CLOUD)
def test_crawler_role_is_scoped_to_its_domain_curated_zone_and_the_key(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    policies = by_path(stack, "aws_iam_role_policy")
    for d in env.domains:
        statements = statements_by_sid(document_for(stack, policies[f"domain-{d.name}/catalog/crawler-role/policy"]["policy"]))
        curated = ref("aws_s3_bucket", logical(stack, "aws_s3_bucket", f"domain-{d.name}/curated/bucket"), "arn")
        assert statements["ListCuratedZone"]["resources"] == [curated]
        assert statements["ReadCuratedZone"]["resources"] == [f"{curated}/*"]
        assert statements["UseLakeKey"]["resources"] == [lake_key(stack)]
        db = naming.glue_database(env.prefix, env.name, d.name)
        glue = f"arn:aws:glue:{env.aws.region}:{env.aws.account_id}"
        assert statements["WriteOwnDatabase"]["resources"] == [f"{glue}:catalog", f"{glue}:database/{db}", f"{glue}:table/{db}/*"]
        every_resource = [r for s in statements.values() for r in s["resources"]]
        others = [o.name for o in env.domains if o.name != d.name]
        assert not any(o in r for o in others for r in every_resource)


@pytest.mark.parametrize("env_name", CLOUD)
def test_mwaa_execution_role_is_derived_from_what_it_touches(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    role = by_path(stack, "aws_iam_role")["mwaa-execution-role/role/role"]
    trust = document_for(stack, role["assume_role_policy"])[0]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]}]
    assert trust["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount", "values": [env.aws.account_id]}]
    policy = by_path(stack, "aws_iam_role_policy")["mwaa-execution-role/role/policy"]
    s = statements_by_sid(document_for(stack, policy["policy"]))
    region_account = f"{env.aws.region}:{env.aws.account_id}"
    name = naming.mwaa_environment(env.prefix, env.name)
    dag = ref("aws_s3_bucket", logical(stack, "aws_s3_bucket", "dag-bucket/bucket"), "arn")
    assert s["PublishOwnMetrics"]["resources"] == [f"arn:aws:airflow:{region_account}:environment/{name}"]
    assert s["ReadDagBucket"]["resources"] == [dag, f"{dag}/*"]
    assert "s3:PutObject" not in s["ReadDagBucket"]["actions"]
    assert s["WriteOwnLogs"]["resources"] == [f"arn:aws:logs:{region_account}:log-group:airflow-{name}-*", f"arn:aws:logs:{region_account}:log-group:airflow-{name}-*:*"]
    assert s["CeleryQueues"]["resources"] == [f"arn:aws:sqs:{env.aws.region}:*:airflow-celery-*"]
    assert s["UseLakeKey"]["resources"] == [lake_key(stack)]
    # Issue 11: no data access of its own (a task reads with its domain's Vault credentials) ...
    assert not any(a.startswith("s3:") for sid, st in s.items() if sid != "ReadDagBucket" for a in st["actions"])
    # ... only the domains' pipeline roles to assume, the alerts topic, and the account-level list call on "*".
    assert s["AssumeDomainPipelineRoles"]["actions"] == ["sts:AssumeRole"]
    assert set(s["AssumeDomainPipelineRoles"]["resources"]) == {
        naming.domain_pipeline_role_arn(env.aws.account_id, env.prefix, env.name, d.name) for d in env.domains
    }
    assert s["PublishAlerts"] == {**s["PublishAlerts"], "actions": ["sns:Publish"],
                                  "resources": [ref("aws_sns_topic", logical(stack, "aws_sns_topic", "alerts/topic"), "arn")]}
    assert (s["ListLogGroups"]["actions"], s["ListLogGroups"]["resources"]) == (["logs:DescribeLogGroups"], ["*"])
    assert "logs:DescribeLogGroups" not in s["WriteOwnLogs"]["actions"]
    for d in env.domains:  # each pipeline role: trusted by the MWAA role only, session named after the domain, no policy
        pipeline = by_path(stack, "aws_iam_role")[f"pipeline-role-{d.name}/role"]
        # The ARN the MWAA role's grant names literally is this role's (same name, account, path "/").
        assert pipeline["name"] == naming.domain_pipeline_role(env.prefix, env.name, d.name) and "path" not in pipeline
        (trust,) = document_for(stack, pipeline["assume_role_policy"])
        assert trust["principals"][0]["identifiers"] == [ref("aws_iam_role", logical(stack, "aws_iam_role", "mwaa-execution-role/role/role"), "arn")]
        assert trust["condition"] == [{"test": "StringLike", "variable": "sts:RoleSessionName", "values": [f"{d.name}-*"]}]
    assert not [p for p in by_path(stack, "aws_iam_role_policy") if p.startswith("pipeline-role-")]
    assert s["StartDomainCrawlers"]["actions"] == ["glue:StartCrawler", "glue:GetCrawler"]
    assert set(s["StartDomainCrawlers"]["resources"]) == {
        ref("aws_glue_crawler", logical(stack, "aws_glue_crawler", f"domain-{d.name}/catalog/crawler"), "arn") for d in env.domains
    }


@pytest.mark.parametrize("env_name", CLOUD)
def test_alerts_topic_is_encrypted_and_the_budget_warns_at_80_actual_and_100_forecast(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], platform(stacks, env_name)
    topic = stack.only("aws_sns_topic")
    assert topic["kms_master_key_id"] == lake_key(stack) and topic["name"] == f"{env.prefix}-{env.name}-alerts"
    budget = stack.only("aws_budgets_budget")
    assert (budget["budget_type"], budget["time_unit"], budget["limit_unit"]) == ("COST", "MONTHLY", "USD")
    assert budget["limit_amount"] == f"{env.budget.monthly_usd:.2f}" and budget["account_id"] == env.aws.account_id
    notes = {(n["notification_type"], n["threshold"], n["threshold_type"]) for n in budget["notification"]}
    assert notes == {("ACTUAL", 80, "PERCENTAGE"), ("FORECASTED", 100, "PERCENTAGE")}
    assert all(n["subscriber_email_addresses"] == list(env.budget.alert_emails) for n in budget["notification"])


def test_platform_knobs_tiering_schedule_protection_and_budget():
    env, stacks = knob_stacks()
    stack = stacks[f"{env.name}-aws-platform"]
    for path, lifecycle in by_path(stack, "aws_s3_bucket_lifecycle_configuration").items():
        (rule,) = lifecycle["rule"]
        pii_raw = path.endswith("/raw/lifecycle") and env.domain(path.split("/")[0].removeprefix("domain-")).raw_expiry_days
        expected = [] if path.startswith("dag-bucket/") else [45] if pii_raw else [45, 400]  # expires on day 90
        assert [t["days"] for t in rule.get("transition", [])] == expected
        assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 60
        assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 3}]
    _, crawler = resource_named(stack, "aws_glue_crawler", "name", naming.glue_crawler(env.prefix, env.name, env.domains[0].name))
    assert crawler["schedule"] == "cron(0 5 * * ? *)"
    assert by_path(stack, "aws_kms_key")["lake-key/key"]["lifecycle"] == {"prevent_destroy": True}
    assert not stack.resources("aws_budgets_budget")
