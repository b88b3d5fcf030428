"""A Vault ACL policy, rendered from typed path rules into HCL.

Why typed rules and not free text: the rules are checked before synth (no
``sudo``, no ``deny``-by-omission surprises from a bare ``*`` path, no root
globs), and the rendered text is exactly what the OpenBao integration test loads
into a real server, so what is tested is what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_vault.policy import Policy as VaultPolicy
from constructs import Construct

#: Capabilities a platform policy may grant. ``sudo`` (root-protected paths) and
#: ``patch``/``delete`` on shared trees are deliberately not offered.
ALLOWED_CAPABILITIES = frozenset({"create", "read", "update", "list", "delete", "deny"})


@dataclass(frozen=True)
class PathRule:
    path: str
    capabilities: tuple[str, ...] = ("read",)

    def __post_init__(self) -> None:
        if not self.capabilities:
            raise ValueError(f"{self.path}: a rule needs at least one capability")
        unknown = set(self.capabilities) - ALLOWED_CAPABILITIES
        if unknown:
            raise ValueError(f"{self.path}: capabilities {sorted(unknown)} are not allowed")
        first = self.path.split("/", 1)[0]
        # A rule on the root, a root glob or sys/ would reach every mount or the server's own configuration.
        if not self.path or "*" in first or "+" in first or first in ("sys", "auth", "identity"):
            raise ValueError(f"{self.path}: a platform policy may not grant a root glob, sys/, auth/ or identity/")
        if '"' in self.path or "\n" in self.path:
            raise ValueError(f"{self.path!r}: a path may not contain quotes or newlines")


def render_hcl(rules: tuple[PathRule, ...]) -> str:
    """Vault policy HCL, one ``path`` block per rule, in the order given."""
    if not rules:
        raise ValueError("a policy needs at least one rule")
    blocks = []
    for rule in rules:
        caps = ", ".join(f'"{c}"' for c in rule.capabilities)
        blocks.append(f'path "{rule.path}" {{\n  capabilities = [{caps}]\n}}\n')
    return "\n".join(blocks)


@dataclass(frozen=True)
class PolicyProps:
    name: str
    rules: tuple[PathRule, ...]


class Policy(Construct):
    def __init__(self, scope: Construct, id_: str, props: PolicyProps):
        super().__init__(scope, id_)
        self.text = render_hcl(props.rules)
        self.resource = VaultPolicy(self, "policy", name=props.name, policy=self.text)
        #: The plain name, not a token: Vault resolves a role's policy names at login,
        #: not when the role is written, so no ordering is needed and tests read it directly.
        self.name = props.name
