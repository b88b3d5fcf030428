"""Lease lifetimes for everything Vault issues: dynamic credentials and login tokens.

Vault's own default is 32 days (768 h) for both. A typed value with no default
forces every engine and auth role to be given a lifetime explicitly, and the
bounds here repeat the schema's so a module used outside the platform's config
is just as safe.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEFAULT_SECONDS = 3600
MAX_MAX_SECONDS = 14400


@dataclass(frozen=True)
class LeaseTtl:
    default_seconds: int
    max_seconds: int

    def __post_init__(self) -> None:
        if not 60 <= self.default_seconds <= MAX_DEFAULT_SECONDS:
            raise ValueError(f"default lease {self.default_seconds}s must be 60..{MAX_DEFAULT_SECONDS}s")
        if not self.default_seconds <= self.max_seconds <= MAX_MAX_SECONDS:
            raise ValueError(f"max lease {self.max_seconds}s must be {self.default_seconds}..{MAX_MAX_SECONDS}s")

    def mount_args(self) -> dict[str, int]:
        """Arguments of a secrets-engine mount (``vault_mount`` and the ``vault_*_secret_backend`` resources)."""
        return {"default_lease_ttl_seconds": self.default_seconds, "max_lease_ttl_seconds": self.max_seconds}

    def auth_tune(self) -> dict[str, str]:
        """The ``tune`` block of an auth mount, which takes duration strings."""
        return {"default_lease_ttl": f"{self.default_seconds}s", "max_lease_ttl": f"{self.max_seconds}s"}

    def token_args(self) -> dict[str, int]:
        """Arguments of an auth role: the tokens it issues."""
        return {"token_ttl": self.default_seconds, "token_max_ttl": self.max_seconds}
