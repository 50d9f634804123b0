"""Pricing one option by its key: `price_option` finds the pricer for the key, `option_cost` prices the
workload at another volume (the break-even search), `check_models` refuses a model the catalogue cannot price.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from inferwise.cost.advisor.bedrock_options import price_batch, price_cache, price_on_demand, price_routed
from inferwise.cost.advisor.options import OPTION_KEYS, PROVISIONED_REASON, ServingOption, unavailable
from inferwise.cost.advisor.self_hosted_options import price_always_on, price_scale_to_zero, price_spot
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError

_PRICERS: dict[str, Callable[[Workload, PriceCatalog], ServingOption]] = {
    "bedrock-on-demand": price_on_demand,
    "bedrock-batch": price_batch,
    "bedrock-prompt-cache": price_cache,
    "bedrock-routed": price_routed,
    "bedrock-provisioned": lambda workload, _catalog: unavailable(
        workload, "bedrock-provisioned", PROVISIONED_REASON
    ),
    "sagemaker-always-on": price_always_on,
    "scale-to-zero": price_scale_to_zero,
    "spot-inf2": lambda workload, catalog: price_spot(workload, catalog, "inf2"),
    "spot-graviton": lambda workload, catalog: price_spot(workload, catalog, "graviton"),
}


def price_option(workload: Workload, key: str, catalog: PriceCatalog) -> ServingOption:
    """One option for `workload` (priced, or unavailable with the reason)."""
    try:
        pricer = _PRICERS[key]
    except KeyError:
        raise ValueError(f"unknown option {key!r}; options: {', '.join(OPTION_KEYS)}") from None
    return pricer(workload, catalog)


def option_cost(workload: Workload, key: str, requests_per_month: Decimal, catalog: PriceCatalog) -> Decimal:
    """The monthly cost of option `key` for `workload` scaled to `requests_per_month`."""
    option = price_option(workload.scaled(requests_per_month), key, catalog)
    if option.monthly_cost is None:
        raise ValueError(f"{option.name} is not priced: {option.reason}")
    return option.monthly_cost


def check_models(workload: Workload, catalog: PriceCatalog) -> None:
    """ValueError unless the catalogue prices the workload's model(s) on demand in its Region."""
    for field_name in ("model_id", "small_model_id"):
        model = getattr(workload, field_name)
        if model is None:
            continue
        try:
            catalog.bedrock(model, workload.region, "input")
        except UnknownPriceError as missing:
            raise ValueError(
                f"Workload.{field_name} {model!r} has no Bedrock price in the catalogue for {workload.region}: {missing}"
            ) from None
