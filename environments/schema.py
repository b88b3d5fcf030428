"""The one typed schema for ``environments/<env>.yaml``, and the loader that enforces it.

Loading happens before any construct is built. A bad file never produces a
partial ``cdktf.out``: :func:`load_environments` either returns every
environment valid, or raises :class:`ConfigError` carrying *every* problem found,
one line each: ``<file>: <field path>: <value>: <rule>``.

Checks run in two passes. Pass 1 is field-level (types, unknown keys, formats,
regions, ranges) and reports all problems across the file. Pass 2 is
cross-field (CIDR overlap across clouds, derived names, unique domains) and runs
on a file that passed pass 1, because it needs the typed values.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from environments import naming, vault_ca
from environments.regions import AWS_REGIONS, AZURE_LOCATIONS, GCP_REGIONS

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
#: The Airflow code the AWS orchestration stack bundles (only its files are read).
AIRFLOW_DIR = ENVIRONMENTS_DIR.parent / "airflow"
#: One data contract per domain, <name>.yaml, shipped in the DAG bundle (airflow/dags/callcenter/domain.py reads them).
CONTRACTS_DIR = AIRFLOW_DIR / "dags" / "domains"
#: Another contracts folder (a test's throwaway domain): main.py runs in a subprocess, so a variable reaches it.
CONTRACTS_DIR_ENV = "CLOUD_CONDUCTOR_CONTRACTS_DIR"

#: Airflow 3 releases that Amazon MWAA publishes images for (aws/amazon-mwaa-docker-images:
#: images/airflow/<version>; the MWAA user guide's "Apache Airflow versions" page lists
#: what a region offers). airflow/requirements.txt pins one of them and
#: tests/config/test_airflow_version.py checks every environment file agrees with it.
MWAA_AIRFLOW_VERSIONS = ("3.0.6", "3.3.1")

# --------------------------------------------------------------------------- field types


def _rule(pattern: str, text: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(text)
        return value

    return AfterValidator(check)


def _member_of(allowed: frozenset[str], what: str):
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"not a known {what}")
        return value

    return AfterValidator(check)


def _ipv4_block(value: str, example: str):
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError:
        raise ValueError(f"must be an IPv4 CIDR block with no host bits set, e.g. {example}") from None


def _cidr(value: str) -> str:
    network = _ipv4_block(value, "10.0.0.0/16")
    if network.version != 4 or not network.is_private:
        raise ValueError("must be a private IPv4 range (RFC 1918)")
    return value


Identifier = Annotated[
    str, _rule(r"[a-z][a-z0-9_]{1,29}", "must be a lowercase identifier: a letter, then 1-29 of a-z, 0-9, _")
]
Slug = Annotated[str, _rule(r"[a-z][a-z0-9-]{1,39}", "must be a lowercase slug: a letter, then 1-39 of a-z, 0-9, -")]
Cidr = Annotated[str, AfterValidator(_cidr)]
AwsRegion = Annotated[str, _member_of(AWS_REGIONS, "AWS region")]
GcpRegion = Annotated[str, _member_of(GCP_REGIONS, "GCP region")]
AzureLocation = Annotated[str, _member_of(AZURE_LOCATIONS, "Azure location")]
Uuid = Annotated[
    str, _rule(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "must be a lowercase UUID")
]
Url = Annotated[str, _rule(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", "must be a URL like https://host:port")]
Days = Annotated[int, Field(ge=1, le=36500)]


class Strict(BaseModel):
    """Unknown keys are errors (typos must not be ignored) and nothing is coerced."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Feature(Strict):
    """A part of the platform that an environment may leave out, but only saying why."""

    enabled: bool = True
    reason: str | None = None

    @model_validator(mode="after")
    def _reason_when_disabled(self) -> Feature:
        if not self.enabled and not (self.reason and self.reason.strip()):
            raise ValueError("a disabled feature must give its reason")
        return self


# --------------------------------------------------------------------------- sections


class Network(Strict):
    hub_cidr: Cidr
    spokes: Annotated[dict[Identifier, Cidr], Field(min_length=1)]


#: Interface endpoints a private MWAA needs (MWAA user guide, "Managing access to service-specific
#: Amazon VPC endpoints"): its own API/env/ops, the queue, logs, metrics, the key, ECR for its images, STS.
MWAA_INTERFACE_ENDPOINTS = (
    "airflow.api", "airflow.env", "airflow.ops", "sqs", "logs", "monitoring", "kms", "ecr.api", "ecr.dkr", "sts",
)


class AwsNetwork(Network):
    transit_gateway: Feature = Feature()
    #: AZ letters (appended to the region); MWAA needs two private subnets in different AZs.
    availability_zones: Annotated[
        list[Annotated[str, _rule(r"[a-z]", "must be one AZ letter, e.g. a")]], Field(min_length=2, max_length=3)
    ] = ["a", "b"]
    #: Spoke pairs that may reach each other through the Transit Gateway; every other pair is blackholed.
    spoke_routes: list[Annotated[list[Identifier], Field(min_length=2, max_length=2)]] = []
    #: Interface endpoints in the orchestration spoke (the S3 gateway endpoint is always added).
    interface_endpoints: list[Annotated[str, _rule(r"[a-z0-9.-]+", "must be an AWS service suffix, e.g. logs")]] = list(
        MWAA_INTERFACE_ENDPOINTS
    )
    flow_log_retention_days: Literal[365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] = 365
    #: Hub egress: ``single`` = one NAT gateway (dev/staging/local); ``per_az`` = one NAT gateway and one
    #: private route table per AZ, so losing an AZ cuts only its own egress (high availability, prod).
    nat_gateways: Literal["single", "per_az"] = "single"

    @model_validator(mode="after")
    def _required_spokes(self) -> AwsNetwork:
        missing = {"orchestration", "data"} - set(self.spokes)
        if missing:
            raise ValueError(f"spokes must include {sorted(missing)} (MWAA runs in orchestration, the lake in data)")
        unknown = sorted({s for pair in self.spoke_routes for s in pair} - set(self.spokes))
        if unknown:
            raise ValueError(f"spoke_routes name spokes that do not exist: {unknown}")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availability_zones must be distinct")
        return self


class AwsConfig(Strict):
    account_id: Annotated[str, _rule(r"[0-9]{12}", "must be a 12-digit AWS account id")]
    region: AwsRegion
    network: AwsNetwork
    #: Base URL of a local AWS stand-in (moto). Unset means real AWS.
    endpoint: Url | None = None
    #: Guard stateful resources (lake buckets, keys, catalog) with Terraform's prevent_destroy.
    protect_stateful: bool = False
    #: The AWS Budgets budget built from the top-level ``budget`` section.
    budget: Feature = Feature()
    #: Every bucket's policy denies requests not made over TLS.
    tls_only_buckets: Feature = Feature()
    #: Every bucket sends its object events to EventBridge.
    bucket_events: Feature = Feature()
    #: The DAG bucket keeps the newest noncurrent versions of each object (requirements, plugins, constraints)
    #: past noncurrent_expire_days, so MWAA can always be rolled back to a recent pinned version.
    dag_bucket_kept_versions: Feature = Feature()


class NodePool(Strict):
    machine_type: Annotated[str, _rule(r"[a-z0-9]+-[a-z0-9-]+", "must be a GCE machine type, e.g. e2-standard-4")]
    min_nodes: Annotated[int, Field(ge=0, le=100)] = 1
    max_nodes: Annotated[int, Field(ge=1, le=1000)] = 3

    @model_validator(mode="after")
    def _ordered(self) -> NodePool:
        if self.max_nodes < self.min_nodes:
            raise ValueError("max_nodes must be >= min_nodes")
        return self


#: RFC 5737 documentation ranges (TEST-NET-1/2/3): never a real client, so authorizing one admits nobody.
_DOCUMENTATION_RANGES = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)


def _authorized_cidr(value: str) -> str:
    network = _ipv4_block(value, "10.21.0.0/16")
    if any(network.overlaps(doc) for doc in _DOCUMENTATION_RANGES):
        raise ValueError("is an RFC 5737 documentation range (TEST-NET), which no client ever uses")
    return str(network)


class AuthorizedNetwork(Strict):
    name: Slug
    cidr: Annotated[str, AfterValidator(_authorized_cidr)]


class GkeConfig(Strict):
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    private_endpoint: bool = True
    master_cidr: Annotated[Cidr, AfterValidator(lambda v: _require_prefix(v, 28))]
    pods_cidr: Cidr
    services_cidr: Cidr
    master_authorized_networks: list[AuthorizedNetwork] = []
    general_pool: NodePool
    spot_pool: NodePool
    deletion_protection: bool = True
    #: The spoke VPC whose subnet hosts the cluster; the pods and services ranges are its secondary ranges.
    network_spoke: Identifier = "workloads"
    #: Google Group whose member groups get Kubernetes RBAC (Google Groups for RBAC). GKE requires this exact
    #: local part; unset leaves RBAC to individual users and fails checkov CKV_GCP_65.
    rbac_security_group: (
        Annotated[
            str,
            _rule(
                r"gke-security-groups@[a-z0-9-]+(\.[a-z0-9-]+)+",
                "must be gke-security-groups@<your Workspace domain> (the group name GKE requires)",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _private_endpoint_takes_internal_networks(self) -> GkeConfig:
        # With no public endpoint, GKE only accepts internal (RFC 1918) ranges as authorized networks.
        if self.private_endpoint:
            external = [n.cidr for n in self.master_authorized_networks if not _is_rfc1918(n.cidr)]
            if external:
                raise ValueError(
                    f"master_authorized_networks {external} are not internal (RFC 1918) ranges, "
                    "which a private endpoint requires"
                )
        return self


_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _is_rfc1918(cidr: str) -> bool:
    network = ipaddress.ip_network(cidr)
    return any(network.subnet_of(block) for block in _RFC1918)


def _require_prefix(value: str, prefix: int) -> str:
    if ipaddress.ip_network(value).prefixlen != prefix:
        raise ValueError(f"must be a /{prefix} (GKE control-plane range)")
    return value


GcpProjectId = Annotated[str, _rule(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", "must be a GCP project id: 6-30 of a-z, 0-9, -")]


class GcpNetwork(Network):
    connectivity: Literal["ncc", "peering"] = "ncc"


class GcpConfig(Strict):
    terraform: Feature = Feature()
    project_id: GcpProjectId
    region: GcpRegion
    billing_account: Annotated[
        str, _rule(r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}", "must be a billing account id like 0123AB-4567CD-89EF01")
    ]
    network: GcpNetwork
    gke: GkeConfig
    #: This project's monthly budget in USD; unset uses the environment's budget.monthly_usd.
    budget_usd: Annotated[float, Field(gt=0)] | None = None
    #: Quota project for APIs that need one with user credentials (billingbudgets); unset = project_id.
    billing_project: GcpProjectId | None = None
    #: Keys carry prevent_destroy and fixed key-ring names. Off (dev): a destroy/recreate must work, so
    #: rings get a per-creation suffix (GCP never deletes a key ring, its name stays taken).
    protect_stateful: bool = True

    @model_validator(mode="after")
    def _gke_spoke_exists(self) -> GcpConfig:
        if self.gke.network_spoke not in self.network.spokes:
            raise ValueError(
                f"gke.network_spoke {self.gke.network_spoke!r} is not one of network.spokes {sorted(self.network.spokes)}"
            )
        return self

    @model_validator(mode="after")
    def _private_endpoint_networks_are_routed(self) -> GcpConfig:
        # The private IP endpoint of a peering-based control plane (master_cidr) is reached only from the
        # cluster's own VPC: GKE's peering route is not carried across NCC spokes or further peerings
        # (GKE "About network isolation"). An authorized range elsewhere can never connect; operators use
        # the DNS-based endpoint (IAM container.clusters.connect) instead.
        if self.gke.private_endpoint and self.gke.network_spoke in self.network.spokes:
            home = ipaddress.ip_network(self.network.spokes[self.gke.network_spoke])
            unrouted = [n.cidr for n in self.gke.master_authorized_networks if not ipaddress.ip_network(n.cidr).subnet_of(home)]
            if unrouted:
                raise ValueError(
                    f"gke.master_authorized_networks {unrouted} lie outside the cluster's VPC "
                    f"({self.gke.network_spoke} {home}), which alone routes to a private endpoint; "
                    "reach the control plane through its DNS endpoint instead"
                )
        return self


class AzureNetwork(Network):
    #: Hub peerings allow gateway transit and spokes use the hub's gateway. Needs a VPN/ExpressRoute
    #: gateway in the hub (not created here), or Azure rejects the spoke peering.
    gateway_transit: bool = False

    @model_validator(mode="after")
    def _data_spoke(self) -> AzureNetwork:
        if "data" not in self.spokes:
            raise ValueError("spokes must include 'data' (the lake's private endpoints live there)")
        return self


def _public_cidr(value: str) -> str:
    network = _ipv4_block(value, "203.0.113.0/24")
    if network.version != 4 or not network.is_global:
        raise ValueError("must be a public IPv4 range (Key Vault firewall rules take public addresses only)")
    return value


class AzureDeployer(Strict):
    """How the Terraform runner reaches the Key Vault's data plane, which creating the lake key needs.

    ``in_vnet``: the runner sits in a network that reaches the vault's private endpoint and resolves
    privatelink.vaultcore.azure.net (the hub VNet, a network linked to the zone, or one routed over the
    fabric); the vault admits no public network. ``cidrs``: the vault's public endpoint is opened to exactly
    these public ranges (the runner's egress), the firewall denying everything else.
    """

    network: Literal["in_vnet", "cidrs"]
    cidrs: list[Annotated[str, AfterValidator(_public_cidr)]] = []

    @model_validator(mode="after")
    def _cidrs_match_network(self) -> AzureDeployer:
        if self.network == "cidrs" and not self.cidrs:
            raise ValueError("network 'cidrs' needs the runner's public egress ranges in cidrs")
        if self.network == "in_vnet" and self.cidrs:
            raise ValueError("cidrs are read only with network 'cidrs' (an in_vnet runner needs no firewall rule)")
        return self


class AzureConfig(Strict):
    terraform: Feature = Feature()
    subscription_id: Uuid
    tenant_id: Uuid
    location: AzureLocation
    network: AzureNetwork
    #: Lake account redundancy. Geo-redundant by default (checkov CKV_AZURE_206); LRS/ZRS are an explicit opt-out.
    storage_replication: Literal["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"] = "GZRS"
    #: How Terraform reaches the (closed) Key Vault to create the lake key; required where Terraform runs.
    deployer: Annotated[AzureDeployer | None, Field(validate_default=True)] = None
    #: Guard stateful resources: a CanNotDelete lock and prevent_destroy on the lake account, and the Key
    #: Vault's maximum 90-day soft-delete retention (7 days otherwise, so a destroyed dev frees its names soon).
    protect_stateful: bool = False
    #: This subscription's monthly budget in USD; unset uses the environment's budget.monthly_usd.
    budget_usd: Annotated[float, Field(gt=0)] | None = None

    @field_validator("deployer")
    @classmethod
    def _deployer_where_terraform_runs(cls, value: AzureDeployer | None, info: ValidationInfo) -> AzureDeployer | None:
        terraform = info.data.get("terraform")
        if value is None and terraform is not None and terraform.enabled:
            raise ValueError(
                "required: the Key Vault admits no public network, so say how Terraform reaches it to create "
                "the lake key: {network: in_vnet} or {network: cidrs, cidrs: [<runner egress>]}"
            )
        return value


class Orchestration(Strict):
    mwaa: Feature = Feature()
    airflow_version: Literal[MWAA_AIRFLOW_VERSIONS]  # type: ignore[valid-type]
    environment_class: Literal["mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge"]
    min_workers: Annotated[int, Field(ge=1, le=25)] = 1
    max_workers: Annotated[int, Field(ge=1, le=25)] = 2
    webserver_access: Literal["PRIVATE_ONLY", "PUBLIC_ONLY"] = "PRIVATE_ONLY"
    #: Path under airflow/ of an MWAA startup script, if any.
    startup_script: str | None = None
    schedulers: Annotated[int, Field(ge=2, le=5)] = 2
    #: Level for all five MWAA log types (each is always enabled).
    log_level: Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"] = "INFO"

    @model_validator(mode="after")
    def _workers_ordered(self) -> Orchestration:
        if self.max_workers < self.min_workers:
            raise ValueError("max_workers must be >= min_workers")
        return self


class Tiering(Strict):
    """Days after creation at which objects move to cheaper classes, on every cloud.

    warm: S3 STANDARD_IA, GCS NEARLINE, Azure Cool. cold: GCS COLDLINE, Azure Cold.
    archive: S3 GLACIER_IR (still readable by GetObject; the DAG bucket never transitions), GCS ARCHIVE, Azure Archive.
    """

    warm_after_days: Annotated[int, Field(ge=30, le=36500)] = 30  # S3 refuses STANDARD_IA before day 30
    cold_after_days: Days = 90
    archive_after_days: Days = 180
    noncurrent_expire_days: Days = 30
    abort_incomplete_multipart_days: Days = 7

    @model_validator(mode="after")
    def _ordered(self) -> Tiering:
        if not self.warm_after_days < self.cold_after_days < self.archive_after_days:
            raise ValueError("tiering days must increase: warm_after_days < cold_after_days < archive_after_days")
        return self


class Storage(Strict):
    tiering: Tiering = Tiering()


class VaultAwsIdentity(Strict):
    """Vault's AWS identity through plugin workload identity federation (Vault Enterprise >= 1.16):
    Vault assumes ``role_arn`` with a token for ``audience``. Unset: Vault's own AWS credential chain."""

    role_arn: Annotated[str, _rule(r"arn:aws:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+", "must be an IAM role ARN")]
    audience: Annotated[str, Field(min_length=1)]


class VaultConfig(Strict):
    address: Url
    #: How Vault's aws auth mount calls iam:GetRole (resolve_aws_unique_ids); see VaultAwsIdentity.
    aws_identity: VaultAwsIdentity | None = None
    #: PEM CA certificate that signed Vault's TLS certificate, relative to the repo; shipped in plugins.zip
    #: and given to the VaultBackend as ``verify`` (environments/vault_ca.py checks it).
    ca_file: str | None = None
    #: Vault's private address(es): the fabric's Route 53 private zone maps the address's host name to them.
    #: Each must sit inside one of the environment's hub/spoke ranges, or nothing routes to it.
    private_ips: list[Annotated[str, AfterValidator(lambda v: str(ipaddress.IPv4Address(v)))]] = []
    kv_mount: Identifier = "platform"
    aws_mount: Slug = "aws"
    gcp_mount: Slug = "gcp"
    azure_mount: Slug = "azure"
    #: Dynamic credentials live at most an hour by default and four hours at most, never Vault's 32 days.
    #: At least 15 minutes: AWS STS (the AWS engine's federation tokens) refuses anything shorter.
    default_lease_ttl_seconds: Annotated[int, Field(ge=900, le=3600)] = 3600
    max_lease_ttl_seconds: Annotated[int, Field(ge=60, le=14400)] = 14400

    @model_validator(mode="after")
    def _ttls_ordered(self) -> VaultConfig:
        if self.max_lease_ttl_seconds < self.default_lease_ttl_seconds:
            raise ValueError("max_lease_ttl_seconds must be >= default_lease_ttl_seconds")
        return self


#: Private ASNs (RFC 6996): 16-bit 64512-65534, 32-bit 4200000000-4294967294. AWS and Azure accept only these
#: for the Amazon side / a VPN gateway; GCP's Cloud Router takes the same ranges.
_PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))
#: ASNs Azure reserves (Azure VPN Gateway FAQ, "Are there ASNs that I can't use?"): its own 65515 (the VPN
#: gateway default) and 65517-65520; a peer or gateway on them is refused.
AZURE_RESERVED_ASNS = frozenset({65515, 65517, 65518, 65519, 65520})
#: Tunnel inside CIDRs AWS refuses (AWS Site-to-Site VPN, VpnTunnelOptionsSpecification.TunnelInsideCidr).
AWS_RESERVED_INSIDE = tuple(
    ipaddress.ip_network(c)
    for c in ("169.254.0.0/30", "169.254.1.0/30", "169.254.2.0/30", "169.254.3.0/30", "169.254.4.0/30",
              "169.254.5.0/30", "169.254.169.252/30")
)
LINK_LOCAL = ipaddress.ip_network("169.254.0.0/16")
#: Azure VPN gateways take custom BGP (APIPA) addresses only from 169.254.21.0-169.254.22.255
#: (Azure docs, "Configure BGP for VPN Gateway": custom Azure APIPA BGP IP address).
AZURE_APIPA = ipaddress.ip_network("169.254.21.0/24"), ipaddress.ip_network("169.254.22.0/24")
#: The three links between the hubs; each has two tunnels (one /30 each).
FABRIC_LINKS = ("aws_gcp", "aws_azure", "gcp_azure")
TUNNELS_PER_LINK = 2


def _asn(value: int) -> int:
    if not any(low <= value <= high for low, high in _PRIVATE_ASNS):
        raise ValueError("must be a private ASN: 64512-65534 or 4200000000-4294967294")
    return value


def _tunnel_cidr(value: str) -> str:
    network = _ipv4_block(value, "169.254.10.0/30")
    if network.prefixlen != 30 or not network.subnet_of(LINK_LOCAL):
        raise ValueError("must be a /30 inside 169.254.0.0/16")
    if any(network.overlaps(r) for r in AWS_RESERVED_INSIDE):
        raise ValueError("is one of AWS's reserved tunnel inside ranges (169.254.0-5.0/30, 169.254.169.252/30)")
    return value


Asn = Annotated[int, AfterValidator(_asn)]
TunnelCidr = Annotated[str, AfterValidator(_tunnel_cidr)]
DnsName = Annotated[
    str, _rule(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "must be a DNS name, e.g. blob.core.windows.net")
]


class FabricAsns(Strict):
    """One BGP ASN per cloud hub: the Transit Gateway, the Cloud Router, the Azure VPN gateway."""

    aws: Asn
    gcp: Asn
    azure: Asn


class FabricTunnels(Strict):
    """Tunnel inside /30s per link, two each; the first address of each /30 is the peer on the link's right."""

    aws_gcp: list[TunnelCidr]
    aws_azure: list[TunnelCidr]
    gcp_azure: list[TunnelCidr]


class FabricDns(Strict):
    """Names each hub's resolver forwards to another cloud's resolver (conditional forwarding)."""

    #: Forwarded to the Azure DNS Private Resolver: the lake's and Key Vault's private-link names.
    to_azure: list[DnsName] = ["blob.core.windows.net", "dfs.core.windows.net", "vaultcore.azure.net"]


class Fabric(Feature):
    """Site-to-site IPsec VPN with BGP between the three hubs, and DNS across them (README, "Cross-cloud fabric")."""

    enabled: bool = False
    asn: FabricAsns | None = None
    tunnels: FabricTunnels | None = None
    #: private: Private Google Access over the VPN (Cloud Router advertises 199.36.153.8/30, DNS maps
    #: googleapis.com to private.googleapis.com); internet: GCS over the AWS NAT.
    gcs_access: Literal["private", "internet"] = "private"
    dns: FabricDns = FabricDns()
    #: The AWS spokes whose workloads reach the other clouds (MWAA's); every other spoke gets the peers'
    #: ranges blackholed, and only these are admitted by the Azure lake endpoints' NSG.
    aws_spokes: list[Identifier] = ["orchestration"]

    @model_validator(mode="after")
    def _settings_when_enabled(self) -> Fabric:
        if self.enabled and (self.asn is None or self.tunnels is None):
            raise ValueError("an enabled fabric needs asn and tunnels")
        return self


class Domain(Strict):
    name: Identifier
    owner: Slug
    classification: Literal["public", "internal", "pii"]
    sources: Annotated[list[Identifier], Field(min_length=1)]
    #: Glue crawler schedule, AWS cron syntax.
    crawler_schedule: Annotated[
        str, _rule(r"cron\([^()]+\)", "must be an AWS cron expression like cron(0 * * * ? *)")
    ] = "cron(15 * * * ? *)"
    #: Retired: storage stays (same resources, made read-only, every protection kept); compute and
    #: grants go (Glue crawler and its role, pipeline role/service account, Vault roles and policy).
    #: The way to take a domain out of an environment whose storage is protected (README, "Data domains").
    retired: bool = False
    #: Days an object stays in the raw zone (the unmasked landing copy; S3 expires it). Unset: a pii domain
    #: keeps raw data PII_RAW_RETENTION_DAYS, any other forever (see raw_expiry_days).
    raw_retention_days: Annotated[int, Field(ge=1, le=36500)] | None = None

    @property
    def raw_expiry_days(self) -> int | None:
        if self.raw_retention_days is not None:
            return self.raw_retention_days
        return PII_RAW_RETENTION_DAYS if self.classification == "pii" else None


#: Raw PII is re-processable for a quarter, then only its masked, curated form remains (issue 13).
PII_RAW_RETENTION_DAYS = 90
#: A retired domain's GCS buckets and Azure container are held read-only this long by an UNLOCKED retention
#: policy (lifted by an administrator for the final deletion, README "Data domains"): 100 years, inside both
#: clouds' limits (GCS: under 3,155,760,000 s; azurerm immutability_period_in_days: 1-146000).
RETIRED_RETENTION_DAYS = 36500


class S3State(Strict):
    backend: Literal["s3"]
    bucket: str
    region: AwsRegion
    #: KMS key for state encryption; unset uses the bucket's default SSE-KMS key.
    kms_key_id: str | None = None


class LocalState(Strict):
    backend: Literal["local"]


class Budget(Strict):
    monthly_usd: Annotated[float, Field(gt=0)]
    alert_emails: Annotated[list[EmailStr], Field(min_length=1)]


#: CloudWatch Logs retention values (PutRetentionPolicy) of a year or more (checkov CKV_AWS_338).
LogRetentionDays = Literal[365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


class Ci(Strict):
    """The GitHub repository whose Actions may deploy this environment (stacks/bootstrap.py trusts it via OIDC)."""

    repository: Annotated[
        str, _rule(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}", "must be a GitHub repository, owner/name")
    ]
    #: The branch deployments run from (GCP's attribute condition checks it; GitHub's environment
    #: protection rules should allow only it).
    branch: Annotated[str, _rule(r"[A-Za-z0-9._/-]{1,100}", "must be a branch name, e.g. main")] = "main"
    #: The GitHub environment whose jobs deploy (token subject repo:<owner>/<name>:environment:<this>).
    environment: Identifier


class Alerts(Strict):
    """Who hears of alarms (the SNS alerts topic's e-mail subscribers) and how long logs are kept."""

    emails: list[EmailStr] = []
    #: Retention of the MWAA log groups (created by Terraform before MWAA would create them without one).
    log_retention_days: LogRetentionDays = 365


class SparkThresholds(Strict):
    """When a run leaves the Airflow worker for Spark (airflow/dags/callcenter/engine_choice.py, Thresholds;
    tests/config/test_spark_config.py keeps these defaults equal to its measured ones)."""

    max_worker_bytes: Annotated[int, Field(gt=0)] = 2 * 1024**3
    max_worker_days: Annotated[int, Field(gt=0)] = 7


class SparkAws(Strict):
    """The EMR Serverless application (modules/aws/emr_serverless.py)."""

    #: EMR 7.x runs Spark 3.5 (EMR Serverless user guide, "Release versions": 7.8.0 = Spark 3.5.4).
    release_label: Annotated[str, _rule(r"emr-7\.[0-9]{1,2}\.[0-9]{1,2}", "must be an EMR 7.x release label like emr-7.8.0 (Spark 3.5)")] = "emr-7.8.0"
    #: maximum_capacity: what all running jobs together may hold; the bill's ceiling.
    max_vcpu: Annotated[int, Field(ge=1, le=1000)] = 16
    max_memory_gb: Annotated[int, Field(ge=2, le=8000)] = 64
    max_disk_gb: Annotated[int, Field(ge=20, le=50000)] = 400
    #: auto_stop: the application releases its workers after this many idle minutes.
    idle_stop_minutes: Annotated[int, Field(ge=1, le=10080)] = 15
    #: Run jobs on the custom image (spark/image/emr.Dockerfile, `make spark-image ENV=<env>`): the job needs Python 3.12
    #: and the lock's pyarrow, EMR 7.x images have 3.9. false: the release's own image (first deploy only:
    #: the image's repository must exist before it can be pushed; README, "Spark").
    custom_image: bool = True


class SparkGcp(Strict):
    #: Dataproc Serverless runtime 2.2 runs Spark 3.5 (Dataproc Serverless "Runtime versions").
    runtime_version: Literal["2.2"] = "2.2"
    #: Where customer_360's Spark runs go: EMR Serverless (reads S3, writes GCS over the fabric) or a Dataproc
    #: Serverless batch (reads curated from its GCS copy; callcenter/dataproc.py). The `<domain>_spark` Variable's "engine".
    engine_for_customer_360: Literal["emr", "dataproc"] = "emr"


class Spark(Feature):
    """Spark for runs that outgrow one Airflow worker (README, "Spark"): EMR Serverless on AWS,
    Dataproc Serverless batches on GCP."""

    enabled: bool = False
    thresholds: SparkThresholds = SparkThresholds()
    aws: SparkAws = SparkAws()
    gcp: SparkGcp = SparkGcp()


class Environment(Strict):
    name: Identifier
    #: Short organisation prefix for every derived name (kept short for Azure's 24 characters).
    prefix: Annotated[str, _rule(r"[a-z][a-z0-9]{1,7}", "must be 2-8 lowercase letters and digits")]
    owner: Slug
    tags: dict[
        Annotated[str, _rule(r"[a-z][a-z0-9_-]{0,62}", "tag keys are lowercase, 1-63 of a-z, 0-9, _, -")],
        Annotated[str, _rule(r"[a-z0-9_-]{0,63}", "tag values are lowercase, 0-63 of a-z, 0-9, _, -")],
    ] = {}
    aws: AwsConfig
    gcp: GcpConfig
    azure: AzureConfig
    orchestration: Orchestration
    storage: Storage = Storage()
    vault: VaultConfig
    fabric: Fabric = Fabric(enabled=False, reason="not configured")
    domains: Annotated[list[Domain], Field(min_length=1)]
    state: Annotated[S3State | LocalState, Field(discriminator="backend")]
    budget: Budget
    #: Unset: no bootstrap stack (no CI deploys this environment, e.g. local).
    ci: Ci | None = None
    alerts: Alerts = Alerts()
    spark: Spark = Spark(reason="not configured")

    #: Every domain this environment has ever had. In an environment that protects stateful resources,
    #: a name here must stay in ``domains`` (active or ``retired: true``): removing it would destroy storage.
    known_domains: list[Identifier] = []

    def domain(self, name: str) -> Domain:
        return next(d for d in self.domains if d.name == name)

    @property
    def active_domains(self) -> list[Domain]:
        """Domains that run: pipelines, crawlers, grants. ``domains`` also holds the retired ones' storage."""
        return [d for d in self.domains if not d.retired]

    @property
    def protects_stateful(self) -> bool:
        return self.aws.protect_stateful or self.gcp.protect_stateful or self.azure.protect_stateful


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    value: Any
    rule: str

    def __str__(self) -> str:
        shown = "<missing>" if self.value is _MISSING else repr(self.value)
        return f"{self.file}: {self.path or '<root>'}: {shown}: {self.rule}"


_MISSING = object()


class ConfigError(Exception):
    """Every problem found in the environment files; ``str()`` is one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("s3", "local") and out == "state":
            continue  # the discriminator's tag is not a field the user wrote
        else:
            out += f".{part}" if out else str(part)
    return out


def _from_pydantic(file: str, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = item["loc"]
        if item["type"] == "missing":
            value, rule = _MISSING, "required field is missing"
        elif item["type"] == "extra_forbidden":
            value, rule = item["input"], "unknown key (check the spelling against environments/schema.py)"
        else:
            value = item["input"]
            rule = str(item["msg"]).removeprefix("Value error, ")
        problems.append(Problem(file, _dotted(loc), value, rule))
    return problems


# --------------------------------------------------------------------------- cross-field rules


def _all_cidrs(env: Environment) -> list[tuple[str, str]]:
    cidrs: list[tuple[str, str]] = []
    for cloud in ("aws", "gcp", "azure"):
        net = getattr(env, cloud).network
        cidrs.append((f"{cloud}.network.hub_cidr", net.hub_cidr))
        cidrs += [(f"{cloud}.network.spokes.{name}", cidr) for name, cidr in net.spokes.items()]
    gke = env.gcp.gke
    cidrs += [(f"gcp.gke.{f}", getattr(gke, f)) for f in ("master_cidr", "pods_cidr", "services_cidr")]
    return cidrs


def _domain_registry_problems(file: str, env: Environment) -> list[Problem]:
    """A protected environment refuses a silent domain removal. The schema sees one file, not its history,
    so the file keeps the history: ``known_domains`` lists every domain the environment has had. A file
    without the list (a test's throwaway copy) has no history to check; every shipped protected one has it
    (tests/config/test_schema_domains.py)."""
    if not env.protects_stateful or not env.known_domains:
        return []
    names = [d.name for d in env.domains]
    problems = [
        Problem(file, "domains", name, "listed in known_domains but missing: removing a domain would destroy its "
                "storage; keep it with retired: true (README, Data domains)")
        for name in env.known_domains if name not in names
    ]
    problems += [
        Problem(file, f"domains[{index}].name", name, "not in known_domains: add it there, so that a later "
                "removal is refused while stateful resources are protected")
        for index, name in enumerate(names) if name not in env.known_domains
    ]
    return problems


def contracts_dir() -> Path:
    return Path(os.environ.get(CONTRACTS_DIR_ENV) or CONTRACTS_DIR)


def _contract_problems(file: str, env: Environment, contracts: Path) -> list[Problem]:
    """Every active domain has a data contract; a contract with a ``pii: true`` field belongs to a pii domain
    (its quarantine is then redacted and its raw zone expires: README, Data domains). Read as plain YAML: the
    contract's own rules are the pipeline's (airflow/dags/callcenter/domain.py), which the IaC never imports."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, domain in enumerate(env.domains):
        if domain.name in seen:
            continue  # a repeated name is reported as such (_semantic_problems), not once more here
        seen.add(domain.name)
        path = contracts / f"{domain.name}.yaml"
        shown = _display(path)
        if not path.is_file():
            if not domain.retired:  # a retired domain runs no pipeline: its contract may be gone
                problems.append(Problem(file, f"domains[{index}].name", domain.name, f"no data contract {shown}: every "
                                        f"active domain needs one (make domain NAME={domain.name} scaffolds it)"))
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(Problem(file, f"domains[{index}].name", domain.name,
                                    f"data contract {shown} cannot be read: {type(exc).__name__}"))
            continue
        fields = data.get("fields") if isinstance(data, dict) else None
        pii = [f.get("name") for f in fields if isinstance(f, dict) and f.get("pii") is True] if isinstance(fields, list) else []
        if pii and domain.classification != "pii":
            problems.append(Problem(file, f"domains[{index}].classification", domain.classification,
                                    f"data contract {shown} marks {', '.join(map(str, pii))} pii: true, so the "
                                    "domain must be classification: pii"))
    return problems


def _semantic_problems(file: str, env: Environment, stem: str, contracts: Path | None = None) -> list[Problem]:
    problems: list[Problem] = []
    if env.name != stem:
        problems.append(Problem(file, "name", env.name, f"must equal the file name '{stem}'"))

    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for path, cidr in _all_cidrs(env):
        network = ipaddress.ip_network(cidr)
        for other_path, other in seen:
            if network.overlaps(other):
                problems.append(
                    Problem(file, path, cidr, f"overlaps {other_path} ({other}); every hub and spoke must be disjoint")
                )
                break
        seen.append((path, network))

    first_seen: dict[str, int] = {}
    for index, domain in enumerate(env.domains):
        if domain.name in first_seen:
            problems.append(
                Problem(
                    file,
                    f"domains[{index}].name",
                    domain.name,
                    f"domain names must be unique (also domains[{first_seen[domain.name]}])",
                )
            )
        first_seen.setdefault(domain.name, index)

    problems += _domain_registry_problems(file, env)
    problems += _contract_problems(file, env, contracts or contracts_dir())

    def check_name(path: str, value: Any, kind: str, derived: str) -> None:
        issue = naming.NAME_RULES[kind].problem(derived)
        if issue:
            problems.append(Problem(file, path, value, f"derived {kind} name '{derived}' is illegal: {issue}"))

    for index, domain in enumerate(env.domains):
        path = f"domains[{index}].name"
        for zone in naming.ZONES:
            check_name(path, domain.name, "s3_bucket", naming.s3_bucket(env.prefix, env.name, domain.name, zone))
        for zone in (*naming.GCS_ZONES, *((naming.GCS_SPARK_STAGING,) if env.spark.enabled else ())):
            check_name(path, domain.name, "gcs_bucket", naming.gcs_bucket(env.prefix, env.name, domain.name, zone))
        check_name(path, domain.name, "azure_container", naming.azure_container(domain.name))
    check_name("prefix", env.prefix, "azure_storage_account", naming.azure_storage_account(env.prefix, env.name))
    for purpose in ("dags", "access-logs"):
        check_name("prefix", env.prefix, "s3_bucket", naming.s3_platform_bucket(env.prefix, env.name, purpose))
    script = env.orchestration.startup_script
    if script is not None and not (AIRFLOW_DIR / script).is_file():
        problems.append(Problem(file, "orchestration.startup_script", script, "no such file under airflow/"))
    gcs_logs = naming.gcs_platform_bucket(env.prefix, env.name, naming.GCS_ACCESS_LOGS_PURPOSE)
    check_name("prefix", env.prefix, "gcs_bucket", gcs_logs)
    check_name("prefix", env.prefix, "gke_cluster", naming.gke_cluster(env.prefix, env.name))
    gke_sa = naming.gcp_service_account_id(env.prefix, env.name, naming.GKE_NODES_SA_PURPOSE)
    check_name("prefix", env.prefix, "gcp_service_account", gke_sa)
    if env.spark.enabled and env.domains:  # every domain's Spark account has the same length (a 6-hex hash)
        spark_sa = naming.gcp_spark_account(env.prefix, env.name, env.domains[0].name)
        check_name("prefix", env.prefix, "gcp_service_account", spark_sa)
    for vpc in ("hub", *env.gcp.network.spokes):
        for suffix in (naming.GCP_NAT_SUFFIX, *naming.GCP_FIREWALL_RULES):
            check_name("prefix", env.prefix, "gcp_resource", naming.gcp_resource(env.prefix, env.name, vpc, suffix))
    check_name("prefix", env.prefix, "azure_key_vault", naming.azure_key_vault(env.prefix, env.name))
    problems += _fabric_problems(file, env)
    for index, ip in enumerate(env.vault.private_ips):
        if not any(ipaddress.ip_address(ip) in ipaddress.ip_network(cidr) for _, cidr in _all_cidrs(env)):
            problems.append(Problem(
                file, f"vault.private_ips[{index}]", ip, "must be inside one of the environment's hub or spoke ranges",
            ))
    if issue := vault_ca.address_problem(env.vault.address, env.vault.ca_file):
        problems.append(Problem(file, "vault.address", env.vault.address, issue))
    if env.vault.ca_file is not None and (issue := vault_ca.ca_file_problem(env.vault.ca_file)):
        problems.append(Problem(file, "vault.ca_file", env.vault.ca_file, issue))
    if env.spark.enabled and not env.vault.private_ips:
        # The Spark job's security group opens egress to Vault's private address(es) only (modules/aws/emr_serverless.py).
        problems.append(Problem(file, "spark.enabled", True, "Spark jobs read the masking key from Vault: set vault.private_ips"))
    if env.spark.enabled and env.gcp.terraform.enabled and "data" not in env.gcp.network.spokes:
        problems.append(Problem(file, "gcp.network.spokes", sorted(env.gcp.network.spokes), "Spark's Dataproc batches run in a 'data' spoke: add one"))
    if env.spark.enabled and env.spark.gcp.engine_for_customer_360 == "dataproc" and not env.gcp.terraform.enabled:
        problems.append(Problem(file, "spark.gcp.engine_for_customer_360", "dataproc", "Dataproc needs gcp.terraform.enabled"))
    return problems


def _fabric_problems(file: str, env: Environment) -> list[Problem]:
    """ASNs unique and not Azure's; per link the right count of /30s; no /30 reused; Azure's links in APIPA."""
    fabric, problems = env.fabric, []
    if not fabric.enabled or fabric.asn is None or fabric.tunnels is None:
        return problems
    for index, spoke in enumerate(fabric.aws_spokes):
        if spoke not in env.aws.network.spokes:
            problems.append(Problem(file, f"fabric.aws_spokes[{index}]", spoke, f"is not one of aws.network.spokes {sorted(env.aws.network.spokes)}"))
    if not env.aws.network.transit_gateway.enabled:
        problems.append(Problem(file, "fabric.enabled", True, "the AWS VPN links terminate on the Transit Gateway: aws.network.transit_gateway must be enabled"))
    seen_asns: dict[int, str] = {}
    for cloud in ("aws", "gcp", "azure"):
        asn = getattr(fabric.asn, cloud)
        if asn in seen_asns:
            problems.append(Problem(file, f"fabric.asn.{cloud}", asn, f"ASNs must be unique (also fabric.asn.{seen_asns[asn]})"))
        seen_asns.setdefault(asn, cloud)
    if fabric.asn.azure in AZURE_RESERVED_ASNS:
        problems.append(Problem(file, "fabric.asn.azure", fabric.asn.azure, "is reserved by Azure (65515, 65517-65520)"))
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for link in FABRIC_LINKS:
        cidrs = getattr(fabric.tunnels, link)
        if len(cidrs) != TUNNELS_PER_LINK:
            problems.append(Problem(file, f"fabric.tunnels.{link}", cidrs, f"needs exactly {TUNNELS_PER_LINK} tunnel /30s"))
        for index, cidr in enumerate(cidrs):
            path, network = f"fabric.tunnels.{link}[{index}]", ipaddress.ip_network(cidr)
            if "azure" in link and not any(network.subnet_of(r) for r in AZURE_APIPA):
                problems.append(Problem(file, path, cidr, "an Azure link's /30 must be inside 169.254.21.0-169.254.22.255 (Azure APIPA BGP range)"))
            clash = next((p for p, other in seen if network.overlaps(other)), None)
            if clash:
                problems.append(Problem(file, path, cidr, f"overlaps {clash}; every tunnel /30 must be distinct"))
            seen.append((path, network))
    return problems


# --------------------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML silently keeps the last of two equal keys; a config loader must not."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _load_file(path: Path, contracts: Path | None = None) -> tuple[Environment | None, list[Problem]]:
    file = _display(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "<file>"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(file, where, _MISSING, f"not valid YAML: {problem}")]
    except OSError as exc:
        return None, [Problem(file, "<file>", _MISSING, f"cannot be read: {exc.strerror}")]
    if not isinstance(data, dict):
        return None, [Problem(file, "", type(data).__name__, "an environment file must be a YAML mapping")]
    try:
        env = Environment.model_validate(data)
    except ValidationError as exc:
        return None, _from_pydantic(file, exc)
    problems = _semantic_problems(file, env, path.stem, contracts)
    return (None if problems else env), problems


def load_environment(path: str | Path, contracts: Path | None = None) -> Environment:
    """``contracts``: the data-contract folder (default: contracts_dir())."""
    env, problems = _load_file(Path(path), contracts)
    if problems:
        raise ConfigError(problems)
    assert env is not None
    return env


def environment_files(directory: Path = ENVIRONMENTS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def load_environments(directory: str | Path = ENVIRONMENTS_DIR, only: list[str] | None = None) -> list[Environment]:
    """Load and validate every environment file (or the ``only`` ones), reporting all problems at once."""
    directory = Path(directory)
    files = environment_files(directory)
    if only:
        known = {f.stem for f in files}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise ConfigError(
                [Problem(_display(directory), "ENV", name, f"no such environment; known: {sorted(known)}") for name in unknown]
            )
        files = [f for f in files if f.stem in only]
    if not files:
        raise ConfigError([Problem(_display(directory), "<dir>", _MISSING, "no environment files (*.yaml) found")])
    environments, problems = [], []
    for path in files:
        env, found = _load_file(path)
        problems += found
        if env is not None:
            environments.append(env)
    if problems:
        raise ConfigError(problems)
    return environments
