"""A route whose primary is a SageMaker inference component (a `ScaleToZeroEndpoint`), with a Bedrock fallback.

The component gets `InvokeEndpoint` with `InferenceComponentName` and an OpenAI chat-completions body
(`{"messages": [{"role", "content": str}], "max_tokens", "temperature", "top_p", "stop"}`): the messages API
that TGI containers (and vLLM-based ones with an OpenAI-compatible `/invocations`) serve; check your
container. It must answer a chat completion (`choices[0].message.content`, `finish_reason`,
`usage.prompt_tokens` / `completion_tokens`).

At zero copies the call fails at once with HTTP 400 `ValidationError` "Inference Component has no capacity to
process this request..." (docs/scale-to-zero.md). SageMaker counts that failure in the component's
`NoCapacityInvocationFailures` metric, which is what the endpoint's wake alarm watches: the failed call is
itself the wake signal, nothing else is called. `serve_endpoint` returns None then, and the handler answers
from the route's Bedrock model, reserved and settled like any Bedrock call, with `x-inferwise-fallback:
bedrock`. Any other endpoint failure is HTTP 502 (a model error is not retried on Bedrock at Bedrock prices).

The endpoint's answer has no per-token price (its instances are billed by the hour, in the endpoint's own
estimate), so it reserves nothing and reports `x-inferwise-cost-usd: 0.000000`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from .config import RouteConfig
from .metrics import emf_line
from .requests import BadRequest, GatewayRequest
from .responses import converse_body, error, http, openai_body

logger = logging.getLogger(__name__)

FALLBACK_HEADER = "x-inferwise-fallback"
NO_CAPACITY_CODE = "ValidationError"
NO_CAPACITY_TEXT = "no capacity"
_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "eos_token": "end_turn"}


def chat_payload(request: GatewayRequest, max_tokens: int) -> dict[str, Any]:
    """The request as an OpenAI chat-completions body: text blocks only, one per line (cache points are
    dropped)."""
    messages: list[dict[str, str]] = []
    system = "\n".join(str(block["text"]) for block in request.system if "text" in block)
    if system:
        messages.append({"role": "system", "content": system})
    for index, message in enumerate(request.messages):
        parts = []
        for position, block in enumerate(message["content"]):
            if "text" in block:
                parts.append(str(block["text"]))
            elif "cachePoint" not in block:
                raise BadRequest(
                    f"messages[{index}].content[{position}]",
                    "a route served by a SageMaker endpoint takes text blocks only",
                )
        messages.append({"role": str(message["role"]), "content": "\n".join(parts)})
    body: dict[str, Any] = {"messages": messages, "max_tokens": max_tokens}
    for source, target in (("temperature", "temperature"), ("topP", "top_p"), ("stopSequences", "stop")):
        if source in request.inference:
            body[target] = request.inference[source]
    return body


def as_converse(answer: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat completion as a Converse reply (what `converse_body` / `openai_body` render)."""
    choice = (answer.get("choices") or [{}])[0]
    text = (choice.get("message") or {}).get("content")
    if not isinstance(text, str):
        raise ValueError("no choices[0].message.content string in the endpoint's answer")
    usage = answer.get("usage") or {}
    counts = {
        "inputTokens": int(usage.get("prompt_tokens") or 0),
        "outputTokens": int(usage.get("completion_tokens") or 0),
    }
    counts["totalTokens"] = counts["inputTokens"] + counts["outputTokens"]
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": _STOP.get(str(choice.get("finish_reason")), "end_turn"),
        "usage": counts,
    }


def is_no_capacity(failure: Exception) -> bool:
    """True for InvokeEndpoint's answer at zero copies (HTTP 400 ValidationError '... no capacity ...')."""
    details = getattr(failure, "response", {}).get("Error", {})
    return (
        details.get("Code") == NO_CAPACITY_CODE
        and NO_CAPACITY_TEXT in str(details.get("Message", "")).lower()
    )


def serve_endpoint(
    sagemaker: Any,
    route: RouteConfig,
    request: GatewayRequest,
    max_tokens: int,
    emit: Callable[[str], None],
) -> dict[str, Any] | None:
    """The HTTP response from the route's endpoint (its answer, or why it failed), or None when it has no
    capacity and the Bedrock fallback must answer."""
    assert route.endpoint is not None
    endpoint_name, component = route.endpoint
    try:
        payload = json.dumps(chat_payload(request, max_tokens), separators=(",", ":"))
    except BadRequest as bad:
        return error(bad.status, "invalid_request", bad.message, field=bad.field)
    metric = {"EndpointCalls": 1, "Fallbacks": 0}
    try:
        result = sagemaker.invoke_endpoint(
            EndpointName=endpoint_name,
            InferenceComponentName=component,
            ContentType="application/json",
            Accept="application/json",
            Body=payload.encode(),
        )
        reply = as_converse(json.loads(result["Body"].read()))
    except Exception as failure:
        if is_no_capacity(failure):
            logger.info(
                "endpoint %s component %s has no capacity: Bedrock fallback", endpoint_name, component
            )
            return None
        logger.warning("endpoint %s component %s failed: %s", endpoint_name, component, failure)
        emit(emf_line(request.tenant, route.name, metric, {"endpoint": component}, _now_ms()))
        code = getattr(failure, "response", {}).get("Error", {}).get("Code", type(failure).__name__)
        return error(502, "endpoint_failed", f"{code} from {component}", endpoint=endpoint_name)
    usage = reply["usage"]
    values = {**metric, "InputTokens": usage["inputTokens"], "OutputTokens": usage["outputTokens"]}
    properties = {"models": [component], "endpoint": endpoint_name, "shape": request.shape}
    emit(emf_line(request.tenant, route.name, values, properties, _now_ms()))
    headers = {
        "x-inferwise-model": component,
        "x-inferwise-endpoint": endpoint_name,
        "x-inferwise-cost-usd": "0.000000",
        "x-inferwise-escalations": "0",
    }
    shape = openai_body if request.shape == "openai" else converse_body
    return http(200, shape(reply, component), headers)


def _now_ms() -> int:
    return int(time.time() * 1000)
