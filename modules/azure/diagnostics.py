"""Diagnostic settings: send a resource's logs and metrics to a Log Analytics workspace."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_azurerm.monitor_diagnostic_setting import (
    MonitorDiagnosticSetting,
    MonitorDiagnosticSettingEnabledLog,
    MonitorDiagnosticSettingEnabledMetric,
)
from constructs import Construct


@dataclass(frozen=True)
class DiagnosticsProps:
    name: str
    target_id: str
    workspace_id: str
    #: Category groups ("allLogs", "audit"); empty for resources that only emit metrics.
    log_groups: tuple[str, ...] = ("allLogs",)
    metrics: tuple[str, ...] = ("Transaction",)


class Diagnostics(Construct):
    def __init__(self, scope: Construct, id_: str, props: DiagnosticsProps):
        super().__init__(scope, id_)
        self.setting = MonitorDiagnosticSetting(
            self,
            "setting",
            name=props.name,
            target_resource_id=props.target_id,
            log_analytics_workspace_id=props.workspace_id,
            enabled_log=[MonitorDiagnosticSettingEnabledLog(category_group=g) for g in props.log_groups] or None,
            enabled_metric=[MonitorDiagnosticSettingEnabledMetric(category=m) for m in props.metrics] or None,
        )
