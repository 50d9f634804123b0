"""Shared code of the BedrockBatchPipeline Lambda functions (see docs/bedrock-batch-contract.md): retries.

Which errors are transient (throttling, 5xx, dropped connections, a response stream reset mid-body), bounded
retries with exponential backoff and full jitter, and `TransientError`, what a handler raises when a
transient condition outlasts its own retries: the state machine retries the whole task on that error name.
`RetryingS3` wraps an S3 client so that every call the handlers make retries the same way.

Standard library only: errors are recognised by their AWS error code or by the names of their classes
(botocore's `HTTPClientError` family, `IncompleteReadError`, urllib3's `ProtocolError`), never by import.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]

# AWS error codes worth another attempt (S3, DynamoDB, Bedrock, CloudWatch, Step Functions).
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeoutException",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "ModelStreamErrorException",
        "500",
        "502",
        "503",
        "504",
    }
)
# Exceptions without an AWS error code that are worth another attempt, by class name (any class in the MRO):
# botocore's connection-level errors (HTTPClientError covers ResponseStreamingError, ReadTimeoutError,
# ConnectionClosedError; ConnectionError covers EndpointConnectionError, ConnectTimeoutError), a body shorter
# than its Content-Length, urllib3's ProtocolError, and the built-in ConnectionError/TimeoutError family.
TRANSIENT_EXCEPTION_NAMES = frozenset(
    {
        "HTTPClientError",
        "ConnectionError",
        "IncompleteReadError",
        "ProtocolError",
        "ReadTimeoutError",
        "TimeoutError",
    }
)


class TransientError(RuntimeError):
    """A retryable condition outlasted the handler's own retries; the state machine retries the task.

    The state machine matches the error by this class name (`TransientError`); keep it.
    """


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ClientError (or '' for anything else)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def http_status(error: BaseException) -> int:
    """The HTTP status of a botocore ClientError (0 when there is none)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status if isinstance(status, int) else 0
    return 0


def is_transient(error: BaseException) -> bool:
    """Whether another attempt may succeed: throttling, a 5xx, a dropped or reset connection."""
    if isinstance(error, TransientError):
        return True
    code = error_code(error)
    if code:
        return code in TRANSIENT_CODES or http_status(error) >= 500
    return any(klass.__name__ in TRANSIENT_EXCEPTION_NAMES for klass in type(error).__mro__)


def describe(error: BaseException) -> str:
    """`<code or class>: <message>`, short enough for a log line or an error record."""
    return f"{error_code(error) or type(error).__name__}: {str(error)[:500]}"


@dataclass(frozen=True)
class Backoff:
    """Bounded retries: `attempts` in all, waits of up to base * 2**n seconds (capped), full jitter."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0

    def delay(self, attempt: int) -> float:
        ceiling: float = min(self.cap, self.base * 2**attempt)
        return random.uniform(0, ceiling)


DEFAULT_BACKOFF = Backoff()


def retry_call(
    call: Callable[[], T],
    *,
    what: str,
    sleep: Sleep = time.sleep,
    backoff: Backoff = DEFAULT_BACKOFF,
    transient: Callable[[BaseException], bool] = is_transient,
) -> T:
    """`call()`, retried on transient errors; `TransientError` once `backoff.attempts` are used up.

    Non-transient errors propagate unchanged on the first occurrence.
    """
    for attempt in range(backoff.attempts):
        try:
            return call()
        except Exception as error:
            if not transient(error):
                raise
            if attempt + 1 >= backoff.attempts:
                raise TransientError(
                    f"{what} failed {attempt + 1} times, last with {describe(error)}"
                ) from error
            logger.warning(
                json.dumps({"event": "retry", "what": what, "attempt": attempt + 1, "error": describe(error)})
            )
            sleep(backoff.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


class RetryingS3:
    """An S3 client whose calls retry transient errors (bounded, full jitter) and then raise TransientError.

    Only the calls the handlers make. A `CompleteMultipartUpload` that answers `NoSuchUpload` after an
    attempt whose answer was lost has completed: that is a success, not an error.
    """

    def __init__(self, s3: Any, *, sleep: Sleep = time.sleep, backoff: Backoff = DEFAULT_BACKOFF) -> None:
        self.client, self.sleep, self.backoff = s3, sleep, backoff

    @classmethod
    def wrap(cls, s3: Any, *, sleep: Sleep = time.sleep) -> RetryingS3:
        """`s3` itself when it already retries (never retry retries), else a wrapper."""
        return s3 if isinstance(s3, RetryingS3) else cls(s3, sleep=sleep)

    def _call(self, operation: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self.client, operation)
        where = (
            f"s3 {operation} s3://{kwargs.get('Bucket', '')}/{kwargs.get('Key', kwargs.get('Prefix', ''))}"
        )
        result: dict[str, Any] = retry_call(
            lambda: method(**kwargs), what=where, sleep=self.sleep, backoff=self.backoff
        )
        return result

    def get_object(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("get_object", kwargs)

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("put_object", kwargs)

    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("list_objects_v2", kwargs)

    def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("create_multipart_upload", kwargs)

    def upload_part(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("upload_part", kwargs)

    def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("abort_multipart_upload", kwargs)

    def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]:
        failed_before = False

        def complete() -> dict[str, Any]:
            nonlocal failed_before
            try:
                result: dict[str, Any] = self.client.complete_multipart_upload(**kwargs)
                return result
            except Exception as error:
                if failed_before and error_code(error) == "NoSuchUpload":
                    return {}  # the lost answer was a success: the upload is now the object
                failed_before = True
                raise

        where = f"s3 complete_multipart_upload s3://{kwargs.get('Bucket', '')}/{kwargs.get('Key', '')}"
        return retry_call(complete, what=where, sleep=self.sleep, backoff=self.backoff)
