"""Reading Price List documents: one `PriceList` element becomes a `PriceListProduct`, whose single OnDemand
term becomes price tiers in the unit a record uses.

A product must have exactly one OnDemand term, every price dimension must carry the expected unit, and *all*
dimensions are read as tiers ordered by `beginRange` (`endRange` "Inf" is open-ended). A USD 0 dimension is
kept only as the leading free tier of a paid tier; a product priced only at USD 0 (e.g. a capacity-reservation
row) is never taken as a price.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from inferwise.cost.records import PriceTier
from inferwise.cost.refresh.errors import PriceListError


@dataclass(frozen=True)
class PriceListProduct:
    """One parsed `PriceList` element: a product, its OnDemand terms and the document's publication date."""

    sku: str
    service_code: str
    product_family: str
    attributes: Mapping[str, str]
    on_demand: Mapping[str, Any]
    publication_date: date

    def attr(self, name: str) -> str:
        return self.attributes.get(name, "")


def parse_price_list_item(item: str | Mapping[str, Any]) -> PriceListProduct:
    """Parse one `PriceList` element (a JSON string in the API response; a mapping is accepted too)."""
    try:
        doc = json.loads(item) if isinstance(item, str) else item
    except json.JSONDecodeError as bad:
        raise PriceListError(f"a PriceList element is not JSON: {bad}") from None
    if not isinstance(doc, Mapping):
        raise PriceListError("a PriceList element is not a JSON object")
    product = doc.get("product")
    if not isinstance(product, Mapping) or not isinstance(product.get("sku"), str):
        raise PriceListError("a PriceList element has no product.sku")
    sku = product["sku"]
    attributes = product.get("attributes")
    if not isinstance(attributes, Mapping):
        raise PriceListError(f"product {sku} has no attributes")
    terms = doc.get("terms")
    on_demand = terms.get("OnDemand", {}) if isinstance(terms, Mapping) else {}
    if not isinstance(on_demand, Mapping):
        raise PriceListError(f"product {sku}: terms.OnDemand is not an object")
    published = doc.get("publicationDate")
    if not isinstance(published, str):
        raise PriceListError(f"product {sku} has no publicationDate")
    try:
        publication_date = datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        raise PriceListError(
            f"product {sku}: publicationDate {published!r} is not an ISO timestamp"
        ) from None
    service_code = doc.get("serviceCode") or attributes.get("servicecode", "")
    return PriceListProduct(
        sku=sku,
        service_code=str(service_code),
        product_family=str(product.get("productFamily", "")),
        attributes={str(k): str(v) for k, v in attributes.items()},
        on_demand=on_demand,
        publication_date=publication_date,
    )


@dataclass(frozen=True)
class _Dimension:
    """One price dimension of an OnDemand term, its numbers parsed."""

    unit: str
    begin: Decimal
    end: Decimal | None
    usd: Decimal
    description: str


def _decimal(value: Any, what: str) -> Decimal:
    """`value` as a finite Decimal, or a `PriceListError` naming `what`."""
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise PriceListError(f"{what} is not a number: {value!r}") from None
    if not result.is_finite():
        raise PriceListError(f"{what} is not a finite number: {value!r}")
    return result


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without turning whole numbers into exponent form (6000000000, not 6E+9)."""
    tidy = value.normalize()
    exponent = tidy.as_tuple().exponent
    return tidy.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else tidy


def _on_demand_dimensions(product: PriceListProduct) -> list[_Dimension]:
    """The price dimensions of the product's single OnDemand term, ordered by beginRange."""
    terms = list(product.on_demand.values())
    if len(terms) != 1:
        raise PriceListError(f"product {product.sku} has {len(terms)} OnDemand terms, expected exactly one")
    term = terms[0]
    raw = term.get("priceDimensions") if isinstance(term, Mapping) else None
    if not isinstance(raw, Mapping) or not raw:
        raise PriceListError(f"product {product.sku}: its OnDemand term has no priceDimensions")
    dimensions: list[_Dimension] = []
    for rate_code, dim in raw.items():
        where = f"product {product.sku} rate {rate_code}"
        if not isinstance(dim, Mapping):
            raise PriceListError(f"{where} is not an object")
        prices = dim.get("pricePerUnit")
        if not isinstance(prices, Mapping) or "USD" not in prices:
            raise PriceListError(f"{where} has no USD price (pricePerUnit={prices!r})")
        end = dim.get("endRange", "Inf")
        dimensions.append(
            _Dimension(
                unit=str(dim.get("unit", "")),
                begin=_decimal(dim.get("beginRange", "0"), f"{where} beginRange"),
                end=None if end in ("Inf", None) else _decimal(end, f"{where} endRange"),
                usd=_decimal(prices["USD"], f"{where} USD price"),
                description=str(dim.get("description", "")),
            )
        )
    return sorted(dimensions, key=lambda d: d.begin)


def price_tiers(
    product: PriceListProduct, units: Mapping[str, Decimal]
) -> tuple[tuple[PriceTier, ...], str, str] | None:
    """(tiers converted to the record's unit, the Price List unit, the first paid row's description).

    `units` maps each accepted Price List unit to how many of them make one record unit (1000 for `1K tokens`
    priced per `1M tokens`). Returns None when every row is USD 0 (not a price). A USD 0 row is kept only as
    the leading free tier before a paid tier.
    """
    dimensions = _on_demand_dimensions(product)
    found = {d.unit for d in dimensions}
    unexpected = found - set(units)
    if unexpected:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) is priced per {sorted(unexpected)[0]!r}, "
            f"expected {' or '.join(repr(u) for u in units)}"
        )
    if len(found) > 1:
        raise PriceListError(f"product {product.sku} mixes units {sorted(found)} across its price dimensions")
    if all(d.usd == 0 for d in dimensions):
        return None
    for index, dim in enumerate(dimensions):
        if dim.usd == 0 and index != 0:
            raise PriceListError(
                f"product {product.sku}: a USD 0 tier from {dim.begin} is not a leading free tier; "
                "refusing it"
            )
    unit = dimensions[0].unit
    factor = units[unit]
    tiers = tuple(
        PriceTier(
            begin=_tidy(d.begin / factor),
            end=None if d.end is None else _tidy(d.end / factor),
            usd=_tidy(d.usd * factor),
        )
        for d in dimensions
    )
    paid = next(d for d in dimensions if d.usd != 0)
    return tiers, unit, paid.description


def expect_attribute(product: PriceListProduct, name: str, expected: str) -> None:
    """The product's attribute `name` must be exactly `expected` (the filter that found it, checked again)."""
    if product.attr(name) != expected:
        raise PriceListError(
            f"product {product.sku}: {name} is {product.attr(name)!r}, expected {expected!r}"
        )


def expect_usage_type(product: PriceListProduct, suffix: str) -> None:
    """usagetype must be `suffix`, optionally after a region prefix such as `USW2-` (checked, never built)."""
    if not re.fullmatch(rf"(?:[A-Z0-9]+-)?{re.escape(suffix)}", product.attr("usagetype")):
        raise PriceListError(
            f"product {product.sku}: usagetype {product.attr('usagetype')!r} "
            f"is not [<region prefix>-]{suffix}"
        )
