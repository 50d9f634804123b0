from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine, EstimateFormatError
from inferwise.cost.render import estimate_summary
from tests.fixtures.fixture_stack import fixture_estimate

money = st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


def line(cost: Decimal, **changes: object) -> CostLine:
    base = CostLine(
        component="instance hours",
        service_code="AmazonEC2",
        usage_type="BoxUsage:inf2.xlarge",
        pricing_unit="Hrs",
        monthly_quantity=HOURS_PER_MONTH,
        unit_price=Decimal("0.7582"),
        monthly_cost=cost,
        pricing_category="OnDemand",
        price_source="AmazonEC2/inf2.xlarge/us-east-1/OnDemand",
        price_as_of=date(2026, 7, 20),
        operation="RunInstances",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_month_is_730_hours() -> None:
    assert HOURS_PER_MONTH == 730


def test_total_is_the_exact_decimal_sum_of_lines() -> None:
    estimate = CostEstimate("p", "x", "us-east-1", (line(Decimal("0.1")), line(Decimal("0.2"))))
    assert estimate.monthly_total == Decimal("0.3")


def test_savings_against_baseline() -> None:
    estimate = fixture_estimate(Decimal("45.50"), Decimal("91.00"))
    assert estimate.savings_usd == Decimal("45.50")
    assert estimate.savings_percent == Decimal(50)


def test_no_baseline_means_no_savings_figure() -> None:
    estimate = CostEstimate("p", "guardrails", "us-east-1", (line(Decimal(1)),))
    assert estimate.savings_usd is None
    assert estimate.savings_percent is None


def test_json_round_trip_keeps_every_field_exactly() -> None:
    estimate = dataclasses.replace(fixture_estimate(), notes=("cold start",), assumptions=("1M records",))
    text = json.dumps(estimate.to_json())
    assert CostEstimate.from_json(json.loads(text)) == estimate


@given(costs=st.lists(money, min_size=1, max_size=5), baseline=money)
def test_json_round_trip_property(costs: list[Decimal], baseline: Decimal) -> None:
    base = CostEstimate("p", "always-on", "us-east-1", (line(baseline),))
    estimate = CostEstimate("p", "scale-to-zero", "us-east-1", tuple(line(c) for c in costs), baseline=base)
    again = CostEstimate.from_json(json.loads(json.dumps(estimate.to_json())))
    assert again == estimate
    assert again.monthly_total == sum(costs)


def test_focus_field_names_in_json() -> None:
    data = fixture_estimate().to_json()
    assert data["BillingCurrency"] == "USD"
    assert {"ListCost", "RegionId", "x_Baseline", "x_SavingsUSD"} <= set(data)
    assert {"ListUnitPrice", "ListCost", "PricingUnit", "PricingQuantity", "PricingCategory"} <= set(
        data["x_Lines"][0]
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "pricing_category",
            "Spot",
            "pricing_category must be one of OnDemand, Batch, Dynamic, Committed, got 'Spot'",
        ),
        ("confidence", "certain", "confidence must be one of high, medium, low, got 'certain'"),
        (
            "monthly_cost",
            Decimal(-1),
            "monthly_cost must be a finite, non-negative Decimal, got Decimal('-1')",
        ),
        ("unit_price", 0.5, "unit_price must be a finite, non-negative Decimal, got 0.5"),
    ],
)
def test_bad_line_fields_are_named(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as error:
        line(Decimal(1), **{field: value})
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("x_Lines"), "cost estimate is missing field 'x_Lines'"),
        (lambda d: d.update(x_SchemaVersion=99), "x_SchemaVersion must be 1, got 99"),
        (lambda d: d.update(ListCost="12"), "ListCost 12 does not equal the sum of its lines 45.50"),
        (
            lambda d: d["x_Lines"][0].update(ListCost=3.5),
            "ListCost must be a decimal number written as a string, got 3.5",
        ),
        (
            lambda d: d["x_Lines"][0].update(PricingCategory="Spot"),
            "cost line does not parse: pricing_category",
        ),
    ],
)
def test_estimates_that_do_not_parse_say_why(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    data = fixture_estimate().to_json()
    mutate(data)
    with pytest.raises(EstimateFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CostEstimate.from_json(data)


def test_summary_line_reads_like_the_annotation() -> None:
    assert (
        estimate_summary(fixture_estimate()) == "~$45.50/month, saves 50.0% ($45.50) vs on-demand InvokeModel"
    )


def test_summary_line_when_the_pattern_costs_more() -> None:
    estimate = fixture_estimate(Decimal("120"), Decimal("100"))
    assert (
        estimate_summary(estimate) == "~$120.00/month, costs $20.00 more (20.0%) than on-demand InvokeModel"
    )
