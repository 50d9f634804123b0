"""Read a Lambda function URL event (payload format 2.0) into one Converse request, whatever its shape.

Two request shapes are accepted, each whole or streamed:

- Bedrock Converse: `{"messages": [{"role", "content": [{"text"}, ...]}], "system": [{"text"}],
  "inferenceConfig": {"maxTokens", "temperature", "topP", "stopSequences"}}` at `/converse`,
  `/model/<route>/converse` or `/`; streamed at `/converse-stream` or `/model/<route>/converse-stream`;
- OpenAI chat completions: `{"model": <route>, "messages": [{"role": "system"|"user"|"assistant",
  "content": str | [{"type": "text", "text"}]}], "max_tokens" | "max_completion_tokens", "temperature",
  "top_p", "stop", "stream", "stream_options": {"include_usage"}}` at `/v1/chat/completions` or
  `/chat/completions`.

A malformed body is a `BadRequest` naming the field (HTTP 400).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

TENANT_HEADER = "x-inferwise-tenant"
ROUTE_HEADER = "x-inferwise-route"
DEFERRABLE_HEADER = "x-inferwise-deferrable"
OPENAI_PATHS = ("/v1/chat/completions", "/chat/completions")
CONVERSE_ENDINGS = ("/converse", "/converse-stream")
CONVERSE_ROLES = ("user", "assistant")


class BadRequest(ValueError):
    """A request the gateway cannot serve; `field` names the part of the request at fault."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status = status


@dataclass(frozen=True)
class GatewayRequest:
    shape: str  # "converse" or "openai"
    tenant: str
    route: str | None
    deferrable: bool | None  # None: the header is absent, the route decides
    messages: list[dict[str, Any]]
    system: list[dict[str, Any]]
    max_tokens: int | None
    inference: dict[str, Any] = field(default_factory=dict)
    body_chars: int = 0
    stream: bool = False  # answer as Server-Sent Events (handler/streaming.py)
    include_usage: bool = False  # OpenAI stream_options.include_usage: a last chunk with the usage
    invoke_ids: Mapping[str, str] = field(default_factory=dict)  # model -> the tenant's inference profile ARN


def parse_event(event: Mapping[str, Any]) -> GatewayRequest:
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    method = (event.get("requestContext") or {}).get("http", {}).get("method", "POST")
    if method != "POST":
        raise BadRequest("method", f"only POST is served, got {method}", status=405)
    text = _body_text(event)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as bad:
        raise BadRequest("body", f"not valid JSON ({bad.msg} at character {bad.pos})") from None
    if not isinstance(body, dict):
        raise BadRequest("body", f"must be a JSON object, got {type(body).__name__}")
    tenant = headers.get(TENANT_HEADER, "").strip()  # "" when absent; tenancy.resolve_tenant decides
    path = str(event.get("rawPath") or "/")
    deferrable = _deferrable(headers.get(DEFERRABLE_HEADER))
    route = headers.get(ROUTE_HEADER) or None
    if path.rstrip("/") in OPENAI_PATHS or (path == "/" and "model" in body):
        return _openai(body, tenant, route, deferrable, len(text))
    if path.startswith("/model/") and path.endswith(CONVERSE_ENDINGS):
        route = route or path[len("/model/") : path.rindex("/")] or None
    request = _converse(body, tenant, route, deferrable, len(text))
    return replace(request, stream=True) if path.endswith("/converse-stream") else request


def _body_text(event: Mapping[str, Any]) -> str:
    raw = event.get("body")
    if raw is None or raw == "":
        raise BadRequest("body", "empty: send a JSON request body")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(str(raw)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body", "isBase64Encoded but not base64 of UTF-8 text") from None
    return str(raw)


def _deferrable(value: str | None) -> bool | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(DEFERRABLE_HEADER, f"must be true or false, got {value!r}")


def _converse(
    body: dict[str, Any], tenant: str, route: str | None, deferrable: bool | None, chars: int
) -> GatewayRequest:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages", "must be a non-empty list of {role, content} objects")
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in CONVERSE_ROLES:
            raise BadRequest(f"{where}.role", f"must be one of {', '.join(CONVERSE_ROLES)}")
        content = message.get("content")
        if not isinstance(content, list) or not content or not all(isinstance(b, dict) for b in content):
            raise BadRequest(f"{where}.content", "must be a non-empty list of content blocks")
    system = body.get("system", [])
    if not isinstance(system, list) or not all(isinstance(b, dict) for b in system):
        raise BadRequest("system", "must be a list of {text} blocks")
    config = body.get("inferenceConfig", {})
    if not isinstance(config, dict):
        raise BadRequest("inferenceConfig", "must be an object")
    inference = {k: config[k] for k in ("temperature", "topP", "stopSequences") if k in config}
    max_tokens = _positive_int(config.get("maxTokens"), "inferenceConfig.maxTokens")
    return GatewayRequest(
        "converse", tenant, route, deferrable, messages, list(system), max_tokens, inference, chars
    )


def _openai(
    body: dict[str, Any], tenant: str, route: str | None, deferrable: bool | None, chars: int
) -> GatewayRequest:
    stream, include_usage = _stream_options(body)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("model", "must be the name of a gateway route")
    raw = body.get("messages")
    if not isinstance(raw, list) or not raw:
        raise BadRequest("messages", "must be a non-empty list of {role, content} objects")
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise BadRequest(where, "must be an object with role and content")
        role = message.get("role")
        text = _openai_text(message.get("content"), f"{where}.content")
        if role in ("system", "developer"):
            system.append({"text": text})
        elif role in CONVERSE_ROLES:
            _append_turn(messages, role, text)
        else:
            raise BadRequest(f"{where}.role", "must be one of system, developer, user, assistant")
    if not messages:
        raise BadRequest("messages", "needs at least one user message")
    inference: dict[str, Any] = {}
    for source, target in (("temperature", "temperature"), ("top_p", "topP")):
        if body.get(source) is not None:
            inference[target] = body[source]
    stop = body.get("stop")
    if stop is not None:
        inference["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    limit = body.get("max_completion_tokens", body.get("max_tokens"))
    field_name = "max_completion_tokens" if "max_completion_tokens" in body else "max_tokens"
    max_tokens = _positive_int(limit, field_name)
    request = GatewayRequest(
        "openai", tenant, route or model, deferrable, messages, system, max_tokens, inference, chars
    )
    return replace(request, stream=stream, include_usage=include_usage)


def _stream_options(body: dict[str, Any]) -> tuple[bool, bool]:
    """OpenAI `stream` (null or a boolean) and `stream_options.include_usage` (only with stream: true)."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise BadRequest("stream", f"must be true or false, got {stream!r}")
    options = body.get("stream_options")
    if options is None:
        return bool(stream), False
    if not stream:
        raise BadRequest("stream_options", "only allowed with stream: true")
    if not isinstance(options, dict):
        raise BadRequest("stream_options", "must be an object")
    include_usage = options.get("include_usage", False)
    if not isinstance(include_usage, bool):
        raise BadRequest("stream_options.include_usage", f"must be true or false, got {include_usage!r}")
    return True, include_usage


def _openai_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        parts = []
        for index, part in enumerate(content):
            if (
                not isinstance(part, dict)
                or part.get("type") != "text"
                or not isinstance(part.get("text"), str)
            ):
                raise BadRequest(f"{where}[{index}]", "only {type: text, text} parts are supported")
            parts.append(part["text"])
        return "".join(parts)
    raise BadRequest(where, "must be a string or a non-empty list of text parts")


def _append_turn(messages: list[dict[str, Any]], role: str, text: str) -> None:
    """Converse wants alternating roles: consecutive turns of one role become one message."""
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].append({"text": text})
    else:
        messages.append({"role": role, "content": [{"text": text}]})


def _positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(name, f"must be a whole number >= 1, got {value!r}")
    return value
