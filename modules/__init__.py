"""Reusable constructs, one logical entity each. No providers, no backends, no environments.

Importing this package installs lazy provider loading (see ``_lazy_providers``),
so every code path that builds constructs gets the fast import.
"""

from modules import _lazy_providers

_lazy_providers.install()
