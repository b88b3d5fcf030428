"""Safe retirement (issue 13): prod with a domain retired keeps every storage resource of that domain
(same ids, same settings; S3 made read-only) on every cloud, and drops its compute and grants.
And `make domain-report` (scripts/domain_report.py) on the same two synths."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from environments import naming
from environments.schema import ENVIRONMENTS_DIR
from tests.conftest import REPO, synth_environment

RETIRED = "agent_performance"
#: Resource types that hold data or protect it (keys, encryption, versioning, lifecycle, access blocks).
STORAGE_PREFIXES = (
    "aws_s3_bucket", "aws_glue_catalog_database", "aws_kms", "google_storage_bucket", "google_kms", "azurerm_storage",
    "azurerm_key_vault",
)
STACKS = ("prod-aws-platform", "prod-gcp-platform", "prod-azure-platform", "prod-vault", "prod-aws-orchestration")


def _mentions(name: str) -> bool:
    return RETIRED in name or RETIRED.replace("_", "-") in name


@pytest.fixture(scope="module")
def synths(tmp_path_factory):
    prod = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    retired = {**prod, "domains": [{**d, "retired": d["name"] == RETIRED} for d in prod["domains"]]}
    _, active_stacks = synth_environment(prod, "prod", tmp_path_factory.mktemp("active"))
    _, retired_stacks = synth_environment(retired, "prod", tmp_path_factory.mktemp("retired"))
    return active_stacks, retired_stacks


def _is_storage(resource_type: str) -> bool:
    return resource_type.startswith(STORAGE_PREFIXES) and "_iam_" not in resource_type  # IAM bindings are grants


def _storage(stack) -> dict[tuple[str, str], dict]:
    return {(t, n): body for t, n, body in stack.all_resources() if _is_storage(t)}


#: What retirement adds to a domain's storage, per cloud: the read-only lock and nothing else.
LOCKS = {"azurerm_storage_container_immutability_policy", "azurerm_management_lock"}


def test_storage_keeps_its_ids_and_settings_on_every_cloud(synths):
    """Same ids everywhere; the only differences are the lock settings, asserted in the tests below."""
    active, retired = synths
    for name in ("prod-aws-platform", "prod-gcp-platform", "prod-azure-platform"):
        before, after = _storage(active[name]), _storage(retired[name])
        assert any(_mentions(n) for _, n in before), name
        added = {key for key in after if key not in before}
        assert {key for key in before if key not in after} == set(), name
        assert all(t in LOCKS and _mentions(n) for t, n in added), (name, added)
        for key in before:
            if key[0] == "google_storage_bucket" and _mentions(key[1]):
                continue  # the retention lock, test_gcs_buckets_become_read_only
            assert before[key] == after[key], (name, key)


def test_gcs_buckets_become_read_only(synths):
    """An unlocked retention policy (refuses deletes and overwrites; liftable for the final deletion) replaces
    versioning, which GCS refuses next to a retention policy; nothing else of the bucket changes."""
    from environments.schema import RETIRED_RETENTION_DAYS

    active, retired = synths
    before = active["prod-gcp-platform"].resources("google_storage_bucket")
    after = retired["prod-gcp-platform"].resources("google_storage_bucket")
    locked = sorted(n for n in after if _mentions(n))
    assert len(locked) >= 3  # raw, curated, quarantine (+ Spark staging where Spark is on)
    for name in after:
        if name in locked:
            assert after[name]["retention_policy"] == {"retention_period": RETIRED_RETENTION_DAYS * 86400, "is_locked": False}
            assert after[name]["versioning"] == {"enabled": False}
            rest = lambda body: {k: v for k, v in body.items() if k not in ("retention_policy", "versioning")}  # noqa: E731
            assert rest(after[name]) == rest(before[name]), name
        else:
            assert after[name] == before[name] and "retention_policy" not in after[name], name
    # No identity keeps an object grant on them: the pipeline (and Spark) accounts' bindings are gone.
    grants = [b for b in retired["prod-gcp-platform"].resources("google_storage_bucket_iam_member").values()
              if any(f"google_storage_bucket.{n}." in str(b["bucket"]) for n in locked)]
    assert grants == []


def test_azure_container_becomes_read_only(synths):
    from environments.schema import RETIRED_RETENTION_DAYS

    active, retired = synths
    stack = retired["prod-azure-platform"]
    policies = stack.resources("azurerm_storage_container_immutability_policy")
    assert len(policies) == 1 and _mentions(next(iter(policies)))
    policy = next(iter(policies.values()))
    assert policy["immutability_period_in_days"] == RETIRED_RETENTION_DAYS and policy["locked"] is False
    container = next(n for n in stack.resources("azurerm_storage_container") if _mentions(n))
    assert policy["storage_container_resource_manager_id"] == f"${{azurerm_storage_container.{container}.id}}"
    locks = {n: b for n, b in stack.resources("azurerm_management_lock").items() if _mentions(n)}
    assert [b["lock_level"] for b in locks.values()] == ["CanNotDelete"]
    assert next(iter(locks.values()))["scope"] == f"${{azurerm_storage_container.{container}.id}}"
    assert not active["prod-azure-platform"].resources("azurerm_storage_container_immutability_policy")


def test_retired_buckets_deny_writes_and_deletes(synths):
    active, retired = synths
    documents = retired["prod-aws-platform"].doc["data"]["aws_iam_policy_document"]
    locked = {n for n, doc in documents.items() if any(s.get("sid") == "DenyWritesRetired" for s in doc["statement"])}
    assert locked == {n for n in documents if _mentions(n) and "_policy-document_" in n}
    assert len(locked) == 3  # raw, curated, quarantine
    statement = next(s for s in documents[sorted(locked)[0]]["statement"] if s["sid"] == "DenyWritesRetired")
    assert statement["effect"] == "Deny" and "s3:PutObject" in statement["actions"] and "s3:DeleteBucket" in statement["actions"]
    before = active["prod-aws-platform"].doc["data"]["aws_iam_policy_document"]
    assert not any(s.get("sid") == "DenyWritesRetired" for doc in before.values() for s in doc["statement"])


def _contract_in_bundle(rtype: str, name: str) -> bool:
    """The DAG bundle ships every contract file (data, airflow/dags/domains/): a retired domain's stays, inert,
    because callcenter.domains no longer names it (test_airflow_is_told_only_the_active_domains)."""
    return rtype == "aws_s3_object" and "dags__domains__" in name


def test_compute_and_grants_disappear(synths):
    active, retired = synths
    def compute(stacks):
        return sorted(
            f"{name}: {t}.{n}" for name in STACKS for t, n, _ in stacks[name].all_resources()
            if _mentions(n) and not _is_storage(t) and t not in LOCKS and not _contract_in_bundle(t, n)
        )
    gone = compute(active)
    assert any("aws_glue_crawler" in r for r in gone)
    assert any("pipeline-role-" in r for r in gone)
    assert any("google_service_account.pipeline-account-" in r for r in gone)
    assert any(r.startswith("prod-vault: vault_policy.") for r in gone)
    assert compute(retired) == []
    # Nothing else still points at them: the MWAA role and the crawler alarm name only the active domain.
    prefix = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())["prefix"]
    text = json.dumps({n: s.doc for n, s in retired.items() if n in STACKS})
    before = json.dumps({n: s.doc for n, s in active.items() if n in STACKS})
    reference = f":role/{naming.domain_pipeline_role(prefix, 'prod', RETIRED)}"  # MWAA may assume it, Vault binds it
    assert reference in before and reference not in text


def test_airflow_is_told_only_the_active_domains(synths):
    """MWAA's callcenter.domains (stacks/mwaa_options.py): no DAG of a retired domain is generated."""
    from stacks.mwaa_options import DOMAINS_OPTION

    def configured(stacks):
        options = stacks["prod-aws-orchestration"].only("aws_mwaa_environment")["airflow_configuration_options"]
        return json.loads(options[DOMAINS_OPTION])

    active, retired = synths
    shipped = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())["domains"]
    assert sorted(configured(active)) == sorted(d["name"] for d in shipped if not d.get("retired"))
    assert {"agent_performance", "call_analytics"} <= set(configured(active))
    assert configured(retired) == {k: v for k, v in configured(active).items() if k != RETIRED}


# --------------------------------------------------------------------------- make domain-report

sys.path.insert(0, str(REPO / "scripts"))
import domain_report  # noqa: E402


def test_domain_report_lists_resources_vault_and_dags(synths, capsys):
    active, _ = synths
    root = next(iter(active.values())).path.parent
    assert domain_report.main(["--name", "call_analytics", "--env", "prod", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    for stack, rtype in (("prod-aws-platform", "aws_s3_bucket"), ("prod-gcp-platform", "google_storage_bucket"),
                         ("prod-azure-platform", "azurerm_storage_container"), ("prod-vault", "vault_policy")):
        expected = sorted(n for t, n, _ in active[stack].all_resources() if t == rtype and ("call_analytics" in n or "call-analytics" in n))
        assert expected and all(f"  {rtype}.{n}" in out for n in expected), (stack, rtype)
    assert "agent_performance" not in out and "agent-performance" not in out
    assert "policy prod-domain-call-analytics: platform/data/domains/call-analytics/*" in out
    # The per-domain DAGs are generated from the contract by one bundle file (H2's domain_pipelines.py).
    assert "  dags/domain_pipelines.py (prod-aws-orchestration)" in out


def test_domain_report_of_a_retired_domain_shows_storage_only(synths, capsys):
    _, retired = synths
    root = next(iter(retired.values())).path.parent
    assert domain_report.main(["--name", RETIRED, "--env", "prod", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "aws_s3_bucket.domain-agent_performance_raw_bucket_" in out
    assert "vault: none" in out and "aws_glue_crawler" not in out and "pipeline-role-" not in out


def test_domain_report_rejects_an_unknown_domain(synths, capsys):
    active, _ = synths
    root = next(iter(active.values())).path.parent
    assert domain_report.main(["--name", "nope", "--env", "prod", "--root", str(root)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"domain report: {root}: --name: 'nope': no resource of environment 'prod' belongs to this domain"
    )


# --------------------------------------------------------------------------- classification: pii


def test_pii_raw_zone_expires_and_others_keep_their_data(synths):
    """call_analytics (pii): raw objects expire after PII_RAW_RETENTION_DAYS, with no transition on or after
    that day (S3 refuses it); its curated zone and the internal domain's raw zone keep their objects."""
    from environments.schema import PII_RAW_RETENTION_DAYS

    active, _ = synths
    rules = {
        n.rsplit("_", 2)[0]: body["rule"][0]
        for n, body in active["prod-aws-platform"].resources("aws_s3_bucket_lifecycle_configuration").items()
    }
    raw = rules["domain-call_analytics_raw"]
    assert raw["expiration"] == [{"days": PII_RAW_RETENTION_DAYS}]
    assert raw["transition"] and all(t["days"] < PII_RAW_RETENTION_DAYS for t in raw["transition"])
    for other in ("domain-call_analytics_curated", "domain-call_analytics_quarantine", "domain-agent_performance_raw"):
        assert "expiration" not in rules[other], other
