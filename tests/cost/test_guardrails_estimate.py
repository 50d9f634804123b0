"""The guardrails' own estimate: every line traces to a catalogue price; free allowances only when asked."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.guardrails import (
    DAYS_PER_MONTH,
    NO_BASELINE_NOTE,
    GuardrailsPlan,
    GuardrailsUsage,
    estimate_guardrails,
)
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.records import PriceRecord

REGION = "us-east-1"
FULL = GuardrailsPlan(
    alarm_metrics=(4, 3), action_enabled_budget=True, creates_anomaly_monitor=True, anomaly_subscription=True
)


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


def record_of(catalog: PriceCatalog, line: CostLine) -> PriceRecord:
    service, sku, region, dimension = line.price_source.split("/")
    return catalog.price(service, sku, region, dimension)


def by_component(estimate: CostEstimate) -> dict[str, CostLine]:
    return {line.component: line for line in estimate.lines}


def test_every_line_traces_to_a_catalogue_record_and_its_date(catalog: PriceCatalog) -> None:
    estimate = estimate_guardrails(FULL, GuardrailsUsage(), catalog, REGION)
    for line in estimate.lines:
        record = record_of(catalog, line)
        assert line.service_code == record.service
        assert line.pricing_unit == record.unit
        assert line.usage_type == record.usage_type
        assert line.price_as_of == record.as_of
        assert line.confidence == record.confidence


def test_untiered_lines_cost_quantity_times_the_list_price_without_free_tiers(catalog: PriceCatalog) -> None:
    estimate = estimate_guardrails(FULL, GuardrailsUsage(), catalog, REGION)
    for line in estimate.lines:
        record = record_of(catalog, line)
        if record.is_tiered:
            continue
        assert line.unit_price == record.unit_price
        assert line.monthly_cost == line.monthly_quantity * record.unit_price


def test_the_lines_price_what_the_plan_provisions(catalog: PriceCatalog) -> None:
    lines = by_component(estimate_guardrails(FULL, GuardrailsUsage(alerts_per_month=40), catalog, REGION))
    assert lines["token-spend alarms"].price_source == "AmazonCloudWatch/standard/us-east-1/StandardAlarm"
    assert lines["token-spend alarms"].monthly_quantity == 7  # a metric-math alarm bills per metric it reads
    assert (
        lines["action-enabled budget"].price_source == "AWSBudgets/standard/us-east-1/ActionEnabledBudgetDays"
    )
    assert lines["action-enabled budget"].monthly_quantity == DAYS_PER_MONTH == Decimal(730) / 24
    assert lines["alert topic publishes"].price_source == "AmazonSNS/standard/us-east-1/Requests"
    assert lines["alert topic publishes"].monthly_quantity == 40
    assert lines["topic encryption key"].price_source == "awskms/standard/us-east-1/CustomerManagedKey"
    assert lines["topic encryption key"].monthly_quantity == 1
    assert lines["topic encryption requests"].monthly_quantity == 80
    assert lines["anomaly monitor"].price_source == "AWSCostExplorer/anomaly-detection/us-east-1/Monitor"
    assert (
        lines["anomaly subscription"].price_source
        == "AWSCostExplorer/anomaly-detection/us-east-1/Subscription"
    )


def test_free_budget_days_are_not_applied_by_default_and_the_line_says_so(catalog: PriceCatalog) -> None:
    line = by_component(estimate_guardrails(FULL, GuardrailsUsage(), catalog, REGION))[
        "action-enabled budget"
    ]
    record = catalog.price("AWSBudgets", "standard", REGION, "ActionEnabledBudgetDays")
    free_days = record.tiers[0].end
    assert record.tiers[0].usd == 0 and free_days == 62
    # priced as the account's budget-days after the free ones: the second tier's rate
    assert line.monthly_cost == DAYS_PER_MONTH * record.tiers[1].usd
    assert line.monthly_cost == catalog.cost(
        "AWSBudgets", "standard", REGION, "ActionEnabledBudgetDays", free_days + DAYS_PER_MONTH
    ) - catalog.cost("AWSBudgets", "standard", REGION, "ActionEnabledBudgetDays", free_days)
    assert line.monthly_cost > 0
    assert any(a.startswith("free tier not applied: the first 62 budget-days") for a in line.assumptions)


def test_free_budget_days_are_applied_when_asked_and_the_line_says_so(catalog: PriceCatalog) -> None:
    usage = GuardrailsUsage(apply_free_tiers=True)
    line = by_component(estimate_guardrails(FULL, usage, catalog, REGION))["action-enabled budget"]
    assert line.monthly_cost == 0
    assert any(
        a.startswith("free tier applied: the account's first 62 budget-days") for a in line.assumptions
    )
    assert not any("not applied" in a for a in line.assumptions)


def test_other_free_allowances_follow_the_same_switch(catalog: PriceCatalog) -> None:
    paid = by_component(estimate_guardrails(FULL, GuardrailsUsage(), catalog, REGION))
    free = by_component(estimate_guardrails(FULL, GuardrailsUsage(apply_free_tiers=True), catalog, REGION))
    for component in ("token-spend alarms", "alert topic publishes", "topic encryption requests"):
        assert paid[component].monthly_cost > 0
        assert any(a.startswith("free tier not applied") for a in paid[component].assumptions)
        assert free[component].monthly_cost == 0  # 7 alarm metrics < 10 free; 100 publishes < 1M free
    assert free["topic encryption key"].monthly_cost == paid["topic encryption key"].monthly_cost > 0


def test_a_budget_without_actions_costs_nothing_and_has_no_free_tier_note(catalog: PriceCatalog) -> None:
    estimate = estimate_guardrails(GuardrailsPlan(), GuardrailsUsage(), catalog, REGION)
    line = by_component(estimate)["budget"]
    assert line.price_source == "AWSBudgets/standard/us-east-1/BudgetDays"
    assert line.monthly_cost == 0
    assert "token-spend alarms" not in by_component(estimate)
    assert "anomaly monitor" not in by_component(estimate)


def test_total_is_the_sum_of_the_catalogue_costs(catalog: PriceCatalog) -> None:
    estimate = estimate_guardrails(FULL, GuardrailsUsage(), catalog, REGION)
    expected = (
        DAYS_PER_MONTH
        * catalog.price("AWSBudgets", "standard", REGION, "ActionEnabledBudgetDays").tiers[1].usd
        + 7 * catalog.price("AmazonCloudWatch", "standard", REGION, "StandardAlarm").unit_price
        + 100 * catalog.price("AmazonSNS", "standard", REGION, "Requests").unit_price
        + catalog.price("awskms", "standard", REGION, "CustomerManagedKey").unit_price
        + 200 * catalog.price("awskms", "standard", REGION, "SymmetricRequests").unit_price
        + catalog.price("AWSCostExplorer", "anomaly-detection", REGION, "Monitor").unit_price
        + catalog.price("AWSCostExplorer", "anomaly-detection", REGION, "Subscription").unit_price
    )
    assert estimate.monthly_total == expected


def test_guardrails_have_no_baseline_and_a_note_says_why(catalog: PriceCatalog) -> None:
    estimate = estimate_guardrails(
        FULL, GuardrailsUsage(), catalog, REGION, assumptions=("priced in us-east-1",)
    )
    assert estimate.baseline is None
    assert estimate.savings_usd is None
    assert estimate.notes == (NO_BASELINE_NOTE,)
    assert estimate.pattern == "CostGuardrails"
    assert estimate.assumptions == ("priced in us-east-1",)
    assert CostEstimate.from_json(estimate.to_json()) == estimate


def test_an_unpriced_region_is_an_error_not_a_zero(catalog: PriceCatalog) -> None:
    with pytest.raises(UnknownPriceError):
        estimate_guardrails(FULL, GuardrailsUsage(), catalog, "xx-nowhere-1")


def test_usage_and_plan_reject_nonsense() -> None:
    with pytest.raises(ValueError, match=r"^alerts_per_month must be >= 0, got -1$"):
        GuardrailsUsage(alerts_per_month=-1)
    with pytest.raises(ValueError, match=r"^every alarm reads at least one metric, got \(2, 0\)$"):
        GuardrailsPlan(alarm_metrics=(2, 0))
