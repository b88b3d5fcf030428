"""A Log Analytics workspace for the platform's diagnostic logs: Entra ID auth only."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace as AzWorkspace
from constructs import Construct


@dataclass(frozen=True)
class WorkspaceProps:
    name: str
    location: str
    resource_group: str
    #: 90 days keeps a quarter of history for investigations.
    retention_days: int = 90


class Workspace(Construct):
    def __init__(self, scope: Construct, id_: str, props: WorkspaceProps):
        super().__init__(scope, id_)
        self.workspace = AzWorkspace(
            self, "workspace", name=props.name, location=props.location, resource_group_name=props.resource_group,
            sku="PerGB2018", retention_in_days=props.retention_days,
            local_authentication_enabled=False,  # no shared workspace keys
        )
        self.id = self.workspace.id
