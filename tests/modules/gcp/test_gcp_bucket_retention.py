"""modules/gcp/bucket.py read-only mode (a retired domain's bucket): an unlocked retention policy, versioning off
(GCS refuses the two together), and a period inside the provider's limit (under 3,155,760,000 seconds)."""

from __future__ import annotations

import json

import pytest
from cdktf import App, TerraformStack
from cdktf import Testing as CdktfTesting  # aliased: pytest would try to collect a class named Test*

from modules.gcp.bucket import MAX_RETENTION_SECONDS, SECONDS_PER_DAY, SecureBucket, SecureBucketProps, Tiering

TIERING = Tiering(nearline_after_days=30, coldline_after_days=90, archive_after_days=365, noncurrent_expire_days=30,
                  abort_incomplete_multipart_days=7)


def bucket(retention_days: int | None) -> dict:
    stack = TerraformStack(App(), "s")
    SecureBucket(stack, "b", SecureBucketProps(name="n", location="europe-west1", kms_key_id="k", tiering=TIERING,
                                               log_bucket="logs", retention_days=retention_days))
    return next(iter(json.loads(CdktfTesting.synth(stack))["resource"]["google_storage_bucket"].values()))


def test_read_only_bucket_has_an_unlocked_retention_policy_and_no_versioning():
    body = bucket(36500)
    assert body["retention_policy"] == {"retention_period": 36500 * SECONDS_PER_DAY, "is_locked": False}
    assert body["versioning"] == {"enabled": False}
    writable = bucket(None)
    assert "retention_policy" not in writable and writable["versioning"] == {"enabled": True}


@pytest.mark.parametrize("days", [0, MAX_RETENTION_SECONDS // SECONDS_PER_DAY])  # 36525 days is exactly the limit
def test_retention_outside_the_provider_limit_is_refused(days):
    with pytest.raises(ValueError, match="retention_days must be 1 to 36524"):
        bucket(days)
