"""A Cloud Billing budget for one project that e-mails the given addresses at each threshold."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktf_cdktf_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from constructs import Construct


@dataclass(frozen=True)
class ProjectBudgetProps:
    name: str
    billing_account: str
    project: str
    project_number: str
    amount_usd: float
    emails: tuple[str, ...]
    thresholds: tuple[float, ...] = (0.8, 1.0)


class ProjectBudget(Construct):
    def __init__(self, scope: Construct, id_: str, props: ProjectBudgetProps):
        super().__init__(scope, id_)
        # Budgets mail only billing admins by default; other recipients come through
        # Cloud Monitoring e-mail channels.
        self.channels = [
            MonitoringNotificationChannel(
                self, f"email-{index}", project=props.project, type="email",
                display_name=f"{props.name} budget {index}", labels={"email_address": email},
            )
            for index, email in enumerate(props.emails)
        ]
        units = int(props.amount_usd)
        self.budget = BillingBudget(
            self,
            "budget",
            billing_account=props.billing_account,
            display_name=props.name,
            budget_filter=BillingBudgetBudgetFilter(
                projects=[f"projects/{props.project_number}"], calendar_period="MONTH"
            ),
            amount=BillingBudgetAmount(
                specified_amount=BillingBudgetAmountSpecifiedAmount(
                    currency_code="USD", units=str(units), nanos=round((props.amount_usd - units) * 1e9)
                )
            ),
            threshold_rules=[
                BillingBudgetThresholdRules(threshold_percent=t, spend_basis="CURRENT_SPEND") for t in props.thresholds
            ],
            all_updates_rule=BillingBudgetAllUpdatesRule(
                monitoring_notification_channels=[c.id for c in self.channels],
                disable_default_iam_recipients=False,
            ),
        )
