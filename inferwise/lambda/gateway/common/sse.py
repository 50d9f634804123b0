"""Answers as the Runtime API loop sends them: a status, headers and the body as an iterator of byte chunks.

A whole answer (the `{"statusCode", "headers", "body"}` dict of `responses.http`) is one chunk; a streamed
answer is a generator of Server-Sent Events, one event per chunk (https://html.spec.whatwg.org/multipage/
server-sent-events.html: `event:` and `data:` lines, a blank line after each event).
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

EVENT_STREAM = "text/event-stream"


class StreamBroken(RuntimeError):
    """Raised by a streamed body after its last chunk (an SSE error event) when the upstream stream broke:
    the Runtime API loop reports it to Lambda in the response's error trailers."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]
    cookies: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Stop a streamed body early (a generator's `finally` still runs: the budget settles)."""
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()


def whole(response: Mapping[str, Any]) -> Reply:
    """A `responses.http` dict as a one-chunk reply."""
    body = str(response.get("body") or "").encode("utf-8")
    return Reply(
        int(response["statusCode"]), dict(response.get("headers") or {}), iter([body] if body else [])
    )


def collect(reply: Reply) -> dict[str, Any]:
    """A reply read to its end as a `responses.http` dict (a broken stream keeps its error event)."""
    parts: list[bytes] = []
    with contextlib.suppress(StreamBroken):
        for chunk in reply.chunks:
            parts.append(chunk)
    return {"statusCode": reply.status, "headers": reply.headers, "body": b"".join(parts).decode("utf-8")}


def event(data: Mapping[str, Any] | str, name: str | None = None) -> bytes:
    """One Server-Sent Event: an optional `event:` line, one `data:` line (compact JSON), a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), default=_jsonable)
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {text}\n\n".encode()


def _jsonable(value: object) -> object:
    """Binary members of stream events (a redacted reasoning block) travel as base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
