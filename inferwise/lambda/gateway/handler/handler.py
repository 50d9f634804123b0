"""gateway: one inference request -> budget reservation -> Bedrock Converse (small model first) -> settle.

Function URL (AWS_IAM auth) handler. For each request:

1. read it (Converse or OpenAI chat-completions shape; `requests.py`), find the tenant (the one the signer's
   IAM identity acts as, `tenancy.py`) and the route; a route whose primary is a SageMaker endpoint asks it
   first and falls back to its Bedrock model only when it has no capacity (`endpoint.py`);
2. plan the models: the route's small model first when it has one and the request fits its context
   (estimated input tokens + max output tokens), else the large model only;
3. for each call: pick the service tier, reserve the call's worst case against the tenant's monthly budget
   (`budget.reserve`), call Converse (through the tenant's inference profile) with a cache point after the
   system prompt where the route and the model cache, then settle the reservation to the reported usage (`budget.settle`);
4. escalate from the small to the large model when the small one stopped at `max_tokens` or said nothing;
5. log one EMF line (cost, tokens, cache reads/writes, escalations per tenant and route) and answer in the
   caller's shape. A refused first reservation is HTTP 429; a refused escalation returns the small model's
   answer with `x-inferwise-escalation: refused-budget`.

Streamed requests (OpenAI `stream: true`, `/converse-stream`) are answered by `streaming.py`; on AWS the
function runs under the gateway's own Runtime API loop (`gateway/runtime`), which streams their bytes.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..common import budget
from ..common.config import GatewayConfig, RouteConfig, load_config
from ..common.endpoint import FALLBACK_HEADER, serve_endpoint
from ..common.metrics import emf_line
from ..common.pricing import (
    STANDARD,
    TierPrices,
    Usage,
    actual_micro_usd,
    estimated_input_tokens,
    usd,
    worst_case_micro_usd,
)
from ..common.requests import BadRequest, GatewayRequest, parse_event
from ..common.responses import (
    answer_text,
    budget_refused,
    converse_body,
    error,
    http,
    openai_body,
)
from ..common.tenancy import resolve_tenant

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

CLIENT_ERRORS = frozenset({"ValidationException", "AccessDeniedException", "ResourceNotFoundException"})


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return serve(
        event,
        config=_config(os.environ["GATEWAY_CONFIG"]),
        bedrock=_client("bedrock-runtime"),
        dynamodb=_client("dynamodb"),
        table=os.environ["TABLE_NAME"],
    )


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(name)


@functools.cache
def _config(text: str) -> GatewayConfig:
    return load_config(text)


@dataclass
class Outcome:
    """What the calls of one request did, for the EMF line and the response."""

    usage: Usage = field(default_factory=Usage)
    cost_micro_usd: int = 0
    escalations: int = 0
    skipped_escalations: int = 0  # streamed answers that would have escalated (streaming.py)
    endpoint: dict[str, int] = field(default_factory=dict)  # EndpointCalls, Fallbacks (endpoint routes)
    models: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Call:
    """A prepared request and what serving it needs: one value for the whole, streamed and buffered paths."""

    request: GatewayRequest
    route: RouteConfig
    max_tokens: int
    config: GatewayConfig
    bedrock: Any
    dynamodb: Any
    table: str
    now: Callable[[], datetime]
    emit: Callable[[str], None]

    @property
    def input_estimate(self) -> int:
        return estimated_input_tokens(self.request.body_chars)

    def plan(self) -> list[str]:
        """The models in the order asked: the small one first when the route has one and the request fits it."""
        route = self.route
        fits_small = self.input_estimate + self.max_tokens <= route.small_context
        return [route.small, route.model] if route.small and fits_small else [route.model]

    def reserve(self, model: str) -> Priced:
        """Pick `model`'s tier and prices for this request and reserve its worst case against the budget."""
        request, route, config = self.request, self.route, self.config
        deferrable = route.deferrable_default if request.deferrable is None else request.deferrable
        tier = config.tier_for(route, model, deferrable)
        prices = config.prices_for(model, tier)
        caching = route.cache and prices.caches and bool(request.system)
        worst = worst_case_micro_usd(prices, self.input_estimate, self.max_tokens, caching=caching)
        tenant = request.tenant
        held = budget.reserve(self.dynamodb, self.table, tenant, config.tenants[tenant], worst, self.now())
        return Priced(tier, prices, caching, held)


@dataclass(frozen=True)
class Priced:
    """One model call's tier, prices, whether it caches, and its budget reservation (or the refusal)."""

    tier: str
    prices: TierPrices
    caching: bool
    held: budget.Reservation | budget.Refusal


def serve(
    event: Mapping[str, Any],
    *,
    config: GatewayConfig,
    bedrock: Any,
    dynamodb: Any,
    table: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    emit: Callable[[str], None] = print,
    sagemaker: Any = None,
) -> dict[str, Any]:
    try:
        request, route, max_tokens = prepare(event, config)
    except BadRequest as bad:
        return error(bad.status, "invalid_request", bad.message, field=bad.field)
    call = Call(request, route, max_tokens, config, bedrock, dynamodb, table, now, emit)
    if request.stream:  # without the streaming runtime: the same SSE body, sent whole
        from .streaming import buffered  # streaming builds on this module

        return buffered(call)
    return _run(call, sagemaker)


def prepare(event: Mapping[str, Any], config: GatewayConfig) -> tuple[GatewayRequest, RouteConfig, int]:
    """The request, its route and its max output tokens; `BadRequest` when it cannot be served."""
    request = parse_event(event)
    tenant = resolve_tenant(config, event, request.tenant)  # bound to the caller's IAM identity
    request = replace(request, tenant=tenant, invoke_ids=config.invoke_ids(tenant))
    route = _route(config, request)
    if route.endpoint is not None and request.stream:
        raise BadRequest("stream", f"route {route.name!r} answers from a SageMaker endpoint: stream: false")
    max_tokens = request.max_tokens or route.max_tokens
    if max_tokens > route.max_tokens:
        raise BadRequest(
            "maxTokens" if request.shape == "converse" else "max_tokens",
            f"at most {route.max_tokens} on route {route.name!r}, got {max_tokens}",
        )
    return request, route, max_tokens


def _route(config: GatewayConfig, request: GatewayRequest) -> RouteConfig:
    if request.route is None:
        if len(config.routes) == 1:
            return next(iter(config.routes.values()))
        raise BadRequest(
            "route", f"name a route (OpenAI `model`, x-inferwise-route): one of {', '.join(config.routes)}"
        )
    route = config.routes.get(request.route)
    if route is None:
        raise BadRequest("route", f"unknown route {request.route!r}; one of {', '.join(config.routes)}", 404)
    return route


def _run(call: Call, sagemaker: Any = None) -> dict[str, Any]:
    request, route, max_tokens, emit = call.request, call.route, call.max_tokens, call.emit
    outcome = Outcome()
    response: Mapping[str, Any] | None = None
    headers: dict[str, str] = {}
    if route.endpoint is not None:  # the endpoint first; Bedrock (budgeted) when it has no capacity
        served = serve_endpoint(sagemaker or _client("sagemaker-runtime"), route, request, max_tokens, emit)
        if served is not None:
            return served
        headers[FALLBACK_HEADER] = "bedrock"
        outcome.endpoint = {"EndpointCalls": 1, "Fallbacks": 1}
    for position, model in enumerate(m for m in call.plan() if m):
        priced = call.reserve(model)
        tier, held = priced.tier, priced.held
        if isinstance(held, budget.Refusal):
            if response is None:
                refusals = {"BudgetRefusals": 1, **outcome.endpoint}
                emit(emf_line(request.tenant, route.name, refusals, {"model": model}))
                refused = budget_refused(held, call.now().timestamp())
                refused["headers"] |= headers
                return refused
            headers["x-inferwise-escalation"] = "refused-budget"
            break
        if position > 0:
            outcome.escalations += 1
        try:
            reply = _converse(call.bedrock, request, model, tier, max_tokens, priced.caching)
        except Exception as failure:
            budget.settle(call.dynamodb, call.table, held, 0)
            return _bedrock_failure(failure, model, outcome, request, route, emit)
        used = Usage.from_converse(reply.get("usage") or {})
        cost = actual_micro_usd(priced.prices, used)
        budget.settle(call.dynamodb, call.table, held, cost)
        outcome.usage += used
        outcome.cost_micro_usd += cost
        outcome.models += (model,)
        outcome.tiers += (tier,)
        response = reply
        if not _needs_escalation(reply):
            break
    assert response is not None
    _emit(emit, request, route, outcome)
    headers |= {
        "x-inferwise-model": outcome.models[-1],
        "x-inferwise-tier": outcome.tiers[-1],
        "x-inferwise-cost-usd": usd(outcome.cost_micro_usd),
        "x-inferwise-escalations": str(outcome.escalations),
    }
    shape = openai_body if request.shape == "openai" else converse_body
    return http(200, shape(response, outcome.models[-1]), headers)


def _needs_escalation(reply: Mapping[str, Any]) -> bool:
    return reply.get("stopReason") == "max_tokens" or not answer_text(reply).strip()


def _converse(
    bedrock: Any,
    request: GatewayRequest,
    model: str,
    tier: str,
    max_tokens: int,
    caching: bool,
) -> Mapping[str, Any]:
    result: Mapping[str, Any] = bedrock.converse(
        **converse_arguments(request, model, tier, max_tokens, caching)
    )
    return result


def converse_arguments(
    request: GatewayRequest, model: str, tier: str, max_tokens: int, caching: bool
) -> dict[str, Any]:
    """The Converse (or ConverseStream) arguments: cache point after the system prompt, tier, max tokens."""
    system = list(request.system)
    if caching and "cachePoint" not in system[-1]:
        system.append({"cachePoint": {"type": "default"}})
    arguments: dict[str, Any] = {
        "modelId": request.invoke_ids.get(model, model),  # the tenant's inference profile; prices by `model`
        "messages": request.messages,
        "inferenceConfig": {**request.inference, "maxTokens": max_tokens},
    }
    if system:
        arguments["system"] = system
    if tier != STANDARD:
        arguments["serviceTier"] = {"type": tier}
    return arguments


def _bedrock_failure(
    failure: Exception,
    model: str,
    outcome: Outcome,
    request: GatewayRequest,
    route: RouteConfig,
    emit: Callable[[str], None],
) -> dict[str, Any]:
    code = getattr(failure, "response", {}).get("Error", {}).get("Code", type(failure).__name__)
    logger.warning("bedrock %s failed: %s", model, failure)
    _emit(emit, request, route, outcome)
    if code == "ThrottlingException":
        return error(429, "throttled", f"Bedrock throttled {model}; retry with backoff", model=model)
    if code in CLIENT_ERRORS:
        return error(400, "bedrock_rejected", f"{code}: {failure}", model=model)
    return error(502, "bedrock_failed", f"{code} from {model}", model=model)


def _emit(emit: Callable[[str], None], request: GatewayRequest, route: RouteConfig, outcome: Outcome) -> None:
    values = {
        "CostUSD": outcome.cost_micro_usd / 1_000_000,
        "InputTokens": outcome.usage.input_tokens,
        "OutputTokens": outcome.usage.output_tokens,
        "CacheReadInputTokens": outcome.usage.cache_read_tokens,
        "CacheWriteInputTokens": outcome.usage.cache_write_tokens,
        "Escalations": outcome.escalations,
        "SkippedEscalations": outcome.skipped_escalations,
        **outcome.endpoint,
    }
    properties = {
        "models": list(outcome.models),
        "tiers": list(outcome.tiers),
        "shape": request.shape,
        "stream": request.stream,
    }
    emit(emf_line(request.tenant, route.name, values, properties, int(time.time() * 1000)))
