"""Asking the AWS Price List Query API: the `pricing` client, region checks, exact `TERM_MATCH` filters and
`GetProducts` followed to its last page (`FormatVersion="aws_v1"`).

A one-price query (an EC2 instance type, a SageMaker hosting instance, a Lambda price group) must return
exactly one product (`exactly_one`): none is an error naming the filters, two or more an error naming the SKUs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from inferwise.cost.refresh.documents import PriceListProduct, parse_price_list_item
from inferwise.cost.refresh.errors import NoProductsError, PriceListError

PRICING_REGION = "us-east-1"
"""The Price List Query API endpoint region used for every call."""
FORMAT_VERSION = "aws_v1"
MAX_RESULTS = 100
"""Products asked for per `GetProducts` page (the API's maximum)."""
MAX_PAGES = 200
"""A query that needs more pages than this is an error, not a loop."""

Filter = dict[str, str]
"""One `GetProducts` filter: `{"Type": "TERM_MATCH", "Field": ..., "Value": ...}`."""


def _boto3() -> Any:
    """boto3, imported on first use so the rest of inferwise runs without it."""
    import boto3  # type: ignore[import-untyped]

    return boto3


def make_pricing_client() -> Any:
    """The boto3 `pricing` client every refresh uses unless one is injected."""
    return _boto3().client("pricing", region_name=PRICING_REGION)


@functools.lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    """Every region code botocore knows for EC2, across partitions (read once)."""
    session = _boto3().session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


_REGION_SHAPE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")


def check_region(region: str) -> None:
    """Raise `PriceListError` unless `region` is a region code botocore knows, e.g. `us-east-1`."""
    if not _REGION_SHAPE.match(region):
        raise PriceListError(f"bad region {region!r}: expected a region code such as us-east-1")
    known = _known_regions()
    if known and region not in known:
        raise PriceListError(f"unknown region {region!r}; botocore knows {', '.join(sorted(known))}")


def term(field: str, value: str) -> Filter:
    """An exact `TERM_MATCH` on one attribute: the refresh never asks for anything looser."""
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def describe_filters(service_code: str, filters: Sequence[Filter]) -> str:
    """The query in one line for error messages: `ServiceCode=AmazonEC2 regionCode='us-east-1' ...`."""
    return f"ServiceCode={service_code} " + " ".join(f"{f['Field']}={f['Value']!r}" for f in filters)


def fetch_products(client: Any, service_code: str, filters: Sequence[Filter]) -> list[PriceListProduct]:
    """Every product `GetProducts` returns for the filters, following `NextToken` to the last page."""
    products: list[PriceListProduct] = []
    token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {
            "ServiceCode": service_code,
            "Filters": [dict(f) for f in filters],
            "FormatVersion": FORMAT_VERSION,
            "MaxResults": MAX_RESULTS,
        }
        if token is not None:
            request["NextToken"] = token
        page = client.get_products(**request)
        if page.get("FormatVersion", FORMAT_VERSION) != FORMAT_VERSION:
            raise PriceListError(f"GetProducts answered FormatVersion {page.get('FormatVersion')!r}")
        for item in page.get("PriceList", []):
            product = parse_price_list_item(item)
            if product.service_code != service_code:
                raise PriceListError(
                    f"asked {service_code} but product {product.sku} belongs to {product.service_code!r}"
                )
            products.append(product)
        token = page.get("NextToken") or None
        if token is None:
            return products
        if token in seen_tokens:
            raise PriceListError(f"GetProducts repeated NextToken {token!r} for {service_code}")
        seen_tokens.add(token)
    raise PriceListError(
        f"GetProducts for {describe_filters(service_code, filters)} exceeded {MAX_PAGES} pages"
    )


def exactly_one(
    products: Sequence[PriceListProduct], service_code: str, filters: Sequence[Filter]
) -> PriceListProduct:
    """The one product a one-price query returned; `NoProductsError` for none, `PriceListError` for more."""
    if not products:
        raise NoProductsError(f"no product matches {describe_filters(service_code, filters)}")
    if len(products) > 1:
        listed = ", ".join(f"{p.sku} ({p.attr('usagetype') or '?'})" for p in products)
        raise PriceListError(
            f"{len(products)} products match {describe_filters(service_code, filters)}, "
            f"expected exactly one: {listed}"
        )
    return products[0]
