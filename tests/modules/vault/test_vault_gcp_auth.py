"""Dataproc batches log in to Vault as their domain (issue 12): Vault's GCP auth (iam roles bound to each
domain's batch account, the domain's policy, short TTL), the batch account's signJwt on itself only, the
pipeline account's right to submit, and the Variable's "engine". Synthesized from dev.yaml with
`spark.gcp.engine_for_customer_360: dataproc` (a copy), and from dev as it is (EMR: none of it exists)."""

from __future__ import annotations

import functools
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from environments import naming
from environments.schema import ENVIRONMENTS_DIR, load_environment
from tests.conftest import REPO, Stack, synth_into
from tests.modules.aws.spark_support import spark_stacks

DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
DOMAINS = sorted(d.name for d in DEV.active_domains)
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


@functools.lru_cache(maxsize=1)
def dataproc_stacks() -> dict[str, Stack]:
    root = Path(tempfile.mkdtemp(prefix="dataproc-stacks-"))
    envs = root / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, envs, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (envs / "dev.yaml").read_text()
    assert '  gcp: {runtime_version: "2.2"}' in text
    (envs / "dev.yaml").write_text(text.replace('  gcp: {runtime_version: "2.2"}',
                                                '  gcp: {runtime_version: "2.2", engine_for_customer_360: dataproc}'))
    result = synth_into(root / "out", envs=["dev"], extra=["--environments", str(envs)])
    assert result.returncode == 0, result.stderr[-3000:]
    stacks = root / "out" / "stacks"
    return {p.name: Stack(p.name, p) for p in stacks.iterdir() if (p / "cdk.tf.json").is_file()}


def _variable(stack: Stack, domain: str) -> dict:
    return json.loads(stack.doc["output"][f"variable-{domain}_spark"]["value"])


@pytest.fixture(scope="module")
def vault():
    return dataproc_stacks()["dev-vault"]


def test_each_domains_batch_account_logs_in_to_its_domain_policy_only(vault):
    [backend] = vault.resources("vault_gcp_auth_backend").values()
    # The job logs in at the mount the stack creates (credentials.py needs pyarrow, absent here: read its text).
    job_side = (REPO / "airflow" / "dags" / "callcenter" / "credentials.py").read_text()
    assert backend["path"] == naming.VAULT_GCP_AUTH_MOUNT
    assert f'GCP_AUTH_MOUNT = "{naming.VAULT_GCP_AUTH_MOUNT}"' in job_side
    assert backend["tune"] == [{"default_lease_ttl": f"{DEV.vault.default_lease_ttl_seconds}s",
                                "max_lease_ttl": f"{DEV.vault.max_lease_ttl_seconds}s"}]
    roles = {r["role"]: r for r in vault.resources("vault_gcp_auth_backend_role").values()}
    assert sorted(roles) == sorted(naming.vault_domain_login_role(DEV.name, d) for d in DOMAINS)
    for domain in DOMAINS:
        role = roles[naming.vault_domain_login_role(DEV.name, domain)]
        assert role["type"] == "iam" and role["allow_gce_inference"] is False and role["max_jwt_exp"] == "900"
        [account] = role["bound_service_accounts"]
        assert f"spark_account-{domain}_" in account and account.endswith("email}")  # the batch account, exactly
        assert role["token_policies"] == [naming.vault_domain_policy(DEV.name, domain)]
        assert (role["token_ttl"], role["token_max_ttl"]) == (DEV.vault.default_lease_ttl_seconds,
                                                               DEV.vault.max_lease_ttl_seconds)


def test_the_dag_gets_a_token_dataproc_accepts_and_the_variable_says_dataproc(vault):
    for account in vault.resources("vault_gcp_secret_impersonated_account").values():
        assert CLOUD_PLATFORM in account["token_scopes"]
    for domain in DOMAINS:
        spark = _variable(vault, domain)
        assert spark["engine"] == "dataproc" and spark["gcp"]["staging_bucket"]


def test_a_batch_account_signs_only_as_itself_and_only_pipeline_accounts_submit():
    platform = dataproc_stacks()["dev-gcp-platform"]
    roles = {k: r for k, r in platform.resources("google_project_iam_custom_role").items()}
    [sign] = [k for k, r in roles.items() if r["permissions"] == ["iam.serviceAccounts.signJwt"]]
    [submit] = [k for k, r in roles.items() if r["permissions"] == ["dataproc.batches.create", "dataproc.batches.get"]]
    signers = [m for m in platform.resources("google_service_account_iam_member").values() if sign in m["role"]]
    assert len(signers) == len(DOMAINS)
    for m in signers:  # granted on the account, to the same account
        account = m["service_account_id"].split(".")[1]
        assert m["member"] == f"serviceAccount:${{google_service_account.{account}.email}}"
    submitters = [m["member"] for m in platform.resources("google_project_iam_member").values() if submit in m["role"]]
    assert len(submitters) == len(DOMAINS) and all("pipeline-account-" in m for m in submitters)
    staging_users = [m for m in platform.resources("google_storage_bucket_iam_member").values()
                     if "pipeline-account-" in m["member"] and "staging" in m["bucket"]]
    assert len(staging_users) == len(DOMAINS)  # code published and summaries read by the DAG


def test_on_emr_nothing_of_it_exists():
    stacks = spark_stacks()
    vault, platform = stacks["dev-vault"], stacks["dev-gcp-platform"]
    assert vault.resources("vault_gcp_auth_backend") == {} and vault.resources("vault_gcp_auth_backend_role") == {}
    assert platform.resources("google_project_iam_custom_role") == {}
    for account in vault.resources("vault_gcp_secret_impersonated_account").values():
        assert account["token_scopes"] == ["https://www.googleapis.com/auth/devstorage.read_write"]
    assert {_variable(vault, d)["engine"] for d in DOMAINS} == {"emr"}


def test_roles_refuse_a_wildcard_account():
    import modules  # noqa: F401  (first: registers the provider packages lazily)

    # isort: split
    from cdktf import TerraformStack
    from cdktf import Testing as CdktfTesting
    from cdktf_cdktf_provider_vault.provider import VaultProvider

    from modules.vault.gcp_iam_auth import GcpIamAuth, GcpIamAuthProps, GcpIamAuthRoleProps
    from modules.vault.lease import LeaseTtl

    scope = TerraformStack(CdktfTesting.app(), "test")
    VaultProvider(scope, "vault", address="https://vault.example:8200")
    auth = GcpIamAuth(scope, "gcp", GcpIamAuthProps(path="gcp", lease=LeaseTtl(3600, 14400)))
    with pytest.raises(ValueError, match="bind exact service accounts, no wildcard"):
        auth.add_role("r", GcpIamAuthRoleProps(name="x", service_accounts=("*@p.iam.gserviceaccount.com",), policies=("p",)))
    assert sys.modules["modules.vault.gcp_iam_auth"].MAX_JWT_EXP_SECONDS <= 15 * 60


def test_dataproc_needs_the_gcp_side(tmp_path):
    from tests.config.test_schema import only_problem, write_env

    def mutate(d):
        d["spark"]["gcp"]["engine_for_customer_360"] = "dataproc"
        d["gcp"]["terraform"] = {"enabled": False, "reason": "test"}
    path = write_env(tmp_path, mutate)
    assert only_problem(path) == f"{path}: spark.gcp.engine_for_customer_360: 'dataproc': Dataproc needs gcp.terraform.enabled"
