"""A local SageMaker runtime stand-in: the InvokeEndpoint wire format on loopback, reached with boto3's
`endpoint_url`.

`POST /endpoints/{EndpointName}/invocations`, the inference component in the
`X-Amzn-SageMaker-Inference-Component` header, the body passed through. A warm component answers an OpenAI chat
completion (what TGI's messages API returns); a component at zero copies answers HTTP 400 with
`x-amzn-errortype: ValidationError` and the message SageMaker sends then (docs/scale-to-zero.md).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any

from botocore.config import Config

from tests.gateway.loopback import Loopback, QuietHandler
from tests.gateway.support import REGION

NO_CAPACITY_MESSAGE = (
    "Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress "
    "(if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API."
)

Behaviour = Callable[[str, str, dict[str, Any]], dict[str, Any]]


def chat_completion(
    text: str = "from the endpoint", finish: str = "stop", prompt: int = 12, completion: int = 4
) -> dict[str, Any]:
    return {
        "object": "chat.completion",
        "id": "",
        "created": 0,
        "model": "tgi",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def no_capacity(endpoint: str, component: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"_status": 400, "_error": "ValidationError", "message": NO_CAPACITY_MESSAGE}


class SageMakerStandIn:
    """Answers InvokeEndpoint with `behaviour(endpoint, component, body)`; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.behaviour: Behaviour = lambda endpoint, component, body: chat_completion()
        self._lock = threading.Lock()
        stand_in = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                path = urllib.parse.unquote(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if not (path.startswith("/endpoints/") and path.endswith("/invocations")):
                    return self.send_json(404, {"message": f"no route {path}"})
                endpoint = path[len("/endpoints/") : -len("/invocations")]
                component = self.headers.get("X-Amzn-SageMaker-Inference-Component", "")
                with stand_in._lock:
                    stand_in.calls.append((endpoint, component, body))
                answer = dict(stand_in.behaviour(endpoint, component, body))
                status = answer.pop("_status", 200)
                headers = {"x-amzn-errortype": answer.pop("_error")} if "_error" in answer else {}
                self.send_json(status, answer, headers)

        self.loopback = Loopback(Handler)

    def client(self) -> Any:
        return self.loopback.client("sagemaker-runtime", REGION, Config(retries={"max_attempts": 1}))

    def close(self) -> None:
        self.loopback.close()
