"""<env>-aws-network: hub and spokes, Transit Gateway routing, hardening and MWAA's endpoints,
asserted on the synthesized JSON for every environment and for every knob."""

from __future__ import annotations

import pytest

from environments.schema import load_environments
from tests.modules.aws.support import by_path, knob_stacks, logical, ref

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]


def network(stacks, env_name):
    return stacks[f"{env_name}-aws-network"]


def vpcs(env) -> dict[str, str]:
    """construct id -> CIDR: the hub and every spoke from the environment file."""
    return {"hub": env.aws.network.hub_cidr, **{f"spoke-{n}": c for n, c in env.aws.network.spokes.items()}}


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_one_vpc_per_hub_and_spoke_with_the_environment_cidrs(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    found = {path.removesuffix("/vpc"): body["cidr_block"] for path, body in by_path(stack, "aws_vpc").items()}
    assert found == vpcs(env)
    assert all(b["enable_dns_support"] and b["enable_dns_hostnames"] for b in stack.resources("aws_vpc").values())


@pytest.mark.parametrize("env_name", CLOUD)
def test_private_subnets_per_az_and_mwaa_gets_two_in_different_azs(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    subnets = by_path(stack, "aws_subnet")
    azs = [f"{env.aws.region}{z}" for z in env.aws.network.availability_zones]
    for vpc in vpcs(env):
        assert {subnets[f"{vpc}/private-{az}"]["availability_zone"] for az in azs} == set(azs)
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    mwaa = [subnets[f"spoke-orchestration/private-{az}"] for az in azs[:2]]
    assert len({s["availability_zone"] for s in mwaa}) == 2


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_every_default_security_group_is_closed(stacks, env_name):
    stack = network(stacks, env_name)
    groups = by_path(stack, "aws_default_security_group")
    assert set(groups) == {f"{v}/default-sg-closed" for v in vpcs(ENVIRONMENTS[env_name])}
    for path, group in groups.items():
        assert group["ingress"] == [] and group["egress"] == [], path
        assert group["vpc_id"] == ref("aws_vpc", logical(stack, "aws_vpc", path.replace("default-sg-closed", "vpc")), "id")


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_flow_logs_of_every_vpc_go_to_a_kms_encrypted_log_group(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    key = ref("aws_kms_key", next(iter(stack.resources("aws_kms_key"))), "arn")
    logs, groups = by_path(stack, "aws_flow_log"), by_path(stack, "aws_cloudwatch_log_group")
    for vpc in vpcs(env):
        flow, group = logs[f"{vpc}/flow-log"], groups[f"{vpc}/flow-log-group"]
        assert flow["traffic_type"] == "ALL" and flow["log_destination_type"] == "cloud-watch-logs"
        assert flow["vpc_id"] == ref("aws_vpc", logical(stack, "aws_vpc", f"{vpc}/vpc"), "id")
        assert flow["log_destination"] == ref("aws_cloudwatch_log_group", logical(stack, "aws_cloudwatch_log_group", f"{vpc}/flow-log-group"), "arn")
        assert group["kms_key_id"] == key
        assert group["retention_in_days"] == env.aws.network.flow_log_retention_days


@pytest.mark.parametrize("env_name", CLOUD)
def test_egress_leaves_only_through_the_hub(stacks, env_name):
    stack = network(stacks, env_name)
    assert list(by_path(stack, "aws_internet_gateway")) == ["hub/igw"]
    assert all(p.startswith("hub/nat") for p in by_path(stack, "aws_nat_gateway"))  # NAT count: test_aws_egress_ha.py
    routes = by_path(stack, "aws_route")
    tgw = ref("aws_ec2_transit_gateway", next(iter(stack.resources("aws_ec2_transit_gateway"))), "id")
    for spoke in ENVIRONMENTS[env_name].aws.network.spokes:
        default = routes[f"transit-gateway/{spoke}-rt0-default"]
        assert default["destination_cidr_block"] == "0.0.0.0/0" and default["transit_gateway_id"] == tgw
        assert default["route_table_id"] == ref("aws_route_table", logical(stack, "aws_route_table", f"spoke-{spoke}/private-rt"), "id")
    # Only the hub has a route table that is not private, and no spoke route reaches a gateway or NAT.
    assert not any("gateway_id" in r or "nat_gateway_id" in r for p, r in routes.items() if not p.startswith("hub/"))


@pytest.mark.parametrize("env_name", CLOUD)
def test_transit_gateway_routes_only_what_this_construct_says(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    tgw = stack.only("aws_ec2_transit_gateway")
    assert tgw["default_route_table_association"] == "disable"
    assert tgw["default_route_table_propagation"] == "disable"
    assert tgw["auto_accept_shared_attachments"] == "disable"
    for attachment in stack.resources("aws_ec2_transit_gateway_vpc_attachment").values():
        assert attachment["transit_gateway_default_route_table_association"] is False
        assert attachment["transit_gateway_default_route_table_propagation"] is False
    spokes = env.aws.network.spokes
    propagations = set(by_path(stack, "aws_ec2_transit_gateway_route_table_propagation"))
    assert propagations == {f"transit-gateway/hub-from-{s}" for s in spokes} | {f"transit-gateway/{s}-from-hub" for s in spokes}
    routes = by_path(stack, "aws_ec2_transit_gateway_route")
    # No spoke_routes in these environments: each spoke blackholes every other spoke.
    for spoke in spokes:
        for peer, cidr in spokes.items():
            if peer != spoke:
                route = routes[f"transit-gateway/{spoke}-blackhole-{peer}"]
                assert route["blackhole"] is True and route["destination_cidr_block"] == cidr


def test_spoke_routes_knob_opens_exactly_the_listed_pair():
    env, stacks = knob_stacks()
    stack = stacks[f"{env.name}-aws-network"]
    propagations = set(by_path(stack, "aws_ec2_transit_gateway_route_table_propagation"))
    assert {"transit-gateway/orchestration-from-data", "transit-gateway/data-from-orchestration"} <= propagations
    routes = by_path(stack, "aws_ec2_transit_gateway_route")
    blackholes = {p.removeprefix("transit-gateway/") for p, r in routes.items() if r.get("blackhole")}
    assert blackholes == {
        "orchestration-blackhole-analytics", "analytics-blackhole-orchestration",
        "data-blackhole-analytics", "analytics-blackhole-data",
    }


def test_network_knobs_azs_endpoints_and_retention():
    env, stacks = knob_stacks()
    stack = stacks[f"{env.name}-aws-network"]
    subnets = by_path(stack, "aws_subnet")
    assert {s["availability_zone"] for p, s in subnets.items() if p.startswith("spoke-analytics/")} == {
        "eu-west-1a", "eu-west-1b", "eu-west-1c",
    }
    assert {g["retention_in_days"] for g in stack.resources("aws_cloudwatch_log_group").values()} == {731}
    interfaces = {
        e["service_name"].removeprefix("com.amazonaws.eu-west-1.")
        for e in stack.resources("aws_vpc_endpoint").values() if e["vpc_endpoint_type"] == "Interface"
    }
    assert interfaces == set(env.aws.network.interface_endpoints)
    assert all(k["lifecycle"]["prevent_destroy"] is True for k in stack.resources("aws_kms_key").values())


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_orchestration_spoke_has_the_endpoints_a_private_mwaa_needs(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], network(stacks, env_name)
    endpoints = by_path(stack, "aws_vpc_endpoint")
    vpc = ref("aws_vpc", logical(stack, "aws_vpc", "spoke-orchestration/vpc"), "id")
    s3 = endpoints["orchestration-endpoints/s3"]
    assert s3["vpc_endpoint_type"] == "Gateway" and s3["service_name"] == f"com.amazonaws.{env.aws.region}.s3"
    assert s3["route_table_ids"] == [ref("aws_route_table", logical(stack, "aws_route_table", "spoke-orchestration/private-rt"), "id")]
    group = ref("aws_security_group", next(iter(stack.resources("aws_security_group"))), "id")
    interfaces = {p: e for p, e in endpoints.items() if e["vpc_endpoint_type"] == "Interface"}
    assert {e["service_name"] for e in interfaces.values()} == {
        f"com.amazonaws.{env.aws.region}.{s}" for s in env.aws.network.interface_endpoints
    }
    assert {"airflow.api", "airflow.env", "airflow.ops", "sqs", "logs", "monitoring", "kms"} <= set(env.aws.network.interface_endpoints)
    for endpoint in interfaces.values():
        assert endpoint["private_dns_enabled"] is True and endpoint["vpc_id"] == vpc
        assert endpoint["security_group_ids"] == [group] and len(endpoint["subnet_ids"]) == 2
    # The endpoints' rule (the fabric's Resolver rules are tested in tests/modules/fabric).
    (rule,) = [r for r in stack.resources("aws_vpc_security_group_ingress_rule").values() if r["from_port"] != 53]
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (443, 443, "tcp")
    assert rule["cidr_ipv4"] == env.aws.network.spokes["orchestration"]


def test_local_has_no_transit_gateway_and_says_why(stacks):
    local = ENVIRONMENTS["local"]
    assert not local.aws.network.transit_gateway.enabled and "moto" in local.aws.network.transit_gateway.reason
    stack = network(stacks, "local")
    assert not any(rtype.startswith("aws_ec2_transit_gateway") for rtype in stack.doc["resource"])


@pytest.mark.parametrize("env_name", ["dev", "staging"])
def test_only_prod_guards_the_network_key(stacks, env_name):
    assert all("lifecycle" not in k for k in network(stacks, env_name).resources("aws_kms_key").values())
    assert all(k["lifecycle"]["prevent_destroy"] for k in network(stacks, "prod").resources("aws_kms_key").values())
