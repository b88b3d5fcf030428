"""One test per schema rule, each asserting the exact one-line error (file: path: value: rule)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from environments.schema import ENVIRONMENTS_DIR, ConfigError, load_environment, load_environments
from tests.conftest import REPO, synth_into

DEV = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())


def write_env(tmp_path: Path, mutate, name: str = "dev") -> Path:
    data = copy.deepcopy(DEV)
    data["name"] = name
    mutate(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environment(path)
    return str(caught.value).splitlines()


def only_problem(path: Path) -> str:
    lines = problems(path)
    assert len(lines) == 1, lines
    return lines[0]


def test_every_shipped_environment_is_valid():
    assert [e.name for e in load_environments()] == ["dev", "local", "prod", "staging"]


def test_unknown_key_is_rejected(tmp_path):
    path = write_env(tmp_path, lambda d: d["aws"].update(regoin="eu-west-1"))
    assert only_problem(path) == (
        f"{path}: aws.regoin: 'eu-west-1': unknown key (check the spelling against environments/schema.py)"
    )


def test_missing_field_is_reported(tmp_path):
    path = write_env(tmp_path, lambda d: d.pop("budget"))
    assert only_problem(path) == f"{path}: budget: <missing>: required field is missing"


def test_cidr_with_host_bits_is_rejected(tmp_path):
    path = write_env(tmp_path, lambda d: d["aws"]["network"].update(hub_cidr="10.10.0.1/16"))
    assert only_problem(path) == (
        f"{path}: aws.network.hub_cidr: '10.10.0.1/16': "
        "must be an IPv4 CIDR block with no host bits set, e.g. 10.0.0.0/16"
    )


def test_public_cidr_is_rejected(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"]["network"]["spokes"].update(data="8.8.0.0/16"))
    assert only_problem(path) == f"{path}: azure.network.spokes.data: '8.8.0.0/16': must be a private IPv4 range (RFC 1918)"


def test_spoke_overlapping_its_hub_is_rejected(tmp_path):
    path = write_env(tmp_path, lambda d: d["aws"]["network"]["spokes"].update(data="10.10.128.0/17"))
    assert only_problem(path) == (
        f"{path}: aws.network.spokes.data: '10.10.128.0/17': "
        "overlaps aws.network.hub_cidr (10.10.0.0/16); every hub and spoke must be disjoint"
    )


@pytest.mark.parametrize(
    ("cloud", "field", "other"),
    [
        ("gcp", "spokes.data", "aws.network.spokes.data (10.12.0.0/16)"),
        ("azure", "spokes.data", "aws.network.spokes.data (10.12.0.0/16)"),
    ],
)
def test_spokes_overlapping_across_clouds_are_rejected(tmp_path, cloud, field, other):
    """The interconnect between clouds routes by prefix, so every range must be disjoint."""
    path = write_env(tmp_path, lambda d: d[cloud]["network"]["spokes"].update(data="10.12.0.0/16"))
    assert only_problem(path) == (
        f"{path}: {cloud}.network.{field}: '10.12.0.0/16': overlaps {other}; every hub and spoke must be disjoint"
    )


def test_gke_ranges_take_part_in_the_overlap_check(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"]["gke"].update(services_cidr="10.30.0.0/20"))
    assert only_problem(path) == (
        f"{path}: gcp.gke.services_cidr: '10.30.0.0/20': "
        "overlaps azure.network.hub_cidr (10.30.0.0/16); every hub and spoke must be disjoint"
    )


def test_derived_s3_and_gcs_names_are_checked_not_just_the_input(tmp_path):
    # Each part is a legal identifier; only the combined bucket name is too long.
    long_env, long_domain = "development_environment_eu1", "call_analytics_transcripts_x"

    def mutate(d):
        d["domains"][0]["name"] = long_domain

    path = write_env(tmp_path, mutate, name=long_env)
    lines = problems(path)
    s3 = "ccd-development-environment-eu1-call-analytics-transcripts-x-quarantine"
    assert (
        f"{path}: domains[0].name: '{long_domain}': derived s3_bucket name '{s3}' is illegal: "
        "S3 bucket names are 3-63 characters of lowercase letters, digits, '.' and '-', "
        "starting and ending with a letter or digit (no underscores)"
    ) in lines
    gcs = "ccd-development-environment-eu1-call-analytics-transcripts-x-curated"
    assert any(line.startswith(f"{path}: domains[0].name: '{long_domain}': derived gcs_bucket name '{gcs}'") for line in lines)


def test_derived_azure_storage_account_name_is_checked(tmp_path):
    # Spark off: its service account id (tests/config/test_spark_config.py) would be a second illegal name here.
    path = write_env(tmp_path, lambda d: d["spark"].update(enabled=False, reason="n/a"), name="development_europe_1")
    assert only_problem(path) == (
        f"{path}: prefix: 'ccd': derived azure_storage_account name 'ccddevelopmenteurope1lake' is illegal: "
        "Azure storage account names are 3-24 lowercase letters and digits only"
    )


@pytest.mark.parametrize(
    ("cloud", "field", "value", "rule"),
    [
        ("aws", "region", "eu-west-9", "not a known AWS region"),
        ("gcp", "region", "europe-west99", "not a known GCP region"),
        ("azure", "location", "westeurope2", "not a known Azure location"),
    ],
)
def test_regions_must_exist_for_their_cloud(tmp_path, cloud, field, value, rule):
    path = write_env(tmp_path, lambda d: d[cloud].update({field: value}))
    assert only_problem(path) == f"{path}: {cloud}.{field}: '{value}': {rule}"


def test_aws_region_is_not_a_gcp_region(tmp_path):
    path = write_env(tmp_path, lambda d: d["gcp"].update(region="eu-west-1"))
    assert only_problem(path) == f"{path}: gcp.region: 'eu-west-1': not a known GCP region"


def test_domain_name_must_be_an_identifier(tmp_path):
    path = write_env(tmp_path, lambda d: d["domains"][0].update(name="Call-Analytics"))
    assert only_problem(path) == (
        f"{path}: domains[0].name: 'Call-Analytics': must be a lowercase identifier: a letter, then 1-29 of a-z, 0-9, _"
    )


def test_domain_names_must_be_unique(tmp_path):
    path = write_env(tmp_path, lambda d: d["domains"][1].update(name="call_analytics"))
    assert only_problem(path) == (
        f"{path}: domains[1].name: 'call_analytics': domain names must be unique (also domains[0])"
    )


def test_domain_classification_is_an_enum(tmp_path):
    path = write_env(tmp_path, lambda d: d["domains"][0].update(classification="secret"))
    assert only_problem(path) == (
        f"{path}: domains[0].classification: 'secret': Input should be 'public', 'internal' or 'pii'"
    )


def test_budget_must_be_positive(tmp_path):
    path = write_env(tmp_path, lambda d: d["budget"].update(monthly_usd=0))
    assert only_problem(path) == f"{path}: budget.monthly_usd: 0: Input should be greater than 0"


def test_alert_emails_must_be_valid(tmp_path):
    path = write_env(tmp_path, lambda d: d["budget"].update(alert_emails=["ops.example.com"]))
    line = only_problem(path)
    assert line.startswith(f"{path}: budget.alert_emails[0]: 'ops.example.com': value is not a valid email address")


def test_alert_emails_must_not_be_empty(tmp_path):
    path = write_env(tmp_path, lambda d: d["budget"].update(alert_emails=[]))
    assert only_problem(path) == f"{path}: budget.alert_emails: []: List should have at least 1 item after validation, not 0"


def test_name_must_match_the_file(tmp_path):
    def mutate(d):
        d["name"] = "prod"

    data = copy.deepcopy(DEV)
    mutate(data)
    path = tmp_path / "dev.yaml"
    path.write_text(yaml.safe_dump(data))
    assert only_problem(path) == f"{path}: name: 'prod': must equal the file name 'dev'"


def test_a_disabled_feature_must_say_why(tmp_path):
    path = write_env(tmp_path, lambda d: d["aws"]["network"].update(transit_gateway={"enabled": False}))
    assert only_problem(path) == (
        f"{path}: aws.network.transit_gateway: {{'enabled': False}}: a disabled feature must give its reason"
    )


def test_tiering_days_must_increase(tmp_path):
    path = write_env(tmp_path, lambda d: d["storage"]["tiering"].update(cold_after_days=20, archive_after_days=10))
    assert only_problem(path) == (
        f"{path}: storage.tiering: {DEV['storage']['tiering'] | {'cold_after_days': 20, 'archive_after_days': 10}}: "
        "tiering days must increase: warm_after_days < cold_after_days < archive_after_days"
    )


def test_s3_infrequent_access_needs_thirty_days(tmp_path):
    path = write_env(tmp_path, lambda d: d["storage"]["tiering"].update(warm_after_days=7))
    assert only_problem(path) == f"{path}: storage.tiering.warm_after_days: 7: Input should be greater than or equal to 30"


def test_secret_ttls_are_capped(tmp_path):
    path = write_env(tmp_path, lambda d: d["vault"].update(default_lease_ttl_seconds=2764800))
    assert only_problem(path) == (
        f"{path}: vault.default_lease_ttl_seconds: 2764800: Input should be less than or equal to 3600"
    )


def test_workers_must_be_ordered(tmp_path):
    path = write_env(tmp_path, lambda d: d["orchestration"].update(min_workers=5, max_workers=2))
    line = only_problem(path)
    assert line.startswith(f"{path}: orchestration: ") and line.endswith(": max_workers must be >= min_workers")


def test_airflow_version_must_be_one_mwaa_offers(tmp_path):
    path = write_env(tmp_path, lambda d: d["orchestration"].update(airflow_version="2.4.3"))
    assert only_problem(path).startswith(f"{path}: orchestration.airflow_version: '2.4.3': Input should be ")


def test_types_are_not_coerced(tmp_path):
    path = write_env(tmp_path, lambda d: d["orchestration"].update(max_workers="2"))
    assert only_problem(path) == f"{path}: orchestration.max_workers: '2': Input should be a valid integer"


def test_duplicate_yaml_keys_are_rejected(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text((ENVIRONMENTS_DIR / "dev.yaml").read_text().replace("owner: platform-team", "owner: a\nowner: b", 1))
    line = only_problem(path)
    assert line.startswith(f"{path}: line 5 column 1: <missing>: not valid YAML: duplicate key 'owner'")


def test_all_problems_are_reported_not_just_the_first(tmp_path):
    def mutate(d):
        d["aws"]["region"] = "eu-west-9"
        d["budget"]["monthly_usd"] = -1
        d["owner_team"] = "x"

    lines = problems(write_env(tmp_path, mutate))
    assert len(lines) == 3
    assert [line.split(": ")[1] for line in lines] == ["aws.region", "budget.monthly_usd", "owner_team"]


def test_problems_of_every_file_are_reported_together(tmp_path):
    write_env(tmp_path, lambda d: d["aws"].update(region="nowhere"), name="dev")
    write_env(tmp_path, lambda d: d["gcp"].update(region="nowhere"), name="qa")
    with pytest.raises(ConfigError) as caught:
        load_environments(tmp_path)
    assert [p.path for p in caught.value.problems] == ["aws.region", "gcp.region"]


def test_cli_reports_bad_config_in_one_line_per_problem_and_writes_nothing(tmp_path):
    envdir = tmp_path / "envs"
    envdir.mkdir()
    path = write_env(envdir, lambda d: d["aws"].update(region="eu-west-9"))
    outdir = tmp_path / "cdktf.out"
    result = synth_into(outdir, extra=["--environments", str(envdir)])
    assert result.returncode == 2
    assert result.stderr == f"{path}: aws.region: 'eu-west-9': not a known AWS region\n"
    assert not outdir.exists() and not list(tmp_path.glob("cdktf.out*"))


def test_cli_rejects_an_unknown_flag_without_a_traceback(tmp_path):
    result = synth_into(tmp_path / "out", extra=["--evn", "dev"])
    assert result.returncode == 2
    assert "error: unrecognized arguments: --evn dev" in result.stderr
    assert "Traceback" not in result.stderr
    assert REPO.joinpath("main.py").is_file()
