"""Load cdktf provider bindings one submodule at a time.

Why: each ``cdktf_cdktf_provider_*`` package's ``__init__`` imports all of its
~2000 generated submodules, so even ``from cdktf_cdktf_provider_aws.s3_bucket
import S3Bucket`` costs 22-30 s and ~1 GB. Every submodule already loads the
jsii assembly it needs through ``from .._jsii import *``; the package
``__init__`` adds nothing a submodule relies on. So we register each provider
package as an *empty* package module (its ``__path__`` set, its ``__init__``
never run) and let Python import only the submodules the app touches.

The same happens on the node side of jsii: each provider's JavaScript
``lib/index.js`` requires all its submodules too (~420 MB of heap per
provider). ``_lazy_index.js``, preloaded into the jsii runtime through
``NODE_OPTIONS``, compiles exactly that file into lazy getters.

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
from pathlib import Path

PROVIDER_PACKAGES = (
    "cdktf_cdktf_provider_aws",
    "cdktf_cdktf_provider_google",
    "cdktf_cdktf_provider_azurerm",
    "cdktf_cdktf_provider_vault",
)
EAGER_ENV_VAR = "CLOUD_CONDUCTOR_EAGER_PROVIDERS"
NODE_PRELOAD = Path(__file__).with_name("_lazy_index.js")


def install() -> None:
    """Register the provider packages without running their ``__init__``.

    Idempotent, and a no-op for a package already imported (eagerly or lazily)
    or when eager loading is requested.
    """
    if os.environ.get(EAGER_ENV_VAR) == "1":
        return
    # Read by the jsii runtime's node processes, which start at the first jsii import.
    preload = f"--require={NODE_PRELOAD}"
    node_options = os.environ.get("NODE_OPTIONS", "")
    if preload not in node_options:
        os.environ["NODE_OPTIONS"] = f"{node_options} {preload}".strip()
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
