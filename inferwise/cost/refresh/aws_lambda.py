"""Lambda prices: `Requests` and tiered `Duration` (GB-seconds) per architecture, with the free tier the
Price List leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inferwise.cost.records import PriceFile, PriceRecord
from inferwise.cost.refresh.documents import (
    PriceListProduct,
    expect_attribute,
    expect_usage_type,
    price_tiers,
)
from inferwise.cost.refresh.errors import PriceListError
from inferwise.cost.refresh.price_records import price_file_of, price_record
from inferwise.cost.refresh.query import Filter, exactly_one, fetch_products, term

LAMBDA_ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")


@dataclass(frozen=True)
class _LambdaPrice:
    """How one Lambda record is found in the Price List and what it becomes (unit, free tier)."""

    dimension: str
    group: str
    usage_type: str
    units: Mapping[str, Decimal]
    unit: str
    free_quantity: Decimal


# Price List `group` and usagetype (after an optional region prefix such as `USW2-`) per record.
LAMBDA_PRICES: Mapping[tuple[str, str], _LambdaPrice] = {
    ("x86_64", "Requests"): _LambdaPrice(
        "Requests", "AWS-Lambda-Requests", "Request", {"Requests": Decimal(1)}, "Requests", Decimal(1_000_000)
    ),
    ("x86_64", "Duration"): _LambdaPrice(
        "Duration", "AWS-Lambda-Duration", "Lambda-GB-Second",
        {"Lambda-GB-Second": Decimal(1), "Second": Decimal(1)}, "GB-Seconds", Decimal(400_000),
    ),
    ("arm64", "Requests"): _LambdaPrice(
        "Requests", "AWS-Lambda-Requests-ARM", "Request-ARM", {"Requests": Decimal(1)}, "Requests",
        Decimal(1_000_000),
    ),
    ("arm64", "Duration"): _LambdaPrice(
        "Duration", "AWS-Lambda-Duration-ARM", "Lambda-GB-Second-ARM",
        {"Lambda-GB-Second": Decimal(1), "Second": Decimal(1)}, "GB-Seconds", Decimal(400_000),
    ),
}  # fmt: skip
LAMBDA_FREE_TIER_NOTE = (
    "free_quantity is the monthly account-wide Lambda free tier (1M requests, 400,000 GB-s) from the "
    "AWS Lambda pricing page; it is not in the Price List"
)


def lambda_filters(region: str, group: str) -> list[Filter]:
    """The one Lambda price group (`AWS-Lambda-Duration-ARM`, ...) in the region."""
    return [term("regionCode", region), term("group", group)]


def fetch_lambda(client: Any, region: str, architecture: str) -> PriceFile:
    """Lambda `Requests` and tiered `Duration` (GB-seconds) for one architecture (`x86_64` or `arm64`)."""
    pairs: list[tuple[PriceRecord, PriceListProduct]] = []
    for (arch, _dimension), spec in LAMBDA_PRICES.items():
        if arch != architecture:
            continue
        filters = lambda_filters(region, spec.group)
        product = exactly_one(fetch_products(client, "AWSLambda", filters), "AWSLambda", filters)
        expect_attribute(product, "group", spec.group)
        expect_usage_type(product, spec.usage_type)
        parsed = price_tiers(product, spec.units)
        if parsed is None:
            raise PriceListError(
                f"product {product.sku} ({product.attr('usagetype')}) is priced only at USD 0"
            )
        tiers, _, description = parsed
        record = price_record(
            product, service="AWSLambda", sku=architecture, region=region, dimension=spec.dimension,
            unit=spec.unit, tiers=tiers, free_quantity=spec.free_quantity,
            notes=f"{description}; {LAMBDA_FREE_TIER_NOTE}" if description else LAMBDA_FREE_TIER_NOTE,
        )  # fmt: skip
        pairs.append((record, product))
    if not pairs:
        raise PriceListError(
            f"unknown Lambda architecture {architecture!r}; known: {', '.join(LAMBDA_ARCHITECTURES)}"
        )
    return price_file_of(pairs)
