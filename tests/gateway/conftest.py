"""Fixtures: the Bedrock stand-in, moto DynamoDB with the budget table, and the handler wired to both."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from inferwise.constructs.gateway.props import Route, Tenant, gateway_config
from inferwise.cost.catalog import PriceCatalog
from tests.gateway.support import (
    LARGE,
    NOVA,
    REGION,
    SMALL,
    TABLE,
    StandIn,
    config_module,
    create_table,
    handler,
)

ROUTES = (
    Route(
        name="chat", model_id=LARGE, small_model_id=SMALL, cache_system_prompt=True, max_output_tokens=1000
    ),
    Route(name="solo", model_id=LARGE, max_output_tokens=1000),
    Route(name="bulk", model_id=NOVA, deferrable_tier="flex", max_output_tokens=1000),
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_table(dynamodb)
        yield dynamodb


@pytest.fixture
def bedrock() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


Serve = Callable[..., dict[str, Any]]


@pytest.fixture
def serve(aws: Any, bedrock: StandIn) -> Iterator[tuple[Serve, list[str]]]:
    """(call the handler with tenants -> budget USD, the EMF lines it printed). The tenants accept the
    x-inferwise-tenant header from any caller (`header_trusted`); tests/gateway/test_tenancy.py binds callers."""
    lines: list[str] = []
    client = bedrock.client()

    def call(event: dict[str, Any], budgets: dict[str, float] | None = None) -> dict[str, Any]:
        tenants = [Tenant(n, b, header_trusted=True) for n, b in (budgets or {"acme": 100}).items()]
        config = config_module.load_config(
            json.dumps(gateway_config(ROUTES, tenants, PriceCatalog.bundled(), REGION))
        )
        return handler.serve(
            event, config=config, bedrock=client, dynamodb=aws, table=TABLE, emit=lines.append
        )

    yield call, lines
