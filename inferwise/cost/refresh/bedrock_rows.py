"""Which Bedrock Price List rows are token prices inferwise keeps, and for which dimension.

Rows are classified one by one: batch rows (`batch` anywhere in usagetype, feature or inferenceType, any case)
only ever fill the `batch-*` dimensions; custom-model, provisioned, flex, priority, long-context and media
rows are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from inferwise.cost.refresh.errors import PriceListError

_BEDROCK_LEFT_OUT = (
    "custom-model", "customization", "provisioned", "reserved", "training", "storage", "flex", "priority",
    "latency-optimized", "latencyoptimized", "long-context", "long-ctx", "lctx", "mantle", "image", "video",
    "audio", "speech",
)  # fmt: skip
_BEDROCK_QUALIFIERS = ("-batch", "-standard", "-cross-region-global")
_BEDROCK_KINDS = (
    ("-cache-read-input-token-count", "cache-read"),
    ("-cache-read-input-tokens", "cache-read"),
    ("-cache-read-tokens", "cache-read"),
    ("-cache-write-input-token-count", "cache-write-5m"),
    ("-cache-write-input-tokens", "cache-write-5m"),
    ("-cache-write-tokens-5m", "cache-write-5m"),
    ("-cache-write-tokens-1h", "cache-write-1h"),
    ("-cache-write-tokens", "cache-write-5m"),
    ("-input-tokens", "input"),
    ("-output-tokens", "output"),
)
_MARKETPLACE_USAGE = re.compile(r"^[A-Z0-9]+-MP:[A-Z0-9]+_(?P<component>.+)-Units$")
_MARKETPLACE_LEGACY = {
    "InputTokenCount": "input",
    "OutputTokenCount": "output",
    "CacheReadInputTokenCount": "cache-read",
    "CacheWriteInputTokenCount": "cache-write-5m",
    "CacheWrite1hInputTokenCount": "cache-write-1h",
    "MillionBatchInputTokens": "batch-input",
    "MillionBatchOutputTokens": "batch-output",
}
_MARKETPLACE_SNAKE = re.compile(
    r"^(?P<kind>input|output|cache_read|cache_write)_tokens(?:_(?P<ttl>5m|1h))?(?P<scope>_global)?"
    r"_(?P<tier>standard|batch)$"
)
_SNAKE_KINDS = {
    "input": "input",
    "output": "output",
    "cache_read": "cache-read",
    "cache_write": "cache-write",
}


def _is_batch(*texts: str) -> bool:
    return any("batch" in text.lower() for text in texts)


def _to_batch(kind: str) -> str | None:
    return {"input": "batch-input", "output": "batch-output"}.get(kind)


def classify_bedrock_row(attributes: Mapping[str, str]) -> tuple[str, bool] | None:
    """(dimension, is_global) of an `AmazonBedrock` row; None for a row that is not a token price we keep."""
    usage_type = attributes.get("usagetype", "")
    feature = attributes.get("feature", "")
    inference_type = attributes.get("inferenceType", "")
    texts = (usage_type.lower(), feature.lower(), inference_type.lower())
    if any(marker in text for text in texts for marker in _BEDROCK_LEFT_OUT):
        return None
    stem = usage_type.lower()
    is_global = "cross-region-global" in stem
    if "cross-region" in stem and not is_global:
        return None
    stripped = True
    while stripped:
        stripped = False
        for qualifier in _BEDROCK_QUALIFIERS:
            if stem.endswith(qualifier):
                stem, stripped = stem[: -len(qualifier)], True
    kind = next((k for suffix, k in _BEDROCK_KINDS if stem.endswith(suffix)), None)
    if kind is None:
        return None
    family = "cache" if kind.startswith("cache") else kind
    said = inference_type.lower()
    said_family = (
        "cache" if "cache" in said else "output" if "output" in said else "input" if "input" in said else ""
    )
    if said_family and said_family != family:
        raise PriceListError(
            f"usagetype {usage_type!r} is {family} tokens "
            f"but inferenceType {inference_type!r} says {said_family}"
        )
    if _is_batch(*texts):
        batch = _to_batch(kind)
        return None if batch is None else (batch, is_global)
    return kind, is_global


def classify_marketplace_row(attributes: Mapping[str, str]) -> tuple[str, bool] | None:
    """(dimension, is_global) of an `AmazonBedrockFoundationModels` row (usagetype `XXX-MP:XXX_<c>-Units`)."""
    match = _MARKETPLACE_USAGE.match(attributes.get("usagetype", ""))
    if match is None:
        return None
    component = match["component"]
    dimension: str | None
    snake = _MARKETPLACE_SNAKE.match(component)
    if snake is not None:
        kind = _SNAKE_KINDS[snake["kind"]]
        if kind == "cache-write":
            kind = f"cache-write-{snake['ttl'] or '5m'}"
        elif snake["ttl"]:
            return None
        is_global = snake["scope"] is not None
        dimension = _to_batch(kind) if snake["tier"] == "batch" else kind
    else:
        base, *qualifiers = component.split("_")
        if base not in _MARKETPLACE_LEGACY or not set(qualifiers) <= {"Global", "Batch"}:
            return None
        if len(qualifiers) != len(set(qualifiers)):
            return None
        kind = _MARKETPLACE_LEGACY[base]
        is_global = "Global" in qualifiers
        if "Batch" in qualifiers:
            dimension = None if kind.startswith("batch-") else _to_batch(kind)
        else:
            dimension = kind
    if dimension is None:
        return None
    if _is_batch(component) and not dimension.startswith("batch-"):
        return None  # never let a batch row price an on-demand dimension
    return dimension, is_global
