"""Streaming test helpers: the AWS event-stream framing Bedrock's ConverseStream answers in, a fake Lambda
Runtime API on loopback that records when each response chunk arrives, and parsers for what it received.

Event-stream message (application/vnd.amazon.eventstream), all integers big-endian: total length (u32),
headers length (u32), CRC32 of those 8 bytes (u32), the headers, the payload, CRC32 of everything before
(u32). A header: name length (u8), name, value type (u8; 7 = string), value length (u16), value.
boto3 checks both CRCs, so a framing mistake here fails the tests.
"""

from __future__ import annotations

import base64
import contextlib
import json
import queue
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.gateway.loopback import Loopback, QuietHandler

CUT = object()
"""Yielded by a stream behaviour: the stand-in drops the connection there, without a final chunk."""

StreamItem = tuple[str, dict[str, Any]] | tuple[str, str, dict[str, Any]] | object


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(
        struct.pack(">B", len(name)) + name.encode() + struct.pack(">BH", 7, len(value)) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, json.dumps(body).encode())


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}).encode())


def converse_events(
    texts: tuple[str, ...] = ("Hel", "lo"), stop: str = "end_turn", **usage: int
) -> list[tuple[str, dict[str, Any]]]:
    """What ConverseStream sends for a text answer, `texts` being its deltas."""
    counts = {"inputTokens": 10, "outputTokens": 5, **usage}
    counts["totalTokens"] = counts["inputTokens"] + counts["outputTokens"]
    return [
        ("messageStart", {"role": "assistant"}),
        *[("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in texts],
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("messageStop", {"stopReason": stop}),
        ("metadata", {"usage": counts, "metrics": {"latencyMs": 12}}),
    ]


def stream_frames(items: Iterator[Any]) -> Iterator[bytes | None]:
    """Frames for a stream behaviour's items; None where the connection is to be cut."""
    for item in items:
        if item is CUT:
            yield None
        elif len(item) == 3 and item[0] == "exception":
            yield exception_frame(item[1], item[2]["message"])
        else:
            yield event_frame(item[0], item[1])


@dataclass
class Delivery:
    """One POST to the fake Runtime API: its headers, its chunks with arrival times, its trailers."""

    path: str
    headers: dict[str, str]
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    done_at: float | None = None

    @property
    def body(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    def prelude_and_payload(self) -> tuple[dict[str, Any], bytes]:
        prelude, delimiter, payload = self.body.partition(b"\0" * 8)
        assert delimiter, "no 8-NUL delimiter after the prelude"
        return json.loads(prelude), payload

    def first_chunk_with(self, text: bytes) -> float:
        return next(at for at, chunk in self.chunks if text in chunk)


class FakeRuntimeAPI:
    """The Lambda Runtime API (2018-06-01) on loopback: queued events for `invocation/next`, every response
    and error recorded, chunk by chunk, as it arrives."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.deliveries: dict[str, Delivery] = {}
        self.errors: list[Delivery] = []
        self.changed = threading.Condition()
        self.closed = False
        fake = self

        class Handler(QuietHandler):
            disable_nagle_algorithm = True

            def handle(self) -> None:
                with contextlib.suppress(ConnectionError):  # a runtime killed mid-poll
                    super().handle()

            def do_GET(self) -> None:
                if not self.path.endswith("/runtime/invocation/next"):
                    return self._reply(404)
                while True:  # long poll, as Lambda does, until there is an event or the server closes
                    with contextlib.suppress(queue.Empty):
                        request_id, event = fake.events.get(timeout=0.1)
                        break
                    if fake.closed:
                        return self._reply(410)
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 300_000))
                self.send_header("Lambda-Runtime-Trace-Id", f"Root=1-{request_id[:8]}-abc;Sampled=0")
                self.send_header("Content-Length", str(len(event)))
                self.end_headers()
                self.wfile.write(event)

            def do_POST(self) -> None:
                delivery = Delivery(self.path, {k.lower(): v for k, v in self.headers.items()})
                if self.path.endswith("/response"):
                    fake.deliveries[self.path.split("/")[-2]] = delivery
                else:
                    fake.errors.append(delivery)
                if delivery.headers.get("transfer-encoding") == "chunked":
                    self._read_chunked(delivery)
                else:
                    data = self.rfile.read(int(self.headers.get("content-length") or 0))
                    delivery.chunks.append((time.monotonic(), data))
                delivery.done_at = time.monotonic()
                fake._notify()
                self._reply(202)

            def _read_chunked(self, delivery: Delivery) -> None:
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        break
                    data = self.rfile.read(size)
                    assert self.rfile.read(2) == b"\r\n"
                    delivery.chunks.append((time.monotonic(), data))
                    fake._notify()
                while line := self.rfile.readline().strip():
                    name, _, value = line.decode().partition(":")
                    delivery.trailers[name.strip().lower()] = value.strip()

            def _reply(self, status: int) -> None:
                body = b'{"status":"OK"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.loopback = Loopback(Handler, poll_interval=0.05)
        self.address = self.loopback.address

    def invoke(self, event: dict[str, Any]) -> str:
        request_id = str(uuid.uuid4())
        self.events.put((request_id, json.dumps(event).encode()))
        return request_id

    def wait_for(self, condition: Any, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True

    def _notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def close(self) -> None:
        self.closed = True
        self.loopback.close()


def parse_sse(payload: bytes) -> list[tuple[str | None, str]]:
    """(event name or None, data) for each Server-Sent Event in `payload`."""
    events = []
    for block in payload.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = None, []
        for line in block.split("\n"):
            key, _, value = line.partition(": ")
            if key == "event":
                name = value
            elif key == "data":
                data.append(value)
        events.append((name, "\n".join(data)))
    return events


def trailer_error(delivery: Delivery) -> dict[str, Any]:
    return json.loads(base64.b64decode(delivery.trailers["lambda-runtime-function-error-body"]))
