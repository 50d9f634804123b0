"""Which model a Bedrock model id is, whether its weights are open, and what holding it in memory takes.

`BEDROCK_MODELS` lists every Bedrock model the bundled price catalogue prices (tests check the two agree):
whether its weights are published and, where they are and the catalogue sizes them, which open model it is.
`OPEN_MODELS` gives each sized open model its parameter count, context length and the attention figures the
KV cache follows from. Closed models (Claude, Nova, Titan, Cohere, the Mistral models AWS serves without
published weights) cannot be self-hosted; a user may name an open model to price in their place (a
substitute, a different model whose quality is not compared).

Memory, in bytes:
- weights = parameters x bytes per parameter at the serving precision (`BYTES_PER_PARAMETER`: 16-bit 2,
  fp8/int8 1, int4 0.5);
- KV cache per token = 2 (K and V) x layers x KV heads x head dim x 2 bytes (the cache is kept in 16 bits
  whatever the weights' precision; an fp8 cache would halve it). Llama 3.1 8B: 2 x 32 x 8 x 128 x 2 = 131,072
  bytes (the kv-cache-size crate's README and optimum-neuron's memory analysis give the same); Llama 3.1 70B:
  2 x 80 x 8 x 128 x 2 = 327,680 (frankdenneman.nl, "The dynamic world of LLM runtime memory", 2026-01-12).

Sources of the figures (the model cards' config.json unless said otherwise):
- Llama 3 / 3.1 8B: 32 layers, 32 heads, 8 KV heads, hidden 4096 (head dim 128); 8.03B parameters
  (keras-hub preset table, huggingface.co/keras/llama3_instruct_8b_en @ddbd9bf). Context: 8,192 tokens for
  Llama 3, 131,072 for Llama 3.1 (Meta model cards).
- Llama 3 / 3.1 / 3.3 70B: 80 layers, 64 heads, 8 KV heads, hidden 8192 (head dim 128), max positions
  131,072 for 3.1 (config.json derived from meta-llama/Meta-Llama-3.1-70B-Instruct); 3.3 70B has the 3.1
  architecture; Llama 3 70B has an 8,192-token context (Meta model card). 70.6B parameters (the safetensors
  count on the model pages; the nominal 70B would understate the weights by 0.8 %).
- Mistral 7B Instruct v0.2: 32 layers, 32 heads, 8 KV heads, head dim 128, 32k context, no sliding window
  (mistralai/Mistral-7B-Instruct-v0.2 model card; Azure/azureml-assets model description); 7.24B parameters.
- Mixtral 8x7B Instruct v0.1: 32 layers, 8 KV heads, head dim 128, max positions 32,768; 46.7B parameters in
  total, 12.9B active per token (mistralai/Mixtral-8x7B-Instruct-v0.1 config.json and model card). All
  experts must be in memory, so the total counts for the weights.
- Qwen2.5 7B Instruct: 28 layers, 28 heads, 4 KV heads, hidden 3584 (head dim 128); 7.61B parameters;
  Qwen2.5 72B Instruct: 80 layers, 64 heads, 8 KV heads, hidden 8192; 72.7B parameters; both 32,768 tokens
  without YaRN scaling (Qwen/Qwen2.5-*-Instruct config.json and model cards).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Precision = Literal["bf16", "fp16", "fp8", "int8", "int4"]
PRECISIONS: tuple[Precision, ...] = ("bf16", "fp16", "fp8", "int8", "int4")

BYTES_PER_PARAMETER: dict[Precision, Decimal] = {
    "bf16": Decimal(2),
    "fp16": Decimal(2),
    "fp8": Decimal(1),
    "int8": Decimal(1),
    "int4": Decimal("0.5"),
}
"""Bytes each weight takes at a serving precision (int4 packs two weights in a byte; scales not counted)."""

KV_CACHE_BYTES_PER_VALUE = 2
"""The KV cache is counted in 16 bits (bf16), whatever the precision of the weights."""

Weights = Literal["open", "closed"]


@dataclass(frozen=True)
class OpenModel:
    """An open-weight model the advisor can size: what its weights and its KV cache take."""

    name: str
    architecture: str
    parameters_billion: Decimal
    layers: int
    kv_heads: int
    head_dim: int
    context_tokens: int
    licence: str

    @property
    def kv_bytes_per_token(self) -> int:
        """2 (K and V) x layers x KV heads x head dim x 2 bytes."""
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_CACHE_BYTES_PER_VALUE

    def weight_bytes(self, precision: Precision) -> Decimal:
        return self.parameters_billion * Decimal(10) ** 9 * BYTES_PER_PARAMETER[precision]


@dataclass(frozen=True)
class BedrockModel:
    """A Bedrock model the price catalogue has: closed, or open and (where sized) which open model it is.

    `context_tokens` is the most input tokens one request may carry (`CONTEXT_SOURCE`); `long_context_above`,
    where set, is the input length above which every token of a request is billed at the model's long-context
    rates (`LONG_CONTEXT_SOURCE`; the catalogue's `<dimension>-above-<N>k` records).
    """

    sku: str
    weights: Weights
    open_model: str | None = None
    note: str = ""
    context_tokens: int | None = None
    long_context_above: int | None = None


_LLAMA = "Llama 3 Community Licence"
_LLAMA_31 = "Llama 3.1 Community Licence"
_APACHE = "Apache 2.0"

OPEN_MODELS: dict[str, OpenModel] = {
    model.name: model
    for model in (
        OpenModel(
            "meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-8b", Decimal("8.03"), 32, 8, 128, 8192, _LLAMA
        ),
        OpenModel(
            "meta-llama/Llama-3.1-8B-Instruct", "llama-3-8b", Decimal("8.03"), 32, 8, 128, 131072, _LLAMA_31
        ),
        OpenModel(
            "meta-llama/Meta-Llama-3-70B-Instruct", "llama-3-70b", Decimal("70.6"), 80, 8, 128, 8192, _LLAMA
        ),
        OpenModel(
            "meta-llama/Llama-3.1-70B-Instruct", "llama-3-70b", Decimal("70.6"), 80, 8, 128, 131072, _LLAMA_31
        ),
        OpenModel(
            "meta-llama/Llama-3.3-70B-Instruct",
            "llama-3-70b",
            Decimal("70.6"),
            80,
            8,
            128,
            131072,
            "Llama 3.3 Community Licence",
        ),
        OpenModel(
            "mistralai/Mistral-7B-Instruct-v0.2", "mistral-7b", Decimal("7.24"), 32, 8, 128, 32768, _APACHE
        ),
        OpenModel(
            "mistralai/Mixtral-8x7B-Instruct-v0.1",
            "mixtral-8x7b",
            Decimal("46.7"),
            32,
            8,
            128,
            32768,
            _APACHE,
        ),
        OpenModel("Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b", Decimal("7.61"), 28, 4, 128, 32768, _APACHE),
        OpenModel(
            "Qwen/Qwen2.5-72B-Instruct", "qwen2.5-72b", Decimal("72.7"), 80, 8, 128, 32768, "Qwen Licence"
        ),
    )
}
"""Open-weight models the advisor sizes, by their Hugging Face name (what `--substitute-model` takes)."""

_NOT_SIZED = "open weights, but the catalogue has no config figures for it: not sized for self-hosting"

CONTEXT_SOURCE = (
    "litellm 1.109.1 max_input_tokens of the model's Bedrock entry (inferwise/cost/prices/sources/"
    "bedrock_litellm_1.109.1.json; genai-prices 0.2.3 context_window agrees where it lists the model), except "
    "Claude Sonnet 4 and 4.5: 1,000,000 with the 1M-token context beta (request header context-1m-2025-08-07; "
    "Claude Help Center article 8606395, 'How large is the Claude API's context window?'), litellm's 200,000 being "
    "the window without it"
)
"""Where `BedrockModel.context_tokens` comes from."""
LONG_CONTEXT_SOURCE = (
    "litellm 1.109.1 prices Claude Sonnet 4 and 4.5 with *_above_200k_tokens fields: every token of a request "
    "whose input exceeds 200,000 tokens at the long-context rate (input and cache x 2, output x 1.5). The "
    "aws-samples fallback table (2026-03-03) also lists long-context rates for Sonnet 4.6 and Opus 4.6, but "
    "genai-prices 0.2.3 (2026-11) prices both flat over their 1M window and litellm 1.109.1 has no long-context "
    "field for them: the newer, flat price is taken"
)
"""Where `BedrockModel.long_context_above` comes from."""
_LONG_CONTEXT = 200_000
_LONG_CONTEXT_MODELS = frozenset(
    {"anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"}
)
"""The models billed at long-context rates above `_LONG_CONTEXT` input tokens (`LONG_CONTEXT_SOURCE`)."""
_CLOSED_CONTEXT_TOKENS: dict[str, int] = {
    "amazon.nova-micro-v1:0": 128_000,
    "amazon.nova-lite-v1:0": 300_000,
    "amazon.nova-pro-v1:0": 300_000,
    "amazon.nova-premier-v1:0": 1_000_000,
    "amazon.titan-embed-text-v1": 8_192,
    "amazon.titan-embed-text-v2:0": 8_192,
    "anthropic.claude-3-5-haiku-20241022-v1:0": 200_000,
    "anthropic.claude-3-7-sonnet-20250219-v1:0": 200_000,
    "anthropic.claude-haiku-4-5-20251001-v1:0": 200_000,
    "anthropic.claude-opus-4-1-20250805-v1:0": 200_000,
    "anthropic.claude-opus-4-5-20251101-v1:0": 200_000,
    "anthropic.claude-opus-4-6-v1": 1_000_000,
    "anthropic.claude-sonnet-4-20250514-v1:0": 1_000_000,
    "anthropic.claude-sonnet-4-5-20250929-v1:0": 1_000_000,
    "anthropic.claude-sonnet-4-6": 1_000_000,
    "cohere.embed-english-v3": 512,
    "cohere.embed-multilingual-v3": 512,
    "cohere.embed-v4:0": 128_000,
}
"""The closed models listed without a note, each with its context window in tokens (`CONTEXT_SOURCE`)."""

BEDROCK_MODELS: dict[str, BedrockModel] = {
    model.sku: model
    for model in (
        BedrockModel(
            "meta.llama3-8b-instruct-v1:0",
            "open",
            "meta-llama/Meta-Llama-3-8B-Instruct",
            context_tokens=8_192,
        ),
        BedrockModel(
            "meta.llama3-1-8b-instruct-v1:0",
            "open",
            "meta-llama/Llama-3.1-8B-Instruct",
            context_tokens=128_000,
        ),
        BedrockModel(
            "meta.llama3-70b-instruct-v1:0",
            "open",
            "meta-llama/Meta-Llama-3-70B-Instruct",
            context_tokens=8_192,
        ),
        BedrockModel(
            "meta.llama3-1-70b-instruct-v1:0",
            "open",
            "meta-llama/Llama-3.1-70B-Instruct",
            context_tokens=128_000,
        ),
        BedrockModel(
            "meta.llama3-3-70b-instruct-v1:0",
            "open",
            "meta-llama/Llama-3.3-70B-Instruct",
            context_tokens=128_000,
        ),
        BedrockModel(
            "mistral.mistral-7b-instruct-v0:2",
            "open",
            "mistralai/Mistral-7B-Instruct-v0.2",
            context_tokens=32_000,
        ),
        BedrockModel(
            "mistral.mixtral-8x7b-instruct-v0:1",
            "open",
            "mistralai/Mixtral-8x7B-Instruct-v0.1",
            context_tokens=32_000,
        ),
        BedrockModel(
            "mistral.mistral-large-2407-v1:0",
            "open",
            None,
            f"{_NOT_SIZED} (Mistral Research Licence)",
            context_tokens=128_000,
        ),
        BedrockModel(
            "mistral.mistral-large-3-675b-instruct", "open", None, _NOT_SIZED, context_tokens=256_000
        ),
        BedrockModel(
            "mistral.pixtral-large-2502-v1:0",
            "open",
            None,
            f"{_NOT_SIZED} (Mistral Research Licence)",
            context_tokens=128_000,
        ),
        BedrockModel(
            "mistral.mistral-large-2402-v1:0",
            "closed",
            None,
            "Mistral Large (24.02): weights not published",
            context_tokens=32_000,
        ),
        BedrockModel(
            "mistral.mistral-small-2402-v1:0",
            "closed",
            None,
            "Mistral Small (24.02): weights not published",
            context_tokens=32_000,
        ),
        *(
            BedrockModel(
                sku,
                "closed",
                context_tokens=tokens,
                long_context_above=_LONG_CONTEXT if sku in _LONG_CONTEXT_MODELS else None,
            )
            for sku, tokens in _CLOSED_CONTEXT_TOKENS.items()
        ),
    )
}
"""Every Bedrock model of the price catalogue, by its catalogue sku."""
