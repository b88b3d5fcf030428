"""Shared by the AWS stack tests: policy-document helpers, and an environment that flips
every AWS knob away from dev's values, synthesized once through main.py (the user's path)."""

from __future__ import annotations

import atexit
import copy
import functools
import json
import shutil
import tempfile
from pathlib import Path

import yaml

from environments.schema import ENVIRONMENTS_DIR
from tests.conftest import Stack, synth_environment

NAME = "awsknobs"


def knob_environment() -> dict:
    data = copy.deepcopy(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
    data.update(name=NAME, prefix="cck")
    aws = data["aws"]
    aws["protect_stateful"] = True
    aws["budget"] = {"enabled": False, "reason": "knob test: the budget can be left out"}
    aws["network"].update(
        spokes={**aws["network"]["spokes"], "analytics": "10.13.0.0/16"},
        spoke_routes=[["orchestration", "data"]],
        availability_zones=["a", "b", "c"],
        interface_endpoints=["airflow.api", "airflow.env", "airflow.ops", "sqs", "logs", "monitoring", "kms"],
        flow_log_retention_days=731,
    )
    data["orchestration"].update(
        environment_class="mw1.large", min_workers=3, max_workers=7, schedulers=3,
        webserver_access="PUBLIC_ONLY", log_level="WARNING",
    )
    data["storage"] = {"tiering": {
        "warm_after_days": 45, "cold_after_days": 200, "archive_after_days": 400,
        "noncurrent_expire_days": 60, "abort_incomplete_multipart_days": 3,
    }}
    data["domains"][0]["crawler_schedule"] = "cron(0 5 * * ? *)"
    data["budget"]["monthly_usd"] = 2345.5
    data["state"] = {"backend": "local"}
    return data


@functools.lru_cache(maxsize=1)
def knob_stacks() -> tuple[object, dict[str, Stack]]:
    root = Path(tempfile.mkdtemp(prefix="aws-knobs-"))
    atexit.register(shutil.rmtree, root, True)  # one synth per session, removed when it ends
    return synth_environment(knob_environment(), NAME, root)


def ref(rtype: str, logical: str, attribute: str) -> str:
    return f"${{{rtype}.{logical}.{attribute}}}"


def documents(stack: Stack) -> dict[str, list[dict]]:
    """Every policy document data source's statements, by logical id."""
    return {name: body["statement"] for name, body in stack.doc.get("data", {}).get("aws_iam_policy_document", {}).items()}


def document_for(stack: Stack, reference: str) -> list[dict]:
    """The statements of the document a ``policy`` argument references."""
    logical = reference.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return documents(stack)[logical]


def statements_by_sid(statements: list[dict]) -> dict[str, dict]:
    return {s["sid"]: s for s in statements}


def key_policy(body: dict) -> dict[str, dict]:
    """A KMS key's literal policy, statements by Sid."""
    return {s["Sid"]: s for s in json.loads(body["policy"])["Statement"]}


def resource_named(stack: Stack, rtype: str, attribute: str, value: str) -> tuple[str, dict]:
    return next((k, v) for k, v in stack.resources(rtype).items() if v.get(attribute) == value)


def by_path(stack: Stack, rtype: str) -> dict[str, dict]:
    """Resources of one type keyed by their construct path below the stack, e.g. ``hub/vpc``."""
    return {
        body["//"]["metadata"]["path"].split("/", 1)[1]: body
        for body in stack.resources(rtype).values()
    }


def logical(stack: Stack, rtype: str, path: str) -> str:
    """The logical id of the resource at construct path ``path``."""
    return next(k for k, v in stack.resources(rtype).items() if v["//"]["metadata"]["path"].split("/", 1)[1] == path)
