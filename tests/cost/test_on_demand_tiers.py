"""`on_demand_token_lines(tier=...)`: Flex and Priority bill input, output and cache reads at the tier's rates."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_on_demand import TokenUsage, on_demand_token_lines, tiered_dimension

NOVA = "amazon.nova-pro-v1:0"


@pytest.mark.parametrize("tier", ["flex", "priority"])
def test_a_tier_prices_its_own_dimensions_and_says_so(tier: str) -> None:
    catalog = PriceCatalog.bundled()
    usage = TokenUsage(Decimal(1_000), 2_000, 300)
    lines = on_demand_token_lines(NOVA, usage, catalog, "us-east-1", tier=tier)
    assert [line.price_source.rsplit("/", 1)[1] for line in lines] == [f"{tier}-input", f"{tier}-output"]
    standard = on_demand_token_lines(NOVA, usage, catalog, "us-east-1")
    assert [line.unit_price for line in lines] != [line.unit_price for line in standard]
    assert all(line.assumptions[-1] == f"{tier} service tier" for line in lines)


def test_cache_writes_keep_the_standard_price_and_long_context_stays_tiered() -> None:
    assert tiered_dimension("cache-write-5m", "flex") == "cache-write-5m"
    assert tiered_dimension("cache-read-above-200k", "priority") == "priority-cache-read-above-200k"
    assert tiered_dimension("input", "standard") == "input"
