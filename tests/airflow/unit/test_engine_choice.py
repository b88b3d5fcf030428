from __future__ import annotations

import pytest
from callcenter.engine_choice import Thresholds, choose


def test_small_hourly_export_stays_in_the_worker():
    assert choose(50 * 1024**2, 1) == "worker"


def test_at_the_thresholds_still_worker_just_above_goes_to_spark():
    t = Thresholds(max_worker_bytes=1000, max_worker_days=3)
    assert choose(1000, 3, t) == "worker"
    assert choose(1001, 1, t) == "spark"
    assert choose(10, 4, t) == "spark"


def test_defaults_send_big_inputs_and_backfills_to_spark():
    assert choose(3 * 1024**3, 1) == "spark"
    assert choose(1024, 30) == "spark"


@pytest.mark.parametrize("args", [(-1, 1), (1, -1)])
def test_negative_input_refused(args):
    with pytest.raises(ValueError, match=">= 0"):
        choose(*args)


def test_non_positive_thresholds_refused():
    with pytest.raises(ValueError, match="positive"):
        Thresholds(max_worker_bytes=0)


# --------------------------------------------------------------------------- the call_analytics_spark Variable
import json

from callcenter.engine_choice import SparkSettings, SparkSettingsError

AWS = {"application_id": "00f1abc", "execution_role_arn": "arn:aws:iam::123456789012:role/dev-ca-spark-job",
       "code_uri": "s3://dev-dags/spark/", "log_uri": "s3://dev-logs/spark/"}


def test_absent_variable_or_null_aws_keeps_everything_in_the_worker():
    for settings in (SparkSettings.from_json(None), SparkSettings.from_json('{"aws": null, "gcp": null}')):
        assert settings.aws is None
        assert settings.engine(10 * 1024**4, 365) == "worker"


def test_full_variable_parses_and_large_input_goes_to_spark():
    text = json.dumps({"thresholds": {"max_worker_bytes": 1000, "max_worker_days": 2}, "aws": AWS, "gcp": None})
    settings = SparkSettings.from_json(text)
    assert settings.aws.application_id == "00f1abc" and settings.thresholds.max_worker_bytes == 1000
    assert settings.engine(1000, 1) == "worker"
    assert settings.engine(1001, 1) == "spark"
    assert settings.engine(1, 3) == "spark"


def test_a_backfill_touching_other_clouds_goes_to_spark_only_where_the_job_reaches_them():
    """customer_360 reads Azure and writes GCS; EMR's data spoke reaches them only when it is a fabric spoke."""
    aws_only = SparkSettings.from_json(json.dumps({"thresholds": {"max_worker_days": 2}, "aws": AWS}))
    assert aws_only.cross_cloud is False
    assert aws_only.engine(0, 30, other_clouds=True) == "worker"
    assert aws_only.engine(0, 30) == "spark"  # an S3-only run still goes
    fabric = SparkSettings.from_json(json.dumps({"thresholds": {"max_worker_days": 2}, "aws": AWS, "cross_cloud": True}))
    assert fabric.engine(0, 30, other_clouds=True) == "spark"


def test_a_left_out_threshold_keeps_its_default():
    assert SparkSettings.from_json('{"thresholds": {"max_worker_days": 3}}').thresholds.max_worker_bytes == 2 * 1024**3


@pytest.mark.parametrize(("text", "message"), [
    ("{nope", "call_analytics_spark: not JSON"),
    ("[]", "call_analytics_spark: must be a JSON object, got list"),
    ('{"azure": {}}', "call_analytics_spark: unknown field(s) azure"),
    ('{"thresholds": {"max_worker_bytes": "2G"}}', "call_analytics_spark.thresholds.max_worker_bytes: '2G' must be"),
    ('{"thresholds": {"max_worker_days": true}}', "call_analytics_spark.thresholds.max_worker_days: True must be"),
    ('{"thresholds": {"max_worker_days": 0}}', "call_analytics_spark.thresholds: thresholds must be positive"),
    (json.dumps({"aws": {**AWS, "application_id": ""}}), "call_analytics_spark.aws.application_id: '' must be"),
    (json.dumps({"aws": {k: v for k, v in AWS.items() if k != "log_uri"}}), "call_analytics_spark.aws.log_uri: None"),
    (json.dumps({"aws": {**AWS, "key": "x"}}), "call_analytics_spark.aws.key: unknown field"),
    ('{"gcp": "yes"}', "call_analytics_spark.gcp: must be an object or null, got str"),
    ('{"cross_cloud": "yes"}', "call_analytics_spark.cross_cloud: 'yes' must be true or false"),
])
def test_bad_variable_is_one_clear_line(text, message):
    with pytest.raises(SparkSettingsError) as error:
        SparkSettings.from_json(text)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_seeded_local_value_keeps_runs_in_the_worker_with_the_environment_thresholds():
    from pathlib import Path

    from environments.schema import load_environment
    from scripts.airflow_secrets import spark_settings_for

    repo = Path(__file__).resolve().parents[3]

    env = load_environment(repo / "environments" / "local.yaml")
    settings = SparkSettings.from_json(spark_settings_for(env))
    assert settings.aws is None and settings.gcp is None
    assert settings.thresholds.max_worker_bytes == env.spark.thresholds.max_worker_bytes
    assert settings.engine(10 * 1024**4, 365) == "worker"
