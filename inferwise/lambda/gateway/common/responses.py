"""HTTP responses of the function URL, in the caller's shape (Converse or OpenAI chat completions)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from .budget import Refusal
from .pricing import usd


def http(status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
    }


def error(status: int, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return http(status, {"error": {"type": kind, "message": message, **extra}})


def budget_refused(refusal: Refusal, now_epoch: float) -> dict[str, Any]:
    """HTTP 429 with the budget, what is spent and reserved, and when the budget resets (UTC)."""
    resets = refusal.resets_at
    return http(
        429,
        {
            "error": {
                "type": "budget_exceeded",
                "message": (
                    f"tenant {refusal.tenant!r} has no room for this request in this month's budget "
                    f"(USD {usd(refusal.budget_micro_usd)}); it resets at {resets.isoformat()}"
                ),
                "tenant": refusal.tenant,
                "budget_usd": usd(refusal.budget_micro_usd),
                "spent_usd": usd(refusal.spent_micro_usd),
                "reserved_usd": usd(refusal.reserved_micro_usd),
                "requested_usd": usd(refusal.requested_micro_usd),
                "resets_at": resets.isoformat().replace("+00:00", "Z"),
            }
        },
        {"retry-after": str(max(int(resets.timestamp() - now_epoch), 1))},
    )


def answer_text(response: Mapping[str, Any]) -> str:
    content = ((response.get("output") or {}).get("message") or {}).get("content") or []
    return "".join(str(block.get("text", "")) for block in content if isinstance(block, dict))


def converse_body(response: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The Converse response as Bedrock returned it (minus ResponseMetadata), plus the model that answered."""
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    body["modelId"] = model
    return body


_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def finish_reason(stop_reason: object) -> str:
    """The OpenAI `finish_reason` for a Converse `stopReason`."""
    return _FINISH.get(str(stop_reason), "stop")


def openai_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Converse token usage as OpenAI `usage` (cached and cache-written tokens are prompt tokens)."""
    cached = int(usage.get("cacheReadInputTokens") or 0)
    prompt = int(usage.get("inputTokens") or 0) + cached + int(usage.get("cacheWriteInputTokens") or 0)
    completion = int(usage.get("outputTokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def openai_body(response: Mapping[str, Any], model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer_text(response)},
                "finish_reason": finish_reason(response.get("stopReason")),
            }
        ],
        "usage": openai_usage(response.get("usage") or {}),
    }
