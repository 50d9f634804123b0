"""Streaming end to end in-process: the gateway's Runtime API loop against a fake Runtime API on loopback,
Bedrock's ConverseStream from the stand-in in the real event-stream framing (parsed by boto3), DynamoDB
from moto. The launcher and the synthesized asset are checked in test_streaming_asset.py."""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from inferwise.constructs.gateway.props import Tenant, gateway_config
from inferwise.cost.catalog import PriceCatalog
from tests.gateway.conftest import ROUTES
from tests.gateway.streams import CUT, Delivery, FakeRuntimeAPI, converse_events, parse_sse, trailer_error
from tests.gateway.support import (
    LARGE,
    REGION,
    SMALL,
    TABLE,
    StandIn,
    config_module,
    converse_body,
    event,
    pricing,
)

streaming = importlib.import_module("gateway.handler.streaming")
handler = importlib.import_module("gateway.handler.handler")
loop = importlib.import_module("gateway.runtime.loop")
runtime_api = importlib.import_module("gateway.runtime.api")

OPENAI = "/v1/chat/completions"


def _config(budgets: dict[str, float]) -> Any:
    # the tests' callers name their tenant in x-inferwise-tenant (tenancy is tested in test_handler.py)
    tenants = [Tenant(name, usd, header_trusted=True) for name, usd in budgets.items()]
    return config_module.load_config(
        json.dumps(gateway_config(ROUTES, tenants, PriceCatalog.bundled(), REGION))
    )


@pytest.fixture
def runtime() -> Iterator[FakeRuntimeAPI]:
    api = FakeRuntimeAPI()
    yield api
    api.close()


@pytest.fixture
def gateway(aws: Any, bedrock: StandIn) -> Iterator[Callable[..., Any]]:
    """gateway(budgets) -> (the app the loop serves, the EMF lines it printed); `.serve` is handler.serve."""
    client = bedrock.client()

    def make(budgets: dict[str, float] | None = None) -> tuple[Callable[[Any], Any], list[str]]:
        wiring = {
            "config": _config(budgets or {"acme": 100}),
            "bedrock": client,
            "dynamodb": aws,
            "table": TABLE,
        }
        lines: list[str] = []

        def app(request: Any) -> Any:
            return streaming.respond(request, **wiring, emit=lines.append)

        app.serve = lambda request: handler.serve(request, **wiring, emit=lines.append)  # type: ignore[attr-defined]
        return app, lines

    yield make


def _serve(runtime: FakeRuntimeAPI, app: Callable[[Any], Any], *requests: dict[str, Any]) -> list[str]:
    """Queue `requests`, run the loop for them in a thread, return their request ids once answered."""
    ids = [runtime.invoke(request) for request in requests]
    thread = _loop_thread(runtime, app, len(ids))
    thread.join(timeout=30)
    assert not thread.is_alive(), "the runtime loop did not finish"
    return ids


def _loop_thread(runtime: FakeRuntimeAPI, app: Callable[[Any], Any], invocations: int) -> threading.Thread:
    client = runtime_api.RuntimeAPI(runtime.address)
    thread = threading.Thread(target=loop.serve_forever, args=(client, app, invocations), daemon=True)
    thread.start()
    return thread


def _item(aws: Any) -> dict[str, int]:
    items = aws.scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    return {k: int(v["N"]) for k, v in items[0].items() if "N" in v}


def _worst_case(request: dict[str, Any], model: str, max_tokens: int, caching: bool = False) -> int:
    prices = _config({"acme": 100}).prices_for(model, "standard")
    estimate = pricing.estimated_input_tokens(len(request["body"]))
    return int(pricing.worst_case_micro_usd(prices, estimate, max_tokens, caching=caching))


def _openai(**extra: Any) -> dict[str, Any]:
    body = {
        "model": "chat",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 100,
        "stream": True,
    }
    return event({**body, **extra}, path=OPENAI)


def test_openai_stream_reaches_the_runtime_api_before_bedrock_finishes(gateway, bedrock, runtime) -> None:
    app, _ = gateway()
    gate = threading.Event()

    def behaviour(model: str, body: dict[str, Any]) -> Iterator[Any]:
        events = converse_events(("Hel", "lo", " there"))
        yield from events[:2]  # messageStart and the first delta, then Bedrock "thinks" until released
        gate.wait(timeout=10)
        yield from events[2:]

    bedrock.stream_behaviour = behaviour
    request_id = runtime.invoke(_openai(stream_options={"include_usage": True}))
    thread = _loop_thread(runtime, app, 1)

    def first_delta_arrived() -> bool:
        delivery = runtime.deliveries.get(request_id)
        return delivery is not None and any(b'"Hel"' in chunk for _, chunk in delivery.chunks)

    arrived = runtime.wait_for(first_delta_arrived, timeout=5)
    still_streaming = not bedrock.stream_finished_at
    gate.set()
    thread.join(timeout=30)
    assert arrived and still_streaming, "the first delta was held back until Bedrock's stream ended"
    delivery = runtime.deliveries[request_id]
    assert delivery.first_chunk_with(b'"Hel"') < bedrock.stream_finished_at[0]

    _assert_streaming_request(delivery)
    prelude, payload = delivery.prelude_and_payload()
    assert prelude["statusCode"] == 200
    assert prelude["headers"]["content-type"] == "text/event-stream"
    assert prelude["headers"]["x-inferwise-model"] == SMALL
    events = parse_sse(payload)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {"content": " there"},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None, None, None, None, "stop"]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["prompt_tokens"] == 10 and chunks[-1]["usage"]["total_tokens"] == 15


def _assert_streaming_request(delivery: Delivery) -> None:
    headers = delivery.headers
    assert headers["lambda-runtime-function-response-mode"] == "streaming"
    assert headers["transfer-encoding"] == "chunked"
    assert headers["content-type"] == "application/vnd.awslambda.http-integration-response"
    declared = {name.strip().lower() for name in headers["trailer"].split(",")}
    assert declared == {"lambda-runtime-function-error-type", "lambda-runtime-function-error-body"}


def test_converse_stream_relays_every_bedrock_event_as_a_named_sse_event(gateway, bedrock, runtime) -> None:
    app, _ = gateway()
    sent = converse_events(("A", "B"))
    bedrock.stream_behaviour = lambda model, body: sent
    (request_id,) = _serve(runtime, app, event(converse_body(), path="/model/solo/converse-stream"))
    prelude, payload = runtime.deliveries[request_id].prelude_and_payload()
    assert prelude == {
        "statusCode": 200,
        "headers": {
            "content-type": "text/event-stream",
            "cache-control": "no-cache",
            "x-inferwise-model": LARGE,
            "x-inferwise-tier": "standard",
            "x-inferwise-escalations": "0",
        },
        "cookies": [],
    }
    events = parse_sse(payload)
    assert [(name, json.loads(data)) for name, data in events[:-1]] == sent
    name, data = events[-1]
    # 10 input tokens x 3.0 + 5 output x 15.0 USD/1M (global Sonnet 4.5) = 105 micro-USD
    assert name == "inferwise" and json.loads(data) == {
        "model": LARGE,
        "tier": "standard",
        "cost_usd": "0.000105",
    }
    assert bedrock.calls[0][0] == LARGE and "stream" not in bedrock.calls[0][1]


def test_streamed_usage_settles_the_reservation_to_the_metadata_usage(gateway, bedrock, runtime, aws) -> None:
    app, lines = gateway()
    bedrock.stream_behaviour = lambda model, body: converse_events(
        inputTokens=200, outputTokens=40, cacheReadInputTokens=1000
    )
    _serve(runtime, app, _openai())
    # Haiku 4.5 global: 200 x 1.0 + 40 x 5.0 + 1000 x 0.1 = 500 micro-USD
    assert _item(aws)["spent"] == _item(aws)["committed"] == 500
    metric = json.loads(lines[-1])
    assert (metric["InputTokens"], metric["OutputTokens"], metric["CacheReadInputTokens"]) == (200, 40, 1000)
    assert metric["CostUSD"] == 0.0005 and metric["stream"] is True and metric["models"] == [SMALL]


@pytest.mark.parametrize(
    ("ending", "code"),
    [
        pytest.param([CUT], "ProtocolError", id="connection-cut"),
        pytest.param(
            [("exception", "modelStreamErrorException", {"message": "model broke"})],
            "modelStreamErrorException",
            id="bedrock-exception-event",
        ),
    ],
)
def test_a_broken_stream_keeps_the_worst_case_and_ends_with_an_error(
    gateway, bedrock, runtime, aws, ending, code
) -> None:
    app, lines = gateway()
    bedrock.stream_behaviour = lambda model, body: [*converse_events()[:2], *ending]
    request = event(converse_body(max_tokens=200), path="/model/solo/converse-stream")
    (request_id,) = _serve(runtime, app, request)
    delivery = runtime.deliveries[request_id]
    prelude, payload = delivery.prelude_and_payload()
    events = parse_sse(payload)
    assert prelude["statusCode"] == 200
    assert [name for name, _ in events] == ["messageStart", "contentBlockDelta", "error"]
    assert json.loads(events[-1][1])["error"]["code"] == code
    assert delivery.trailers["lambda-runtime-function-error-type"] == "Function.StreamError"
    assert trailer_error(delivery)["errorType"] == code
    worst = _worst_case(request, LARGE, 200)
    assert _item(aws)["committed"] == _item(aws)["spent"] == worst
    assert json.loads(lines[-1])["CostUSD"] == worst / 1_000_000


def test_a_stream_broken_after_its_usage_settles_to_that_usage(gateway, bedrock, runtime, aws) -> None:
    app, _ = gateway()
    bedrock.stream_behaviour = lambda model, body: [*converse_events(), CUT]
    (request_id,) = _serve(runtime, app, event(converse_body(), path="/model/solo/converse-stream"))
    assert "lambda-runtime-function-error-type" in runtime.deliveries[request_id].trailers
    assert _item(aws)["spent"] == _item(aws)["committed"] == 105


def test_a_caller_that_goes_away_leaves_the_worst_case_charged(gateway, bedrock, aws) -> None:
    app, _ = gateway()
    request = event(converse_body(max_tokens=300), path="/model/solo/converse-stream")
    reply = app(request)
    assert next(reply.chunks).startswith(b"event: messageStart")
    reply.close()
    assert _item(aws)["committed"] == _item(aws)["spent"] == _worst_case(request, LARGE, 300)


def test_refused_budget_is_429_before_any_byte_is_streamed(gateway, bedrock, runtime) -> None:
    app, lines = gateway({"acme": 0.001})
    (request_id,) = _serve(runtime, app, _openai(max_tokens=1000))
    delivery = runtime.deliveries[request_id]
    prelude, payload = delivery.prelude_and_payload()
    assert prelude["statusCode"] == 429 and "retry-after" in prelude["headers"]
    assert json.loads(payload)["error"]["type"] == "budget_exceeded"
    assert not bedrock.calls and not delivery.trailers
    assert json.loads(lines[-1])["BudgetRefusals"] == 1


def test_bedrock_refusing_the_stream_is_an_http_error_and_releases_the_reservation(
    gateway, bedrock, runtime, aws
) -> None:
    app, _ = gateway()
    bedrock.stream_behaviour = lambda model, body: {
        "_status": 429,
        "_error": "ThrottlingException",
        "message": "x",
    }
    (request_id,) = _serve(runtime, app, event(converse_body(), path="/model/solo/converse-stream"))
    prelude, payload = runtime.deliveries[request_id].prelude_and_payload()
    assert prelude["statusCode"] == 429 and json.loads(payload)["error"]["type"] == "throttled"
    assert _item(aws)["committed"] == 0


def test_a_streamed_cascade_request_keeps_the_model_chosen_up_front(gateway, bedrock, runtime) -> None:
    app, lines = gateway()
    bedrock.stream_behaviour = lambda model, body: converse_events(("cut sh",), stop="max_tokens")
    (request_id,) = _serve(runtime, app, event(converse_body(), path="/model/chat/converse-stream"))
    assert [model for model, _ in bedrock.calls] == [SMALL]
    _, payload = runtime.deliveries[request_id].prelude_and_payload()
    assert json.loads(parse_sse(payload)[-3][1]) == {"stopReason": "max_tokens"}
    metric = json.loads(lines[-1])
    assert (metric["Escalations"], metric["SkippedEscalations"]) == (0, 1)


def test_whole_answers_go_through_the_same_loop_in_one_chunk(gateway, bedrock, runtime, aws) -> None:
    app, _ = gateway()
    (request_id,) = _serve(runtime, app, event(converse_body(), path="/model/solo/converse"))
    delivery = runtime.deliveries[request_id]
    _assert_streaming_request(delivery)
    assert len(delivery.chunks) == 2  # the prelude, then the whole body
    prelude, payload = delivery.prelude_and_payload()
    assert prelude["statusCode"] == 200 and prelude["headers"]["content-type"] == "application/json"
    assert json.loads(payload)["output"]["message"]["content"] == [{"text": "ok"}]
    assert _item(aws)["spent"] == 105


def test_bad_requests_and_handler_failures_before_the_first_byte(gateway, bedrock, runtime) -> None:
    app, _ = gateway()
    bad, failing = runtime.invoke(event("{no json", path=OPENAI)), runtime.invoke({"no": "event"})

    def app_or_crash(request: Any) -> Any:
        if request == {"no": "event"}:
            raise RuntimeError("handler bug")
        return app(request)

    thread = _loop_thread(runtime, app_or_crash, 2)
    thread.join(timeout=30)
    prelude, payload = runtime.deliveries[bad].prelude_and_payload()
    assert prelude["statusCode"] == 400 and json.loads(payload)["error"]["field"] == "body"
    (error,) = runtime.errors
    assert error.path == f"/2018-06-01/runtime/invocation/{failing}/error"
    assert error.headers["lambda-runtime-function-error-type"] == "Function.Unhandled"
    document = json.loads(error.body)
    assert document["errorType"] == "RuntimeError" and document["errorMessage"] == "handler bug"


def test_serve_answers_a_stream_request_whole_with_the_same_events(gateway, bedrock) -> None:
    app, _ = gateway()
    response = app.serve(_openai())
    assert response["statusCode"] == 200 and response["headers"]["content-type"] == "text/event-stream"
    events = parse_sse(response["body"].encode())
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Hello"
    assert all("usage" not in c for c in chunks)  # no stream_options.include_usage


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": 1}, "stream"),
        ({"stream": False, "stream_options": {"include_usage": True}}, "stream_options"),
        ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    ],
)
def test_stream_options_are_checked(gateway, bedrock, body, field) -> None:
    app, _ = gateway()
    response = app.serve(_openai(**body))
    assert response["statusCode"] == 400 and json.loads(response["body"])["error"]["field"] == field
    assert not bedrock.calls
