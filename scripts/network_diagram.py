"""The network of one environment, drawn from its synthesized stacks: `make diagram ENV=<env>`.

Reads every ``cdktf.out/stacks/<env>-*/cdk.tf.json`` and builds a small graph model:

- **containers**: VPCs, VNets and GCP VPC networks (hubs and spokes), grouped by cloud;
- **nodes**: the network parts that matter for a data path (Transit Gateway, NAT, VPN
  gateways, Cloud Routers, DNS resolvers, private endpoints, GKE, MWAA), placed in the
  container they reference;
- **links**: attachments, peerings, NCC spokes, IPsec tunnels and DNS forwarding, found by
  following Terraform references, across stacks too (cdktf's cross-stack outputs name the
  producing resource), so a link drawn here is a link Terraform will build.

Nothing is hand-kept: a new stack or resource appears when it is synthesized. The DOT text
is deterministic; its SHA-256 is written into the SVG so a test can tell a stale picture.

    python scripts/network_diagram.py --env prod [--stacks cdktf.out/stacks] [--out docs/network-prod.svg]

Needs graphviz's ``dot`` to render (Debian/Ubuntu: ``apt-get install graphviz``; macOS:
``brew install graphviz``); ``--dot-only`` writes the DOT text without it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: ${type.name...} inside a Terraform expression string.
_REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)[.}\[]")
#: A cross-stack read: data.terraform_remote_state.cross-stack-reference-input-<stack>.outputs.<output>.
_REMOTE = re.compile(
    r"data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)"
)

#: Hub and spoke networks; their children are drawn inside them.
CONTAINERS = {"aws_vpc": "aws", "google_compute_network": "gcp", "azurerm_virtual_network": "azure"}

#: Network parts worth a box: type -> label (a callable gets the resource body).
NODES = {
    "aws_ec2_transit_gateway": "Transit Gateway",
    "aws_nat_gateway": "NAT gateway",
    "aws_route53_resolver_endpoint": lambda b: f"Resolver {str(b.get('direction', '')).lower()}".strip(),
    "aws_mwaa_environment": "MWAA",
    "aws_vpc_endpoint": None,  # too many to draw; counted on the VPC label instead
    "google_network_connectivity_hub": "NCC hub",
    "google_compute_ha_vpn_gateway": "HA VPN gateway",
    # A router with BGP terminates VPN sessions; one without only carries a Cloud NAT.
    "google_compute_router": lambda b: f"Cloud Router (ASN {b['bgp'].get('asn', '?')})"
    if isinstance(b.get("bgp"), dict) else "Cloud NAT",
    "google_container_cluster": "GKE (private)",
    "google_dns_policy": "DNS inbound policy",
    "azurerm_virtual_network_gateway": "VPN gateway",
    "azurerm_private_dns_resolver": "DNS Private Resolver",
    "azurerm_private_endpoint": lambda b: "private endpoint "
    + "/".join(c.get("subresource_names", ["?"])[0] for c in _as_list(b.get("private_service_connection"))),
}

#: Resources that ARE links: type -> (attribute of one end, attribute of the other end, label, dashed).
LINKS = {
    "aws_ec2_transit_gateway_vpc_attachment": ("transit_gateway_id", "vpc_id", "TGW attachment", False),
    "aws_vpn_connection": ("transit_gateway_id", "customer_gateway_id", "IPsec + BGP", False),
    "google_network_connectivity_spoke": ("hub", "linked_vpc_network", "NCC spoke", False),
    "google_compute_network_peering": ("network", "peer_network", "peering", False),
    "google_compute_vpn_tunnel": ("vpn_gateway", "peer_external_gateway", "IPsec + BGP", False),
    "azurerm_virtual_network_peering": ("virtual_network_name", "remote_virtual_network_id", "peering", False),
    "azurerm_virtual_network_gateway_connection": (
        "virtual_network_gateway_id", "local_network_gateway_id", "IPsec + BGP", False),
    "aws_route53_resolver_rule": ("resolver_endpoint_id", "target_ip", "DNS forward", True),
    "google_dns_managed_zone": ("private_visibility_config", "forwarding_config", "DNS forward", True),
    "azurerm_private_dns_resolver_forwarding_rule": ("dns_forwarding_ruleset_id", "target_dns_servers", "DNS forward", True),
}

#: Resources that hold fixed private addresses other resources name literally: type -> attributes.
ADDRESS_HOLDERS = {
    "aws_route53_resolver_endpoint": ("ip_address",),
    "azurerm_private_dns_resolver_inbound_endpoint": ("ip_configurations",),
}
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")

#: IPsec tunnels one resource of a type builds (an AWS VPN connection always has two). A VPN link is built
#: from both ends, so its tunnel count is the larger side's, never the sum of both sides' resources.
TUNNELS_PER_RESOURCE = {"aws_vpn_connection": 2}

CLOUD_STYLE = {"aws": ("AWS", "#fff4e5"), "gcp": ("Google Cloud", "#e8f0fe"), "azure": ("Azure", "#e5f3fb")}


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _cloud_of(rtype: str) -> str:
    return {"aws": "aws", "google": "gcp", "azurerm": "azure"}.get(rtype.split("_", 1)[0], "other")


Address = tuple[str, str, str]  # stack, type, name


@dataclass
class Model:
    env: str
    containers: dict[Address, str] = field(default_factory=dict)  # address -> label
    nodes: dict[Address, tuple[str, Address | None]] = field(default_factory=dict)  # -> (label, container)
    #: (end, end, label, dashed) -> how many of it (VPN: tunnels); ends are node or container addresses.
    links: dict[tuple[Address, Address, str, bool], int] = field(default_factory=dict)

    def cloud(self, address: Address) -> str:
        return _cloud_of(address[1])


class _Stacks:
    """Every synthesized stack of one environment, with reference resolution across them."""

    def __init__(self, root: Path, env: str):
        self.docs: dict[str, dict] = {}
        for path in sorted(root.glob(f"{env}-*/cdk.tf.json")):
            self.docs[path.parent.name] = json.loads(path.read_text())
        if not self.docs:
            raise SystemExit(f"network_diagram: no synthesized stacks for '{env}' under {root} (run make synth)")

    def resources(self):
        for stack, doc in self.docs.items():
            for rtype, items in doc.get("resource", {}).items():
                for name, body in items.items():
                    yield (stack, rtype, name), body

    def body(self, address: Address) -> dict:
        stack, rtype, name = address
        return self.docs.get(stack, {}).get("resource", {}).get(rtype, {}).get(name, {})

    def refs(self, stack: str, value) -> list[Address]:
        """Resources a value refers to, following cross-stack outputs to the producing stack."""
        text = json.dumps(value)
        found: list[Address] = []
        for producer, output in _REMOTE.findall(text):
            produced = self.docs.get(producer, {}).get("output", {}).get(output, {}).get("value")
            if produced is not None:
                found += self.refs(producer, produced)
        found += [(stack, t, n) for t, n in _REF.findall(text) if t != "data" and t != "var"]
        return list(dict.fromkeys(found))


def _label(rtype: str, body: dict) -> str:
    label = NODES[rtype]
    return label(body) if callable(label) else str(label)


def _container_label(stacks: _Stacks, address: Address, body: dict) -> str:
    stack, rtype, _ = address
    name = (body.get("tags") or {}).get("Name") or body.get("name") or address[2]
    cidr = body.get("cidr_block") or ",".join(_as_list(body.get("address_space")))
    if not cidr and rtype == "google_compute_network":  # a GCP network's ranges live on its subnets
        for sub, sub_body in stacks.resources():
            if sub[1] == "google_compute_subnetwork" and address in stacks.refs(sub[0], sub_body.get("network")):
                cidr = sub_body.get("ip_cidr_range", "")
                break
    return f"{name}\n{cidr}" if cidr else str(name)


def build_model(root: Path, env: str) -> Model:
    stacks = _Stacks(root, env)
    model = Model(env)
    bodies = dict(stacks.resources())
    for address, body in bodies.items():
        if address[1] in CONTAINERS:
            model.containers[address] = _container_label(stacks, address, body)

    def owner(address: Address, depth: int = 3) -> Address | None:
        """The container a resource sits in: the first container its references reach."""
        if address[1] in CONTAINERS:
            return address
        if depth == 0:
            return None
        refs = stacks.refs(address[0], bodies.get(address, {}))
        for ref in refs:
            if ref[1] in CONTAINERS:
                return ref
        for ref in refs:
            found = owner(ref, depth - 1) if ref in bodies else None
            if found:
                return found
        return None

    for address, body in bodies.items():
        if NODES.get(address[1]) is not None:
            model.nodes[address] = (_label(address[1], body), owner(address))

    def endpoint(stack: str, value, depth: int = 3) -> Address | None:
        """A link end: the node or container a value reaches, through gateways that only name a peer,
        or, for a literal address (a DNS forwarder's target IP), the part that owns that address."""
        for ref in stacks.refs(stack, value):
            if ref in model.nodes or ref in model.containers:
                return ref
        for ref in stacks.refs(stack, value):
            if depth and ref in bodies:
                found = endpoint(ref[0], bodies[ref], depth - 1)
                if found:
                    return found
        for ip in _IPV4.findall(json.dumps(value)):
            if ip in owners:
                return owners[ip]
        return None

    # Fixed private addresses (resolver endpoints) -> the part that holds them, for forwarders that name IPs.
    owners: dict[str, Address] = {}
    for address, body in bodies.items():
        if address[1] in ADDRESS_HOLDERS:
            holder = address if address in model.nodes else endpoint(address[0], body, 1)
            for ip in _IPV4.findall(json.dumps({k: v for k, v in body.items() if k in ADDRESS_HOLDERS[address[1]]})):
                owners.setdefault(ip, holder)

    per_type: dict[tuple, dict[str, int]] = {}
    for address, body in bodies.items():
        rule = LINKS.get(address[1])
        if rule is None:
            continue
        a_attr, b_attr, label, dashed = rule
        a = endpoint(address[0], body.get(a_attr))
        b = endpoint(address[0], body.get(b_attr))
        if a is None or b is None or a == b:
            continue
        if label == "DNS forward":
            label = "DNS " + _dns_name(body)
        key = (*sorted((a, b)), label, dashed)
        per_type.setdefault(key, {}).setdefault(address[1], 0)
        per_type[key][address[1]] += TUNNELS_PER_RESOURCE.get(address[1], 1)  # type: ignore[index]
    links: dict[tuple, int] = {}
    dns: dict[tuple, set[str]] = {}
    for (a, b, label, dashed), sides in per_type.items():
        if label.startswith("DNS "):  # one dashed edge per resolver pair, naming every forwarded zone
            dns.setdefault((a, b, dashed), set()).add(label.removeprefix("DNS "))
        else:
            links[(a, b, label, dashed)] = max(sides.values())
    for (a, b, dashed), names in dns.items():
        links[(a, b, "DNS: " + ", ".join(sorted(names)), dashed)] = 1
    model.links = links  # type: ignore[assignment]
    return model


def _dns_name(body: dict) -> str:
    return str(body.get("domain_name") or body.get("dns_name") or "").rstrip(".")


def _id(address: Address) -> str:
    return '"' + "/".join(address) + '"'


def to_dot(model: Model) -> str:
    lines = [
        f'digraph "{model.env}" {{',
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, compound=true, '
        f'label="Cloud Conductor: {model.env} network (generated by make diagram ENV={model.env})", labelloc=t];',
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9, dir=none];',
    ]
    alias: dict[Address, Address] = {}
    for cloud, (title, colour) in CLOUD_STYLE.items():
        containers = sorted(a for a in model.containers if model.cloud(a) == cloud)
        loose = sorted(a for a, (_, c) in model.nodes.items() if c is None and model.cloud(a) == cloud)
        if not containers and not loose:
            continue
        lines.append(f'  subgraph "cluster_{cloud}" {{ label="{title}"; style=filled; fillcolor="{colour}";')
        for container in containers:
            label = model.containers[container].replace("\n", "\\n")
            members = sorted(a for a, (_, c) in model.nodes.items() if c == container)
            lines.append(f'    subgraph "cluster_{"/".join(container)}" {{ label="{label}"; style="rounded,filled"; '
                         'fillcolor=white;')
            lines.append(f'      {_id(container)} [label="", shape=point, style=invis];')
            counts: dict[str, list[Address]] = {}
            for member in members:
                counts.setdefault(model.nodes[member][0], []).append(member)
            for text, group in sorted(counts.items()):
                # Alike parts in one network (a NAT gateway per AZ) are one box "×n"; links go to that box.
                suffix = f" ×{len(group)}" if len(group) > 1 else ""
                lines.append(f'      {_id(group[0])} [label="{text}{suffix}"];')
                alias.update({member: group[0] for member in group})
            lines.append("    }")
        for member in loose:
            lines.append(f'    {_id(member)} [label="{model.nodes[member][0]}"];')
        lines.append("  }")
    for (a, b, label, dashed), count in sorted(model.links.items()):
        a, b = alias.get(a, a), alias.get(b, b)
        unit = " tunnels" if label.startswith("IPsec") else ""
        text = label + (f" ×{count}{unit}" if count > 1 else "")
        style = ", style=dashed, color=gray40" if dashed else ""
        # An edge to a network ends at its box (graphviz compound edges), not at the anchor point inside.
        clip = "".join(f', {end}="cluster_{"/".join(x)}"' for end, x in (("ltail", a), ("lhead", b)) if x in model.containers)
        lines.append(f'  {_id(a)} -> {_id(b)} [label="{text}"{style}{clip}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_digest(dot: str) -> str:
    return hashlib.sha256(dot.encode()).hexdigest()


def render(dot: str, out: Path) -> None:
    binary = shutil.which("dot")
    if binary is None:
        raise SystemExit("network_diagram: graphviz 'dot' is not on PATH (apt-get install graphviz, brew install graphviz)")
    svg = subprocess.run([binary, "-Tsvg"], input=dot, capture_output=True, text=True, check=True).stdout
    marker = f"<!-- network-diagram dot-sha256: {dot_digest(dot)} -->\n"
    svg = svg.replace("<svg", marker + "<svg", 1)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(svg)
    tmp.replace(out)  # never a half-written picture


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--stacks", default=str(REPO / "cdktf.out" / "stacks"))
    parser.add_argument("--out", help="SVG path (default docs/network-<env>.svg)")
    parser.add_argument("--dot-only", action="store_true", help="print the DOT text, render nothing")
    args = parser.parse_args(argv)
    model = build_model(Path(args.stacks), args.env)
    dot = to_dot(model)
    if args.dot_only:
        sys.stdout.write(dot)
        return 0
    out = Path(args.out) if args.out else REPO / "docs" / f"network-{args.env}.svg"
    render(dot, out)
    print(f"{out}: {len(model.containers)} networks, {len(model.nodes)} parts, {len(model.links)} links")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
