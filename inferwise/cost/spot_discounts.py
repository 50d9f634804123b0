"""Spot discounts: assumed average discounts off the On-Demand price, per instance family and Region.

Spot is not a price and not in the AWS Price List: `spot.json` holds the discounts as `EC2Spot` records (unit
`fraction`), which the catalogue keeps apart from priced records. A discount reaches a cost line only through
`PriceCatalog.line(..., discount=...)`, which checks it applies and states it as an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from inferwise.cost.records import PriceFileError, PriceRecord

SPOT_SERVICE = "EC2Spot"
"""The service code of Spot discount records (not an AWS service code: Spot has no Price List)."""
SPOT_DIMENSIONS = ("AverageDiscount", "LowDiscount", "HighDiscount")


@dataclass(frozen=True)
class SpotDiscount:
    """An assumed average Spot discount off the On-Demand price for an instance family in a Region.

    Not a price: Spot is not in the AWS Price List. `average`, `low` and `high` are fractions (0.77 = 77 % off);
    `low`/`high` are the range observed in the source. `source` is the catalogue source key.
    """

    family: str
    region: str
    average: Decimal
    low: Decimal
    high: Decimal
    source: str
    as_of: date
    notes: str = ""

    @property
    def factor(self) -> Decimal:
        """What is left of the On-Demand price: 1 - average."""
        return 1 - self.average


def check_spot_record(record: PriceRecord) -> None:
    """A Spot record is one untiered fraction in [0, 1) for one of `SPOT_DIMENSIONS`."""
    if record.dimension not in SPOT_DIMENSIONS:
        raise PriceFileError(f"{record.key}: an {SPOT_SERVICE} dimension must be one of {SPOT_DIMENSIONS}")
    if record.unit != "fraction" or record.is_tiered or not 0 <= record.unit_price < 1:
        raise PriceFileError(
            f"{record.key}: a Spot discount is one untiered fraction in [0, 1) with unit 'fraction', "
            f"got {record.unit_price} {record.unit!r}"
        )


def check_discount_applies(record: PriceRecord, discount: SpotDiscount, category: str) -> None:
    """A discount applies only to the EC2 On-Demand price of its own family and Region, on a Dynamic line."""
    if record.service != "AmazonEC2" or record.dimension != "OnDemand":
        raise ValueError(f"a Spot discount applies only to AmazonEC2 OnDemand prices, not {record.key}")
    family = record.sku.split(".", 1)[0]
    if (discount.family, discount.region) != (family, record.region):
        raise ValueError(
            f"the Spot discount for {discount.family} in {discount.region} does not apply to {record.key}"
        )
    if category not in ("OnDemand", "Dynamic"):
        raise ValueError(f"a Spot-discounted line has pricing category 'Dynamic', got {category!r}")


def spot_assumption(discount: SpotDiscount) -> str:
    """The assumption a Spot-discounted line carries: the discount, its range, source and date."""
    return (
        f"Spot: priced at the On-Demand list price less an assumed average Spot discount of "
        f"{_percent(discount.average)} for {discount.family} in {discount.region} (observed range "
        f"{_percent(discount.low)} to {_percent(discount.high)}; source: {discount.source}; as of "
        f"{discount.as_of.isoformat()}). Spot prices change with capacity and are not in the AWS Price List."
    )


def _percent(fraction: Decimal) -> str:
    return f"{format((fraction * 100).normalize(), 'f')} %"
