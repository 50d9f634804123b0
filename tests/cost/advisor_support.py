"""What the advisor tests share: the bundled catalogue, model ids, and a workload with defaults to change."""

from __future__ import annotations

from decimal import Decimal

from inferwise.cost.advisor import Workload
from inferwise.cost.catalog import PriceCatalog

CATALOG = PriceCatalog.bundled()
REGION = "us-east-1"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
NOVA_MICRO = "amazon.nova-micro-v1:0"
MILLION = Decimal(1_000_000)


def workload(**changes: object) -> Workload:
    """One million Llama 3.1 8B requests a month, 500 tokens in and 200 out, with `changes` applied."""
    fields: dict[str, object] = {
        "model_id": LLAMA_8B,
        "requests_per_month": 1_000_000,
        "input_tokens_per_request": 500,
        "output_tokens_per_request": 200,
    }
    fields.update(changes)
    return Workload(**fields)  # type: ignore[arg-type]


def price(model: str, dimension: str) -> Decimal:
    """The catalogue's us-east-1 on-demand unit price of `model` for `dimension`."""
    return CATALOG.bedrock(model, REGION, dimension).unit_price
