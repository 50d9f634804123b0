"""The monthly budget: what it filters on, the ACTUAL and FORECASTED notifications and the resource."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from difflib import SequenceMatcher

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_sns as sns
from constructs import Construct

from inferwise.constructs.guardrails.props import check_tags
from inferwise.constructs.validation import InvalidTypeError, InvalidValueError, check_text, shown
from inferwise.cost.actual.services import SERVICE_NAMES
from inferwise.cost.refresh.bedrock_models import MARKETPLACE_SUFFIX
from inferwise.cost.validation import close_matches

COST_EXPLORER_SERVICES: tuple[str, ...] = (
    *dict.fromkeys(name for names in SERVICE_NAMES.values() for name in names),
    "Amazon EC2 Container Registry (ECR)",
)
"""Cost Explorer SERVICE names of what the inferwise constructs bill: the names `inferwise actual` matches
(docs/aws-facts.md#cost-explorer-services) plus ECR, where serving images live. Confirm others with
`aws ce get-dimension-values --dimension SERVICE`."""
MARKETPLACE_EDITION = MARKETPLACE_SUFFIX
"""Suffix of the Cost Explorer name of a model sold through AWS Marketplace, e.g. Anthropic's."""
_ALIASES = {
    "bedrock": "Amazon Bedrock",
    "sagemaker": "Amazon SageMaker",
    "ec2": "Amazon Elastic Compute Cloud - Compute",
    "s3": "Amazon Simple Storage Service",
    "lambda": "AWS Lambda",
    "stepfunctions": "AWS Step Functions",
    "step functions": "AWS Step Functions",
    "dynamodb": "Amazon DynamoDB",
    "cloudwatch": "AmazonCloudWatch",
    "kms": "AWS Key Management Service",
    "sns": "Amazon Simple Notification Service",
    "sqs": "Amazon Simple Queue Service",
    "ecr": "Amazon EC2 Container Registry (ECR)",
    "vpc": "Amazon Virtual Private Cloud",
}


def check_service(prop: str, name: object) -> str:
    """A Cost Explorer service name a budget filter can match.

    Accepted: the names of `COST_EXPLORER_SERVICES`, Marketplace models' `<model> (Amazon Bedrock Edition)`,
    and other names written as Cost Explorer writes them (starting with 'Amazon ' or 'AWS ') that are not a
    near miss of a known name. Refused, with the closest known names: anything else, such as 'Bedrock' or
    'amazon bedrock', which a budget would compare with EQUALS, match nothing and so never alert.
    """
    check_text(prop, name, allowed="a Cost Explorer service name such as 'Amazon Bedrock'", max_length=256)
    assert isinstance(name, str)
    if name in COST_EXPLORER_SERVICES or (
        name.endswith(MARKETPLACE_EDITION) and len(name) > len(MARKETPLACE_EDITION)
    ):
        return name
    alias = _ALIASES.get(name.casefold().removeprefix("amazon ").removeprefix("aws "))
    if name.startswith(("Amazon ", "AWS ")):
        typo = [
            k
            for k in COST_EXPLORER_SERVICES
            if SequenceMatcher(None, name.casefold(), k.casefold()).ratio() >= 0.9
        ]
        near = [alias] if alias else typo
        if not near:
            return (
                name  # written the way Cost Explorer writes names: not a service inferwise knows, not checked
            )
    else:
        near = [alias] if alias else close_matches(name, COST_EXPLORER_SERVICES)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else "."
    raise InvalidValueError(
        f"{prop} must be a Cost Explorer service name, got {shown(name)}{hint} A budget compares the names "
        "exactly, so any other spelling matches nothing and never alerts. Names of what inferwise builds: "
        f"{', '.join(COST_EXPLORER_SERVICES)} (and '<model>{MARKETPLACE_EDITION}' for Marketplace models; "
        "docs/aws-facts.md#cost-explorer-services)"
    )


def filter_expression(tags: object, services: object) -> budgets.CfnBudget.ExpressionProperty | None:
    """The budget's cost filter: every tag key with one of its values, or one of the services, or none."""
    if tags is not None and services is not None:
        raise InvalidValueError(
            "pass cost_filter_tags or services, not both: a budget filters on one of them "
            "(combine them yourself with a cost category if you need both)"
        )
    checked_tags = check_tags(tags)
    if checked_tags is not None:
        return _tags_expression(checked_tags)
    if services is not None:
        if isinstance(services, str) or not isinstance(services, Sequence) or not services:
            raise InvalidTypeError(
                f"services must be a non-empty list of Cost Explorer service names (e.g. 'Amazon Bedrock'), "
                f"got {shown(services)}"
            )
        names = [check_service(f"services[{index}]", name) for index, name in enumerate(services)]
        if len(set(names)) != len(names):
            raise InvalidValueError(f"services must not repeat a name, got {shown(names)}")
        return budgets.CfnBudget.ExpressionProperty(
            dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                key="SERVICE", values=names, match_options=["EQUALS"]
            )
        )
    return None


def _tags_expression(tags: Mapping[str, Sequence[str]]) -> budgets.CfnBudget.ExpressionProperty:
    parts = [
        budgets.CfnBudget.ExpressionProperty(
            tags=budgets.CfnBudget.TagValuesProperty(key=key, values=list(values), match_options=["EQUALS"])
        )
        for key, values in tags.items()
    ]
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
