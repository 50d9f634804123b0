"""200 simultaneous requests against a tenant with room for exactly 50 worst-case reservations.

moto serializes nothing for DynamoDB (its only locks guard backend creation and request dispatch), whereas
DynamoDB applies each conditional update to an item atomically. The test restores that guarantee with a
lock around moto's `update_item`, then checks the gateway's algorithm: spend never passes the budget and
exactly the over-budget requests are refused with 429.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.gateway.support import TABLE, converse_body, event, pricing, reply

REQUESTS = 200
ROOM = 50


@pytest.fixture
def atomic_updates(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DynamoDBBackend.update_item
    lock = threading.Lock()

    def update_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "update_item", update_item)


def test_concurrent_requests_never_overspend(atomic_updates, serve, bedrock, aws) -> None:
    call, _ = serve
    request = event(converse_body(max_tokens=1000), path="/model/solo/converse")
    input_estimate = pricing.estimated_input_tokens(len(request["body"]))
    # Every call uses exactly its worst case, so no released headroom lets a 51st request in.
    bedrock.behaviour = lambda model, body: reply(inputTokens=input_estimate, outputTokens=1000)
    worst = input_estimate * 3 + 1000 * 15  # micro-USD at Sonnet 4.5 global prices (3.0 in, 15.0 out per 1M)
    budget_usd = worst * ROOM / 1_000_000

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        barrier = threading.Barrier(REQUESTS)

        def one(_: int) -> dict[str, Any]:
            barrier.wait()
            return call(dict(request), {"acme": budget_usd})

        responses = list(pool.map(one, range(REQUESTS)))

    statuses = [r["statusCode"] for r in responses]
    assert statuses.count(200) == ROOM
    assert statuses.count(429) == REQUESTS - ROOM
    assert len(bedrock.calls) == ROOM
    item = aws.scan(TableName=TABLE)["Items"][0]
    spent, committed = int(item["spent"]["N"]), int(item["committed"]["N"])
    assert spent == committed == worst * ROOM <= budget_usd * 1_000_000
    refused = json.loads(next(r for r in responses if r["statusCode"] == 429)["body"])["error"]
    assert refused["budget_usd"] == f"{budget_usd:.6f}"
