"""A local Bedrock stand-in (Converse wire format on loopback) and moto DynamoDB for the gateway handler.

Importing this module puts `inferwise/lambda` on sys.path, as the function's asset root is in Lambda.
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from botocore.config import Config

from tests.gateway.loopback import Loopback, QuietHandler
from tests.gateway.streams import converse_events, stream_frames

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "inferwise" / "lambda"
if str(LAMBDA_ROOT) not in sys.path:
    sys.path.insert(0, str(LAMBDA_ROOT))

handler = importlib.import_module("gateway.handler.handler")
config_module = importlib.import_module("gateway.common.config")
pricing = importlib.import_module("gateway.common.pricing")

REGION = "us-east-1"
TABLE = "iw-gateway-budgets"
LARGE = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
SMALL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA = "amazon.nova-pro-v1:0"

Behaviour = Callable[[str, dict[str, Any]], dict[str, Any]]


def reply(text: str = "ok", stop: str = "end_turn", **usage: int) -> dict[str, Any]:
    counts = {"inputTokens": 10, "outputTokens": 5, **usage}
    counts["totalTokens"] = counts["inputTokens"] + counts["outputTokens"]
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}] if text else []}},
        "stopReason": stop,
        "usage": counts,
        "metrics": {"latencyMs": 1},
    }


class StandIn:
    """Answers POST /model/{modelId}/converse with `behaviour(model_id, body)`; records every request."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.behaviour: Behaviour = lambda model, body: reply()
        # POST /model/{id}/converse-stream: items of tests.gateway.streams (events, exceptions, CUT), or an
        # error dict as for `behaviour`; the time each stream ended is recorded
        self.stream_behaviour: Callable[[str, dict[str, Any]], Any] = lambda model, body: converse_events()
        self.stream_finished_at: list[float] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(QuietHandler):
            disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall

            def do_POST(self) -> None:
                path = urllib.parse.unquote(self.path)
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
                if path.startswith("/model/") and path.endswith("/converse-stream"):
                    return self._stream(path[len("/model/") : -len("/converse-stream")], body)
                if not (path.startswith("/model/") and path.endswith("/converse")):
                    return self.send_json(404, {"message": f"no route {path}"})
                model = path[len("/model/") : -len("/converse")]
                with stand_in._lock:
                    stand_in.calls.append((model, body))
                answer = stand_in.behaviour(model, body)
                status = answer.pop("_status", 200)
                headers = {"x-amzn-errortype": answer.pop("_error")} if "_error" in answer else {}
                self.send_json(status, answer, headers)

            def _stream(self, model: str, body: dict[str, Any]) -> None:
                """ConverseStream: one event-stream message per HTTP chunk, flushed as it is produced."""
                with stand_in._lock:
                    stand_in.calls.append((model, body))
                answer = stand_in.stream_behaviour(model, body)
                if isinstance(answer, dict):
                    status = answer.pop("_status", 200)
                    return self.send_json(status, answer, {"x-amzn-errortype": answer.pop("_error", "")})
                self.send_response(200)
                self.send_header("content-type", "application/vnd.amazon.eventstream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for data in stream_frames(iter(answer)):
                    if data is None:  # cut the connection mid-stream
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        break
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    self.wfile.flush()
                else:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                stand_in.stream_finished_at.append(time.monotonic())

        self.loopback = Loopback(Handler)

    def client(self) -> Any:
        config = Config(retries={"max_attempts": 1}, max_pool_connections=64)
        return self.loopback.client("bedrock-runtime", REGION, config)

    def close(self) -> None:
        self.loopback.close()


@contextmanager
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    try:
        yield server
    finally:
        server.close()


def create_table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def event(body: Any, tenant: str | None = "acme", path: str = "/converse", **headers: str) -> dict[str, Any]:
    all_headers = {k.replace("_", "-"): v for k, v in headers.items()}
    if tenant is not None:
        all_headers["x-inferwise-tenant"] = tenant
    return {
        "version": "2.0",
        "rawPath": path,
        "headers": all_headers,
        "requestContext": {"http": {"method": "POST", "path": path}},
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def converse_body(
    text: str = "Hello", system: str | None = "You are terse.", max_tokens: int = 100
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": max_tokens},
    }
    if system is not None:
        body["system"] = [{"text": system}]
    return body
