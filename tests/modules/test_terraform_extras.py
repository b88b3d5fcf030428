"""modules/terraform_extras: resources of binding-less providers, synthesized as Terraform expects them."""

from __future__ import annotations

import json

import pytest
from cdktf import App, TerraformStack

from modules.terraform_extras import TIME, ProviderRequirement, RawResource, time_sleep


def synth(tmp_path, build) -> dict:
    app = App(outdir=str(tmp_path))
    stack = TerraformStack(app, "extras")
    build(stack)
    app.synth()
    return json.loads((tmp_path / "stacks" / "extras" / "cdk.tf.json").read_text())


def test_time_sleep_waits_after_its_dependencies_and_is_retriggered_by_them(tmp_path):
    def build(stack):
        first = time_sleep(stack, "first", create_duration="1s")
        second = time_sleep(stack, "second", create_duration="60s", triggers={"first": first.attribute("id")},
                            depends_on=[first])
        RawResource(stack, "after", provider=TIME, resource_type="time_static", arguments={},
                    depends_on=[second])

    doc = synth(tmp_path, build)
    sleeps = {k: {a: v for a, v in body.items() if a != "//"} for k, body in doc["resource"]["time_sleep"].items()}
    assert sleeps == {
        "first": {"create_duration": "1s"},
        "second": {"create_duration": "60s", "triggers": {"first": "${time_sleep.first.id}"},
                   "depends_on": ["time_sleep.first"]},
    }
    assert doc["resource"]["time_static"]["after"]["depends_on"] == ["time_sleep.second"]
    # One required_providers entry however many resources; no provider block (time needs no configuration).
    assert doc["terraform"]["required_providers"] == {"time": {"source": "hashicorp/time", "version": TIME.version}}
    assert "provider" not in doc


def test_a_raw_resource_must_belong_to_its_provider(tmp_path):
    other = ProviderRequirement(name="random", source="hashicorp/random", version="~> 3.6")
    app = App(outdir=str(tmp_path))
    with pytest.raises(ValueError, match="does not belong to provider 'random'"):
        RawResource(TerraformStack(app, "s"), "x", provider=other, resource_type="time_sleep", arguments={})
