"""Cloud Conductor's own checkov policies (issue 13), run by scripts/policy_gate.py with
``--external-checks-dir policy/custom_checks``. The S3 ones that need a second resource
(public-access block, SSE-KMS configuration) are graph checks in the YAML files beside this one.

IDs are CKV_CC_* / CKV2_CC_* so that a reviewed skip can name them like any built-in check.
checkov hands each attribute over wrapped in a list (HCL style) for terraform_json too, hence ``_value``.
"""

from __future__ import annotations

from typing import Any, Callable

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

#: The tags every taggable resource carries (stacks/base.py platform_tags, modules/tagging.py;
#: a data domain overrides domain/owner/classification through scope_tags).
REQUIRED_TAGS = ("environment", "owner", "domain", "classification", "component", "managed-by")

#: Resources that hold data or keys on each cloud and are taggable; the tag attribute follows
#: modules/tagging.py (AWS and Azure ``tags``, GCP ``labels``).
TAGGED_RESOURCES = {
    "aws_s3_bucket": "tags", "aws_kms_key": "tags", "aws_glue_crawler": "tags", "aws_iam_role": "tags",
    "aws_sns_topic": "tags", "aws_cloudwatch_log_group": "tags",
    "google_storage_bucket": "labels", "google_kms_crypto_key": "labels",
    "azurerm_storage_account": "tags", "azurerm_key_vault": "tags", "azurerm_resource_group": "tags",
}


def _value(conf: dict[str, Any], *path: str) -> Any:
    """conf["a"][0]["b"][0] for path ("a", "b"); None when any step is missing."""
    current: Any = conf
    for key in path:
        while isinstance(current, list):
            if not current:
                return None
            current = current[0]
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    while isinstance(current, list) and current:
        current = current[0]
    if isinstance(current, dict):  # tag maps come with each value wrapped too: {"owner": ["team"]}
        current = {k: _value(current, k) for k in current if not k.startswith("__")}
    return current


def _classification(conf: dict[str, Any], attribute: str) -> str | None:
    tags = _value(conf, attribute)
    return tags.get("classification") if isinstance(tags, dict) else None


class Rule(BaseResourceCheck):
    """One check: ``passes(resource_type, conf)`` decides PASSED or FAILED."""

    def __init__(
        self, id_: str, name: str, category: CheckCategories, resources: list[str],
        passes: Callable[[str, dict[str, Any]], bool],
    ) -> None:
        self._passes = passes
        super().__init__(name=name, id=id_, categories=[category], supported_resources=resources)

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if self._passes(self.entity_type, conf) else CheckResult.FAILED


def _has_required_tags(resource_type: str, conf: dict[str, Any]) -> bool:
    tags = _value(conf, TAGGED_RESOURCES[resource_type])
    return isinstance(tags, dict) and all(tags.get(tag) for tag in REQUIRED_TAGS)


Rule(
    "CKV_CC_1", "GCS buckets enforce public access prevention", CheckCategories.GENERAL_SECURITY,
    ["google_storage_bucket"],
    # google provider: public_access_prevention is "inherited" (org policy decides) or "enforced".
    lambda _, conf: _value(conf, "public_access_prevention") == "enforced",
)
Rule(
    "CKV_CC_2", "Azure storage accounts forbid public containers and blobs", CheckCategories.GENERAL_SECURITY,
    ["azurerm_storage_account"],
    # azurerm 4.x: allow_nested_items_to_be_public defaults to true, so it must be set false explicitly.
    lambda _, conf: _value(conf, "allow_nested_items_to_be_public") is False,
)
Rule(
    "CKV_CC_3", "GCS buckets labelled classification=pii are encrypted with a customer key",
    CheckCategories.ENCRYPTION, ["google_storage_bucket"],
    lambda _, conf: _classification(conf, "labels") != "pii" or bool(_value(conf, "encryption", "default_kms_key_name")),
)
Rule(
    "CKV_CC_4", "Azure storage accounts tagged classification=pii are encrypted with a customer key",
    CheckCategories.ENCRYPTION, ["azurerm_storage_account"],
    # The inline customer_managed_key block (modules/azure/storage_account.py sets it).
    lambda _, conf: _classification(conf, "tags") != "pii"
    or bool(_value(conf, "customer_managed_key", "key_vault_key_id")),
)
Rule(
    "CKV_CC_5", f"Resources carry the platform's required tags ({', '.join(REQUIRED_TAGS)})",
    CheckCategories.CONVENTION, sorted(TAGGED_RESOURCES), _has_required_tags,
)
