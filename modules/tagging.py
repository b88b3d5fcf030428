"""One aspect that tags every taggable resource on every cloud.

Resources never set the platform's tags themselves. A stack registers
:class:`TagAspect` once with its environment's tags; a construct that belongs to a
data domain calls :func:`scope_tags` so everything beneath it also carries the
domain's tags. Precedence, most specific first: tags a resource set explicitly,
then the nearest scope's tags, then the stack's.
"""

from __future__ import annotations

import jsii
from cdktf import IAspect, TerraformResource
from constructs import Construct, IConstruct

CONTEXT_KEY = "cloud-conductor:tags"

# Attribute names that hold resource tags/labels, by cloud convention:
# AWS and Azure use `tags`; GCP uses `labels`, and GKE clusters `resource_labels`.
_TAG_ATTRIBUTES = ("tags", "labels", "resource_labels")
# Resources whose usual tag attribute means something else (None: not taggable).
TAG_ATTRIBUTE_BY_TYPE: dict[str, str | None] = {
    # An e-mail channel's `labels` is its configuration and accepts exactly one key,
    # email_address; its resource labels are `user_labels`.
    "google_monitoring_notification_channel": "user_labels",
    # `tags` here is a list of Entra ID application tags on the service principals
    # Vault creates per lease; there is nothing for cost tags to attach to.
    "vault_azure_secret_backend_role": None,
}


def scope_tags(scope: Construct, tags: dict[str, str]) -> None:
    """Give every resource created under ``scope`` these tags. Call before adding children."""
    inherited = scope.node.try_get_context(CONTEXT_KEY) or {}
    scope.node.set_context(CONTEXT_KEY, {**inherited, **tags})


def _tag_attribute(resource: TerraformResource) -> str | None:
    # Checked on the class so no call crosses into the jsii runtime.
    cls = type(resource)
    resource_type = getattr(cls, "TF_RESOURCE_TYPE", "")
    if resource_type in TAG_ATTRIBUTE_BY_TYPE:
        return TAG_ATTRIBUTE_BY_TYPE[resource_type]
    return next((name for name in _TAG_ATTRIBUTES if hasattr(cls, f"{name}_input")), None)


@jsii.implements(IAspect)
class TagAspect:
    def __init__(self, tags: dict[str, str]):
        self._tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource):
            return
        attribute = _tag_attribute(node)
        if attribute is None:
            return
        scoped = node.node.try_get_context(CONTEXT_KEY) or {}
        explicit = getattr(node, f"{attribute}_input") or {}
        setattr(node, attribute, {**self._tags, **scoped, **explicit})
