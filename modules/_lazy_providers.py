"""Load cdktf provider bindings one submodule at a time.

Why: each ``cdktf_cdktf_provider_*`` package's ``__init__`` imports all of its
~2000 generated submodules, so even ``from cdktf_cdktf_provider_aws.s3_bucket
import S3Bucket`` costs 22-30 s and ~1 GB. Every submodule already loads the
jsii assembly it needs through ``from .._jsii import *``; the package
``__init__`` adds nothing a submodule relies on. So we register each provider
package as an *empty* package module (its ``__path__`` set, its ``__init__``
never run) and let Python import only the submodules the app touches.

The synthesized JSON is byte-identical either way (tests/stacks/test_lazy_synth.py
proves it). Set ``CLOUD_CONDUCTOR_EAGER_PROVIDERS=1`` to turn this off, e.g. to
compare or to debug a binding.

Kept as plain imports elsewhere: code still writes
``from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket``, so a later move to
another binding generation is a rename, not a rewrite.
"""

from __future__ import annotations

import importlib.util
import os
import sys

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_google",
    "cdktf_cdktf_provider_azurerm",
    "cdktf_cdktf_provider_vault",
)
EAGER_ENV_VAR = "CLOUD_CONDUCTOR_EAGER_PROVIDERS"


def install() -> None:
    """Register the provider packages without running their ``__init__``.

    Idempotent, and a no-op for a package already imported (eagerly or lazily)
    or when eager loading is requested.
    """
    if os.environ.get(EAGER_ENV_VAR) == "1":
        return
    for name in PROVIDER_PACKAGES:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.submodule_search_locations is None:
            continue  # not installed: the real import error surfaces at first use
        sys.modules[name] = importlib.util.module_from_spec(spec)


def is_lazy(name: str) -> bool:
    """True when ``name`` was registered by :func:`install` (its ``__init__`` never ran)."""
    module = sys.modules.get(name)
    return module is not None and not hasattr(module, "__jsii_assembly__") and "__all__" not in vars(module)
