"""Streamed answers: Bedrock ConverseStream upstream, Server-Sent Events to the caller as deltas arrive.

`respond` is what the Runtime API loop (`gateway/runtime`) calls for every request: a whole answer is one
chunk; a streamed one (OpenAI `stream: true`, `/converse-stream`) is a generator that relays each Bedrock
event the moment boto3 has parsed it. Everything that can refuse the request happens before the first byte,
so it still has an HTTP status: a malformed request (400), the budget reservation (429), Bedrock rejecting
the ConverseStream call (400/429/502, reservation released). After that the status is 200 and problems
travel in the stream.

Budget: the worst case is reserved exactly as for a whole answer. When the stream ends, the reservation
settles to the cost of the `metadata` event's usage. A stream that breaks (a Bedrock exception event, a cut
connection, the caller going away) settles to the usage reported so far if a `metadata` event came, and
otherwise is charged its worst case: the spend is never under-counted. A broken stream ends with an SSE
`error` event and then raises `StreamBroken`, which the loop reports in Lambda's error trailers.

Routing: a streamed request on a cascade route is answered by the model chosen up front (the small model
when the request fits its context), with no escalation: the caller already holds the small model's words.
A streamed small-model answer that would have escalated (stopped at `max_tokens`, or said nothing) counts
in the `SkippedEscalations` metric.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..common import budget
from ..common.config import GatewayConfig, RouteConfig
from ..common.metrics import emf_line
from ..common.pricing import TierPrices, Usage, actual_micro_usd, usd
from ..common.requests import BadRequest, GatewayRequest
from ..common.responses import budget_refused, error
from ..common.sse import EVENT_STREAM, Reply, StreamBroken, collect, whole
from .encoders import ConverseEvents, Encoder, OpenAIChunks, failure
from .handler import Call, Outcome, _bedrock_failure, _emit, _run, converse_arguments, prepare

logger = logging.getLogger(__name__)


def respond(
    event: Mapping[str, Any],
    *,
    config: GatewayConfig,
    bedrock: Any,
    dynamodb: Any,
    table: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    emit: Callable[[str], None] = print,
) -> Reply:
    """Any request: streamed when it asks to be, else the whole answer of `handler.serve` in one chunk."""
    try:
        request, route, max_tokens = prepare(event, config)
    except BadRequest as bad:
        return whole(error(bad.status, "invalid_request", bad.message, field=bad.field))
    call = Call(request, route, max_tokens, config, bedrock, dynamodb, table, now, emit)
    if not request.stream:
        return whole(_run(call))
    return start(call)


def buffered(call: Call) -> dict[str, Any]:
    """A streamed request answered whole: the same SSE body, for runtimes that cannot stream."""
    return collect(start(call))


def start(call: Call) -> Reply:
    """Reserve, open the ConverseStream call, and return the reply whose chunks relay its events."""
    request, route, emit = call.request, call.route, call.emit
    model = call.plan()[0]
    priced = call.reserve(model)
    tier, held = priced.tier, priced.held
    if isinstance(held, budget.Refusal):
        emit(emf_line(request.tenant, route.name, {"BudgetRefusals": 1}, {"model": model, "stream": True}))
        return whole(budget_refused(held, call.now().timestamp()))
    try:
        answer = call.bedrock.converse_stream(
            **converse_arguments(request, model, tier, call.max_tokens, priced.caching)
        )
    except Exception as failed:
        budget.settle(call.dynamodb, call.table, held, 0)
        return whole(_bedrock_failure(failed, model, Outcome(), request, route, emit))
    ledger = Ledger(call.dynamodb, call.table, held, priced.prices, request, route, model, tier, emit)
    encoder: Encoder = (
        OpenAIChunks(model, request.include_usage) if request.shape == "openai" else ConverseEvents()
    )
    headers = {
        "content-type": EVENT_STREAM,
        "cache-control": "no-cache",
        "x-inferwise-model": model,
        "x-inferwise-tier": tier,
        "x-inferwise-escalations": "0",
    }
    return Reply(200, headers, relay(answer["stream"], encoder, ledger))


def relay(stream: Iterable[Mapping[str, Any]], encoder: Encoder, ledger: Ledger) -> Iterator[bytes]:
    """Each upstream event out as soon as it is in; the closing events out before the settlement's round
    trip; settle however the stream ends (even when the caller went away and the generator is closed)."""
    broken: StreamBroken | None = None
    finished = False
    try:
        try:
            for event in stream:
                ledger.observe(event)
                yield from encoder.relay(event)
            finished = True
        except Exception as failed:  # a Bedrock exception event, a cut or timed-out connection
            broken = _broken(failed)
            logger.warning("stream from %s broke: %s", ledger.model, failed)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if broken is not None:
            yield failure(broken.kind, broken.message)
        else:
            yield from encoder.finish(
                {"model": ledger.model, "tier": ledger.tier, "cost_usd": usd(ledger.cost)}
            )
    finally:
        ledger.settle(complete=finished)
    if broken is not None:
        raise broken


def _broken(failed: Exception) -> StreamBroken:
    code = getattr(failed, "response", {}).get("Error", {}).get("Code") or type(failed).__name__
    return StreamBroken(str(code), f"the answer from Bedrock broke off: {code}")


@dataclass
class Ledger:
    """What a streamed call used, and its settlement and EMF line once it is over."""

    dynamodb: Any
    table: str
    held: budget.Reservation
    prices: TierPrices
    request: GatewayRequest
    route: RouteConfig
    model: str
    tier: str
    emit: Callable[[str], None]
    usage: Usage | None = None
    stop_reason: str | None = None
    said_something: bool = False

    def observe(self, event: Mapping[str, Any]) -> None:
        if "contentBlockDelta" in event:
            text = (event["contentBlockDelta"].get("delta") or {}).get("text") or ""
            self.said_something = self.said_something or bool(text.strip())
        elif "messageStop" in event:
            self.stop_reason = str(event["messageStop"].get("stopReason"))
        elif "metadata" in event and event["metadata"].get("usage"):
            self.usage = Usage.from_converse(event["metadata"]["usage"])

    @property
    def cost(self) -> int:
        """The reported usage's cost, or the worst case reserved when no usage came."""
        return self.held.micro_usd if self.usage is None else actual_micro_usd(self.prices, self.usage)

    def settle(self, *, complete: bool) -> None:
        """Settle the reservation to `cost` and emit the EMF line."""
        cost = self.cost
        budget.settle(self.dynamodb, self.table, self.held, cost)
        would_escalate = self.stop_reason == "max_tokens" or not self.said_something
        skipped = complete and self.model == self.route.small and would_escalate
        outcome = Outcome(
            usage=self.usage or Usage(),
            cost_micro_usd=cost,
            models=(self.model,),
            tiers=(self.tier,),
            skipped_escalations=int(skipped),
        )
        _emit(self.emit, self.request, self.route, outcome)
