"""Cost of Bedrock on-demand tokens (InvokeModel / Converse), with or without prompt caching.

Pure: (model id, token usage, price catalogue, Region) -> CostEstimate; no CDK.

What is billed, per month: input tokens at the model's input price and output tokens at its output price.
With prompt caching, only the cached prefix of each request's input changes: on a cache hit it is read at the
cache-read price, on a miss it is written to the cache at the cache-write price. The rest of the input (the
part after the prefix) and the output are billed exactly as without caching.

A model whose catalogue entry has a cache-read price but no cache-write price (Amazon Nova) has its cache
writes priced at the standard input rate, and an assumption says so: the Bedrock user guide says tokens
written to the cache are billed at a higher rate "depending on the model" and that every other token is
billed at the standard input rate; no source in the catalogue gives Nova a write surcharge.

Long context: a model with a long-context rate (`specs/models.py`, `BedrockModel.long_context_above`: Claude
Sonnet 4 and 4.5 above 200,000 input tokens) bills every token of a request whose input is longer than that at
its long-context prices, the catalogue's `<dimension>-above-200k` records (input, output, cache reads and
writes alike). `long_context_suffix` says when that applies; the batch estimator uses it too. A price the
catalogue lacks for such a request is its `UnknownPriceError`, never the base price.

This is the one place a plain on-demand token figure is computed: the advisor's on-demand, prompt-cache and
routed options use it, and a batch estimate's on-demand baseline should too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.specs.models import BEDROCK_MODELS
from inferwise.cost.validation import InvalidValueError, check_choice, check_number

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

PATTERN = "Bedrock on-demand"
CACHE_PATTERN = "Bedrock on-demand with prompt caching"
STANDARD_TIER = "standard"
TIERED_DIMENSIONS = ("input", "output", "cache-read")
"""The token dimensions a Flex or Priority tier bills at its own rate (`flex-input`, ...)."""


CacheTtl = Literal["5m", "1h"]
CACHE_TTLS: tuple[CacheTtl, ...] = ("5m", "1h")

CACHE_WRITE_FALLBACK_SOURCE = (
    "Amazon Bedrock user guide, 'Prompt caching for faster model inference': tokens written to the cache "
    "may be charged at a higher rate than uncached input depending on the model; tokens neither read from "
    "nor written to the cache are charged at the standard input rate"
)


def _decimal(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


MAX_REQUESTS_PER_MONTH = 10**12
"""Sanity limit of `TokenUsage.requests_per_month` (about 380,000 requests a second, all month)."""
MAX_TOKENS_PER_REQUEST = 10_000_000
"""Sanity limit of the tokens of one request (the largest context windows hold a few million)."""


@dataclass(frozen=True)
class TokenUsage:
    """A month of on-demand requests; every figure appears in the estimate's assumptions.

    - `requests_per_month`: requests sent (>= 0; a fraction is allowed, e.g. when a volume is scaled).
    - `input_tokens_per_request` / `output_tokens_per_request`: average tokens per request (>= 0).
    - `cached_prefix_tokens`: of the input tokens, the shared prefix marked for prompt caching (0 = no cache;
      at most `input_tokens_per_request`).
    - `cache_hit_rate`: share of requests whose prefix is read from the cache (0-1); the others write it.
    - `cache_ttl`: the cache checkpoint's time to live, `5m` (default) or `1h`; it selects the write price.
    """

    requests_per_month: int | float | Decimal
    input_tokens_per_request: int
    output_tokens_per_request: int
    cached_prefix_tokens: int = 0
    cache_hit_rate: float | Decimal = 0.0
    cache_ttl: CacheTtl = "5m"

    def __post_init__(self) -> None:
        check_number(
            "TokenUsage.requests_per_month", self.requests_per_month, low=0, cap=MAX_REQUESTS_PER_MONTH
        )
        for name in ("input_tokens_per_request", "output_tokens_per_request", "cached_prefix_tokens"):
            check_number(
                f"TokenUsage.{name}", getattr(self, name), low=0, whole=True, cap=MAX_TOKENS_PER_REQUEST
            )
        if self.cached_prefix_tokens > self.input_tokens_per_request:
            raise InvalidValueError(
                f"TokenUsage.cached_prefix_tokens must be <= input_tokens_per_request "
                f"({self.input_tokens_per_request}), got {self.cached_prefix_tokens}"
            )
        check_number("TokenUsage.cache_hit_rate", self.cache_hit_rate, low=0, high=1)
        check_choice("TokenUsage.cache_ttl", self.cache_ttl, CACHE_TTLS)

    @property
    def requests(self) -> Decimal:
        return _decimal(self.requests_per_month)

    @property
    def hit_rate(self) -> Decimal:
        return _decimal(self.cache_hit_rate)

    @property
    def uses_cache(self) -> bool:
        return self.cached_prefix_tokens > 0


def long_context_threshold(model_id: str, catalog: PriceCatalog, region: str) -> int | None:
    """The input tokens per request above which `model_id` bills at its long-context rates, or None (one rate
    whatever the length). An unknown model raises the catalogue's `UnknownPriceError`."""
    entry = BEDROCK_MODELS.get(catalog.bedrock(model_id, region, "input").sku)
    return None if entry is None else entry.long_context_above


def long_context_suffix(
    model_id: str, input_tokens_per_request: int, catalog: PriceCatalog, region: str
) -> str:
    """`-above-200k` when a request of `input_tokens_per_request` is billed at the model's long-context rates
    (append it to every dimension: `input-above-200k`, `batch-output-above-200k`), else ``."""
    threshold = long_context_threshold(model_id, catalog, region)
    if threshold is None or input_tokens_per_request <= threshold:
        return ""
    return f"-above-{threshold // 1000}k"


def long_context_text(suffix: str, input_tokens_per_request: int) -> str:
    """The assumption a long-context line carries."""
    threshold = int(suffix.removeprefix("-above-").removesuffix("k")) * 1000
    return (
        f"long context: {input_tokens_per_request:,} input tokens per request is more than {threshold:,}, so every "
        f"token of the request is billed at the model's long-context rate (its threshold: specs/models.py, "
        "LONG_CONTEXT_SOURCE)"
    )


def supports_prompt_cache(model_id: str, catalog: PriceCatalog, region: str) -> bool:
    """Whether the catalogue prices cache reads for this model in `region` (an unknown model raises)."""
    from inferwise.cost.catalog import UnknownPriceError

    catalog.bedrock(model_id, region, "input")
    try:
        catalog.bedrock(model_id, region, "cache-read")
    except UnknownPriceError:
        return False
    return True


def on_demand_token_lines(
    model_id: str,
    usage: TokenUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    label: str = "",
    assumptions: Sequence[str] = (),
    tier: str = STANDARD_TIER,
) -> tuple[CostLine, ...]:
    """The token lines for `usage` on `model_id`: input, output, and with a cache, cache reads and writes.

    `label` prefixes each component (e.g. "small model: "). Output is billed only when the request has
    output tokens (an embedding model has no output price). `tier` "flex" or "priority" prices input, output
    and cache reads at the tier's rates (`tiered_dimension`). Every price comes from `catalog`; a price it
    lacks raises its `UnknownPriceError`.
    """
    requests = usage.requests
    prefix = usage.cached_prefix_tokens
    uncached = usage.input_tokens_per_request - prefix
    per_request = f"{_count(requests)} requests a month"
    shared: tuple[str, ...] = (f"model {model_id}", per_request, *assumptions)
    suffix = long_context_suffix(model_id, usage.input_tokens_per_request, catalog, region)
    if suffix:
        shared += (long_context_text(suffix, usage.input_tokens_per_request),)
        label += "long context, "
    input_text = (
        f"{uncached:,} uncached input tokens per request (of {usage.input_tokens_per_request:,}; the first "
        f"{prefix:,} are the cached prefix)"
        if usage.uses_cache
        else f"{usage.input_tokens_per_request:,} input tokens per request"
    )
    lines = [
        _line(
            catalog,
            region,
            model_id,
            "input" + suffix,
            f"{label}input tokens",
            requests * uncached,
            (*shared, input_text),
            tier,
        )
    ]
    if usage.output_tokens_per_request > 0:
        lines.append(
            _line(
                catalog,
                region,
                model_id,
                "output" + suffix,
                f"{label}output tokens",
                requests * usage.output_tokens_per_request,
                (*shared, f"{usage.output_tokens_per_request:,} output tokens per request"),
                tier,
            )
        )
    if usage.uses_cache:
        lines += _cache_lines(model_id, usage, catalog, region, label, shared, suffix, tier)
    return tuple(lines)


def estimate_bedrock_on_demand(
    model_id: str,
    usage: TokenUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    assumptions: Sequence[str] = (),
) -> CostEstimate:
    """On-demand tokens for `usage`. With a cached prefix, the baseline is the same requests without caching."""
    lines = on_demand_token_lines(model_id, usage, catalog, region)
    tokens = usage.input_tokens_per_request + usage.output_tokens_per_request
    usage_text = (
        f"{_count(usage.requests)} requests a month x ({usage.input_tokens_per_request:,} input + "
        f"{usage.output_tokens_per_request:,} output tokens) = {_count(usage.requests * tokens)} tokens a month"
    )
    baseline = None
    notes: list[str] = []
    if usage.uses_cache:
        plain = TokenUsage(usage.requests, usage.input_tokens_per_request, usage.output_tokens_per_request)
        baseline = CostEstimate(
            construct_path="",
            pattern=PATTERN,
            region=region,
            lines=on_demand_token_lines(model_id, plain, catalog, region),
        )
        notes.append(
            "Bedrock caches a prefix only from a model-specific minimum length per cache checkpoint (1,024 tokens "
            "for Claude 3.7 Sonnet, per the Bedrock user guide); a shorter prefix is never cached and is billed as "
            "ordinary input."
        )
    return CostEstimate(
        construct_path="",
        pattern=CACHE_PATTERN if usage.uses_cache else PATTERN,
        region=region,
        lines=lines,
        baseline=baseline,
        assumptions=(usage_text, *assumptions),
        notes=tuple(notes),
    )


def _cache_lines(
    model_id: str,
    usage: TokenUsage,
    catalog: PriceCatalog,
    region: str,
    label: str,
    shared: Sequence[str],
    suffix: str = "",
    tier: str = STANDARD_TIER,
) -> list[CostLine]:
    from inferwise.cost.catalog import UnknownPriceError

    requests, prefix, hits = usage.requests, usage.cached_prefix_tokens, usage.hit_rate
    hit_text = f"cache hit rate {_percent(hits)}: {prefix:,} prefix tokens read from the cache per hit"
    lines = [
        _line(
            catalog,
            region,
            model_id,
            "cache-read" + suffix,
            f"{label}cache reads (prefix, cache hits)",
            requests * hits * prefix,
            (*shared, hit_text),
            tier,
        )
    ]
    write_dimension = f"cache-write-{usage.cache_ttl}{suffix}"
    miss_text = (
        f"cache misses {_percent(1 - hits)}: the {prefix:,}-token prefix is written to the cache "
        f"({usage.cache_ttl} TTL) on each miss"
    )
    try:
        catalog.bedrock(model_id, region, write_dimension)
    except UnknownPriceError:
        lines.append(
            _line(
                catalog,
                region,
                model_id,
                "input" + suffix,
                f"{label}cache writes (prefix, cache misses; standard input rate)",
                requests * (1 - hits) * prefix,
                (
                    *shared,
                    miss_text,
                    f"the catalogue has no {write_dimension} price for {model_id} in {region}: cache writes are "
                    f"priced at the standard input rate ({CACHE_WRITE_FALLBACK_SOURCE}); a write surcharge would "
                    "make caching dearer than shown",
                ),
                tier,
            )
        )
        return lines
    lines.append(
        _line(
            catalog,
            region,
            model_id,
            write_dimension,
            f"{label}cache writes (prefix, cache misses)",
            requests * (1 - hits) * prefix,
            (*shared, miss_text),
            tier,
        )
    )
    return lines


def tiered_dimension(dimension: str, tier: str) -> str:
    """`dimension` as a service tier bills it: `flex-input`, `priority-cache-read-above-200k`, ... Cache writes
    keep their Standard price (the catalogue has no tier-specific write price)."""
    if tier == STANDARD_TIER or not dimension.startswith(TIERED_DIMENSIONS):
        return dimension
    return f"{tier}-{dimension}"


def _line(
    catalog: PriceCatalog,
    region: str,
    model_id: str,
    dimension: str,
    component: str,
    tokens: Decimal,
    assumptions: Sequence[str],
    tier: str = STANDARD_TIER,
) -> CostLine:
    notes = tuple(assumptions) if tier == STANDARD_TIER else (*assumptions, f"{tier} service tier")
    return catalog.bedrock_line(
        component, model_id, region, tiered_dimension(dimension, tier), tokens, assumptions=notes
    )


def _count(value: Decimal) -> str:
    return f"{value.to_integral_value():,}"


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"
