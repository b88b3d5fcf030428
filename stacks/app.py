"""Build one App holding every stack of every environment, and synthesize it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from cdktf import App

from environments.schema import Environment
from stacks.aws import AwsNetworkStack, AwsPlatformStack
from stacks.aws_orchestration import AwsOrchestrationStack
from stacks.azure import AzureNetworkStack, AzurePlatformStack
from stacks.bootstrap import BootstrapStack
from stacks.fabric import AwsFabricStack, AzureFabricStack, GcpFabricStack, vault_host
from stacks.gcp import GcpNetworkStack, GcpPlatformStack
from stacks.vault import VaultStack


def compose(app: App, env: Environment) -> None:
    """All stacks of one environment. A cloud an environment turns off gets no stacks."""
    aws_network = AwsNetworkStack(app, env)
    aws_platform = AwsPlatformStack(app, env, aws_network)
    AwsOrchestrationStack(app, env, aws_network, aws_platform)
    gcp_platform = azure_platform = gcp_network = azure_network = None
    if env.gcp.terraform.enabled:
        gcp_network = GcpNetworkStack(app, env)
        gcp_platform = GcpPlatformStack(app, env, gcp_network)
    if env.azure.terraform.enabled:
        # The Azure resolver forwards Vault's name to the AWS hub's Resolver (fixed addresses, not references).
        forwards = {vault_host(env): tuple(aws_network.resolver.inbound_ips)} if aws_network.resolver and env.vault.private_ips else {}
        azure_network = AzureNetworkStack(app, env, dns_forwards=forwards)
        azure_platform = AzurePlatformStack(app, env, azure_network)
    if env.fabric.enabled and gcp_network and azure_network:
        # Networks -> aws-fabric -> gcp-fabric -> azure-fabric, as the references between them order it.
        aws_fabric = AwsFabricStack(app, env, aws_network, gcp_network, azure_network)
        gcp_fabric = GcpFabricStack(app, env, gcp_network, aws_network, aws_fabric, azure_network)
        AzureFabricStack(app, env, azure_network, aws_fabric, gcp_network, gcp_fabric)
    if env.ci is not None:
        BootstrapStack(app, env)  # CI's OIDC trust; deployed by an admin, never by CI (`make bootstrap`)
    # Vault consumes the clouds' attributes (MWAA role, buckets, GKE endpoint); nothing references Vault back.
    VaultStack(app, env, aws=aws_platform, gcp=gcp_platform, azure=azure_platform)


def build(environments: list[Environment], outdir: str | None = None) -> App:
    """One App with every stack of every environment (outdir None: the cdktf CLI's choice)."""
    app = App() if outdir is None else App(outdir=outdir)
    for env in environments:
        compose(app, env)
    return app


def synth(environments: list[Environment], outdir: str = "cdktf.out") -> None:
    """Synthesize, replacing ``outdir`` only once every stack has been written.

    Under the cdktf CLI (which sets CDKTF_OUTDIR) the CLI owns the folder, so we
    write straight into it.
    """
    if os.environ.get("CDKTF_OUTDIR"):
        build(environments).synth()
        return
    final = Path(outdir)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(final.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    build(environments, str(staging)).synth()
    previous = final.with_name(final.name + ".previous")
    shutil.rmtree(previous, ignore_errors=True)
    if final.exists():
        final.rename(previous)
    staging.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
