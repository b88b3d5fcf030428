"""A monthly consumption budget on a subscription, mailing the given addresses at each threshold."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformResourceLifecycle
from cdktf_cdktf_provider_azurerm.consumption_budget_subscription import (
    ConsumptionBudgetSubscription,
    ConsumptionBudgetSubscriptionNotification,
    ConsumptionBudgetSubscriptionTimePeriod,
)
from constructs import Construct


@dataclass(frozen=True)
class SubscriptionBudgetProps:
    name: str
    subscription_id: str
    amount: float
    emails: tuple[str, ...]
    #: Percent of the amount.
    thresholds: tuple[int, ...] = (80, 100)


class SubscriptionBudget(Construct):
    def __init__(self, scope: Construct, id_: str, props: SubscriptionBudgetProps):
        super().__init__(scope, id_)
        self.budget = ConsumptionBudgetSubscription(
            self,
            "budget",
            name=props.name,
            subscription_id=f"/subscriptions/{props.subscription_id}",
            amount=props.amount,
            time_grain="Monthly",
            # Azure wants the first day of a month no earlier than the current one: the month
            # of the first apply, kept afterwards (changing it would recreate the budget).
            time_period=ConsumptionBudgetSubscriptionTimePeriod(
                start_date=Fn.formatdate("YYYY-MM-01'T'00:00:00Z", Fn.timestamp())
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["time_period"]),
            notification=[
                ConsumptionBudgetSubscriptionNotification(
                    enabled=True, threshold=t, operator="GreaterThanOrEqualTo", threshold_type="Actual",
                    contact_emails=list(props.emails),
                )
                for t in props.thresholds
            ],
        )
