"""Loopback fakes for the drain agent's tests: IMDSv2 (with injectable failures) and the Auto Scaling API."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

INSTANCE_ID = "i-0123456789abcdef0"
SPOT_PATH = "/latest/meta-data/spot/instance-action"
LIFECYCLE_PATH = "/latest/meta-data/autoscaling/target-lifecycle-state"
INSTANCE_ID_PATH = "/latest/meta-data/instance-id"
SERVER_LIFETIME_SECONDS = 30.0


class _LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 that stops itself after SERVER_LIFETIME_SECONDS."""

    server: ThreadingHTTPServer

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self._watchdog = threading.Timer(SERVER_LIFETIME_SECONDS, self.server.shutdown)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Any:
        self._watchdog.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._watchdog.cancel()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


class FakeImds(_LoopbackServer):
    """IMDSv2 on 127.0.0.1: a token from PUT, then metadata only with that token; stops itself after 30 s.

    `spot_404s`: how many reads of spot/instance-action answer 404 before the interruption notice (None:
    never a notice). `lifecycle`: the target lifecycle state it reports. `token_reads`: after this many
    reads the token expires (401) and a new one must be fetched.

    Failures, each for the first N requests: `token_failures` (PUT answers 500), `fail_reads` (path ->
    N GETs answered 500), `truncate_reads` (path -> N GETs whose body is cut in half: with the full
    Content-Length when `truncate_with_length`, so the client sees an incomplete read, else a short body),
    `slow_reads` (any N GETs answered after `slow_seconds`).
    """

    def __init__(
        self,
        *,
        spot_404s: int | None = None,
        notice_in_seconds: float = 120.0,
        lifecycle: str = "InService",
        token_reads: int | None = None,
        token_failures: int = 0,
        fail_reads: dict[str, int] | None = None,
        truncate_reads: dict[str, int] | None = None,
        truncate_with_length: bool = True,
        slow_reads: int = 0,
        slow_seconds: float = 0.0,
        spot_body: str | None = None,
    ) -> None:
        self.spot_404s = spot_404s
        self.notice_in_seconds = notice_in_seconds
        self.lifecycle = lifecycle
        self.token_reads = token_reads
        self.token_failures = token_failures
        self.fail_reads = dict(fail_reads or {})
        self.truncate_reads = dict(truncate_reads or {})
        self.truncate_with_length = truncate_with_length
        self.slow_reads = slow_reads
        self.slow_seconds = slow_seconds
        self.spot_body = spot_body
        self.requests: list[tuple[str, str, str | None]] = []
        self.tokens_issued = 0
        self.puts = 0
        self.answered: Counter[tuple[str, int]] = Counter()
        self._reads_with_token = 0
        self._gets = 0
        self._path_gets: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._serve(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                fake.requests.append(("PUT", self.path, None))
                if self.path != "/latest/api/token" or not self.headers.get(
                    "X-aws-ec2-metadata-token-ttl-seconds"
                ):
                    self._answer(400, "")
                    return
                token = ""
                with fake._lock:
                    fake.puts += 1
                    failing = fake.puts <= fake.token_failures
                    if not failing:
                        fake.tokens_issued += 1
                        fake._reads_with_token = 0
                        token = f"token-{fake.tokens_issued}"
                if failing:
                    self._answer(500, "")
                else:
                    self._answer(200, token)

            def do_GET(self) -> None:
                token = self.headers.get("X-aws-ec2-metadata-token")
                fake.requests.append(("GET", self.path, token))
                with fake._lock:
                    fake._gets += 1
                    slow = fake._gets <= fake.slow_reads
                    expired = fake.token_reads is not None and fake._reads_with_token >= fake.token_reads
                    if token != f"token-{fake.tokens_issued}" or expired:
                        self._answer(401, "")
                        return
                    fake._reads_with_token += 1
                    fake._path_gets[self.path] += 1
                    nth = fake._path_gets[self.path]
                if slow:
                    time.sleep(fake.slow_seconds)
                if nth <= fake.fail_reads.get(self.path, 0):
                    self._answer(500, "Internal Server Error")
                    return
                status, body = fake.answer(self.path)
                if nth <= fake.truncate_reads.get(self.path, 0):
                    self._answer(status, body, cut=True)
                    return
                self._answer(status, body)

            def _answer(self, status: int, body: str, cut: bool = False) -> None:
                data = body.encode()
                fake.answered[(self.path, status)] += 1
                self.send_response(status)
                if not cut or fake.truncate_with_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if cut else data)
                if cut:
                    self.close_connection = True

        return Handler

    def answer(self, path: str) -> tuple[int, str]:
        if path == SPOT_PATH:
            spot_reads = sum(1 for method, p, _ in self.requests if method == "GET" and p == SPOT_PATH)
            if self.spot_404s is None or spot_reads <= self.spot_404s:
                return 404, ""
            if self.spot_body is not None:
                return 200, self.spot_body
            when = datetime.now(UTC) + timedelta(seconds=self.notice_in_seconds)
            return 200, json.dumps({"action": "terminate", "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")})
        if path == LIFECYCLE_PATH:
            return 200, self.lifecycle
        if path == INSTANCE_ID_PATH:
            return 200, INSTANCE_ID
        return 404, ""

    def reads(self, path: str) -> int:
        return sum(1 for method, p, _ in self.requests if method == "GET" and p == path)

    def __enter__(self) -> FakeImds:
        super().__enter__()
        return self


COMPLETE_RESPONSE = (
    '<CompleteLifecycleActionResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">'
    "<CompleteLifecycleActionResult/><ResponseMetadata><RequestId>fake-1</RequestId></ResponseMetadata>"
    "</CompleteLifecycleActionResponse>"
)


class FakeAutoScaling(_LoopbackServer):
    """The Auto Scaling query API on 127.0.0.1 for CompleteLifecycleAction: the first `hang` requests get no
    answer for `hang_seconds` (then the connection closes unanswered), the rest succeed.

    `requests` holds every request's form parameters; `completed` those that were answered with success.
    """

    def __init__(self, *, hang: int = 0, hang_seconds: float = 1.0) -> None:
        self.hang = hang
        self.hang_seconds = hang_seconds
        self.requests: list[dict[str, str]] = []
        self.completed: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._serve(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                params = dict(urllib.parse.parse_qsl(body))
                with fake._lock:
                    fake.requests.append(params)
                    hanging = len(fake.requests) <= fake.hang
                if hanging:
                    time.sleep(fake.hang_seconds)
                    self.close_connection = True
                    return
                data = COMPLETE_RESPONSE.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with fake._lock:
                    fake.completed.append(params)

        return Handler

    def __enter__(self) -> FakeAutoScaling:
        super().__enter__()
        return self
