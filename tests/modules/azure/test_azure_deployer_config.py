"""azure.deployer and azure.protect_stateful in the environment schema: each bad input is one exact line."""

from __future__ import annotations

import subprocess
import sys

from environments.schema import load_environment
from tests.config.test_schema import only_problem, write_env
from tests.conftest import REPO

MISSING_RULE = (
    "required: the Key Vault admits no public network, so say how Terraform reaches it to create "
    "the lake key: {network: in_vnet} or {network: cidrs, cidrs: [<runner egress>]}"
)


def test_a_deployed_azure_without_a_deployer_is_one_clear_error(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].pop("deployer"))
    assert only_problem(path) == f"{path}: azure.deployer: None: {MISSING_RULE}"


def test_main_reports_it_on_one_line_and_exits_non_zero(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].pop("deployer"))
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--environments", str(tmp_path), "--outdir", str(tmp_path / "out")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"{path}: azure.deployer: None: {MISSING_RULE}"
    assert not (tmp_path / "out").exists()


def test_no_deployer_is_needed_where_azure_is_not_deployed(tmp_path):
    def off(d):
        d["azure"].pop("deployer")
        d["azure"]["terraform"] = {"enabled": False, "reason": "no Azure subscription for this environment"}

    assert load_environment(write_env(tmp_path, off)).azure.deployer is None


def test_cidrs_network_needs_cidrs(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(deployer={"network": "cidrs"}))
    assert only_problem(path) == (
        f"{path}: azure.deployer: {{'network': 'cidrs'}}: network 'cidrs' needs the runner's public egress ranges in cidrs"
    )


def test_in_vnet_takes_no_cidrs(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(deployer={"network": "in_vnet", "cidrs": ["20.30.40.1/32"]}))
    assert only_problem(path).endswith(
        ": cidrs are read only with network 'cidrs' (an in_vnet runner needs no firewall rule)"
    )


def test_deployer_network_is_an_enum(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(deployer={"network": "vpn"}))
    assert only_problem(path) == f"{path}: azure.deployer.network: 'vpn': Input should be 'in_vnet' or 'cidrs'"


def test_deployer_cidrs_are_accepted_when_public(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(deployer={"network": "cidrs", "cidrs": ["20.30.40.1/32"]}))
    assert load_environment(path).azure.deployer.cidrs == ["20.30.40.1/32"]


def test_protect_stateful_is_a_strict_boolean(tmp_path):
    path = write_env(tmp_path, lambda d: d["azure"].update(protect_stateful="yes"))
    assert only_problem(path) == f"{path}: azure.protect_stateful: 'yes': Input should be a valid boolean"
