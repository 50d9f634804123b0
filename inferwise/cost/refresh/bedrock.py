"""Bedrock token prices for one model: on-demand, batch and prompt cache, per 1M tokens, in-Region and for
the `global.` cross-Region inference profile. Two rows for the same dimension are an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from inferwise.cost.records import PriceFile, PriceRecord
from inferwise.cost.refresh.bedrock_models import (
    BEDROCK_MARKETPLACE_SERVICE_CODE,
    BEDROCK_MODELS,
    BEDROCK_SERVICE_CODE,
    BedrockModel,
)
from inferwise.cost.refresh.bedrock_rows import classify_bedrock_row, classify_marketplace_row
from inferwise.cost.refresh.documents import PriceListProduct, price_tiers
from inferwise.cost.refresh.errors import NoProductsError, PriceListError, Warn
from inferwise.cost.refresh.price_records import price_file_of, price_record
from inferwise.cost.refresh.query import Filter, describe_filters, fetch_products, term

BEDROCK_UNIT = "1M tokens"
"""Every Bedrock record is priced per 1M tokens, whatever unit the Price List row uses."""
GLOBAL_DIMENSION_PREFIX = "global:"
"""Rates for the `global.` cross-Region inference profile: dimension `global:input`, same sku."""


def bedrock_filters(region: str, model: BedrockModel) -> list[Filter]:
    """Every row of the model in the region: its `model` or `servicename` attribute, matched exactly."""
    return [term("regionCode", region), term(model.field, model.value)]


_BEDROCK_UNITS: Mapping[str, Mapping[str, Decimal]] = {
    BEDROCK_SERVICE_CODE: {"1K tokens": Decimal(1000)},
    BEDROCK_MARKETPLACE_SERVICE_CODE: {"Units": Decimal(1), "1M tokens": Decimal(1)},
}
"""Per service code: each Price List unit its rows may use, and how many of it make 1M tokens."""


def fetch_bedrock_model(client: Any, region: str, model_id: str, *, warn: Warn | None = None) -> PriceFile:
    """On-demand, batch and prompt-cache token prices of one Bedrock model, per 1M tokens.

    Records are `AmazonBedrock/<model id>/<region>/<dimension>`; rates the Price List sells for the `global.`
    cross-Region inference profile get the dimensions `global:input`, `global:output`, ...
    """
    model = BEDROCK_MODELS.get(model_id)
    if model is None:
        raise PriceListError(
            f"unknown Bedrock model {model_id!r}; supported: {', '.join(sorted(BEDROCK_MODELS))}"
        )
    filters = bedrock_filters(region, model)
    products = fetch_products(client, model.service_code, filters)
    if not products:
        raise NoProductsError(f"no product matches {describe_filters(model.service_code, filters)}")
    classify = (
        classify_bedrock_row if model.service_code == BEDROCK_SERVICE_CODE else classify_marketplace_row
    )
    units = _BEDROCK_UNITS[model.service_code]
    chosen: dict[str, tuple[PriceRecord, PriceListProduct]] = {}
    for product in products:
        classified = classify(product.attributes)
        if classified is None:
            continue
        kind, is_global = classified
        dimension = GLOBAL_DIMENSION_PREFIX + kind if is_global else kind
        parsed = price_tiers(product, units)
        if parsed is None:
            if warn is not None:
                usage = product.attr("usagetype")
                warn(f"{model_id} {region}: product {product.sku} ({usage}) is priced at USD 0; skipped")
            continue
        tiers, unit, description = parsed
        previous = chosen.get(dimension)
        if previous is not None:
            raise PriceListError(
                f"{model_id} in {region}: products {previous[1].sku} ({previous[1].attr('usagetype')}) and "
                f"{product.sku} ({product.attr('usagetype')}) both price {dimension}"
            )
        scope = (
            "global cross-Region inference profile rate"
            if is_global
            else "in-Region / geo inference profile rate"
        )
        notes = f"{scope}; Price List unit {unit!r}; {description}".rstrip("; ")
        record = price_record(
            product, service="AmazonBedrock", sku=model_id, region=region, dimension=dimension, unit=BEDROCK_UNIT,
            tiers=tiers, notes=notes,
        )  # fmt: skip
        chosen[dimension] = (record, product)
    if "input" not in chosen:
        listed = ", ".join(f"{p.sku} ({p.attr('usagetype')})" for p in products)
        raise PriceListError(
            f"no on-demand input-token price for {model_id} among the {len(products)} products matching "
            f"{describe_filters(model.service_code, filters)}: {listed}"
        )
    return price_file_of(chosen[key] for key in sorted(chosen))
