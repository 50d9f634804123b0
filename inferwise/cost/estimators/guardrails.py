"""What the cost guardrails themselves cost: alarms, an action-enabled budget, the SNS topic and its KMS key.

Pure: (what is provisioned, usage, catalogue, region) -> CostEstimate, no CDK. Guardrails replace nothing, so
the estimate has no baseline; a note says so. AWS free allowances (62 action-enabled budget-days, 10 alarm
metrics, 1M SNS requests, 20,000 KMS requests per month) are account-wide and usually used up by other
resources, so they are applied only when the caller asks (`GuardrailsUsage(apply_free_tiers=True)`); every
line that has one says whether it was applied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
from inferwise.cost.records import PriceRecord
from inferwise.cost.validation import check_bool, check_number

PATTERN = "CostGuardrails"

DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""Budget-days in a month: 730 hours / 24, the same month every other estimate uses."""

KMS_REQUESTS_PER_PUBLISH = 2
"""GenerateDataKey + Decrypt per service publish to an SSE topic: an upper bound, SNS reuses data keys for 5 min."""

NO_BASELINE_NOTE = (
    "Guardrails replace nothing, so this estimate has no baseline: it is what the guardrails themselves cost "
    "(the spend they watch is priced by the constructs that create it)."
)


@dataclass(frozen=True)
class GuardrailsUsage:
    """Assumptions behind the guardrails' own cost.

    `alerts_per_month`: messages published to the topic (budget notifications, anomaly alerts, alarm state
    changes); default 100, generous for a budget with a handful of thresholds.
    `apply_free_tiers`: credit the account-wide free allowances (62 action-enabled budget-days, 10 alarm
    metrics, 1M SNS requests, 20,000 KMS requests per month); default False, since other resources in the
    account usually use them up.
    """

    alerts_per_month: int = 100
    apply_free_tiers: bool = False

    def __post_init__(self) -> None:
        check_number(
            "alerts_per_month", self.alerts_per_month, low=0, whole=True, kind="int", cap=MAX_ALERTS_PER_MONTH
        )
        check_bool("apply_free_tiers", self.apply_free_tiers)


MAX_ALERTS_PER_MONTH = 1_000_000_000
"""Sanity limit of `GuardrailsUsage.alerts_per_month`."""


@dataclass(frozen=True)
class GuardrailsPlan:
    """What a `CostGuardrails` provisions, as far as its own bill is concerned.

    `alarm_metrics`: for each token-spend alarm, how many metrics its math expression reads (CloudWatch
    bills a metric-math alarm per metric). `action_enabled_budget`: the budget carries a budget action (the
    hard cap). `creates_anomaly_monitor` / `anomaly_subscription`: Cost Anomaly Detection resources made.
    """

    alarm_metrics: tuple[int, ...] = ()
    action_enabled_budget: bool = False
    creates_anomaly_monitor: bool = False
    anomaly_subscription: bool = False

    def __post_init__(self) -> None:
        if any(count < 1 for count in self.alarm_metrics):
            raise ValueError(f"every alarm reads at least one metric, got {self.alarm_metrics}")


def estimate_guardrails(
    plan: GuardrailsPlan,
    usage: GuardrailsUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    assumptions: Sequence[str] = (),
) -> CostEstimate:
    """The monthly cost of the guardrails in `plan`, priced from `catalog` in `region`; no baseline."""
    free = usage.apply_free_tiers
    lines = [_budget_line(plan, catalog, region, free)]
    if plan.alarm_metrics:
        lines.append(_alarm_line(plan, catalog, region, free))
    lines += _anomaly_lines(plan, catalog, region)
    lines += _topic_lines(usage, catalog, region, free)
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=tuple(lines),
        baseline=None,
        assumptions=tuple(assumptions),
        notes=(NO_BASELINE_NOTE,),
    )


def _alarm_line(plan: GuardrailsPlan, catalog: PriceCatalog, region: str, free: bool) -> CostLine:
    """The token-spend alarms, billed once per metric their math expressions read."""
    alarms, metrics = len(plan.alarm_metrics), sum(plan.alarm_metrics)
    return catalog.line(
        "token-spend alarms",
        "AmazonCloudWatch",
        "standard",
        region,
        "StandardAlarm",
        Decimal(metrics),
        assumptions=(
            f"{alarms} metric-math alarm(s) reading {metrics} metric(s) in all; CloudWatch bills a "
            "metric-math alarm once per metric it reads",
            *_unapplied_free_tier(
                catalog.price("AmazonCloudWatch", "standard", region, "StandardAlarm"), free
            ),
        ),
        apply_free_tier=free,
    )


def _anomaly_lines(plan: GuardrailsPlan, catalog: PriceCatalog, region: str) -> list[CostLine]:
    """The Cost Anomaly Detection monitor and subscription, when the guardrails create them."""
    lines: list[CostLine] = []
    if plan.creates_anomaly_monitor:
        lines.append(
            catalog.line(
                "anomaly monitor",
                "AWSCostExplorer",
                "anomaly-detection",
                region,
                "Monitor",
                Decimal(1),
                assumptions=("one Cost Anomaly Detection monitor",),
            )
        )
    if plan.anomaly_subscription:
        lines.append(
            catalog.line(
                "anomaly subscription",
                "AWSCostExplorer",
                "anomaly-detection",
                region,
                "Subscription",
                Decimal(1),
                assumptions=("one IMMEDIATE subscription delivering to the SNS topic",),
            )
        )
    return lines


def _topic_lines(usage: GuardrailsUsage, catalog: PriceCatalog, region: str, free: bool) -> list[CostLine]:
    """The alert topic: its publishes, its customer-managed KMS key and the key requests publishes make."""
    alerts = Decimal(usage.alerts_per_month)
    publishes = catalog.line(
        "alert topic publishes",
        "AmazonSNS",
        "standard",
        region,
        "Requests",
        alerts,
        assumptions=(
            f"{usage.alerts_per_month} alerts published per month (GuardrailsUsage.alerts_per_month)",
            "deliveries to topic subscriptions are billed by protocol and are not included; Budgets' own "
            "e-mails to `emails` are free",
            *_unapplied_free_tier(catalog.price("AmazonSNS", "standard", region, "Requests"), free),
        ),
        apply_free_tier=free,
    )
    key = catalog.line(
        "topic encryption key",
        "awskms",
        "standard",
        region,
        "CustomerManagedKey",
        Decimal(1),
        assumptions=("one customer-managed key; AWS services cannot publish to a topic under alias/aws/sns",),
    )
    requests = catalog.line(
        "topic encryption requests",
        "awskms",
        "standard",
        region,
        "SymmetricRequests",
        alerts * KMS_REQUESTS_PER_PUBLISH,
        assumptions=(
            f"{KMS_REQUESTS_PER_PUBLISH} requests (GenerateDataKey, Decrypt) per publish, an upper bound "
            "since SNS reuses a data key for up to 5 minutes",
            *_unapplied_free_tier(catalog.price("awskms", "standard", region, "SymmetricRequests"), free),
        ),
        apply_free_tier=free,
    )
    return [publishes, key, requests]


def _budget_line(plan: GuardrailsPlan, catalog: PriceCatalog, region: str, free: bool) -> CostLine:
    days = f"{DAYS_PER_MONTH.quantize(Decimal('0.01'))} budget-days per month (730 hours / 24)"
    if not plan.action_enabled_budget:
        return catalog.line(
            "budget",
            "AWSBudgets",
            "standard",
            region,
            "BudgetDays",
            DAYS_PER_MONTH,
            assumptions=(f"one budget without actions, {days}",),
        )
    record = catalog.price("AWSBudgets", "standard", region, "ActionEnabledBudgetDays")
    line = catalog.line(
        "action-enabled budget",
        "AWSBudgets",
        "standard",
        region,
        "ActionEnabledBudgetDays",
        DAYS_PER_MONTH,
        assumptions=(f"one budget with a budget action (the hard cap), {days}",),
    )
    allowance = _free_leading_quantity(record)
    if allowance == 0:
        return line
    unit = record.unit.lower()
    if free:
        note = (
            f"free tier applied: the account's first {_number(allowance)} {unit} per month are free, "
            "assumed unused by other action-enabled budgets"
        )
        return dataclasses.replace(line, assumptions=(*line.assumptions, note))
    # The free allowance is the record's leading zero-priced tier, which `line` always applies; price this
    # budget as the account's next budget-days instead, i.e. after the allowance is used.
    marginal = catalog.cost(
        "AWSBudgets", "standard", region, "ActionEnabledBudgetDays", allowance + DAYS_PER_MONTH
    ) - catalog.cost("AWSBudgets", "standard", region, "ActionEnabledBudgetDays", allowance)
    note = (
        f"free tier not applied: the first {_number(allowance)} {unit} per month are free account-wide and "
        "assumed used by other action-enabled budgets (GuardrailsUsage(apply_free_tiers=True) credits them)"
    )
    return dataclasses.replace(
        line,
        monthly_cost=marginal,
        unit_price=marginal / DAYS_PER_MONTH,
        assumptions=(*line.assumptions, note),
    )


def _free_leading_quantity(record: PriceRecord) -> Decimal:
    """The quantity covered by a record's leading zero-priced tiers (AWS Budgets' 62 free budget-days)."""
    allowance = Decimal(0)
    for tier in record.tiers:
        if tier.usd != 0 or tier.end is None:
            break
        allowance = tier.end
    return allowance


def _unapplied_free_tier(record: PriceRecord, applied: bool) -> tuple[str, ...]:
    """The note for a line whose free allowance was not credited (`line` notes the applied case itself)."""
    if applied or not record.free_quantity:
        return ()
    return (
        f"free tier not applied: {_number(record.free_quantity)} {record.unit.lower()} per month are free "
        "account-wide and assumed used by other resources (GuardrailsUsage(apply_free_tiers=True) credits them)",
    )


def _number(value: Decimal) -> str:
    return f"{value.normalize():,f}"
