"""A client of the Lambda Runtime API (version 2018-06-01) that streams responses; standard library only.

- `next`: `GET /runtime/invocation/next` (long poll); the event is the body, the request id, deadline and
  X-Ray trace id come in `Lambda-Runtime-*` headers.
- `respond`: `POST /runtime/invocation/<id>/response` with `Lambda-Runtime-Function-Response-Mode:
  streaming` and `Transfer-Encoding: chunked`. For a function URL the body is
  `application/vnd.awslambda.http-integration-response`: a JSON prelude (`statusCode`, `headers`,
  `cookies`), eight NUL bytes, then the payload, one HTTP chunk per chunk the reply yields. The request
  declares the two error trailers (`Trailer:` header) up front; when producing the payload fails midway,
  the last chunk carries `Lambda-Runtime-Function-Error-Type` and `Lambda-Runtime-Function-Error-Body`
  (base64 of a JSON error). The connection is closed after each response.
- `invocation_error`, `init_error`: `POST /runtime/invocation/<id>/error` (only before a response has
  started) and `POST /runtime/init/error`, with `Lambda-Runtime-Function-Error-Type` and a JSON body
  `{"errorType", "errorMessage", "stackTrace"}`.

Sources in docs/aws-facts.md ("Lambda response streaming from a custom Runtime API loop").
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import traceback
from collections.abc import Iterator
from dataclasses import dataclass

from ..common.sse import Reply

API = "/2018-06-01/runtime"
RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
PRELUDE_DELIMITER = b"\0" * 8
STREAM_ERROR = "Function.StreamError"

logger = logging.getLogger(__name__)


class RuntimeAPIError(RuntimeError):
    """The Runtime API answered a request with an unexpected status."""


@dataclass(frozen=True)
class Invocation:
    request_id: str
    deadline_ms: int
    trace_id: str | None
    function_arn: str | None
    event: bytes


class RuntimeAPI:
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.host = host or address
        self.port = int(port) if host else 80
        self._poll: http.client.HTTPConnection | None = None

    def next(self) -> Invocation:
        """Wait for the next invocation (the connection is kept for the following polls, and opened again
        once if it was dropped while the environment was frozen)."""
        for attempt in (1, 2):
            if self._poll is None:
                self._poll = http.client.HTTPConnection(self.host, self.port)
            try:
                self._poll.request("GET", f"{API}/invocation/next")
                response = self._poll.getresponse()
                event = response.read()
                break
            except (OSError, http.client.HTTPException):
                self._poll.close()
                self._poll = None
                if attempt == 2:
                    raise
        if response.status != 200:
            raise RuntimeAPIError(f"invocation/next answered {response.status}: {event[:200]!r}")
        headers = response.headers
        return Invocation(
            request_id=headers["Lambda-Runtime-Aws-Request-Id"],
            deadline_ms=int(headers.get("Lambda-Runtime-Deadline-Ms") or 0),
            trace_id=headers.get("Lambda-Runtime-Trace-Id"),
            function_arn=headers.get("Lambda-Runtime-Invoked-Function-Arn"),
            event=event,
        )

    def respond(self, request_id: str, answer: Reply) -> None:
        """Stream `answer` as the invocation's response; a failure while producing it goes in the trailers."""
        connection = http.client.HTTPConnection(self.host, self.port)
        chunks = iter(answer.chunks)
        try:
            connection.putrequest(
                "POST", f"{API}/invocation/{request_id}/response", skip_accept_encoding=True
            )
            connection.putheader(RESPONSE_MODE, "streaming")
            connection.putheader("Transfer-Encoding", "chunked")
            connection.putheader("Content-Type", HTTP_INTEGRATION)
            connection.putheader("Trailer", f"{ERROR_TYPE}, {ERROR_BODY}")
            connection.endheaders()
            prelude = {
                "statusCode": answer.status,
                "headers": dict(answer.headers),
                "cookies": list(answer.cookies),
            }
            connection.send(_chunk(json.dumps(prelude, separators=(",", ":")).encode() + PRELUDE_DELIMITER))
            trailers = _send_chunks(connection, chunks)
            connection.send(b"0\r\n" + trailers + b"\r\n")
            _check(connection.getresponse(), "response")
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a generator stopped early still runs its `finally` (the budget settles)
            connection.close()

    def invocation_error(self, request_id: str, error_type: str, failure: BaseException) -> None:
        self._post_error(f"{API}/invocation/{request_id}/error", error_type, failure)

    def init_error(self, error_type: str, failure: BaseException) -> None:
        self._post_error(f"{API}/init/error", error_type, failure)

    def _post_error(self, path: str, error_type: str, failure: BaseException) -> None:
        body = json.dumps(error_document(failure)).encode()
        connection = http.client.HTTPConnection(self.host, self.port)
        try:
            connection.request(
                "POST", path, body=body, headers={ERROR_TYPE: error_type, "Content-Type": "application/json"}
            )
            _check(connection.getresponse(), path)
        finally:
            connection.close()


def error_document(failure: BaseException) -> dict[str, object]:
    """The Runtime API's error body: errorType, errorMessage, stackTrace."""
    return {
        "errorType": getattr(failure, "kind", None) or type(failure).__name__,
        "errorMessage": str(failure),
        "stackTrace": traceback.format_exception(failure)[-10:],
    }


def _send_chunks(connection: http.client.HTTPConnection, chunks: Iterator[bytes]) -> bytes:
    """Send each chunk as it comes; return the error trailers if producing the chunks failed."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return b""
        except Exception as failed:
            logger.warning("response stream failed: %s", failed)
            document = {k: v for k, v in error_document(failed).items() if k != "stackTrace"}
            encoded = base64.b64encode(json.dumps(document).encode()).decode("ascii")
            return f"{ERROR_TYPE}: {STREAM_ERROR}\r\n{ERROR_BODY}: {encoded}\r\n".encode()
        if chunk:  # an empty chunk would end the body
            connection.send(_chunk(chunk))


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _check(response: http.client.HTTPResponse, what: str) -> None:
    text = response.read()
    if response.status >= 300:
        raise RuntimeAPIError(f"{what} answered {response.status}: {text[:200]!r}")
