"""Azure stacks: <env>-azure-network (hub-and-spoke VNets, private DNS) and <env>-azure-platform
(the ADLS Gen2 lake behind private endpoints, its Key Vault, diagnostics and the budget)."""

from __future__ import annotations

import ipaddress

from cdktf_cdktf_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from constructs import Construct

from environments import naming
from environments.schema import RETIRED_RETENTION_DAYS, Environment
from modules.azure.budget import SubscriptionBudget, SubscriptionBudgetProps
from modules.azure.diagnostics import Diagnostics, DiagnosticsProps
from modules.azure.dns_resolver import DnsResolver, DnsResolverProps
from modules.azure.key_vault import MAX_SOFT_DELETE_DAYS, MIN_SOFT_DELETE_DAYS, KeyVault, KeyVaultProps, VaultEndpoint
from modules.azure.log_analytics import Workspace, WorkspaceProps
from modules.azure.nsg import InboundAllow
from modules.azure.peering import HubPeering, HubPeeringProps, VnetRef
from modules.azure.private_dns import BLOB_ZONE, DFS_ZONE, VAULT_ZONE, PrivateDns, PrivateDnsProps
from modules.azure.private_endpoint import PrivateEndpoint, PrivateEndpointProps
from modules.azure.resource_group import ResourceGroup, ResourceGroupProps
from modules.azure.storage_account import BlobTiering, LakeAccount, LakeAccountProps
from modules.azure.vnet import Vnet, VnetProps
from modules.azure.vpn_gateway import VpnGateway, VpnGatewayProps
from modules.gcp.dns_ranges import DNS_FORWARDING_SOURCE
from stacks import providers
from stacks.base import PlatformStack

#: The spoke that holds the lake's private endpoints (the schema requires it).
DATA_SPOKE = "data"
LAKE_KEY_NAME = "lake-cmk"


class AzureNetworkStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment, dns_forwards: dict[str, tuple[str, ...]] | None = None):
        """``dns_forwards``: domain -> another cloud's resolver IPs (plain addresses, the fabric's forwarding)."""
        super().__init__(scope, env, "azure-network")
        providers.azurerm(self)
        az = env.azure
        self.group = ResourceGroup(self, "network-rg", ResourceGroupProps(
            name=naming.azure_resource(env.prefix, env.name, "network"), location=az.location,
        ))
        ranges = {"hub": az.network.hub_cidr, **az.network.spokes}
        # Private endpoints in the data spoke answer HTTPS from the environment's own Azure ranges only.
        # With the fabric, the AWS spokes that reach Azure (MWAA's) come over the VPN too.
        fabric_clients = tuple(env.aws.network.spokes[s] for s in env.fabric.aws_spokes) if env.fabric.enabled else ()
        endpoint_clients = InboundAllow(
            name="allow-https-from-platform", priority=1000, source_prefixes=(*ranges.values(), *fabric_clients),
            destination_prefix="VirtualNetwork", protocol="Tcp", ports=("443",),
        )
        self.vnets = {
            name: Vnet(self, f"vnet-{name}", VnetProps(
                name=naming.azure_resource(env.prefix, env.name, name),
                location=az.location,
                resource_group=self.group.name,
                cidr=cidr,
                service_endpoints=("Microsoft.Storage", "Microsoft.KeyVault") if name == DATA_SPOKE else (),
                inbound_allows=(endpoint_clients,) if name == DATA_SPOKE else (),
            ))
            for name, cidr in ranges.items()
        }
        hub = self.vnets["hub"]
        hub_ref = VnetRef(label=hub.label, name=hub.name, id=hub.id, resource_group=self.group.name)
        self.vpn_gateway = self.dns_resolver = None
        if env.fabric.enabled:
            self.vpn_gateway, self.dns_resolver = self._fabric(env, dns_forwards or {})
        gateway_after = (self.vpn_gateway.gateway,) if self.vpn_gateway else ()
        for name, vnet in self.vnets.items():
            if name != "hub":
                HubPeering(self, f"peering-{name}", HubPeeringProps(
                    hub=hub_ref, spoke=VnetRef(label=vnet.label, name=vnet.name, id=vnet.id, resource_group=self.group.name),
                    # The hub's VPN gateway exists with the fabric: spokes then really use it (gateway transit).
                    gateway_transit=az.network.gateway_transit or env.fabric.enabled, after=gateway_after,
                ))
        self.dns = PrivateDns(self, "private-dns", PrivateDnsProps(
            resource_group=self.group.name,
            zones={"blob": BLOB_ZONE, "dfs": DFS_ZONE, "vault": VAULT_ZONE},
            # Clients resolve in every VNet (MWAA's queries arrive through the hub's resolver, the lake's
            # users sit in spokes): a private-link zone answers only in VNets linked to it (Azure docs,
            # "Private endpoint DNS configuration"), so each zone is linked to the hub AND every spoke.
            links={naming.azure_resource(env.prefix, env.name, name, "link"): vnet.id for name, vnet in self.vnets.items()},
        ))
        self.hub = hub
        self.data_subnet_id = self.vnets[DATA_SPOKE].subnet_id

    def _fabric(self, env: Environment, forwards: dict[str, tuple[str, ...]]) -> tuple[VpnGateway, DnsResolver]:
        """The hub's VPN gateway and DNS Private Resolver, in the hub's free second half (last /26)."""
        az, fabric = env.azure, env.fabric
        assert fabric.asn and fabric.tunnels  # the schema requires them when the fabric is on
        hub = self.vnets["hub"]
        gateway_net, inbound_net, outbound_net = hub_fabric_subnets(az.network.hub_cidr)
        # Azure holds the second host of every /30 on its links (AWS's cgw side; GCP takes the first).
        azure_host = lambda cidr: str(list(ipaddress.ip_network(cidr).hosts())[1])  # noqa: E731
        aws, gcp = fabric.tunnels.aws_azure, fabric.tunnels.gcp_azure
        # Both AWS tunnels end on instance 0 (the customer gateway's one IP); GCP tunnel n on instance n.
        apipa = (tuple(azure_host(c) for c in (*aws, gcp[0])), (azure_host(gcp[1]),))
        gateway = VpnGateway(self, "vpn-gateway", VpnGatewayProps(
            name=naming.azure_resource(env.prefix, env.name, "hub", "vpngw"), location=az.location,
            resource_group=self.group.name, vnet_name=hub.name, subnet_cidr=gateway_net, asn=fabric.asn.azure, apipa=apipa,
        ))
        resolver = DnsResolver(self, "dns-resolver", DnsResolverProps(
            name=naming.azure_resource(env.prefix, env.name, "hub", "dns"), location=az.location,
            resource_group=self.group.name, vnet_id=hub.id, vnet_name=hub.name,
            inbound_cidr=inbound_net, outbound_cidr=outbound_net, inbound_ip=str(ipaddress.ip_network(inbound_net)[4]),
            forwards=forwards, linked_vnets={name: vnet.id for name, vnet in self.vnets.items()},
            # The peer hubs' resolvers (Route 53 Resolver outbound, Cloud DNS forwarding) and Azure's own VNets.
            dns_clients=(env.aws.network.hub_cidr, DNS_FORWARDING_SOURCE, *ranges_of(az.network)),
        ))
        return gateway, resolver


def ranges_of(network) -> tuple[str, ...]:
    return (network.hub_cidr, *network.spokes.values())


def hub_fabric_subnets(hub_cidr: str) -> tuple[str, str, str]:
    """GatewaySubnet (/27), resolver inbound (/28), resolver outbound (/28): the hub's last /26.

    The workload subnet takes the first half (modules/azure/vnet.py); Azure reserves each subnet's first four
    addresses, so the inbound endpoint's fixed IP is host 4.
    """
    last = list(ipaddress.ip_network(hub_cidr).subnets(new_prefix=26))[-1]
    gateway, rest = list(last.subnets(new_prefix=27))
    inbound, outbound = list(rest.subnets(new_prefix=28))
    return str(gateway), str(inbound), str(outbound)


class AzurePlatformStack(PlatformStack):
    def __init__(self, scope: Construct, env: Environment, network: AzureNetworkStack):
        super().__init__(scope, env, "azure-platform")
        providers.azurerm(self)
        az = env.azure
        name = lambda *parts: naming.azure_resource(env.prefix, env.name, *parts)  # noqa: E731
        self.group = ResourceGroup(self, "lake-rg", ResourceGroupProps(name=name("lake"), location=az.location))
        where = dict(location=az.location, resource_group=self.group.name)
        client = DataAzurermClientConfig(self, "client")

        workspace = Workspace(self, "logs", WorkspaceProps(name=name("logs"), **where))
        assert az.deployer is not None  # the schema requires it wherever Azure is deployed
        vault = KeyVault(self, "key-vault", KeyVaultProps(
            name=naming.azure_key_vault(env.prefix, env.name), tenant_id=az.tenant_id,
            admin_object_id=client.object_id, key_name=LAKE_KEY_NAME,
            endpoint=VaultEndpoint(
                name=name("vault", "pe"), subnet_id=network.data_subnet_id, dns_zone_id=network.dns.zone_ids["vault"],
            ),
            deployer_network=az.deployer.network, deployer_cidrs=tuple(az.deployer.cidrs),
            soft_delete_days=MAX_SOFT_DELETE_DAYS if az.protect_stateful else MIN_SOFT_DELETE_DAYS,
            **where,
        ))
        tiering = env.storage.tiering
        self.lake = LakeAccount(self, "lake", LakeAccountProps(
            name=naming.azure_storage_account(env.prefix, env.name),
            replication=az.storage_replication,
            key_vault_id=vault.id,
            key_id=vault.key_versionless_id,
            allowed_subnet_ids=(network.data_subnet_id,),
            containers={naming.azure_container(d.name): naming.azure_container(d.name) for d in env.domains},
            tiering=BlobTiering(
                cool_after_days=tiering.warm_after_days,
                cold_after_days=tiering.cold_after_days,
                archive_after_days=tiering.archive_after_days,
            ),
            protect=az.protect_stateful,
            # A retired domain's container stays, read-only; its Vault role (the only grant) is gone.
            read_only_containers={naming.azure_container(d.name): RETIRED_RETENTION_DAYS for d in env.domains if d.retired},
            **where,
        ))
        # The vault's own endpoint is built by KeyVault: its key must wait for it.
        for subresource in ("blob", "dfs"):
            PrivateEndpoint(self, f"endpoint-{subresource}", PrivateEndpointProps(
                name=name(subresource, "pe"), subnet_id=network.data_subnet_id, target_id=self.lake.id,
                subresource=subresource, dns_zone_id=network.dns.zone_ids[subresource], **where,
            ))
        diagnostics = {
            # The account itself emits metrics only; blob (and dfs) request logs come from its blob service.
            "lake": DiagnosticsProps(name="to-log-analytics", target_id=self.lake.id, workspace_id=workspace.id, log_groups=()),
            "lake-blob": DiagnosticsProps(
                name="to-log-analytics", target_id=f"{self.lake.id}/blobServices/default", workspace_id=workspace.id,
            ),
            "key-vault": DiagnosticsProps(
                name="to-log-analytics", target_id=vault.id, workspace_id=workspace.id, metrics=("AllMetrics",),
            ),
        }
        for key, props in diagnostics.items():
            Diagnostics(self, f"diagnostics-{key}", props)

        SubscriptionBudget(self, "budget", SubscriptionBudgetProps(
            name=name("budget"), subscription_id=az.subscription_id,
            amount=az.budget_usd or env.budget.monthly_usd, emails=tuple(env.budget.alert_emails),
        ))

        # Plain attributes other stacks (Vault, issue 5) read; tokens resolve to cross-stack references.
        self.storage_account_id = self.lake.id
        self.storage_account_name = naming.azure_storage_account(env.prefix, env.name)
        #: domain -> container (filesystem) resource id.
        self.domain_container_ids = {d.name: self.lake.container_ids[naming.azure_container(d.name)] for d in env.domains}
        #: domain -> container name.
        self.container_names = {d.name: naming.azure_container(d.name) for d in env.domains}
        self.key_vault_id = vault.id
        self.log_analytics_workspace_id = workspace.id
