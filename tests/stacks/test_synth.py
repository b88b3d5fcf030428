"""Every environment synthesizes into the stacks the contracts promise."""

from __future__ import annotations

import pytest

from environments.schema import load_environments
from modules.tagging import TAG_ATTRIBUTE_BY_TYPE
from tests.conftest import REPO, synth_into

ENVIRONMENTS = {env.name: env for env in load_environments()}
COMPONENTS = ["aws-network", "aws-platform", "aws-orchestration", "gcp-network", "gcp-platform", "azure-network", "azure-platform", "vault"]
#: Only where the environment turns the cross-cloud fabric on (and both clouds are deployed).
FABRIC_COMPONENTS = ["aws-fabric", "gcp-fabric", "azure-fabric"]


def expected_stacks(env) -> set[str]:
    names = {f"{env.name}-{c}" for c in COMPONENTS}
    if env.ci is not None:
        names.add(f"{env.name}-bootstrap")
    if not env.gcp.terraform.enabled:
        names -= {f"{env.name}-gcp-network", f"{env.name}-gcp-platform"}
    if not env.azure.terraform.enabled:
        names -= {f"{env.name}-azure-network", f"{env.name}-azure-platform"}
    if env.fabric.enabled and env.gcp.terraform.enabled and env.azure.terraform.enabled:
        names |= {f"{env.name}-{c}" for c in FABRIC_COMPONENTS}
    return names


def test_environments_present():
    assert {"dev", "staging", "prod", "local"} <= set(ENVIRONMENTS)


def test_every_environment_synthesizes_its_stacks(stacks):
    expected = set().union(*(expected_stacks(env) for env in ENVIRONMENTS.values()))
    assert set(stacks) == expected


def test_local_leaves_out_gcp_and_azure_with_reasons():
    local = ENVIRONMENTS["local"]
    assert not local.gcp.terraform.enabled and "fake-gcs-server" in local.gcp.terraform.reason
    assert not local.azure.terraform.enabled and "Azurite" in local.azure.terraform.reason


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_remote_state_is_s3_encrypted_with_native_locking(stacks, env_name):
    env = ENVIRONMENTS[env_name]
    for name in expected_stacks(env):
        backend = stacks[name].doc["terraform"]["backend"]
        assert backend == {
            "s3": {
                "bucket": env.state.bucket,
                "key": f"{name}/terraform.tfstate",
                "region": env.state.region,
                "encrypt": True,
                "use_lockfile": True,
            }
        }, name


def test_local_state_stays_in_the_ignored_state_folder(stacks):
    for name in expected_stacks(ENVIRONMENTS["local"]):
        backend = stacks[name].doc["terraform"]["backend"]
        assert backend == {"local": {"path": f"../../../.state/{name}.tfstate"}}
    assert ".state/" in (REPO / ".gitignore").read_text()


TAG_ATTRIBUTES = ("tags", "labels", "resource_labels")
REQUIRED_TAGS = {"environment", "owner", "domain", "classification", "managed-by"}


def test_every_taggable_resource_carries_the_platform_tags(stacks):
    """The tag aspect reaches every resource that has a tags/labels argument, on every cloud."""
    checked = 0
    for stack in stacks.values():
        env = ENVIRONMENTS[stack.name.split("-", 1)[0]]
        for rtype, name, body in stack.all_resources():
            if rtype in TAG_ATTRIBUTE_BY_TYPE:
                attribute = TAG_ATTRIBUTE_BY_TYPE[rtype]
            else:
                attribute = next((a for a in TAG_ATTRIBUTES if a in body), None)
            if attribute is None:
                continue
            checked += 1
            tags = body[attribute]
            assert REQUIRED_TAGS <= set(tags), f"{stack.name} {rtype}.{name}: {tags}"
            assert tags["environment"] == env.name and tags["managed-by"] == "cdktf"
    assert checked > 0


def test_a_bad_environment_file_writes_nothing(tmp_path):
    """Validation runs before any construct: a bad file leaves no partial output behind."""
    outdir = tmp_path / "cdktf.out"
    result = synth_into(outdir, envs=["nope"])
    assert result.returncode == 2
    assert result.stderr.strip().endswith("no such environment; known: ['dev', 'local', 'prod', 'staging']")
    assert "Traceback" not in result.stderr
    assert not outdir.exists() and not (tmp_path / "cdktf.out.partial").exists()
