"""A monthly cost budget that e-mails at 80% of actual spend and at 100% of forecast spend."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.budgets_budget import BudgetsBudget, BudgetsBudgetNotification
from constructs import Construct


@dataclass(frozen=True)
class BudgetProps:
    name: str
    account_id: str
    monthly_usd: float
    emails: tuple[str, ...]
    actual_threshold_percent: int = 80
    forecast_threshold_percent: int = 100


class Budget(Construct):
    def __init__(self, scope: Construct, id_: str, props: BudgetProps):
        super().__init__(scope, id_)

        def notify(kind: str, percent: int) -> BudgetsBudgetNotification:
            return BudgetsBudgetNotification(
                comparison_operator="GREATER_THAN",
                threshold=percent,
                threshold_type="PERCENTAGE",
                notification_type=kind,
                subscriber_email_addresses=list(props.emails),
            )

        self.budget = BudgetsBudget(
            self, "budget",
            name=props.name,
            account_id=props.account_id,
            budget_type="COST",
            limit_amount=f"{props.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            notification=[
                notify("ACTUAL", props.actual_threshold_percent),
                notify("FORECASTED", props.forecast_threshold_percent),
            ],
        )
