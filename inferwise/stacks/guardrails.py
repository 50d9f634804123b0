"""The `CostGuardrails` reference stack, and `guardrails_for`, which sizes guardrails for any stack.

`guardrails_for(stack, emails=[...])` is meant to be the last line of a stack's constructor: it adds up the
`cost_estimate.monthly_total` of every construct already in the stack, multiplies by `margin`, rounds up to
whole dollars and creates a `CostGuardrails` with that monthly budget (see docs/guardrails.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, Decimal
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
from inferwise.cost.model import CostEstimate
from inferwise.cost.specs.regions import geo_profile_prefix

STACK_NAME_TAG = "aws:cloudformation:stack-name"
"""The AWS-generated cost allocation tag CloudFormation puts on every taggable resource of a stack."""

DEFAULT_MARGIN = Decimal("1.5")

ALERT_EMAIL_CONTEXT_KEY = "inferwise:alert-email"
"""CDK context key with the address the reference stacks' guardrails alert (default finops@example.com)."""


def reference_guardrails(stack: cdk.Stack, **options: Any) -> CostGuardrails:
    """The guardrails every reference stack ends with: a budget of its own estimate x 1.5, alerts by email.

    The reference stacks pass `watch=[<their construct>]`, so the budget filters on the construct's
    `inferwise:construct` tag, the one `inferwise actual` reads: its resources and its Bedrock token spend.

    Anomaly detection is left to `CostGuardrailsStack`: an account may hold only one DIMENSIONAL monitor
    per dimension, so every reference stack creating its own would collide on deploy.
    """
    email = stack.node.try_get_context(ALERT_EMAIL_CONTEXT_KEY) or "finops@example.com"
    return guardrails_for(stack, emails=[str(email)], anomaly_detection=False, **options)


def recorded_monthly_total(stack: cdk.Stack) -> Decimal:
    """The sum of `cost_estimate.monthly_total` over the constructs in `stack` (guardrails excluded)."""
    total = Decimal(0)
    for construct in stack.node.find_all():
        estimate = getattr(construct, "cost_estimate", None)
        if isinstance(estimate, CostEstimate) and not isinstance(construct, CostGuardrails):
            total += estimate.monthly_total
    return total


def guardrails_for(
    stack: cdk.Stack,
    *,
    emails: Sequence[str],
    margin: Decimal = DEFAULT_MARGIN,
    construct_id: str = "CostGuardrails",
    cost_filter_tags: Mapping[str, Sequence[str]] | None = None,
    services: Sequence[str] | None = None,
    watch: Sequence[Construct] = (),
    **options: Any,
) -> CostGuardrails:
    """A `CostGuardrails` in `stack` whose monthly budget is the stack's recorded estimates x `margin`.

    Call it after every priced construct of the stack exists. The budget is rounded up to whole dollars.
    `watch=[construct, ...]` filters the budget on the constructs' `inferwise:construct` tag, which their
    resources and, through their own application inference profiles, their Bedrock token spend carry (activate
    the tags once with `inferwise tags activate`). Without `watch`, `cost_filter_tags` or `services`, the budget
    watches the stack's own resources through the AWS-generated `aws:cloudformation:stack-name` cost allocation
    tag (activate it once in the Billing console); spend that carries no tag, such as Bedrock tokens invoked
    without a tagged application inference profile, is then outside the budget. `options` go to
    `CostGuardrails` unchanged.
    """
    if not isinstance(margin, Decimal) or not margin.is_finite() or margin < 1:
        raise ValueError(f"margin must be a Decimal >= 1, got {margin!r}")
    total = recorded_monthly_total(stack)
    if total <= 0:
        raise ValueError(
            f"stack {stack.node.path} records no cost estimate above $0 yet: call guardrails_for after the "
            "priced constructs are created, or create CostGuardrails with an explicit monthly_budget_usd"
        )
    budget = (total * margin).to_integral_value(rounding=ROUND_CEILING)
    if cost_filter_tags is None and services is None and not watch:
        cost_filter_tags = {STACK_NAME_TAG: [stack.stack_name]}
    return CostGuardrails(
        stack,
        construct_id,
        monthly_budget_usd=budget,
        emails=emails,
        cost_filter_tags=cost_filter_tags,
        services=services,
        watch=watch,
        **options,
    )


class CostGuardrailsStack(cdk.Stack):
    """Every `CostGuardrails` feature on a chatbot-shaped workload tagged `project=chatbot`.

    A $1,500 budget with ACTUAL alerts at 50/80/100 % and a forecast alert, a CUSTOM anomaly monitor on the
    project tag (an account may hold only one DIMENSIONAL services monitor and often has one already;
    custom monitors need a standalone or management account), anomaly alerts at $100 and 20 % impact,
    token-spend alarms on two models (one with cache-token prices, one through the geographic inference
    profile of the stack's Region, e.g. `us.` in us-east-1),
    and a hard cap at 120 % that denies inference to the application's role.
    """

    def __init__(self, scope: Construct, construct_id: str, *, env: cdk.Environment) -> None:
        super().__init__(scope, construct_id, env=env)
        self.app_role = iam.Role(
            self,
            "ChatbotAppRole",
            description="Stand-in for the chatbot's runtime role: the hard cap denies it inference",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        )
        cdk.Tags.of(self).add("project", "chatbot")
        self.guardrails = CostGuardrails(
            self,
            "Guardrails",
            monthly_budget_usd=1500,
            emails=["finops@example.com"],
            topic_subscriptions=[subscriptions.EmailSubscription("oncall@example.com")],
            cost_filter_tags={"project": ["chatbot"]},
            actual_alert_percents=(50, 80, 100),
            forecast_alert_percent=100,
            anomaly_monitor_type="CUSTOM",
            anomaly_threshold_usd=100,
            anomaly_threshold_percent=20,
            token_spend_alarms=[
                TokenSpendAlarm(model_id="anthropic.claude-haiku-4-5-20251001-v1:0", max_usd_per_hour=5),
                TokenSpendAlarm(
                    model_id=f"{geo_profile_prefix(self.region)}amazon.nova-lite-v1:0",
                    max_usd_per_hour=2,
                    evaluation_hours=2,
                ),
            ],
            hard_cap=HardCap(at_percent=120, deny_roles=[self.app_role]),
        )
