"""Pricing one option by its key: `price_option` finds the pricer for the key, `option_cost` prices the
workload at another volume (the break-even search), `check_models` refuses a model the catalogue cannot price.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from inferwise.cost.advisor.bedrock_options import price_batch, price_cache, price_on_demand, price_routed
from inferwise.cost.advisor.commitments import price_provisioned, price_reserved, price_savings_plan
from inferwise.cost.advisor.options import OPTION_KEYS, ServingOption
from inferwise.cost.advisor.sagemaker_modes import price_async, price_serverless
from inferwise.cost.advisor.self_hosted_options import price_always_on, price_scale_to_zero, price_spot
from inferwise.cost.advisor.serving import served_model
from inferwise.cost.advisor.tiers import TIER_NAMES, has_dimension, models_with, price_global, price_tier
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.bedrock_on_demand import long_context_suffix
from inferwise.cost.specs.models import BEDROCK_MODELS

_PRICERS: dict[str, Callable[[Workload, PriceCatalog], ServingOption]] = {
    "bedrock-on-demand": price_on_demand,
    "bedrock-global": price_global,
    "bedrock-flex": lambda workload, catalog: price_tier(workload, catalog, "flex"),
    "bedrock-priority": lambda workload, catalog: price_tier(workload, catalog, "priority"),
    "bedrock-batch": price_batch,
    "bedrock-prompt-cache": price_cache,
    "bedrock-routed": price_routed,
    "bedrock-provisioned": price_provisioned,
    "sagemaker-always-on": price_always_on,
    "sagemaker-savings-plan": price_savings_plan,
    "scale-to-zero": price_scale_to_zero,
    "sagemaker-async": price_async,
    "sagemaker-serverless": price_serverless,
    "spot-inf2": lambda workload, catalog: price_spot(workload, catalog, "inf2"),
    "spot-gpu": lambda workload, catalog: price_spot(workload, catalog, "gpu"),
    "ec2-reserved": price_reserved,
    "spot-graviton": lambda workload, catalog: price_spot(workload, catalog, "graviton"),
}


def price_option(workload: Workload, key: str, catalog: PriceCatalog) -> ServingOption:
    """One option for `workload` (priced, or unavailable with the reason)."""
    try:
        pricer = _PRICERS[key]
    except KeyError:
        raise ValueError(f"unknown option {key!r}; options: {', '.join(OPTION_KEYS)}") from None
    return pricer(workload, catalog)


UNPRICED = Decimal("Infinity")
"""The cost `option_cost` gives where an option priced at the workload's volume cannot be priced at another
(an estimator refuses a fleet that large): never cheaper, and the break-even search skips such volumes."""


def option_cost(workload: Workload, key: str, requests_per_month: Decimal, catalog: PriceCatalog) -> Decimal:
    """The monthly cost of option `key` for `workload` scaled to `requests_per_month` (`UNPRICED` if none)."""
    option = price_option(workload.scaled(requests_per_month), key, catalog)
    return UNPRICED if option.monthly_cost is None else option.monthly_cost


def check_models(workload: Workload, catalog: PriceCatalog) -> None:
    """ValueError unless the catalogue prices the workload's model(s) on demand in its Region, unless each takes
    requests that long (and prices them, at its long-context rates where it has them), and unless what the
    workload asks for exists: the tier it names, the cache TTL's write price, self-hosting of a model whose
    weights can be self-hosted."""
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
        _check_context(workload, field_name, model, catalog)
    _check_requested_prices(workload, catalog)
    forced = workload.pins_self_hosting()
    if forced:
        served = served_model(workload, catalog)
        if isinstance(served, str):
            raise ValueError(f"Workload.{forced[0]} asks for self-hosting, but {served}")


def _check_context(workload: Workload, field_name: str, model: str, catalog: PriceCatalog) -> None:
    """A request longer than the model's context window, or billed at long-context rates the catalogue lacks, is an
    error naming the input tokens, never a base-rate figure."""
    tokens, region = workload.input_tokens_per_request, workload.region
    sku = catalog.bedrock(model, region, "input").sku
    entry = BEDROCK_MODELS.get(sku)
    window = None if entry is None else entry.context_tokens
    if window is not None and tokens > window:
        raise ValueError(
            f"Workload.input_tokens_per_request={tokens} is more than the {window:,}-token context window of {sku} "
            f"(Workload.{field_name}): no request that long can be sent to it"
        )
    suffix = long_context_suffix(model, tokens, catalog, region)
    if not suffix:
        return
    try:
        catalog.bedrock(model, region, "input" + suffix)
    except UnknownPriceError:
        threshold = suffix.removeprefix("-above-").removesuffix("k") + ",000"
        raise ValueError(
            f"Workload.input_tokens_per_request={tokens}: {sku} bills every token of a request above {threshold} "
            f"input tokens at its long-context rates, and the catalogue has none for {model} in {region} "
            f"(Workload.{field_name}); it is not priced at the base rate"
        ) from None


def _check_requested_prices(workload: Workload, catalog: PriceCatalog) -> None:
    region = workload.region
    tier = workload.service_tier
    if tier is not None and not has_dimension(catalog, workload.model_id, region, f"{tier}-input"):
        offered = ", ".join(models_with(catalog, region, f"{tier}-input")) or "none"
        raise ValueError(
            f"Workload.service_tier={tier}: the catalogue has no {TIER_NAMES[tier]} price for {workload.model_id} in "
            f"{region} (models with one there: {offered})"
        )
    one_hour = workload.cache_prefix_tokens is not None and workload.cache_ttl == "1h"
    if one_hour and not has_dimension(catalog, workload.model_id, region, "cache-write-1h"):
        offered = ", ".join(models_with(catalog, region, "cache-write-1h")) or "none"
        raise ValueError(
            f"Workload.cache_ttl=1h: the catalogue has no 1-hour cache-write price for {workload.model_id} in "
            f"{region} (models with one there: {offered})"
        )
