"""Where the Price List sells each Bedrock model inferwise refreshes: `AmazonBedrock` (first-party models,
matched on `model`) or `AmazonBedrockFoundationModels` (marketplace models, matched on `servicename`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BEDROCK_SERVICE_CODE = "AmazonBedrock"
BEDROCK_MARKETPLACE_SERVICE_CODE = "AmazonBedrockFoundationModels"
MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"


@dataclass(frozen=True)
class BedrockModel:
    """Where the Price List sells one Bedrock model.

    `field`/`value` is the attribute the query matches exactly: `model` for `AmazonBedrock`, `servicename`
    for `AmazonBedrockFoundationModels`. `checked` is False for values seen in only one third-party source.
    """

    model_id: str
    service_code: str
    field: str
    value: str
    checked: bool


def _first_party(model_id: str, model: str, *, checked: bool) -> BedrockModel:
    return BedrockModel(model_id, BEDROCK_SERVICE_CODE, "model", model, checked)


def _marketplace(model_id: str, name: str, *, checked: bool) -> BedrockModel:
    return BedrockModel(
        model_id, BEDROCK_MARKETPLACE_SERVICE_CODE, "servicename", name + MARKETPLACE_SUFFIX, checked
    )


BEDROCK_MODELS: Mapping[str, BedrockModel] = {
    m.model_id: m
    for m in (
        # AmazonBedrock, `model` attribute (unit `1K tokens`).
        _first_party("amazon.nova-micro-v1:0", "Nova Micro", checked=True),
        _first_party("amazon.nova-lite-v1:0", "Nova Lite", checked=True),
        _first_party("amazon.nova-pro-v1:0", "Nova Pro", checked=True),
        _first_party("amazon.nova-premier-v1:0", "Nova Premier", checked=True),
        _first_party("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B", checked=False),
        _first_party("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B", checked=True),
        _first_party("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B", checked=False),
        _first_party("meta.llama3-8b-instruct-v1:0", "Llama 3 8B", checked=False),
        _first_party("meta.llama3-70b-instruct-v1:0", "Llama 3 70B", checked=False),
        _first_party("mistral.mistral-large-2402-v1:0", "Mistral Large", checked=False),
        _first_party("mistral.mistral-small-2402-v1:0", "Mistral Small", checked=False),
        _first_party("mistral.mistral-7b-instruct-v0:2", "Mistral 7B", checked=False),
        _first_party("mistral.mixtral-8x7b-instruct-v0:1", "Mixtral 8x7B", checked=False),
        # AmazonBedrockFoundationModels, `servicename` attribute (unit `Units` = per 1M tokens).
        _marketplace("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", checked=True),
        _marketplace("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", checked=True),
        _marketplace("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5", checked=True),
        _marketplace("anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5", checked=True),
        _marketplace("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6", checked=True),
        _marketplace("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", checked=True),
        _marketplace("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", checked=False),
        _marketplace("anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", checked=False),
        _marketplace("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", checked=False),
    )
}
