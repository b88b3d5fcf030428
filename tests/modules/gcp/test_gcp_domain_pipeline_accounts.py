"""Review #16: each domain gets a pipeline service account for Vault's GCP engine to impersonate.

Object access on its own buckets only, no project role, no key, and tokenCreator on it for
the engine's account alone (an input, never a literal).
"""

from __future__ import annotations

import pytest

from environments import naming
from environments.schema import load_environments
from tests.modules.gcp.support import ref

ENVIRONMENTS = {e.name: e for e in load_environments() if e.gcp.terraform.enabled}


@pytest.mark.parametrize("env_name", sorted(ENVIRONMENTS))
def test_each_domain_account_reaches_only_its_buckets_and_only_vault_mints_its_tokens(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-gcp-platform"]
    accounts = {v["account_id"]: k for k, v in stack.resources("google_service_account").items()}
    buckets = {v["name"]: k for k, v in stack.resources("google_storage_bucket").items()}
    grants = stack.resources("google_storage_bucket_iam_member").values()
    creators = list(stack.resources("google_service_account_iam_member").values())
    assert stack.resources("google_service_account_key") == {}
    for domain in env.domains:
        logical = accounts[naming.gcp_domain_pipeline_account(env.prefix, env.name, domain.name)]
        member = f"serviceAccount:{ref('google_service_account', logical, 'email')}"
        mine = {g["bucket"] for g in grants if g["member"] == member}
        assert mine == {ref("google_storage_bucket", buckets[naming.gcs_bucket(env.prefix, env.name, domain.name, z)], "id")
                        for z in naming.GCS_ZONES}
        assert {g["role"] for g in grants if g["member"] == member} == {"roles/storage.objectUser"}
        assert not [m for m in stack.resources("google_project_iam_member").values() if m["member"] == member]
        (creator,) = [c for c in creators if c["service_account_id"] == ref("google_service_account", logical, "name")]
        assert (creator["role"], creator["member"]) == (
            "roles/iam.serviceAccountTokenCreator", "serviceAccount:${var.vault_gcp_engine_service_account}")


def test_an_account_id_longer_than_iam_allows_is_refused():
    with pytest.raises(ValueError, match="longer than 30 characters"):
        naming.gcp_domain_pipeline_account("ccs", "staging", "a_very_long_domain_name")
