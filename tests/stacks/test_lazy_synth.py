"""Lazy provider loading must not change a single byte of what is synthesized."""

from __future__ import annotations

import filecmp

import pytest

from tests.conftest import synth_into


def tree(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
def test_synth_is_byte_identical_with_and_without_lazy_loading(synth_root, tmp_path):
    eager_root = tmp_path / "eager"
    result = synth_into(eager_root, eager=True)
    assert result.returncode == 0, result.stderr
    files = tree(synth_root)
    assert files == tree(eager_root)
    assert any(str(f).endswith("cdk.tf.json") for f in files)
    different = [str(f) for f in files if not filecmp.cmp(synth_root / f, eager_root / f, shallow=False)]
    assert different == []


def test_lazy_loading_skips_the_package_init():
    import os
    import subprocess
    import sys

    code = (
        "import sys, modules\n"
        "from modules._lazy_providers import PROVIDER_PACKAGES, is_lazy\n"
        "from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket\n"
        "print(all(is_lazy(p) for p in PROVIDER_PACKAGES),"
        " sum(m.startswith('cdktf_cdktf_provider_aws.') for m in sys.modules))\n"
        "sys.stdout.flush(); import os; os._exit(0)\n"
    )
    env = {**os.environ, "CLOUD_CONDUCTOR_EAGER_PROVIDERS": "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    lazy, loaded = out.split()
    assert lazy == "True"
    # s3_bucket and the jsii assembly module, not the ~2000 submodules __init__ would import.
    assert int(loaded) < 10
