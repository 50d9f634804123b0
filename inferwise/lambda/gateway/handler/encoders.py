"""ConverseStream events as Server-Sent Events, in the caller's shape.

- Converse shape: every event Bedrock sends (`messageStart`, `contentBlockStart`, `contentBlockDelta`,
  `contentBlockStop`, `messageStop`, `metadata`) becomes one SSE event named after it, its data the event's
  body as boto3 parsed it; after `metadata` the gateway adds an `inferwise` event (model, tier, cost).
- OpenAI shape: `chat.completion.chunk` objects in `data:` lines: the role first, then one chunk per text
  delta, a chunk with `finish_reason` at `messageStop`, a last chunk with `usage` (and empty `choices`) when
  `stream_options.include_usage` is set, then `data: [DONE]`.

Either way a stream that breaks ends with `event: error` and `{"error": {"type", "code", "message"}}`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from ..common import sse
from ..common.responses import finish_reason, openai_usage


class Encoder(Protocol):
    def relay(self, event: Mapping[str, Any]) -> Iterator[bytes]: ...

    def finish(self, summary: Mapping[str, str]) -> Iterator[bytes]: ...


def failure(code: str, message: str) -> bytes:
    """The SSE event that ends a broken stream, in both shapes."""
    return sse.event({"error": {"type": "stream_failed", "code": code, "message": message}}, "error")


class ConverseEvents:
    """Bedrock's events, renamed into SSE `event:` lines and otherwise untouched."""

    def relay(self, event: Mapping[str, Any]) -> Iterator[bytes]:
        for name, body in event.items():
            yield sse.event(body, name)

    def finish(self, summary: Mapping[str, str]) -> Iterator[bytes]:
        yield sse.event(summary, "inferwise")


class OpenAIChunks:
    """OpenAI `chat.completion.chunk` objects; text deltas only (the OpenAI shape has no tool use here)."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.usage: Mapping[str, Any] = {}

    def relay(self, event: Mapping[str, Any]) -> Iterator[bytes]:
        if "messageStart" in event:
            yield self._chunk(
                [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]
            )
        elif "contentBlockDelta" in event:
            text = (event["contentBlockDelta"].get("delta") or {}).get("text")
            if text:
                yield self._chunk([{"index": 0, "delta": {"content": text}, "finish_reason": None}])
        elif "messageStop" in event:
            reason = finish_reason(event["messageStop"].get("stopReason"))
            yield self._chunk([{"index": 0, "delta": {}, "finish_reason": reason}])
        elif "metadata" in event:
            self.usage = event["metadata"].get("usage") or {}

    def finish(self, summary: Mapping[str, str]) -> Iterator[bytes]:
        if self.include_usage:
            yield self._chunk([], openai_usage(self.usage))
        yield sse.event("[DONE]")

    def _chunk(self, choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:  # as OpenAI does: null on every chunk but the last
            body["usage"] = usage
        return sse.event(body)
