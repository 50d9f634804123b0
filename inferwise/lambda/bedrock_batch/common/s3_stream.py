"""Shared code of the BedrockBatchPipeline Lambda functions (see docs/bedrock-batch-contract.md): reading S3.

JSONL objects as lines, with flat memory:

- a line ends at `\\n` only; a trailing `\\r` (CRLF files) is dropped and a `\\r` inside a line stays in it, so
  one line is one record whatever the line endings (bytes.splitlines would also split on a lone `\\r`);
- an object whose key ends in `.gz` (any case) is gunzipped on the fly (several gzip members included);
- a response stream that breaks mid-body (connection reset, read timeout, short body) is resumed with a
  ranged GET from the first byte not yet read, pinned to the object's ETag so a changed object is never
  spliced; after `STREAM_BACKOFF.attempts` breaks the reader raises `TransientError`.

Standard library only; the client is any boto3 S3 client (or `RetryingS3`).
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Iterator
from typing import Any

from .retry import Backoff, Sleep, TransientError, describe, error_code, is_transient

logger = logging.getLogger(__name__)

READ_CHUNK_SIZE = 256 * 1024
STREAM_BACKOFF = Backoff(attempts=6, base=0.25, cap=8.0)
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class CorruptInput(ValueError):
    """A compressed object whose data is not valid gzip, or ends before its gzip trailer."""


def is_gzip_key(key: str) -> bool:
    return key.lower().endswith(".gz")


class ObjectReader:
    """The bytes of one object in chunks, resuming after a broken stream (see the module docstring)."""

    def __init__(self, s3: Any, bucket: str, key: str, *, sleep: Sleep = time.sleep) -> None:
        self.s3, self.bucket, self.key, self.sleep = s3, bucket, key, sleep
        self.offset = 0
        self.size: int | None = None
        self.etag: str | None = None
        self.resumes = 0
        self._body: Any = None

    def _open(self) -> Any:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if self.offset:
            kwargs["Range"] = f"bytes={self.offset}-"
            if self.etag:
                kwargs["IfMatch"] = self.etag
        response = self.s3.get_object(**kwargs)
        if not self.offset:
            self.etag = response.get("ETag")
            length = response.get("ContentLength")
            self.size = length if isinstance(length, int) else None
        return response["Body"]

    def open(self, *, missing_ok: bool = False) -> bool:
        """Start reading; False when the object does not exist and `missing_ok`."""
        try:
            self._body = self._open()
        except Exception as error:
            if missing_ok and error_code(error) in MISSING_CODES:
                return False
            raise
        return True

    def chunks(self) -> Iterator[bytes]:
        body = self._body
        try:
            while True:
                try:
                    chunk = body.read(READ_CHUNK_SIZE)
                except Exception as error:
                    if not is_transient(error):
                        raise
                    body.close()
                    body = self._resume(error)
                    if body is None:
                        return
                    continue
                if not chunk:
                    return
                self.offset += len(chunk)
                yield chunk
        finally:
            body.close()

    def _resume(self, error: BaseException) -> Any:
        """A new body from `offset` after a broken stream, or None when every byte was already read."""
        self.resumes += 1
        where = f"s3://{self.bucket}/{self.key}"
        if self.resumes >= STREAM_BACKOFF.attempts:
            raise TransientError(
                f"reading {where} broke {self.resumes} times, last at byte {self.offset} with {describe(error)}"
            ) from error
        logger.warning(
            json.dumps(
                {"event": "stream_resumed", "object": where, "offset": self.offset, "error": describe(error)}
            )
        )
        if self.size is not None and self.offset >= self.size:
            return None
        self.sleep(STREAM_BACKOFF.delay(self.resumes - 1))
        return self._open()


def _gunzip(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The decompressed bytes of a gzip stream (all of its members)."""
    decompressor = zlib.decompressobj(wbits=31)
    started = False
    try:
        for chunk in chunks:
            while chunk:
                started = True
                data = decompressor.decompress(chunk)
                if data:
                    yield data
                if decompressor.eof:
                    chunk = decompressor.unused_data
                    decompressor = zlib.decompressobj(wbits=31)
                    started = False
                else:
                    chunk = b""
        tail = decompressor.flush()
        if tail:
            yield tail
    except zlib.error as error:
        raise CorruptInput(f"not valid gzip data: {error}") from error
    if started and not decompressor.eof:
        raise CorruptInput("the gzip data ends before its trailer (the object is truncated)")


def split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Lines ending at `\\n` only, without it and without one trailing `\\r`; a last line without `\\n` too."""
    pending = b""
    for chunk in chunks:
        if pending:
            chunk = pending + chunk
        lines = chunk.split(b"\n")
        pending = lines.pop()
        for line in lines:
            yield line[:-1] if line.endswith(b"\r") else line
    if pending:
        yield pending[:-1] if pending.endswith(b"\r") else pending


def iter_lines(
    s3: Any,
    bucket: str,
    key: str,
    *,
    missing_ok: bool = False,
    sleep: Sleep = time.sleep,
    reader: ObjectReader | None = None,
) -> Iterator[bytes]:
    """The lines of an object (gunzipped when its key ends in `.gz`), streamed with flat memory."""
    source = reader or ObjectReader(s3, bucket, key, sleep=sleep)
    if not source.open(missing_ok=missing_ok):
        return
    chunks = source.chunks()
    yield from split_lines(_gunzip(chunks) if is_gzip_key(key) else chunks)


def read_bytes(s3: Any, bucket: str, key: str, *, sleep: Sleep = time.sleep) -> bytes:
    """A whole (small) object, resuming a broken stream like `iter_lines`."""
    source = ObjectReader(s3, bucket, key, sleep=sleep)
    source.open()
    return b"".join(source.chunks())


def read_json(s3: Any, bucket: str, key: str, *, sleep: Sleep = time.sleep) -> Any:
    return json.loads(read_bytes(s3, bucket, key, sleep=sleep))
