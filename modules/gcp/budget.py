"""A Cloud Billing budget for one project that e-mails the given addresses at each threshold."""

from __future__ import annotations

from dataclasses import dataclass

import jsii
from cdktf import Aspects, IAspect
from cdktf_cdktf_provider_google.billing_budget import (
    BillingBudget,
    BillingBudgetAllUpdatesRule,
    BillingBudgetAmount,
    BillingBudgetAmountSpecifiedAmount,
    BillingBudgetBudgetFilter,
    BillingBudgetThresholdRules,
)
from cdktf_cdktf_provider_google.monitoring_notification_channel import MonitoringNotificationChannel
from constructs import Construct, IConstruct


@jsii.implements(IAspect)
class _EmailChannelLabels:
    """An e-mail channel's ``labels`` are its configuration and accept exactly one key, email_address;
    any other key fails the API call. The platform tags (which the stack's tag aspect puts into
    ``labels``, as on any GCP resource) move to ``user_labels``. Aspects on the channel run after the
    stack's, so this sees the tags already applied."""

    def __init__(self, email: str):
        self._email = email

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, MonitoringNotificationChannel):
            tags = {k: v for k, v in (node.labels_input or {}).items() if k != "email_address"}
            node.user_labels = {**tags, **(node.user_labels_input or {})}
            node.labels = {"email_address": self._email}


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
        for channel, email in zip(self.channels, props.emails):
            Aspects.of(channel).add(_EmailChannelLabels(email))
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
