"""Money for one Bedrock call, in integer micro-USD, from the catalogue prices embedded at synth.

A Bedrock price is USD per 1M tokens, so a token count times that price is the cost in micro-USD (1e-6 USD):
no float ever touches money, and DynamoDB stores whole numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CHARS_PER_TOKEN = 4
"""Input tokens are estimated as the request body's length / 4 (rounded up) before the call."""

STANDARD = "standard"
TIERS = ("standard", "flex", "priority")


@dataclass(frozen=True)
class TierPrices:
    """USD per 1M tokens for one model in one service tier; `cache_read` is None when it cannot cache."""

    input: Decimal
    output: Decimal
    cache_read: Decimal | None
    cache_write: Decimal | None

    @property
    def caches(self) -> bool:
        return self.cache_read is not None

    @property
    def dearest_input(self) -> Decimal:
        """The highest price an input token can cost: a cache write can cost more than plain input."""
        return max(self.input, self.cache_write or self.input)


@dataclass(frozen=True)
class Usage:
    """What one call used, as Converse reports it (`inputTokens` excludes cache reads and writes)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0

    @classmethod
    def from_converse(cls, usage: Mapping[str, Any]) -> Usage:
        return cls(
            input_tokens=int(usage.get("inputTokens") or 0),
            output_tokens=int(usage.get("outputTokens") or 0),
            cache_read_tokens=int(usage.get("cacheReadInputTokens") or 0),
            cache_write_tokens=int(usage.get("cacheWriteInputTokens") or 0),
        )

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
        )


def parse_prices(table: Mapping[str, Mapping[str, Mapping[str, str]]]) -> dict[str, dict[str, TierPrices]]:
    """`{model: {tier: {"in", "out", "cr"?, "cw"?}}}` (the GATEWAY_CONFIG `prices`) as `TierPrices`."""
    parsed: dict[str, dict[str, TierPrices]] = {}
    for model, tiers in table.items():
        parsed[model] = {}
        for tier, row in tiers.items():
            read = row.get("cr")
            write = row.get("cw")
            parsed[model][tier] = TierPrices(
                input=Decimal(row["in"]),
                output=Decimal(row["out"]),
                cache_read=None if read is None else Decimal(read),
                # no write surcharge known (Amazon Nova): written tokens at the input rate
                cache_write=None if read is None else Decimal(write if write is not None else row["in"]),
            )
    return parsed


def estimated_input_tokens(body_chars: int) -> int:
    return math.ceil(body_chars / CHARS_PER_TOKEN)


def worst_case_micro_usd(
    prices: TierPrices, input_tokens: int, max_output_tokens: int, *, caching: bool
) -> int:
    """The most the call can cost if the estimate holds: every input token at the dearest input rate (a cache
    write when the call sets a cache point) and every allowed output token."""
    rate = prices.dearest_input if caching else prices.input
    return _ceil(input_tokens * rate + max_output_tokens * prices.output)


def actual_micro_usd(prices: TierPrices, usage: Usage) -> int:
    """What the call cost, from the usage Bedrock reported."""
    total = usage.input_tokens * prices.input + usage.output_tokens * prices.output
    if usage.cache_read_tokens:
        total += usage.cache_read_tokens * (prices.cache_read or prices.input)
    if usage.cache_write_tokens:
        total += usage.cache_write_tokens * (prices.cache_write or prices.input)
    return _ceil(total)


def usd(micro: int) -> str:
    """Micro-USD as a USD string with 6 decimals."""
    return f"{Decimal(micro) / Decimal(1_000_000):.6f}"


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding="ROUND_CEILING"))
