"""`make drift`'s real path against moto: a one-bucket stack applied with Terraform, a tag changed
behind its back with boto3, and scripts/drift.py (init, ``plan -refresh-only -detailed-exitcode``,
``show -json``) must name exactly that stack, resource and attribute and exit 2; 0 before the change.

One hand-written Terraform JSON stack keeps it fast (no synth, no lifecycle polling); it is laid out
as cdktf writes it (manifest.json + stacks/<name>/cdk.tf.json), so drift.py reads it like `make synth`'s.
"""

from __future__ import annotations

import json

import boto3
import pytest

from scripts import drift
from tests.conftest import require_tool
from tests.integration.aws_local import MotoServer, terraform, terraform_env, terraform_rc

STACK = "local-drift"
BUCKET = "ccl-local-drift-raw"


def _stack_json() -> dict:
    return {
        "terraform": {"required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
        "variable": {"aws_endpoint": {"type": "string"}},
        "provider": {"aws": [{
            "region": "us-east-1",
            "endpoints": [{"s3": "${var.aws_endpoint}", "sts": "${var.aws_endpoint}"}],
            "s3_use_path_style": True,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
        }]},
        "resource": {"aws_s3_bucket": {"raw": {"bucket": BUCKET, "tags": {"owner": "data", "domain": "calls"}}}},
    }


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    require_tool("terraform")
    tmp = tmp_path_factory.mktemp("drift-moto")
    outdir = tmp / "cdktf.out"
    stack_dir = outdir / "stacks" / STACK
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(json.dumps(_stack_json()))
    (outdir / "manifest.json").write_text(json.dumps({"stacks": {STACK: {
        "name": STACK, "dependencies": [], "workingDirectory": f"stacks/{STACK}",
        "synthesizedStackPath": f"stacks/{STACK}/cdk.tf.json",
    }}}))
    server = MotoServer(tmp / "moto.log")
    env = terraform_env(server.url, terraform_rc(tmp))
    try:
        for args in (("init",), ("apply", "-auto-approve")):
            result = terraform(stack_dir, env, *args)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        yield {"outdir": outdir, "env": env, "endpoint": server.url}
    finally:
        server.stop()


def _drift(applied, monkeypatch, capsys) -> tuple[int, list[str]]:
    for key, value in applied["env"].items():  # drift.py's Terraform inherits this process's environment
        monkeypatch.setenv(key, value)
    code = drift.main(["--env", "local", "--outdir", str(applied["outdir"])])
    return code, capsys.readouterr().out.strip().splitlines()


def test_clean_then_a_tag_changed_behind_terraforms_back(applied, monkeypatch, capsys):
    code, lines = _drift(applied, monkeypatch, capsys)
    assert code == 0, lines
    assert lines[-1] == "drift local: 1 stacks, 0 drifted resources, 0 failed"

    s3 = boto3.client("s3", endpoint_url=applied["endpoint"], region_name="us-east-1",
                      aws_access_key_id="moto-local", aws_secret_access_key="moto-local")
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [
        {"Key": "owner", "Value": "someone-else"}, {"Key": "domain", "Value": "calls"}]})

    code, lines = _drift(applied, monkeypatch, capsys)
    assert code == 2, lines
    assert [line.split() for line in lines[1:-1]] == [[STACK, "aws_s3_bucket.raw", "tags.owner"]]
    assert lines[-1] == "drift local: 1 stacks, 1 drifted resources, 0 failed"
