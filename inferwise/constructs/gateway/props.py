"""InferenceGateway options (`Route`, `Tenant`) and their validation against the price catalogue.

Every check runs before anything is built and names the prop, the value and what is allowed. The catalogue
is the list of known models: a model it cannot price is refused, as is a tier it has no price for. Tenant
principals are checked in `principals.py`, endpoint routes in `fallback.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_cdk import aws_iam as iam

from inferwise.constructs.gateway.fallback import check_endpoint_route, component_name
from inferwise.constructs.gateway.principals import identity_config, tenant_principals
from inferwise.constructs.scale_to_zero import ScaleToZeroEndpoint
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.gateway import SERVICE_TIERS, RoutePlan

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Route and tenant names: they travel in headers, URL paths, DynamoDB keys and metric dimensions."""
DEFERRABLE_TIERS = ("flex",)
ROUTE_TIERS = ("standard", "priority")
MAX_OUTPUT_TOKENS_LIMIT = 128_000
CONFIG_LIMIT_BYTES = 3_500
"""Lambda allows 4 KB of environment in total; the gateway's configuration must leave room for the rest."""


@dataclass(frozen=True)
class Route:
    """One named route: its model, an optional cheaper model tried first, caching and tiers.

    - `name`: what callers pass as OpenAI `model`, in `/model/<name>/converse` or `x-inferwise-route`.
    - `model_id`: the large model (id, or `us.`/`eu.`/`global.` profile id) the catalogue can price; None
      on a route whose primary is `endpoint`.
    - `small_model_id`: tried first; its answer is escalated to `model_id` when it stops at `max_tokens` or is
      empty. It must not cost more than `model_id` per input or output token.
    - `cache_system_prompt`: put a Converse `cachePoint` after the system prompt (models that cache).
    - `deferrable_tier`: the tier for deferrable requests (`x-inferwise-deferrable: true`), `flex`.
    - `deferrable_by_default`: treat requests without the header as deferrable.
    - `tier`: the tier of the other requests, `standard` or `priority`.
    - `small_model_context_tokens`: requests whose estimated input plus max output exceed it skip the small
      model.
    - `max_output_tokens`: default and maximum `maxTokens` per call (the reservation's output bound).
    - `endpoint`: a `ScaleToZeroEndpoint` that answers first (no small model then); `endpoint_model` names its
      model (required when it has several); `fallback_model_id` is the Bedrock model (in the catalogue) that
      answers, budgeted, while the endpoint has no capacity. Cache and tier options apply to the fallback.
    """

    name: str
    model_id: str | None = None
    small_model_id: str | None = None
    cache_system_prompt: bool = False
    deferrable_tier: str | None = None
    deferrable_by_default: bool = False
    tier: str = "standard"
    small_model_context_tokens: int = 200_000
    max_output_tokens: int = 4_096
    endpoint: ScaleToZeroEndpoint | None = None
    endpoint_model: str | None = None
    fallback_model_id: str | None = None

    @property
    def bedrock_model_id(self) -> str:
        """The Bedrock model of the route: `model_id`, or the endpoint's `fallback_model_id`."""
        model = self.model_id if self.endpoint is None else self.fallback_model_id
        assert model is not None, f"Route {self.name!r} has no Bedrock model (validate() refuses it)"
        return model

    @property
    def bedrock_models(self) -> list[str]:
        return [m for m in (self.bedrock_model_id, self.small_model_id) if m is not None]

    def plan(self) -> RoutePlan:
        return RoutePlan(
            name=self.name,
            model_id=self.bedrock_model_id,
            small_model_id=self.small_model_id,
            cache_system_prompt=self.cache_system_prompt,
            tier=self.tier,
            deferrable_tier=self.deferrable_tier,
            deferrable_by_default=self.deferrable_by_default,
            fallback=self.endpoint is not None,
        )


@dataclass(frozen=True)
class Tenant:
    """A caller billed separately, with a monthly budget in USD (> 0) enforced per request.

    - `principals`: the IAM roles or users (objects or ARNs) that act as this tenant; each is granted the URL.
      A role matches every session of it. A caller that is the principal of one tenant needs no header.
    - `header_trusted`: any caller the URL's IAM policy admits (`grant_invoke_url`) may name this tenant in
      `x-inferwise-tenant`; for a trusted upstream service that authenticates its own users. Off by default.
    """

    name: str
    monthly_budget_usd: int | float | Decimal
    principals: Sequence[iam.IRole | iam.IUser | str] = ()
    header_trusted: bool = False

    @property
    def budget_micro_usd(self) -> int:
        return int(Decimal(str(self.monthly_budget_usd)) * 1_000_000)


def validate(routes: Sequence[Route], tenants: Sequence[Tenant], catalog: PriceCatalog, region: str) -> None:
    """Refuse what the gateway cannot serve or price; each error names the prop, the value and the choices."""
    if not routes:
        raise ValueError("InferenceGateway routes: give at least one Route")
    if not tenants:
        raise ValueError("InferenceGateway tenants: give at least one Tenant")
    _unique("Route.name", [r.name for r in routes])
    _unique("Tenant.name", [t.name for t in tenants])
    for tenant in tenants:
        budget = tenant.monthly_budget_usd
        if isinstance(budget, bool) or not isinstance(budget, int | float | Decimal):
            raise ValueError(f"Tenant {tenant.name!r} monthly_budget_usd must be a number, got {budget!r}")
        if not Decimal(str(budget)).is_finite() or Decimal(str(budget)) <= 0:
            raise ValueError(f"Tenant {tenant.name!r} monthly_budget_usd must be > 0, got {budget!r}")
    for route in routes:
        _check_route(route, catalog, region)


def _unique(prop: str, names: Sequence[str]) -> None:
    for name in names:
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise ValueError(
                f"{prop} {name!r} is not allowed: 1-64 letters, digits, '_', '.', '-', starting with a letter "
                "or digit"
            )
    seen = {n for n in names if names.count(n) > 1}
    if seen:
        raise ValueError(f"{prop} must be unique; duplicated: {', '.join(sorted(seen))}")


def _check_route(route: Route, catalog: PriceCatalog, region: str) -> None:
    where = f"Route {route.name!r}"
    check_endpoint_route(route)
    model_prop = "model_id" if route.endpoint is None else "fallback_model_id"
    large = _input_price(catalog, route.bedrock_model_id, region, f"{where} {model_prop}")
    if route.small_model_id is not None:
        small = _input_price(catalog, route.small_model_id, region, f"{where} small_model_id")
        small_out = catalog.bedrock(route.small_model_id, region, "output").unit_price
        large_out = catalog.bedrock(route.bedrock_model_id, region, "output").unit_price
        if small > large or small_out > large_out:
            raise ValueError(
                f"{where} small_model_id {route.small_model_id!r} costs more than model_id {route.model_id!r} "
                f"(input {small} vs {large}, output {small_out} vs {large_out} USD per 1M tokens in {region}); "
                "the small model must be the cheaper one"
            )
    if route.tier not in ROUTE_TIERS:
        raise ValueError(f"{where} tier must be one of {', '.join(ROUTE_TIERS)}, got {route.tier!r}")
    if route.deferrable_tier is not None and route.deferrable_tier not in DEFERRABLE_TIERS:
        raise ValueError(
            f"{where} deferrable_tier must be one of {', '.join(DEFERRABLE_TIERS)} or None, "
            f"got {route.deferrable_tier!r}"
        )
    if route.deferrable_by_default and route.deferrable_tier is None:
        raise ValueError(
            f"{where} deferrable_by_default=True needs a deferrable_tier (one of {DEFERRABLE_TIERS})"
        )
    for prop, tier in (("tier", route.tier), ("deferrable_tier", route.deferrable_tier)):
        if tier in (None, "standard"):
            continue
        models = route.bedrock_models
        if not any(tier in offered_tiers(catalog, m, region) for m in models):
            raise ValueError(
                f"{where} {prop} {tier!r}: the catalogue has no {tier} price for "
                f"{' or '.join(models)} in {region}; tiers offered: "
                + "; ".join(f"{m}: {', '.join(offered_tiers(catalog, m, region))}" for m in models)
            )
    for prop, value, low, high in (
        ("small_model_context_tokens", route.small_model_context_tokens, 1, 10_000_000),
        ("max_output_tokens", route.max_output_tokens, 1, MAX_OUTPUT_TOKENS_LIMIT),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{where} {prop} must be a whole number from {low:,} to {high:,}, got {value!r}")


def _input_price(catalog: PriceCatalog, model_id: str, region: str, prop: str) -> Decimal:
    try:
        return catalog.bedrock(model_id, region, "input").unit_price
    except UnknownPriceError as unknown:
        raise ValueError(
            f"{prop} {model_id!r} is not in the price catalogue for {region}: {unknown}"
        ) from None


def offered_tiers(catalog: PriceCatalog, model_id: str, region: str) -> list[str]:
    """Service tiers the catalogue prices for this model in `region` (standard always)."""
    offered = ["standard"]
    for tier in SERVICE_TIERS[1:]:
        try:
            catalog.bedrock(model_id, region, f"{tier}-input")
        except UnknownPriceError:
            continue
        offered.append(tier)
    return offered


def _price_row(catalog: PriceCatalog, model_id: str, region: str, tier: str) -> dict[str, str]:
    prefix = "" if tier == "standard" else f"{tier}-"
    row = {
        "in": str(catalog.bedrock(model_id, region, f"{prefix}input").unit_price),
        "out": str(catalog.bedrock(model_id, region, f"{prefix}output").unit_price),
    }
    for key, dimension in (("cr", f"{prefix}cache-read"), ("cw", "cache-write-5m")):
        try:
            row[key] = str(catalog.bedrock(model_id, region, dimension).unit_price)
        except UnknownPriceError:
            continue
    return row


def gateway_config(
    routes: Sequence[Route], tenants: Sequence[Tenant], catalog: PriceCatalog, region: str
) -> dict[str, Any]:
    """The handler's GATEWAY_CONFIG: routes, budgets in micro-USD, catalogue prices per model and tier, and who
    may act as which tenant (inference profiles are added by the construct, `profiles.profile_config`)."""
    return {
        "routes": {
            r.name: {
                "model": r.bedrock_model_id,
                "small": r.small_model_id,
                "cache": r.cache_system_prompt,
                "tier": r.tier,
                "deferrable_tier": r.deferrable_tier,
                "deferrable_default": r.deferrable_by_default,
                "small_context": r.small_model_context_tokens,
                "max_tokens": r.max_output_tokens,
                **(
                    {"endpoint": [r.endpoint.endpoint_name, component_name(r)]}
                    if r.endpoint is not None
                    else {}
                ),
            }
            for r in routes
        },
        "tenants": {t.name: t.budget_micro_usd for t in tenants},
        "prices": {
            m: {tier: _price_row(catalog, m, region, tier) for tier in offered_tiers(catalog, m, region)}
            for m in bedrock_models(routes)
        },
        **identity_config(tenants, tenant_principals(tenants, allow_shared_principals=True)),
    }


def bedrock_models(routes: Sequence[Route]) -> list[str]:
    """Every Bedrock model of the routes, sorted: the order of GATEWAY_CONFIG `prices` and `profiles`."""
    return sorted({m for r in routes for m in r.bedrock_models})
