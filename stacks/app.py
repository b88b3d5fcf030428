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
from stacks.gcp import GcpNetworkStack, GcpPlatformStack
from stacks.vault import VaultStack


def compose(app: App, env: Environment) -> None:
    """All stacks of one environment. A cloud an environment turns off gets no stacks."""
    aws_network = AwsNetworkStack(app, env)
    aws_platform = AwsPlatformStack(app, env)
    AwsOrchestrationStack(app, env, aws_network, aws_platform)
    gcp_platform = azure_platform = None
    if env.gcp.terraform.enabled:
        gcp_platform = GcpPlatformStack(app, env, GcpNetworkStack(app, env))
    if env.azure.terraform.enabled:
        azure_platform = AzurePlatformStack(app, env, AzureNetworkStack(app, env))
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
