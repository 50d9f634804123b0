"""Bedrock's other ways to buy the same tokens: the global cross-Region profile and the Flex and Priority
service tiers.

- Global profile: where the catalogue has a `global:` rate for the model (Claude 4.5 and later), the same
  requests through the `global.` inference profile, priced by the on-demand estimator. Shown only where it
  is cheaper than the in-Region rate; a request may then be served in any commercial Region.
- Flex and Priority: where the catalogue has `flex-input` / `priority-input` prices (Nova Pro), every token at
  that tier's rate. Flex is offered to deferrable work only (Flex requests may be queued behind standard
  ones) unless `service_tier` asks for it. The on-demand estimator reads only the standard dimensions, so the
  tier lines come from the catalogue's `bedrock_line`, the call that estimator makes for its own lines. A
  request above the model's long-context threshold needs the tier's long-context price, or the tier is not
  priced.
"""

from __future__ import annotations

from decimal import Decimal

from inferwise.cost.advisor.options import ServingOption, token_option, unavailable
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import GLOBAL_DIMENSION_PREFIX, PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.bedrock_on_demand import (
    TokenUsage,
    estimate_bedrock_on_demand,
    long_context_suffix,
)
from inferwise.cost.model import CostEstimate

TIER_NAMES = {"flex": "Flex", "priority": "Priority"}


def has_dimension(catalog: PriceCatalog, model_id: str, region: str, dimension: str) -> bool:
    try:
        record = catalog.bedrock(model_id, region, dimension)
    except UnknownPriceError:
        return False
    return record.dimension == dimension


def models_with(catalog: PriceCatalog, region: str, dimension: str) -> list[str]:
    """Catalogue models with a price for `dimension` in `region`."""
    return [sku for sku in catalog.bedrock_models(region) if has_dimension(catalog, sku, region, dimension)]


def _plain(workload: Workload) -> TokenUsage:
    return TokenUsage(
        workload.requests, workload.input_tokens_per_request, workload.output_tokens_per_request
    )


def price_global(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """The same requests through the `global.` cross-Region profile, where that rate exists and is cheaper."""
    key = "bedrock-global"
    sku = catalog.bedrock(workload.model_id, workload.region, "input").sku
    if workload.model_id.startswith("global."):
        return unavailable(workload, key, "the model id is already the global profile")
    if not has_dimension(catalog, sku, workload.region, GLOBAL_DIMENSION_PREFIX + "input"):
        return unavailable(
            workload, key, f"no global-profile rate in the catalogue for {sku} in {workload.region}"
        )
    estimate = estimate_bedrock_on_demand(f"global.{sku}", _plain(workload), catalog, workload.region)
    regional = estimate_bedrock_on_demand(workload.model_id, _plain(workload), catalog, workload.region)
    if estimate.monthly_total >= regional.monthly_total:
        return unavailable(workload, key, f"the global profile is not cheaper than {workload.model_id} here")
    return token_option(
        workload,
        key,
        CostEstimate(
            "", "Bedrock on-demand (global profile)", workload.region, estimate.lines, baseline=regional
        ),
        f"global.{sku}: the global cross-Region inference profile, billed at its global rate",
        "a request may be served in any commercial AWS Region: check data-residency rules before using it",
    )


def price_tier(workload: Workload, catalog: PriceCatalog, tier: str) -> ServingOption:
    """Every token at the Flex or Priority rate, where the catalogue prices the tier for the model."""
    key = f"bedrock-{tier}"
    name = TIER_NAMES[tier]
    if not has_dimension(catalog, workload.model_id, workload.region, f"{tier}-input"):
        return unavailable(
            workload, key, f"no {name} price in the catalogue for {workload.model_id} in {workload.region}"
        )
    if tier == "flex" and workload.realtime and workload.service_tier != "flex":
        return unavailable(
            workload,
            key,
            "real-time workload: Flex requests may wait behind standard ones; mark the work deferrable "
            "(realtime=false) or ask for service_tier=flex",
        )
    usage = _plain(workload)
    suffix = long_context_suffix(workload.model_id, usage.input_tokens_per_request, catalog, workload.region)
    if suffix and not has_dimension(catalog, workload.model_id, workload.region, f"{tier}-input{suffix}"):
        return unavailable(
            workload,
            key,
            f"no long-context {name} price in the catalogue for {workload.model_id} in {workload.region} "
            f"({usage.input_tokens_per_request:,} input tokens per request)",
        )
    lines = [
        catalog.bedrock_line(
            f"{name} input tokens",
            workload.model_id,
            workload.region,
            f"{tier}-input{suffix}",
            usage.requests * usage.input_tokens_per_request,
        )
    ]
    if usage.output_tokens_per_request:
        lines.append(
            catalog.bedrock_line(
                f"{name} output tokens",
                workload.model_id,
                workload.region,
                f"{tier}-output{suffix}",
                usage.requests * usage.output_tokens_per_request,
            )
        )
    baseline = estimate_bedrock_on_demand(workload.model_id, usage, catalog, workload.region)
    estimate = CostEstimate("", f"Bedrock {name} tier", workload.region, tuple(lines), baseline=baseline)
    ratio = lines[0].unit_price / baseline.lines[0].unit_price * 100
    latency = (
        "Flex requests may wait behind standard ones: for work that can be late"
        if tier == "flex"
        else "Priority requests go ahead of standard ones: for latency-critical work"
    )
    return token_option(
        workload,
        key,
        estimate,
        f"the {name} service tier: input at {ratio.quantize(Decimal('1'))} % of the standard rate; {latency}",
    )
