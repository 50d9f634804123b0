"""bedrock_batch.common.retry, s3_stream and coordination: which errors are retried, how lines are cut, how a
broken stream resumes, how slots and markers stay idempotent."""

from __future__ import annotations

import gzip
import importlib
import io
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from . import support
from .faults import client_error

retry = importlib.import_module("bedrock_batch.common.retry")
s3_stream = importlib.import_module("bedrock_batch.common.s3_stream")
coordination = importlib.import_module("bedrock_batch.common.coordination")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("InternalError", 500), True),
        (client_error("SlowDown", 503), True),
        (client_error("ThrottlingException", 400), True),
        (client_error("ProvisionedThroughputExceededException", 400), True),
        (client_error("SomethingNew", 502), True),  # any 5xx
        (client_error("AccessDenied", 403), False),
        (client_error("NoSuchKey", 404), False),
        (client_error("ValidationException", 400), False),
        (client_error("ConditionalCheckFailedException", 400), False),
        (EndpointConnectionError(endpoint_url="https://x"), True),
        (ConnectionClosedError(endpoint_url="https://x"), True),
        (ReadTimeoutError(endpoint_url="https://x"), True),
        (ResponseStreamingError(error="reset"), True),
        (IncompleteReadError(actual_bytes=1, expected_bytes=2), True),
        (ConnectionResetError(104, "reset"), True),
        (ValueError("bad"), False),
        (KeyError("x"), False),
    ],
)
def test_transient_errors_are_told_apart(error: BaseException, transient: bool) -> None:
    assert retry.is_transient(error) is transient


def test_retries_are_bounded_jittered_and_end_in_transient_error() -> None:
    waits: list[float] = []
    calls = 0

    def fail() -> None:
        nonlocal calls
        calls += 1
        raise client_error("SlowDown", 503)

    backoff = retry.Backoff(attempts=4, base=1, cap=3)
    with pytest.raises(retry.TransientError, match="failed 4 times, last with SlowDown"):
        retry.retry_call(fail, what="test", sleep=waits.append, backoff=backoff)
    assert calls == 4 and len(waits) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, (1, 2, 3), strict=True))


def test_a_non_transient_error_is_not_retried() -> None:
    waits: list[float] = []

    def denied() -> None:
        raise client_error("AccessDenied", 403)

    with pytest.raises(Exception, match="AccessDenied") as raised:
        retry.retry_call(denied, what="t", sleep=waits.append)
    assert not isinstance(raised.value, retry.TransientError)
    assert waits == []


def test_a_completed_upload_whose_answer_was_lost_is_a_success() -> None:
    class S3:
        calls = 0

        def complete_multipart_upload(self, **_: Any) -> dict[str, Any]:
            S3.calls += 1
            if S3.calls == 1:
                raise ConnectionClosedError(endpoint_url="https://s3")  # it completed; the answer was lost
            raise client_error("NoSuchUpload", 404)

    wrapped = retry.RetryingS3(S3(), sleep=lambda _: None)
    assert wrapped.complete_multipart_upload(Bucket="b", Key="k", UploadId="u") == {}


@pytest.mark.parametrize(
    ("chunks", "lines"),
    [
        ([b"a\nb\n"], [b"a", b"b"]),
        ([b"a\r\nb\r\n"], [b"a", b"b"]),  # CRLF
        ([b"a\rb\n"], [b"a\rb"]),  # a raw CR stays inside its line
        ([b"a", b"\r", b"\nb"], [b"a", b"b"]),  # CRLF split across chunks; no final newline
        ([b"\r\n\n"], [b"", b""]),
        ([], []),
    ],
)
def test_lines_end_at_newline_only(chunks: list[bytes], lines: list[bytes]) -> None:
    assert list(s3_stream.split_lines(iter(chunks))) == lines


def test_gzip_inputs_of_several_members_are_read_whole(aws: Any) -> None:
    data = gzip.compress(b"one\ntwo\n") + gzip.compress(b"three\r\n")
    aws.s3.put_object(Bucket=support.WORK, Key="in/x.JSONL.GZ", Body=data)
    assert list(s3_stream.iter_lines(aws.s3, support.WORK, "in/x.JSONL.GZ")) == [b"one", b"two", b"three"]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"plain text", "not valid gzip"), (gzip.compress(b"x\n" * 999, mtime=0)[:-12], "trailer")],
    ids=["not-gzip", "truncated-gzip"],
)
def test_broken_gzip_is_reported(aws: Any, data: bytes, message: str) -> None:
    aws.s3.put_object(Bucket=support.WORK, Key="in/x.jsonl.gz", Body=data)
    with pytest.raises(s3_stream.CorruptInput, match=message):
        list(s3_stream.iter_lines(aws.s3, support.WORK, "in/x.jsonl.gz"))


def test_a_stream_that_breaks_resumes_where_it_stopped_with_a_pinned_etag() -> None:
    data = b"".join(b"line %d\n" % n for n in range(100))
    requests: list[dict[str, Any]] = []

    class Broken:
        def __init__(self, body: bytes) -> None:
            self.body = io.BytesIO(body)

        def read(self, amt: int) -> bytes:
            chunk = self.body.read(min(amt, 50))
            if self.body.tell() >= 150 and len(requests) < 3:
                raise ResponseStreamingError(error="reset")
            return chunk

        def close(self) -> None:
            pass

    class S3:
        def get_object(self, **kwargs: Any) -> dict[str, Any]:
            requests.append(kwargs)
            start = int(kwargs.get("Range", "bytes=0-")[6:-1])
            return {"Body": Broken(data[start:]), "ETag": '"e1"', "ContentLength": len(data) - start}

    lines = list(s3_stream.iter_lines(S3(), "b", "k.jsonl", sleep=lambda _: None))
    assert lines == data.splitlines()
    assert requests[1]["Range"].startswith("bytes=") and requests[1]["IfMatch"] == '"e1"'


# ------------------------------------------------------------------------------------------ coordination
def test_slots_are_taken_and_given_back_idempotently(aws: Any) -> None:
    quota = coordination.Quota(aws.dynamodb, support.COORDINATION, "m", clock=lambda: 1000.0)
    assert quota.acquire("r/a", 2).taken and quota.acquire("r/b", 2).taken
    assert quota.acquire("r/a", 2).taken, "a holder taking its slot again is a no-op"
    assert not quota.acquire("r/c", 2).taken
    assert quota.read()[0] == 2
    assert quota.release("r/a") and not quota.release("r/a")
    assert quota.acquire("r/c", 2).taken
    assert quota.read()[0] == 2


def test_a_run_marker_is_claimed_once_and_given_back(aws: Any) -> None:
    first = coordination.RunMarker(aws.dynamodb, support.COORDINATION, "r1", "metrics", "claim-1")
    second = coordination.RunMarker(aws.dynamodb, support.COORDINATION, "r1", "metrics", "claim-2")
    assert first.claim() and first.claim(), "its own retry still holds it"
    assert not second.claim()
    first.release()
    assert second.claim()


@pytest.mark.parametrize(
    ("module", "factory", "service", "mode"),
    [
        ("prepare", "_s3", None, "standard"),
        ("submit", "_client", "dynamodb", "standard"),
        ("events", "_client", "stepfunctions", "adaptive"),
        ("collect", "_client", "cloudwatch", "standard"),
        ("on_demand", "_client", "s3", "standard"),
    ],
)
def test_the_handlers_clients_retry_in_the_sdk_too(
    module: str, factory: str, service: str | None, mode: str
) -> None:
    make = getattr(support.handler_module(module), factory)
    made = make() if service is None else make(service)
    assert made.meta.config.retries["mode"] == mode
    make.cache_clear()
