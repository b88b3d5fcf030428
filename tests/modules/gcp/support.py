"""Shared by the GCP and Azure stack tests: JSON helpers, and an environment that flips every
GCP and Azure knob away from dev's values, synthesized once.

The knob environment goes through main.py like any environment file, so the knobs are
tested on the same code path a user runs.
"""

from __future__ import annotations

import atexit
import copy
import functools
import shutil
import tempfile
from pathlib import Path

import yaml

from environments.schema import ENVIRONMENTS_DIR
from tests.conftest import Stack, synth_environment

NAME = "alt"


def by_name(resources: dict) -> dict:
    """Resources of one type keyed by their ``name`` argument."""
    return {body["name"]: body for body in resources.values()}


def ref(rtype: str, logical: str, attribute: str) -> str:
    """The interpolation cdktf writes for a reference to another resource's attribute."""
    return f"${{{rtype}.{logical}.{attribute}}}"


def logical_id(stack, rtype: str, name: str) -> str:
    """The logical id of the resource of ``rtype`` whose ``name`` argument is ``name``."""
    return next(k for k, v in stack.resources(rtype).items() if v["name"] == name)


def knob_environment() -> dict:
    data = copy.deepcopy(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text()))
    data.update(name=NAME, prefix="cca")
    gcp, azure = data["gcp"], data["azure"]
    gcp["network"]["connectivity"] = "peering"
    gcp["network"]["spokes"]["batch"] = "10.23.0.0/16"
    gcp["gke"].update(
        private_endpoint=True, release_channel="RAPID", deletion_protection=True, network_spoke="batch",
        # A private endpoint is routed only inside the cluster's VPC (batch here): both ranges sit in it.
        master_authorized_networks=[{"name": "batch-a", "cidr": "10.23.0.0/24"}, {"name": "ci", "cidr": "10.23.10.0/24"}],
    )
    gcp["gke"].pop("rbac_security_group")
    gcp["budget_usd"] = 400.5
    gcp["billing_project"] = "cc-billing-quota"
    azure["network"]["gateway_transit"] = True
    azure.update(storage_replication="ZRS", deployer={"network": "cidrs", "cidrs": ["20.30.40.0/24"]}, budget_usd=700)
    data["state"] = {"backend": "local"}
    return data


@functools.lru_cache(maxsize=1)
def knob_stacks() -> tuple[object, dict[str, Stack]]:
    root = Path(tempfile.mkdtemp(prefix="knobs-"))
    atexit.register(shutil.rmtree, root, True)  # one synth per session, removed when it ends
    return synth_environment(knob_environment(), NAME, root)
