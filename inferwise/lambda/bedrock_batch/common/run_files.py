"""Shared code of the BedrockBatchPipeline Lambda functions (see docs/bedrock-batch-contract.md): run files.

The S3 layout of a run (keys under the work bucket's `runs/` prefix, and the job names Bedrock accepts
for them) and writing JSONL to S3 with flat memory (reading is in `s3_stream`, retries in `retry`).
Standard library only: the S3 helpers take a boto3 client as an argument and never import boto3, so this
module is pure and unit-testable.

Deployed inside every function's asset as `bedrock_batch/common/run_files.py`, next to `batch_records`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any, Protocol

from .batch_records import ON_DEMAND_SHARD_ID
from .retry import describe
from .retry import error_code as error_code  # re-exported: the handlers import it from here
from .s3_stream import iter_lines as iter_lines  # re-exported (gzip, \n-only lines, resumable)
from .s3_stream import read_json as read_json

logger = logging.getLogger(__name__)

# S3 multipart: every part but the last must be at least 5 MiB.
MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 8 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# S3 layout of a run

_RUN_ID = re.compile(r"[A-Za-z0-9!_*'().\-]{1,80}")


def validate_run_id(run_id: object) -> str:
    """The run id becomes part of S3 keys that Bedrock's `s3Uri` pattern must accept."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or run_id in {".", ".."}:
        raise ValueError(
            f"run_id must be 1-80 characters from A-Z a-z 0-9 ! _ * ' ( ) . - (Bedrock's s3Uri pattern), got {run_id!r}"
        )
    return run_id


def run_prefix(run_id: str) -> str:
    return f"runs/{run_id}/"


def shard_id_for(index: int) -> str:
    return f"shard-{index:05d}"


def shard_prefix(run_id: str, shard_id: str) -> str:
    return f"runs/{run_id}/shards/{shard_id}/"


def shard_key(run_id: str, shard_id: str) -> str:
    return f"{shard_prefix(run_id, shard_id)}records.jsonl"


def on_demand_key(run_id: str) -> str:
    return f"runs/{run_id}/on-demand/records.jsonl"


def input_key_for(run_id: str, shard_id: str) -> str:
    """The records file of a shard, or of the on-demand pseudo-shard."""
    return on_demand_key(run_id) if shard_id == ON_DEMAND_SHARD_ID else shard_key(run_id, shard_id)


def outputs_prefix(run_id: str, shard_id: str) -> str:
    return f"runs/{run_id}/outputs/{shard_id}/"


def duplicates_key(run_id: str) -> str:
    return f"runs/{run_id}/duplicates.jsonl"


def quarantine_key(run_id: str) -> str:
    return f"runs/{run_id}/quarantine.jsonl"


def refused_key(run_id: str) -> str:
    """Input objects prepare did not (fully) read, one `{"source", "reason"}` line each."""
    return f"runs/{run_id}/refused.jsonl"


def on_demand_done_prefix(run_id: str) -> str:
    """One object per record on_demand has finished (its output line): a rerun never pays for it again."""
    return f"runs/{run_id}/on-demand/done/"


INPUT_SUFFIXES = (".jsonl", ".jsonl.gz")
"""What prepare reads under the input prefix, compared case-insensitively (`.JSONL`, `.Jsonl.GZ`, ...)."""


def input_refusal(key: str) -> str | None:
    """Why prepare does not read an object under the input prefix, or None when it does."""
    if key.lower().endswith(INPUT_SUFFIXES):
        return None
    return (
        "not a JSONL input: prepare reads objects whose names end in .jsonl or .jsonl.gz (any case); "
        f"rename it to {key.rsplit('/', 1)[-1]}.jsonl if it holds JSON lines"
    )


def s3_uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, key


def job_id_from_arn(job_arn: str) -> str:
    """`arn:aws:bedrock:<region>:<acct>:model-invocation-job/<id>` -> `<id>` (the output sub-folder)."""
    return job_arn.rsplit("/", 1)[-1]


_JOB_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
JOB_NAME_MAX = 63


def job_name(run_id: str, shard_id: str) -> str:
    """`iw-<run>-<shard_id>`, valid as both jobName and clientRequestToken, at most 63 characters.

    jobName allows `[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9\\+\\-\\.]){0,63}`; clientRequestToken only
    `[a-zA-Z0-9]{1,256}(-*[a-zA-Z0-9]){0,256}`, so the name keeps letters, digits and single hyphens,
    starts and ends with a letter or digit. When the run id had to be changed or cut, a hash of the
    original keeps names of different runs apart; the name is deterministic, so a retried submission
    reuses it (and CreateModelInvocationJob's idempotency).
    """
    base = f"iw-{run_id}-{shard_id}"
    safe = _JOB_NAME_UNSAFE.sub("-", base).strip("-")
    if safe == base and len(safe) <= JOB_NAME_MAX:
        return safe
    digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:10]
    head = safe[: JOB_NAME_MAX - len(digest) - 1].rstrip("-")
    return f"{head}-{digest}"


# ---------------------------------------------------------------------------------------------------
# S3 streaming (the client is any boto3 S3 client; duck-typed so this module needs no boto3)


class S3Client(Protocol):
    def get_object(self, **kwargs: Any) -> dict[str, Any]: ...
    def put_object(self, **kwargs: Any) -> dict[str, Any]: ...
    def list_objects_v2(self, **kwargs: Any) -> dict[str, Any]: ...
    def create_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...
    def upload_part(self, **kwargs: Any) -> dict[str, Any]: ...
    def complete_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...
    def abort_multipart_upload(self, **kwargs: Any) -> dict[str, Any]: ...


def list_objects(s3: S3Client, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
    """(key, size) of every object under `prefix`, in S3's (UTF-8 binary) key order."""
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
    while True:
        page = s3.list_objects_v2(**kwargs)
        for item in page.get("Contents", []):
            yield item["Key"], int(item.get("Size", 0))
        if not page.get("IsTruncated"):
            return
        kwargs["ContinuationToken"] = page["NextContinuationToken"]


class S3JsonlWriter:
    """Writes JSON lines to one S3 object with flat memory.

    Lines are buffered up to `part_size`; the first full buffer starts a multipart upload, and each
    full buffer after it becomes one part. A writer that never filled a part does a single PutObject
    on close. An exception inside `with` aborts the multipart upload (no orphaned parts).
    """

    def __init__(
        self,
        s3: S3Client,
        bucket: str,
        key: str,
        *,
        part_size: int | None = None,
        content_type: str = "application/jsonl",
    ) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        self.part_size = max(part_size or DEFAULT_PART_SIZE, MIN_PART_SIZE)
        self.content_type = content_type
        self.lines = 0
        self.bytes = 0
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._closed = False

    @property
    def uri(self) -> str:
        return s3_uri(self.bucket, self.key)

    def write_line(self, line: str | bytes) -> None:
        data = line.encode("utf-8") if isinstance(line, str) else line
        self._buffer += data
        self._buffer += b"\n"
        self.lines += 1
        self.bytes += len(data) + 1
        if len(self._buffer) >= self.part_size:
            self._flush_part()

    def write_raw(self, data: bytes | memoryview, lines: int = 1) -> None:
        """Append bytes that already end in a newline (`lines` of them)."""
        self._buffer += data
        self.lines += lines
        self.bytes += len(data)
        if len(self._buffer) >= self.part_size:
            self._flush_part()

    def _flush_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )["UploadId"]
        number = len(self._parts) + 1
        data = bytes(self._buffer)
        self._buffer.clear()
        etag = self.s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=data
        )["ETag"]
        self._parts.append({"ETag": etag, "PartNumber": number})

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._upload_id is None:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), ContentType=self.content_type
            )
            self._buffer.clear()
            return
        if self._buffer:
            self._flush_part()
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        """Drop what was written; best effort (the bucket's lifecycle rule aborts what this cannot)."""
        self._closed = True
        self._buffer.clear()
        if self._upload_id is not None:
            try:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)
            except Exception as error:  # never hide the error that made us abort
                logger.warning(
                    json.dumps({"event": "abort_failed", "key": self.key, "error": describe(error)})
                )

    def __enter__(self) -> S3JsonlWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
