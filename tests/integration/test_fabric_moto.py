"""The AWS half of the fabric applied to moto: what moto serves of it applies, re-plans empty and destroys.

Customer gateway, VPN connection on a Transit Gateway (inside CIDRs, IKEv2 options, AWS-generated keys),
its TGW route-table association/propagation, Resolver endpoints with fixed IPs and a forwarding rule with
its VPC association. No tunnel comes up: moto has no IPsec or BGP.
"""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest

from tests.conftest import REPO, require_tool
from tests.integration.aws_local import DUMMY_CREDENTIALS, MotoServer, terraform, terraform_env, terraform_rc
from tests.integration.fabric_moto_app import AZURE_RESOLVER, INSIDE, PEER_IP, STACK


def _ok(result, what: str) -> None:
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def fabric(tmp_path_factory):
    require_tool("terraform")
    tmp = tmp_path_factory.mktemp("fabric-moto")
    synth = subprocess.run(
        [sys.executable, "-m", "tests.integration.fabric_moto_app", str(tmp / "out")],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert synth.returncode == 0, synth.stderr[-3000:]
    stack = tmp / "out" / "stacks" / STACK
    server = MotoServer(tmp / "moto.log")
    env = terraform_env(server.url, terraform_rc(tmp))
    try:
        _ok(terraform(stack, env, "init"), "init")
        _ok(terraform(stack, env, "apply", "-auto-approve", "-parallelism=20"), "apply")
        second = terraform(stack, env, "plan", "-detailed-exitcode")
        # `terraform show` takes no -input flag (the shared helper adds one).
        shown = subprocess.run(["terraform", "show", "-json", "-no-color"], cwd=stack, env=env, capture_output=True,
                               text=True, check=False)
        _ok(shown, "show")
        state = json.loads(shown.stdout)["values"]["root_module"]["resources"]
        client = lambda service: boto3.client(  # noqa: E731
            service, endpoint_url=server.url, region_name="eu-west-1",
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        yield {"client": client, "second_plan": second, "state": {r["type"]: r["values"] for r in state}}
        _ok(terraform(stack, env, "destroy", "-auto-approve", "-parallelism=20"), "destroy")
    finally:
        server.stop()


def test_second_plan_is_empty(fabric):
    assert fabric["second_plan"].returncode == 0, fabric["second_plan"].stdout[-3000:]


def test_vpn_connection_on_the_tgw_with_config_inside_cidrs(fabric):
    ec2 = fabric["client"]("ec2")
    (gateway,) = ec2.describe_customer_gateways()["CustomerGateways"]
    assert (gateway["IpAddress"], gateway["BgpAsn"]) == (PEER_IP, "64513")
    (vpn,) = ec2.describe_vpn_connections()["VpnConnections"]
    assert vpn["TransitGatewayId"].startswith("tgw-") and vpn["CustomerGatewayId"] == gateway["CustomerGatewayId"]
    # moto's DescribeVpnConnections has no tunnel options; the applied state holds what was sent and read back.
    applied = fabric["state"]["aws_vpn_connection"]
    assert (applied["tunnel1_inside_cidr"], applied["tunnel2_inside_cidr"]) == INSIDE
    assert applied["tunnel1_ike_versions"] == ["ikev2"] and applied["static_routes_only"] is False


def test_resolver_endpoints_and_forwarding_rule(fabric):
    resolver = fabric["client"]("route53resolver")
    endpoints = {e["Direction"]: e for e in resolver.list_resolver_endpoints()["ResolverEndpoints"]}
    assert set(endpoints) == {"INBOUND", "OUTBOUND"}
    ips = {a["Ip"] for a in resolver.list_resolver_endpoint_ip_addresses(ResolverEndpointId=endpoints["INBOUND"]["Id"])["IpAddresses"]}
    assert ips == {"10.10.0.53", "10.10.16.53"}
    (rule,) = [r for r in resolver.list_resolver_rules()["ResolverRules"] if r["RuleType"] == "FORWARD"]
    assert rule["DomainName"].rstrip(".") == "blob.core.windows.net"
    assert [t["Ip"] for t in rule["TargetIps"]] == [AZURE_RESOLVER]
    assert resolver.list_resolver_rule_associations()["ResolverRuleAssociations"]
