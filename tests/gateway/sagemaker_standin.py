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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.config import Config

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

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                path = urllib.parse.unquote(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if not (path.startswith("/endpoints/") and path.endswith("/invocations")):
                    return self._send(404, {"message": f"no route {path}"})
                endpoint = path[len("/endpoints/") : -len("/invocations")]
                component = self.headers.get("X-Amzn-SageMaker-Inference-Component", "")
                with stand_in._lock:
                    stand_in.calls.append((endpoint, component, body))
                answer = dict(stand_in.behaviour(endpoint, component, body))
                status = answer.pop("_status", 200)
                headers = {"x-amzn-errortype": answer.pop("_error")} if "_error" in answer else {}
                self._send(status, answer, headers)

            def _send(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def client(self) -> Any:
        return boto3.client(
            "sagemaker-runtime",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
