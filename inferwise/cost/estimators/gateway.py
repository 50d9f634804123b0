"""Cost of an InferenceGateway: Bedrock tokens per model and service tier (through the on-demand estimator),
plus the Lambda function, the budget table, the KMS key and the per-tenant metrics.

Pure: (route plans, tenants, usage, catalogue, Region) -> CostEstimate; no CDK. Tokens are never priced here:
every token line comes from `bedrock_on_demand.on_demand_token_lines`, which prices a Flex or Priority tier
at the tier's `flex-*` / `priority-*` dimensions.

Baseline: every request straight to the route's large model, Standard tier, no prompt cache, no gateway.

A route whose primary is a SageMaker endpoint (`RoutePlan.fallback`): the endpoint's instance hours are in the
endpoint's own estimate, so here its calls cost only Lambda time; `GatewayUsage.fallback_share` of the
route's requests find it scaled to zero and are priced on the Bedrock fallback model like any other call. Its
baseline is the endpoint alone: no token lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.bedrock_on_demand import TokenUsage, on_demand_token_lines
from inferwise.cost.model import CostEstimate, CostLine

PATTERN = "Bedrock inference gateway"
BASELINE_PATTERN = "large model, no cache, Standard"
"""The baseline: every request to its route's large model, no prompt cache, the Standard tier."""
SERVICE_TIERS = ("standard", "flex", "priority")
FUNCTION_MEMORY_MB = 256
METRICS_PER_TENANT_ROUTE = 8
"""CostUSD, Input/Output/CacheRead/CacheWrite tokens, Escalations, SkippedEscalations, BudgetRefusals (EMF,
per tenant x route)."""
ENDPOINT_METRICS_PER_TENANT_ROUTE = 2
"""EndpointCalls and Fallbacks, on routes whose primary is a SageMaker endpoint."""
DYNAMODB_WRITES_PER_CALL = 2
"""A reservation and its settlement: two UpdateItem calls of one write unit each (items stay under 1 KB)."""
LOG_BYTES_PER_REQUEST = 1_000
"""One EMF line (~600 bytes) plus Lambda's START/END/REPORT lines."""
KMS_REQUESTS_PER_MONTH = 8_640
"""DynamoDB caches the table key's data key; about one KMS request per 5 minutes (upper bound for a steady load)."""


def _fraction(value: float | Decimal, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal) or not 0 <= value <= 1:
        raise ValueError(f"GatewayUsage.{name} must be between 0 and 1, got {value!r}")
    return Decimal(str(value))


@dataclass(frozen=True)
class GatewayUsage:
    """A month of gateway traffic; every figure appears in the estimate's assumptions.

    - `requests_per_month` (1,000,000), `input_tokens_per_request` (1,000), `output_tokens_per_request` (200).
    - `cached_prefix_tokens` (0): the system prompt's tokens, cached on routes with `cache_system_prompt`.
    - `cache_hit_rate` (0.9): share of requests that read the prefix from the cache; the others write it.
    - `small_model_share` (0): share of requests on routes with a small model that try it first.
    - `escalation_share` (0.1): share of those the small model passes on to the large one.
    - `deferrable_share` (0): share of requests marked deferrable (all of them on `deferrable_by_default`).
    - `seconds_per_call` (2.5): Lambda billed time per model call (it waits for Bedrock's answer).
    - `route_shares` (even): share of requests per route name, summing to 1.
    - `fallback_share` (0.05): share of requests on routes with a SageMaker endpoint primary that find it
      scaled to zero (or waking, or in its off-hours) and are answered by the Bedrock fallback model.
    """

    requests_per_month: int | float | Decimal = 1_000_000
    input_tokens_per_request: int = 1_000
    output_tokens_per_request: int = 200
    cached_prefix_tokens: int = 0
    cache_hit_rate: float | Decimal = 0.9
    small_model_share: float | Decimal = 0.0
    escalation_share: float | Decimal = 0.1
    deferrable_share: float | Decimal = 0.0
    seconds_per_call: float | Decimal = 2.5
    route_shares: tuple[tuple[str, float], ...] = ()
    fallback_share: float | Decimal = 0.05

    def __post_init__(self) -> None:
        TokenUsage(  # the same checks as the on-demand estimator's usage
            self.requests_per_month,
            self.input_tokens_per_request,
            self.output_tokens_per_request,
            self.cached_prefix_tokens,
            self.cache_hit_rate,
        )
        for name in ("small_model_share", "escalation_share", "deferrable_share", "fallback_share"):
            _fraction(getattr(self, name), name)
        seconds = self.seconds_per_call
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float | Decimal)
            or not 0 < Decimal(str(seconds)) <= 900
        ):
            raise ValueError(f"GatewayUsage.seconds_per_call must be in (0, 900], got {seconds!r}")
        total = sum((Decimal(str(share)) for _, share in self.route_shares), Decimal(0))
        if self.route_shares and abs(total - 1) > Decimal("1e-9"):
            raise ValueError(f"GatewayUsage.route_shares must sum to 1, got {self.route_shares!r}")


@dataclass(frozen=True)
class RoutePlan:
    """What the estimate needs of a route (the construct's `Route.plan()`)."""

    name: str
    model_id: str
    small_model_id: str | None = None
    cache_system_prompt: bool = False
    tier: str = "standard"
    deferrable_tier: str | None = None
    deferrable_by_default: bool = False
    fallback: bool = False
    """The route's primary is a SageMaker endpoint; `model_id` is its Bedrock fallback."""


def offers(catalog: PriceCatalog, model_id: str, region: str, tier: str) -> bool:
    if tier == "standard":
        return True
    try:
        catalog.bedrock(model_id, region, f"{tier}-input")
    except UnknownPriceError:
        return False
    return True


def caches(catalog: PriceCatalog, model_id: str, region: str) -> bool:
    try:
        catalog.bedrock(model_id, region, "cache-read")
    except UnknownPriceError:
        return False
    return True


def route_share(usage: GatewayUsage, routes: Sequence[RoutePlan], name: str) -> Decimal:
    if not usage.route_shares:
        return Decimal(1) / len(routes)
    shares = {n: Decimal(str(s)) for n, s in usage.route_shares}
    unknown = sorted(set(shares) - {r.name for r in routes})
    if unknown:
        raise ValueError(
            f"GatewayUsage.route_shares names unknown routes {unknown}; routes: {[r.name for r in routes]}"
        )
    return shares.get(name, Decimal(0))


def model_calls(route: RoutePlan, requests: Decimal, usage: GatewayUsage) -> list[tuple[str, str, Decimal]]:
    """(role, model id, Bedrock calls a month) for one route: small-first requests, their escalations, the
    rest; on an endpoint route, the requests its fallback answers."""
    if route.fallback:
        return [("fallback", route.model_id, requests * Decimal(str(usage.fallback_share)))]
    if route.small_model_id is None:
        return [("large", route.model_id, requests)]
    small = requests * Decimal(str(usage.small_model_share))
    escalated = small * Decimal(str(usage.escalation_share))
    return [("small", route.small_model_id, small), ("large", route.model_id, requests - small + escalated)]


def _token_lines(
    route: RoutePlan, usage: GatewayUsage, requests: Decimal, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    lines: list[CostLine] = []
    deferrable = Decimal(1) if route.deferrable_by_default else Decimal(str(usage.deferrable_share))
    for role, model, calls in model_calls(route, requests, usage):
        prefix = (
            usage.cached_prefix_tokens if route.cache_system_prompt and caches(catalog, model, region) else 0
        )
        groups: dict[str, Decimal] = {}
        for tier, share in ((route.deferrable_tier, deferrable), (route.tier, 1 - deferrable)):
            chosen = tier if tier and offers(catalog, model, region, tier) else "standard"
            groups[chosen] = groups.get(chosen, Decimal(0)) + calls * share
        for tier, count in groups.items():
            if count <= 0:
                continue
            tokens = TokenUsage(
                count,
                usage.input_tokens_per_request,
                usage.output_tokens_per_request,
                prefix,
                usage.cache_hit_rate,
            )
            lines += on_demand_token_lines(
                model, tokens, catalog, region, label=f"{route.name}: {role} model, {tier}: ", tier=tier
            )
    return lines


def estimate_gateway(
    routes: Sequence[RoutePlan],
    tenants: int,
    usage: GatewayUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    creates_key: bool = True,
    assumptions: Sequence[str] = (),
) -> CostEstimate:
    """The gateway's monthly cost for `usage`, with every request straight to the large model as baseline."""
    requests = Decimal(str(usage.requests_per_month))
    lines: list[CostLine] = []
    baseline: list[CostLine] = []
    calls = endpoint_calls = Decimal(0)
    for route in routes:
        share = requests * route_share(usage, routes, route.name)
        lines += _token_lines(route, usage, share, catalog, region)
        calls += sum((c for _, _, c in model_calls(route, share, usage)), Decimal(0))
        if route.fallback:
            endpoint_calls += share
            continue
        plain = TokenUsage(share, usage.input_tokens_per_request, usage.output_tokens_per_request)
        baseline += on_demand_token_lines(
            route.model_id, plain, catalog, region, label=f"{route.name}: large model, standard, no cache: "
        )
    endpoint_routes = sum(1 for r in routes if r.fallback)
    lines += _platform_lines(
        usage,
        requests,
        calls,
        tenants * len(routes),
        catalog,
        region,
        creates_key,
        endpoint_calls=endpoint_calls,
        endpoint_series=tenants * endpoint_routes,
    )
    notes: tuple[str, ...] = (
        "Bedrock caches a prefix only from a model-specific minimum length (1,024 tokens for most Claude "
        "models); a shorter system prompt is billed as ordinary input.",
        "Lambda function URLs add no request charge; data transfer out to the internet is not priced.",
    )
    if endpoint_routes:
        notes += (
            "SageMaker endpoint calls are priced in the endpoint's own estimate (instance hours); here they "
            "cost Lambda time, and the share answered by the Bedrock fallback costs its tokens.",
        )
        assumptions = (*assumptions, f"fallback share {usage.fallback_share} on endpoint routes")
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=tuple(lines),
        baseline=CostEstimate(
            construct_path="", pattern=BASELINE_PATTERN, region=region, lines=tuple(baseline)
        ),
        assumptions=(*_usage_text(usage), *assumptions),
        notes=notes,
    )


def _usage_text(usage: GatewayUsage) -> tuple[str, ...]:
    return (
        f"{Decimal(str(usage.requests_per_month)):,} requests a month, {usage.input_tokens_per_request:,} input "
        f"tokens ({usage.cached_prefix_tokens:,} of them a cacheable system prompt) and "
        f"{usage.output_tokens_per_request:,} output tokens each",
        f"small model tried first for {usage.small_model_share} of requests on routes that have one; "
        f"{usage.escalation_share} of those escalated to the large model (both calls billed)",
        f"cache hit rate {usage.cache_hit_rate}; deferrable share {usage.deferrable_share}",
    )


def _platform_lines(
    usage: GatewayUsage,
    requests: Decimal,
    calls: Decimal,
    series: int,
    catalog: PriceCatalog,
    region: str,
    creates_key: bool,
    *,
    endpoint_calls: Decimal = Decimal(0),
    endpoint_series: int = 0,
) -> list[CostLine]:
    seconds = Decimal(str(usage.seconds_per_call))
    waits = calls + endpoint_calls
    gb_seconds = waits * seconds * Decimal(FUNCTION_MEMORY_MB) / Decimal(1024)
    metrics = METRICS_PER_TENANT_ROUTE * series + ENDPOINT_METRICS_PER_TENANT_ROUTE * endpoint_series
    lines = [
        catalog.line(
            "Lambda requests (function URL)",
            "AWSLambda",
            "arm64",
            region,
            "Requests",
            requests,
            assumptions=("one invocation per request; function URLs have no request charge of their own",),
        ),
        catalog.line(
            "Lambda compute (arm64), waiting on Bedrock",
            "AWSLambda",
            "arm64",
            region,
            "Duration",
            gb_seconds,
            assumptions=(f"{waits:,.0f} model calls x {seconds} s x {FUNCTION_MEMORY_MB} MB",),
        ),
        catalog.line(
            "DynamoDB budget reservations and settlements",
            "AmazonDynamoDB",
            "on-demand",
            region,
            "WriteRequestUnits",
            calls * DYNAMODB_WRITES_PER_CALL,
            assumptions=("one conditional reserve and one settle UpdateItem per model call, 1 WRU each",),
        ),
        catalog.line(
            "CloudWatch custom metrics (EMF, per tenant and route)",
            "AmazonCloudWatch",
            "standard",
            region,
            "CustomMetric",
            Decimal(metrics),
            assumptions=(
                f"{METRICS_PER_TENANT_ROUTE} metrics x {series} tenant-route pairs"
                + (
                    f", {ENDPOINT_METRICS_PER_TENANT_ROUTE} more x {endpoint_series} on endpoint routes"
                    if endpoint_series
                    else ""
                ),
            ),
        ),
        catalog.line(
            "CloudWatch Logs ingestion",
            "AmazonCloudWatch",
            "standard",
            region,
            "LogsIngestion",
            requests * LOG_BYTES_PER_REQUEST / Decimal(10**9),
            assumptions=(f"{LOG_BYTES_PER_REQUEST} bytes of log (EMF line, START/END/REPORT) per request",),
        ),
    ]
    return lines + (_kms_lines(catalog, region) if creates_key else [])


def _kms_lines(catalog: PriceCatalog, region: str) -> list[CostLine]:
    return [
        catalog.line(
            "KMS customer-managed key", "awskms", "standard", region, "CustomerManagedKey", Decimal(1)
        ),
        catalog.line(
            "KMS requests (DynamoDB table key)",
            "awskms",
            "standard",
            region,
            "SymmetricRequests",
            Decimal(KMS_REQUESTS_PER_MONTH),
            assumptions=("DynamoDB caches the data key: about one request per 5 minutes",),
        ),
    ]
