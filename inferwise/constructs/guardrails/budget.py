"""The monthly budget: what it filters on, the ACTUAL and FORECASTED notifications and the resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct


def filter_expression(
    tags: Mapping[str, Sequence[str]] | None, services: Sequence[str] | None
) -> budgets.CfnBudget.ExpressionProperty | None:
    """The budget's cost filter: every tag key with one of its values, or one of the services, or none."""
    if tags is not None and services is not None:
        raise ValueError(
            "pass cost_filter_tags or services, not both: a budget filters on one of them "
            "(combine them yourself with a cost category if you need both)"
        )
    if tags is not None:
        return _tags_expression(tags)
    if services is not None:
        if isinstance(services, str) or not services or not all(services):
            raise ValueError(
                f"services must be a non-empty list of Cost Explorer service names (e.g. 'Amazon Bedrock'), "
                f"got {services!r}"
            )
        return budgets.CfnBudget.ExpressionProperty(
            dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                key="SERVICE", values=list(services), match_options=["EQUALS"]
            )
        )
    return None


def _tags_expression(tags: Mapping[str, Sequence[str]]) -> budgets.CfnBudget.ExpressionProperty:
    if not tags:
        raise ValueError("cost_filter_tags must name at least one tag key, got {}")
    parts = []
    for key, values in tags.items():
        if not key or isinstance(values, str) or not values or not all(values):
            raise ValueError(
                f"cost_filter_tags maps each tag key to a non-empty list of values, got {key!r}: {values!r}"
            )
        parts.append(
            budgets.CfnBudget.ExpressionProperty(
                tags=budgets.CfnBudget.TagValuesProperty(
                    key=key, values=list(values), match_options=["EQUALS"]
                )
            )
        )
    return parts[0] if len(parts) == 1 else budgets.CfnBudget.ExpressionProperty(and_=parts)


def budget_notifications(
    topic: sns.ITopic,
    emails: Sequence[str],
    actual_percents: Sequence[Decimal],
    forecast_percent: Decimal | None,
) -> list[budgets.CfnBudget.NotificationWithSubscribersProperty]:
    """One notification per ACTUAL percentage and one FORECASTED, each to the topic and the e-mails."""
    subscribers = [budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)]
    subscribers += [
        budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=e) for e in emails
    ]
    notifications = [_notification("ACTUAL", percent, subscribers) for percent in actual_percents]
    if forecast_percent is not None:
        notifications.append(_notification("FORECASTED", forecast_percent, subscribers))
    return notifications


def _notification(
    kind: str, percent: Decimal, subscribers: list[budgets.CfnBudget.SubscriberProperty]
) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
    return budgets.CfnBudget.NotificationWithSubscribersProperty(
        notification=budgets.CfnBudget.NotificationProperty(
            notification_type=kind,
            comparison_operator="GREATER_THAN",
            threshold=float(percent),
            threshold_type="PERCENTAGE",
        ),
        subscribers=subscribers,
    )


def monthly_budget(
    scope: Construct,
    budget_name: str | None,
    amount_usd: Decimal,
    cost_filter: budgets.CfnBudget.ExpressionProperty | None,
    notifications: Sequence[budgets.CfnBudget.NotificationWithSubscribersProperty],
) -> budgets.CfnBudget:
    """A monthly COST budget on unblended cost."""
    return budgets.CfnBudget(
        scope,
        "Budget",
        budget=budgets.CfnBudget.BudgetDataProperty(
            budget_type="COST",
            time_unit="MONTHLY",
            budget_name=budget_name,
            budget_limit=budgets.CfnBudget.SpendProperty(amount=float(amount_usd), unit="USD"),
            filter_expression=cost_filter,
            metrics=["UnblendedCost"],
        ),
        notifications_with_subscribers=list(notifications),
    )
