"""Hub egress per AZ where the environment asks for it, dedicated Transit Gateway attachment
subnets, and the S3 endpoint's data perimeter, asserted on the synthesized <env>-aws-network."""

from __future__ import annotations

import ipaddress
import json

import pytest

from environments.schema import load_environments
from tests.modules.aws.support import by_path, logical, ref

ENVIRONMENTS = {env.name: env for env in load_environments()}
CLOUD = ["dev", "staging", "prod"]


def azs(env) -> list[str]:
    return [f"{env.aws.region}{z}" for z in env.aws.network.availability_zones]


def test_prod_asks_for_a_nat_per_az_and_the_others_for_one():
    assert ENVIRONMENTS["prod"].aws.network.nat_gateways == "per_az"
    assert {ENVIRONMENTS[e].aws.network.nat_gateways for e in ("dev", "staging", "local")} == {"single"}


def test_prod_has_one_nat_and_one_private_route_table_per_az(stacks):
    env = ENVIRONMENTS["prod"]
    stack = stacks["prod-aws-network"]
    nats, subnets = by_path(stack, "aws_nat_gateway"), by_path(stack, "aws_subnet")
    routes, associations = by_path(stack, "aws_route"), by_path(stack, "aws_route_table_association")
    assert set(nats) == {f"hub/nat-{az}" for az in azs(env)}
    eips = {ref("aws_eip", logical(stack, "aws_eip", f"hub/nat-eip-{az}"), "allocation_id") for az in azs(env)}
    assert {n["allocation_id"] for n in nats.values()} == eips
    for az in azs(env):
        nat, table = f"hub/nat-{az}", f"hub/private-rt-{az}"
        # The NAT sits in the public subnet of its own AZ ...
        assert nats[nat]["subnet_id"] == ref("aws_subnet", logical(stack, "aws_subnet", f"hub/public-{az}"), "id")
        assert subnets[f"hub/public-{az}"]["availability_zone"] == az
        # ... and that AZ's private table sends the default route to it, not to another AZ's NAT.
        default = routes[f"hub/private-default-{az}"]
        assert default["destination_cidr_block"] == "0.0.0.0/0"
        assert default["nat_gateway_id"] == ref("aws_nat_gateway", logical(stack, "aws_nat_gateway", nat), "id")
        table_ref = ref("aws_route_table", logical(stack, "aws_route_table", table), "id")
        assert default["route_table_id"] == table_ref
        for kind in ("private", "transit"):
            assert associations[f"hub/{kind}-{az}-rt"]["route_table_id"] == table_ref
    # The hub sends every spoke CIDR back to the gateway from every per-AZ table.
    for spoke in env.aws.network.spokes:
        hub_routes = [r for p, r in routes.items() if p.startswith("transit-gateway/hub-rt") and p.endswith(f"-to-{spoke}")]
        assert len(hub_routes) == len(azs(env)) + 1  # each private table and the public one


@pytest.mark.parametrize("env_name", ["dev", "staging", "local"])
def test_single_nat_environments_keep_one_nat_and_one_private_table(stacks, env_name):
    stack = stacks[f"{env_name}-aws-network"]
    assert list(by_path(stack, "aws_nat_gateway")) == ["hub/nat"]
    assert by_path(stack, "aws_route")["hub/private-default"]["nat_gateway_id"] == ref(
        "aws_nat_gateway", logical(stack, "aws_nat_gateway", "hub/nat"), "id"
    )
    assert sorted(p for p in by_path(stack, "aws_route_table") if p.startswith("hub/")) == ["hub/private-rt", "hub/public-rt"]


@pytest.mark.parametrize("env_name", CLOUD)
def test_transit_gateway_attaches_through_dedicated_28_subnets(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-aws-network"]
    subnets = by_path(stack, "aws_subnet")
    attachments = by_path(stack, "aws_ec2_transit_gateway_vpc_attachment")
    vpcs = {"hub": env.aws.network.hub_cidr, **{f"spoke-{n}": c for n, c in env.aws.network.spokes.items()}}
    for vpc, cidr in vpcs.items():
        transit = {az: ipaddress.ip_network(subnets[f"{vpc}/transit-{az}"]["cidr_block"]) for az in azs(env)}
        assert {n.prefixlen for n in transit.values()} == {28}
        assert all(n.subnet_of(ipaddress.ip_network(cidr)) for n in transit.values())
        others = [ipaddress.ip_network(s["cidr_block"]) for p, s in subnets.items() if p.startswith(f"{vpc}/") and "/transit-" not in p]
        assert not any(t.overlaps(o) for t in transit.values() for o in others)
        assert {subnets[f"{vpc}/transit-{az}"]["availability_zone"] for az in azs(env)} == set(azs(env))
        attachment = attachments[f"transit-gateway/{vpc.removeprefix('spoke-')}-attachment"]
        assert attachment["subnet_ids"] == [
            ref("aws_subnet", logical(stack, "aws_subnet", f"{vpc}/transit-{az}"), "id") for az in azs(env)
        ]


def test_no_attachment_subnets_without_a_transit_gateway(stacks):
    assert not any("/transit-" in p for p in by_path(stacks["local-aws-network"], "aws_subnet"))


@pytest.mark.parametrize("env_name", [*CLOUD, "local"])
def test_s3_endpoint_reaches_only_the_own_accounts_buckets_and_ecr_layers(stacks, env_name):
    env, stack = ENVIRONMENTS[env_name], stacks[f"{env_name}-aws-network"]
    policy = json.loads(by_path(stack, "aws_vpc_endpoint")["orchestration-endpoints/s3"]["policy"])
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert set(statements) == {"OwnAccountBucketsOnly", "EcrImageLayers"}
    own = statements["OwnAccountBucketsOnly"]
    assert own["Effect"] == "Allow" and not any("*" in a for a in own["Action"])
    assert own["Condition"] == {"StringEquals": {
        "aws:ResourceAccount": [env.aws.account_id], "aws:PrincipalAccount": [env.aws.account_id],
    }}
    ecr = statements["EcrImageLayers"]
    assert ecr["Action"] == ["s3:GetObject"]
    assert ecr["Resource"] == [f"arn:aws:s3:::prod-{env.aws.region}-starport-layer-bucket/*"]
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


def test_schema_refuses_an_unknown_nat_layout():
    import copy

    from environments.schema import Environment
    from pydantic import ValidationError

    data = copy.deepcopy(ENVIRONMENTS["dev"].model_dump(mode="json", by_alias=True, exclude_unset=True))
    data["aws"]["network"]["nat_gateways"] = "two"
    with pytest.raises(ValidationError, match="nat_gateways"):
        Environment.model_validate(data)
