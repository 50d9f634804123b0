"""The gateway handler in-process: Bedrock stand-in on loopback (Converse wire format), DynamoDB from moto."""

from __future__ import annotations

import json
from typing import Any

from tests.gateway.support import LARGE, NOVA, SMALL, TABLE, converse_body, event, reply


def _item(aws: Any) -> dict[str, Any]:
    items = aws.scan(TableName=TABLE)["Items"]
    assert len(items) == 1
    return {k: int(v["N"]) if "N" in v else v["S"] for k, v in items[0].items()}


def test_small_model_answers_first_and_budget_settles(serve, bedrock, aws) -> None:
    call, lines = serve
    response = call(event(converse_body(), path="/model/chat/converse"))
    assert response["statusCode"] == 200, response["body"]
    assert [m for m, _ in bedrock.calls] == [SMALL]
    assert response["headers"]["x-inferwise-escalations"] == "0"
    item = _item(aws)
    # 10 input tokens x 1.0 + 5 output x 5.0 USD/1M (global Haiku 4.5) = 35 micro-USD, reservation released
    assert item["spent"] == item["committed"] == 35
    metric = json.loads(lines[-1])
    assert metric["Tenant"] == "acme" and metric["Route"] == "chat" and metric["CostUSD"] == 0.000035


def test_escalates_on_max_tokens_and_on_empty_answers(serve, bedrock) -> None:
    call, lines = serve
    bedrock.behaviour = lambda model, body: (
        reply("partial", "max_tokens") if model == SMALL else reply("full")
    )
    first = call(event(converse_body(), path="/model/chat/converse"))
    bedrock.behaviour = lambda model, body: reply("") if model == SMALL else reply("full")
    second = call(event(converse_body(), path="/model/chat/converse"))
    assert [m for m, _ in bedrock.calls] == [SMALL, LARGE, SMALL, LARGE]
    for response in (first, second):
        assert json.loads(response["body"])["output"]["message"]["content"][0]["text"] == "full"
        assert response["headers"]["x-inferwise-escalations"] == "1"
    assert json.loads(lines[-1])["Escalations"] == 1


def test_too_long_for_the_small_model_goes_straight_to_the_large_one(serve, bedrock) -> None:
    call, _ = serve
    long_text = "x" * 900_000  # ~225,000 estimated tokens > the 200,000-token small context
    call(event(converse_body(long_text), path="/model/chat/converse"), {"acme": 1000})
    assert [m for m, _ in bedrock.calls] == [LARGE]


def test_cache_point_after_the_system_prompt_and_cache_tokens_counted(serve, bedrock, aws) -> None:
    call, lines = serve
    bedrock.behaviour = lambda model, body: reply(cacheReadInputTokens=1000, cacheWriteInputTokens=200)
    call(event(converse_body(), path="/model/chat/converse"))
    sent = bedrock.calls[0][1]
    assert sent["system"] == [{"text": "You are terse."}, {"cachePoint": {"type": "default"}}]
    metric = json.loads(lines[-1])
    assert (metric["CacheReadInputTokens"], metric["CacheWriteInputTokens"]) == (1000, 200)
    # 10 x 1.0 + 5 x 5.0 + 1000 x 0.1 + 200 x 1.25 = 385 micro-USD
    assert _item(aws)["spent"] == 385


def test_no_cache_point_on_a_route_without_caching(serve, bedrock) -> None:
    call, _ = serve
    call(event(converse_body(), path="/model/solo/converse"))
    assert bedrock.calls[0][1]["system"] == [{"text": "You are terse."}]


def test_flex_tier_for_deferrable_requests_where_the_model_offers_it(serve, bedrock) -> None:
    call, _ = serve
    call(event(converse_body(), path="/model/bulk/converse", x_inferwise_deferrable="true"))
    call(event(converse_body(), path="/model/bulk/converse"))
    call(event(converse_body(), path="/model/solo/converse", x_inferwise_deferrable="true"))
    tiers = [(m, body.get("serviceTier")) for m, body in bedrock.calls]
    assert tiers == [(NOVA, {"type": "flex"}), (NOVA, None), (LARGE, None)]


def test_openai_shape_in_and_out(serve, bedrock) -> None:
    call, _ = serve
    body = {
        "model": "solo",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "max_tokens": 50,
        "temperature": 0.2,
    }
    response = call(event(body, path="/v1/chat/completions"))
    sent = bedrock.calls[0][1]
    assert sent["system"] == [{"text": "Be brief."}]
    assert sent["messages"] == [{"role": "user", "content": [{"text": "Hi"}]}]
    assert sent["inferenceConfig"] == {"temperature": 0.2, "maxTokens": 50}
    answer = json.loads(response["body"])
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["content"] == "ok"
    assert answer["usage"]["total_tokens"] == 15


def test_budget_refusal_is_429_with_budget_spend_and_reset(serve, bedrock) -> None:
    call, lines = serve
    # worst case on solo: ceil(chars/4) x 3.0 + 1000 x 15.0 micro-USD > USD 0.01
    response = call(event(converse_body(max_tokens=1000), path="/model/solo/converse"), {"acme": 0.01})
    assert response["statusCode"] == 429
    body = json.loads(response["body"])["error"]
    assert body["type"] == "budget_exceeded"
    assert body["budget_usd"] == "0.010000" and body["spent_usd"] == "0.000000"
    assert body["resets_at"].endswith("-01T00:00:00Z")
    assert int(response["headers"]["retry-after"]) > 0
    assert not bedrock.calls
    assert json.loads(lines[-1])["BudgetRefusals"] == 1


def test_budget_is_enforced_across_requests(serve, bedrock) -> None:
    call, _ = serve
    bedrock.behaviour = lambda model, body: reply(outputTokens=body["inferenceConfig"]["maxTokens"])
    statuses = [
        call(event(converse_body(max_tokens=1000), path="/model/solo/converse"), {"acme": 0.05})["statusCode"]
        for _ in range(5)
    ]
    # each call spends 10 x 3.0 + 1000 x 15.0 = 15,030 micro-USD: three fit in USD 0.05
    assert statuses == [200, 200, 200, 429, 429]


def test_failed_call_releases_its_reservation(serve, bedrock, aws) -> None:
    call, _ = serve
    bedrock.behaviour = lambda model, body: {
        "_status": 500,
        "_error": "InternalServerException",
        "message": "x",
    }
    response = call(event(converse_body(), path="/model/solo/converse"))
    assert response["statusCode"] == 502
    assert _item(aws)["committed"] == 0


def test_malformed_bodies_are_400_naming_the_field(serve, bedrock) -> None:
    call, _ = serve
    cases = [
        (event("{not json", path="/converse"), "body"),
        (event([1, 2], path="/converse"), "body"),
        (event({"messages": []}, path="/model/solo/converse"), "messages"),
        (
            event({"messages": [{"role": "bot", "content": [{"text": "x"}]}]}, path="/model/solo/converse"),
            "messages[0].role",
        ),
        (event(converse_body(max_tokens=0), path="/model/solo/converse"), "inferenceConfig.maxTokens"),
        (event(converse_body(max_tokens=5000), path="/model/solo/converse"), "maxTokens"),
        (
            event(
                {"model": "solo", "messages": [{"role": "user", "content": 3}]}, path="/v1/chat/completions"
            ),
            "messages[0].content",
        ),
        (
            event(
                {"model": "solo", "stream": "yes", "messages": [{"role": "user", "content": "Hi"}]},
                path="/v1/chat/completions",
            ),
            "stream",
        ),
        (event(converse_body(), tenant=None, path="/model/solo/converse"), "x-inferwise-tenant"),
        (event(converse_body(), path="/converse"), "route"),
    ]
    for request, field in cases:
        response = call(request)
        assert response["statusCode"] == 400, (field, response)
        assert json.loads(response["body"])["error"]["field"] == field
    assert call(event(converse_body(), tenant="nobody", path="/model/solo/converse"))["statusCode"] == 403
    assert not bedrock.calls
