"""The cost model: priced lines, estimates with a naive baseline, and their JSON form.

Money is `Decimal` end to end and is rounded only when rendered. A month is 730 hours, the AWS Pricing
Calculator convention. JSON field names follow FinOps FOCUS where FOCUS has one (`ListUnitPrice`,
`ListCost`, `PricingUnit`, `PricingQuantity`, `PricingCategory`, `RegionId`, `BillingCurrency`); fields
of our own carry an `x_` prefix. Amounts are written as strings so a round trip is exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any, Literal

HOURS_PER_MONTH = Decimal(730)
"""Hours in a month, as the AWS Pricing Calculator counts them."""

SCHEMA_VERSION = 1

COST_METADATA_KEY = "inferwise:cost"
"""CloudFormation Metadata key under which each construct's estimate is written."""

PricingCategory = Literal["OnDemand", "Batch", "Dynamic", "Committed"]
Confidence = Literal["high", "medium", "low"]

PRICING_CATEGORIES: tuple[str, ...] = ("OnDemand", "Batch", "Dynamic", "Committed")
CONFIDENCES: tuple[str, ...] = ("high", "medium", "low")


class EstimateFormatError(ValueError):
    """An `inferwise:cost` entry that does not parse as a cost estimate."""


@dataclass(frozen=True)
class CostLine:
    """One priced component of a monthly bill: quantity x unit price, and where both came from.

    `service_code`, `usage_type` and `operation` are the keys the AWS Pricing Calculator uses, kept so a
    line can be cross-checked there. `price_source` is the catalogue key of the price that was used.
    """

    component: str
    service_code: str
    usage_type: str
    pricing_unit: str
    monthly_quantity: Decimal
    unit_price: Decimal
    monthly_cost: Decimal
    pricing_category: PricingCategory
    price_source: str
    price_as_of: date
    operation: str = ""
    assumptions: tuple[str, ...] = ()
    confidence: Confidence = "high"

    def __post_init__(self) -> None:
        if self.pricing_category not in PRICING_CATEGORIES:
            raise ValueError(
                f"pricing_category must be one of {', '.join(PRICING_CATEGORIES)}, got {self.pricing_category!r}"
            )
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"confidence must be one of {', '.join(CONFIDENCES)}, got {self.confidence!r}")
        for name in ("monthly_quantity", "unit_price", "monthly_cost"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
                raise ValueError(f"{name} must be a finite, non-negative Decimal, got {value!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "x_Component": self.component,
            "x_ServiceCode": self.service_code,
            "x_UsageType": self.usage_type,
            "x_Operation": self.operation,
            "PricingUnit": self.pricing_unit,
            "PricingQuantity": str(self.monthly_quantity),
            "ListUnitPrice": str(self.unit_price),
            "ListCost": str(self.monthly_cost),
            "PricingCategory": self.pricing_category,
            "x_PriceSource": self.price_source,
            "x_PriceAsOf": self.price_as_of.isoformat(),
            "x_Assumptions": list(self.assumptions),
            "x_Confidence": self.confidence,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CostLine:
        try:
            return cls(
                component=_text(data, "x_Component"),
                service_code=_text(data, "x_ServiceCode"),
                usage_type=_text(data, "x_UsageType"),
                operation=_text(data, "x_Operation"),
                pricing_unit=_text(data, "PricingUnit"),
                monthly_quantity=_decimal(data, "PricingQuantity"),
                unit_price=_decimal(data, "ListUnitPrice"),
                monthly_cost=_decimal(data, "ListCost"),
                pricing_category=data["PricingCategory"],
                price_source=_text(data, "x_PriceSource"),
                price_as_of=date.fromisoformat(_text(data, "x_PriceAsOf")),
                assumptions=tuple(_texts(data, "x_Assumptions")),
                confidence=data["x_Confidence"],
            )
        except KeyError as missing:
            raise EstimateFormatError(f"cost line is missing field {missing}") from None
        except EstimateFormatError:
            raise
        except ValueError as bad:
            raise EstimateFormatError(f"cost line does not parse: {bad}") from None


@dataclass(frozen=True)
class CostEstimate:
    """The monthly cost of one construct, next to the naive alternative it replaces.

    `baseline` prices the same work done the naive way (on-demand tokens, an always-on endpoint, an
    On-Demand GPU fleet); `savings_usd` and `savings_percent` compare the two. `assumptions` lists the
    workload figures the estimate rests on, each with where it came from.
    """

    construct_path: str
    pattern: str
    region: str
    lines: tuple[CostLine, ...]
    baseline: CostEstimate | None = None
    assumptions: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def monthly_total(self) -> Decimal:
        return sum((line.monthly_cost for line in self.lines), Decimal(0))

    @property
    def savings_usd(self) -> Decimal | None:
        if self.baseline is None:
            return None
        return self.baseline.monthly_total - self.monthly_total

    @property
    def savings_percent(self) -> Decimal | None:
        """Saving as a percentage of the baseline; None without a baseline or when the baseline is free."""
        savings = self.savings_usd
        if savings is None or self.baseline is None or self.baseline.monthly_total == 0:
            return None
        return savings * 100 / self.baseline.monthly_total

    def to_json(self) -> dict[str, Any]:
        savings, percent = self.savings_usd, self.savings_percent
        return {
            "x_SchemaVersion": SCHEMA_VERSION,
            "x_ConstructPath": self.construct_path,
            "x_Pattern": self.pattern,
            "RegionId": self.region,
            "BillingCurrency": "USD",
            "ListCost": str(self.monthly_total),
            "x_Lines": [line.to_json() for line in self.lines],
            "x_Baseline": None if self.baseline is None else self.baseline.to_json(),
            "x_SavingsUSD": None if savings is None else str(savings),
            "x_SavingsPercent": None if percent is None else str(percent),
            "x_Assumptions": list(self.assumptions),
            "x_Notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Any) -> CostEstimate:
        """Parse an estimate written by `to_json`; raise `EstimateFormatError` saying what is wrong."""
        if not isinstance(data, Mapping):
            raise EstimateFormatError(f"a cost estimate must be a JSON object, got {type(data).__name__}")
        version = data.get("x_SchemaVersion")
        if version != SCHEMA_VERSION:
            raise EstimateFormatError(
                f"x_SchemaVersion must be {SCHEMA_VERSION}, got {version!r} (written by another inferwise?)"
            )
        try:
            lines = data["x_Lines"]
            if not isinstance(lines, list):
                raise EstimateFormatError("x_Lines must be a list of cost lines")
            baseline = data.get("x_Baseline")
            estimate = cls(
                construct_path=_text(data, "x_ConstructPath"),
                pattern=_text(data, "x_Pattern"),
                region=_text(data, "RegionId"),
                lines=tuple(CostLine.from_json(line) for line in lines),
                baseline=None if baseline is None else cls.from_json(baseline),
                assumptions=tuple(_texts(data, "x_Assumptions")),
                notes=tuple(_texts(data, "x_Notes")),
            )
        except KeyError as missing:
            raise EstimateFormatError(f"cost estimate is missing field {missing}") from None
        recorded_total = _decimal(data, "ListCost")
        if recorded_total != estimate.monthly_total:
            raise EstimateFormatError(
                f"ListCost {recorded_total} does not equal the sum of its lines {estimate.monthly_total}"
            )
        return estimate


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise EstimateFormatError(f"{key} must be a string, got {value!r}")
    return value


def _texts(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise EstimateFormatError(f"{key} must be a list of strings, got {value!r}")
    return value


def _decimal(data: Mapping[str, Any], key: str) -> Decimal:
    raw = data[key]
    try:
        value = Decimal(raw) if isinstance(raw, str) else None
    except ArithmeticError:
        value = None
    if value is None or not value.is_finite():
        raise EstimateFormatError(f"{key} must be a decimal number written as a string, got {raw!r}")
    return value
