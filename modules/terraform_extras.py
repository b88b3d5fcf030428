"""Resources of small utility providers (hashicorp/time, ...) that have no cdktf bindings installed here.

cdktf's ``TerraformResource`` accepts any resource type: :class:`RawResource` gives it its arguments and
adds the provider to the stack's ``terraform.required_providers`` (cdktf only writes that block for
providers it has bindings for). No provider block is written: these providers need no configuration, and
Terraform uses a provider's default configuration when a resource names none. Functions for particular
resource types (``time_sleep`` here) build on it; the raw part knows no resource type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable, TerraformResource, TerraformStack
from constructs import Construct


@dataclass(frozen=True)
class ProviderRequirement:
    """One entry of ``terraform.required_providers``: local name, registry source, version constraint."""

    name: str
    source: str
    version: str


#: hashicorp/time: time_sleep, time_offset, time_rotating, time_static.
TIME = ProviderRequirement(name="time", source="hashicorp/time", version="~> 0.13")


class RawResource(TerraformResource):
    """A resource of ``provider`` given as plain arguments; read attributes back with :meth:`attribute`."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        provider: ProviderRequirement,
        resource_type: str,
        arguments: Mapping[str, Any],
        depends_on: Sequence[ITerraformDependable] = (),
    ):
        if not resource_type.startswith(f"{provider.name}_"):
            raise ValueError(f"resource type {resource_type!r} does not belong to provider {provider.name!r}")
        super().__init__(
            scope,
            id_,
            terraform_resource_type=resource_type,
            # No generator metadata: with it, cdktf's synth-time validation demands a provider construct,
            # and these providers need none.
            depends_on=list(depends_on) or None,
        )
        # Overrides are merged into the synthesized JSON as written, tokens (references) resolved.
        for name, value in arguments.items():
            self.add_override(name, value)
        TerraformStack.of(self).add_override(
            f"terraform.required_providers.{provider.name}", {"source": provider.source, "version": provider.version}
        )

    def attribute(self, name: str) -> str:
        """A reference to one of the resource's attributes, e.g. ``id``."""
        return self.get_string_attribute(name)


def time_sleep(
    scope: Construct,
    id_: str,
    *,
    create_duration: str,
    triggers: Mapping[str, str] | None = None,
    depends_on: Sequence[ITerraformDependable] = (),
) -> RawResource:
    """Wait ``create_duration`` (e.g. "60s") after what it depends on is created, before its dependents.

    ``triggers`` (values usually references to the resources waited for) recreate the sleep, and so wait
    again, when one of them changes. The common answer to eventual consistency such as Azure RBAC
    propagation (Azure Verified Modules' ``wait_for_rbac_*`` use this very resource).
    """
    arguments: dict[str, Any] = {"create_duration": create_duration}
    if triggers:
        arguments["triggers"] = dict(triggers)
    return RawResource(
        scope, id_, provider=TIME, resource_type="time_sleep", arguments=arguments, depends_on=depends_on
    )


#: hashicorp/random: random_password (its ``result`` is sensitive in state and plan).
RANDOM = ProviderRequirement(name="random", source="hashicorp/random", version="~> 3.6")


def random_password(scope: Construct, id_: str, *, length: int = 48, special: bool = False) -> RawResource:
    """A generated secret (e.g. a VPN pre-shared key), read back with ``.attribute("result")``.

    No special characters by default: pre-shared keys travel through several clouds' APIs, and Azure and
    GCP both accept plain alphanumerics of this length (48 characters, ~285 bits).
    """
    return RawResource(
        scope, id_, provider=RANDOM, resource_type="random_password",
        arguments={"length": length, "special": special},
    )
