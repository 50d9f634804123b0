"""prepare: validate, de-duplicate and shard a run's input for Bedrock batch jobs.

Event `{"run_id", "input_bucket", "input_prefix"}`; returns `{"run_id", "shards", "small_batch", "counts"}`
(docs/bedrock-batch-contract.md). The inputs are the objects under the prefix whose names end in `.jsonl`
or `.jsonl.gz`, in any case (gzip is read on the fly); every other object, and any input that cannot be
read to its end (gone, access denied, corrupt gzip), is listed with its reason in
`runs/<run>/refused.jsonl`, which collect puts in the run summary: nothing is skipped silently. A line ends
at `\n` only (a trailing `\r` is dropped), so a stray `\r` never turns one record into two. S3 calls and
broken response streams are retried (bounded backoff, then `TransientError`); prepare only overwrites its
own run files, so a retried prepare yields the same shards. Memory stays flat whatever the input size, in
four passes:

1. stream every input line (`Body.iter_lines`) and validate it (bad lines go to the quarantine); spool
   each valid record to a body partition file in /tmp chosen by the digest of its body, and a small
   (id, digest, position) entry to an id partition file chosen by its id;
2. per id partition: a record whose id was already used with a different body is rejected
   (`duplicate_record_id`, the later record);
3. per body partition: quarantine the rejected records, count distinct bodies (so shard sizes and the
   small-batch rule are known before anything is written);
4. per body partition: the first record of each body goes to a shard (streamed to S3 in multipart
   parts), the others are written to the de-duplication map next to the record they copy.

Only one partition's id or digest table is in memory at a time (the partition count grows with the
input so a partition stays around PARTITION_INPUT_BYTES of input), plus the spool write buffers and one
S3 part buffer per open writer. /tmp holds about one copy of the normalized valid records: size the
function's ephemeral storage for the largest input.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from binascii import hexlify
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any, BinaryIO

from ..common.batch_records import (
    FAMILIES,
    ON_DEMAND_SHARD_ID,
    SMALL_BATCH_MODES,
    InvalidRecord,
    Reason,
    line_record_id,
    parse_record,
    quarantine_line,
)
from ..common.retry import RetryingS3, Sleep, TransientError, describe, error_code
from ..common.run_files import (
    S3Client,
    S3JsonlWriter,
    duplicates_key,
    input_refusal,
    iter_lines,
    list_objects,
    on_demand_key,
    quarantine_key,
    refused_key,
    s3_uri,
    shard_id_for,
    shard_key,
    shard_prefix,
    validate_run_id,
)
from ..common.s3_stream import CorruptInput

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

PARTITION_INPUT_BYTES = 2 * 1024 * 1024
MAX_PARTITIONS = 512
# Write buffers of the open partition files, shared out between them (8-256 KiB each).
SPOOL_BUFFER_BUDGET = 4 * 1024 * 1024
DUPLICATES_PER_LINE = 1000
_BOM = b"\xef\xbb\xbf"
# A body partition entry; the record line (Bedrock's input line) is everything after the third tab.
_BODY_ENTRY = b'%s\t%s\t%s\t{"recordId":%s,"modelInput":%s}\n'
_LINE_OVERHEAD = len(b'{"recordId":,"modelInput":}')


class PrepareError(RuntimeError):
    """The run cannot be prepared (bad configuration, no room in /tmp)."""


@dataclass(frozen=True)
class PrepareConfig:
    work_bucket: str
    model_family: str
    min_records: int
    max_records: int
    max_shard_bytes: int
    small_batch: str
    default_max_tokens: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PrepareConfig:
        def integer(name: str, minimum: int) -> int:
            raw = env.get(name, "")
            try:
                value = int(raw)
            except ValueError:
                raise PrepareError(f"{name} must be an integer, got {raw!r}") from None
            if value < minimum:
                raise PrepareError(f"{name} must be >= {minimum}, got {value}")
            return value

        family = env.get("MODEL_FAMILY", "")
        if family not in FAMILIES:
            raise PrepareError(f"MODEL_FAMILY must be one of {', '.join(FAMILIES)}, got {family!r}")
        small_batch = env.get("SMALL_BATCH", "")
        if small_batch not in SMALL_BATCH_MODES:
            raise PrepareError(
                f"SMALL_BATCH must be one of {', '.join(SMALL_BATCH_MODES)}, got {small_batch!r}"
            )
        if not env.get("WORK_BUCKET"):
            raise PrepareError("WORK_BUCKET is not set")
        config = cls(
            work_bucket=env["WORK_BUCKET"],
            model_family=family,
            min_records=integer("MIN_RECORDS_PER_JOB", 1),
            max_records=integer("MAX_RECORDS_PER_JOB", 1),
            max_shard_bytes=integer("MAX_SHARD_BYTES", 1024),
            small_batch=small_batch,
            default_max_tokens=integer("DEFAULT_MAX_TOKENS", 1),
        )
        if config.max_records < config.min_records:
            raise PrepareError(
                f"MAX_RECORDS_PER_JOB ({config.max_records}) is below MIN_RECORDS_PER_JOB ({config.min_records})"
            )
        return config


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return prepare(event, s3=_s3(), env=os.environ)


@functools.cache
def _s3() -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    # the SDK's standard retries on each request, under RetryingS3's (which also resumes broken streams)
    return boto3.client("s3", config=Config(retries={"mode": "standard", "total_max_attempts": 3}))


def partition_count(input_bytes: int) -> int:
    return max(1, min(MAX_PARTITIONS, math.ceil(input_bytes / PARTITION_INPUT_BYTES)))


def select_inputs(
    listing: Iterator[tuple[str, int]], bucket: str
) -> tuple[list[tuple[str, int]], list[dict[str, str]]]:
    """The input objects (in S3 key order) and the refused ones with their reasons; folder markers are neither."""
    inputs, refused = [], []
    for key, size in listing:
        if key.endswith("/") and size == 0:
            continue  # a "folder" the console made: no data
        reason = input_refusal(key)
        if reason is None:
            inputs.append((key, size))
        else:
            refused.append({"source": s3_uri(bucket, key), "reason": reason})
    return inputs, refused


def prepare(
    event: Mapping[str, Any],
    *,
    s3: S3Client,
    env: Mapping[str, str],
    tmp_dir: str | None = None,
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    config = PrepareConfig.from_env(env)
    run_id = validate_run_id(event.get("run_id"))
    s3 = RetryingS3.wrap(s3, sleep=sleep)
    input_bucket, input_prefix = event["input_bucket"], event.get("input_prefix", "")
    inputs, refused = select_inputs(list_objects(s3, input_bucket, input_prefix), input_bucket)
    sources = [s3_uri(input_bucket, key) for key, _ in inputs]
    partitions = partition_count(sum(size for _, size in inputs))
    logger.info(
        json.dumps(
            {
                "event": "prepare_start",
                "run_id": run_id,
                "files": len(inputs),
                "refused": len(refused),
                "partitions": partitions,
            }
        )
    )
    try:
        with tempfile.TemporaryDirectory(prefix="iw-prepare-", dir=tmp_dir) as tmp, ExitStack() as stack:
            quarantine = stack.enter_context(S3JsonlWriter(s3, config.work_bucket, quarantine_key(run_id)))
            duplicates = stack.enter_context(S3JsonlWriter(s3, config.work_bucket, duplicates_key(run_id)))
            run = _Run(s3, config, run_id, sources, tmp, partitions, quarantine, duplicates)
            run.sleep, run.refused = sleep, refused
            run.spool(input_bucket, [key for key, _ in inputs])
            run.check_ids()
            run.count_distinct()
            result = run.write_outputs(stack)
            _write_refused(s3, config.work_bucket, run_id, refused)
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise PrepareError(
                "prepare ran out of /tmp space while spooling the input: raise the function's ephemeral storage "
                "(it needs about the size of the normalized valid records)"
            ) from error
        raise
    logger.info(json.dumps({"event": "prepare_done", "run_id": run_id, **result["counts"]}))
    return result


class _Run:
    def __init__(
        self,
        s3: S3Client,
        config: PrepareConfig,
        run_id: str,
        sources: list[str],
        tmp: str,
        partitions: int,
        quarantine: S3JsonlWriter,
        duplicates: S3JsonlWriter,
    ) -> None:
        self.s3, self.config, self.run_id, self.sources = s3, config, run_id, sources
        self.tmp, self.partitions = tmp, partitions
        self.quarantine, self.duplicates = quarantine, duplicates
        self.lines = 0
        self.valid = 0
        self.distinct = 0
        self.distinct_bytes = 0
        self.sleep: Sleep = time.sleep
        self.refused: list[dict[str, str]] = []

    def _path(self, kind: str, index: int) -> str:
        return os.path.join(self.tmp, f"{kind}-{index:04d}")

    def _quarantine(self, record_id: str, code: str, message: str, src: bytes, text: str | bytes) -> None:
        file_index, _, line_number = src.partition(b":")
        self.quarantine.write_line(
            quarantine_line(
                record_id,
                code,
                message,
                source=self.sources[int(file_index)],
                line=int(line_number),
                text=text,
            )
        )

    def _open_spools(self, files: ExitStack, kind: str) -> list[BinaryIO]:
        size = max(8 * 1024, min(256 * 1024, SPOOL_BUFFER_BUDGET // (2 * self.partitions)))
        return [
            files.enter_context(open(self._path(kind, i), "wb", buffering=size))
            for i in range(self.partitions)
        ]

    # Pass 1: each valid record is spooled in full to a body partition (chosen by its body digest):
    #   <32 hex digits of the digest>\t<file:line>\t<json id>\t<record line>\n
    # and as a small entry to an id partition (chosen by its id):  <json id>\t<digest>\t<file:line>\n
    def spool(self, bucket: str, keys: list[str]) -> None:
        family, max_tokens = self.config.model_family, self.config.default_max_tokens
        max_line = self.config.max_shard_bytes - 1
        k = self.partitions
        lines = valid = 0
        with ExitStack() as files:
            bodies, ids = self._open_spools(files, "body"), self._open_spools(files, "id")
            for file_index, key in enumerate(keys):
                for line_number, raw in enumerate(self._lines(bucket, key), start=1):
                    if not raw or raw.isspace():
                        continue
                    lines += 1
                    if line_number == 1 and raw.startswith(_BOM):
                        raw = raw[3:]
                    src = b"%d:%d" % (file_index, line_number)
                    try:
                        parsed_id, body_json = parse_record(
                            raw, family=family, default_max_tokens=max_tokens, fallback_id=None
                        )
                        record_id = (
                            line_record_id(file_index, line_number) if parsed_id is None else parsed_id
                        )
                        jid = encode_basestring(record_id).encode("utf-8")
                        body = body_json.encode("utf-8")
                    except InvalidRecord as error:
                        record_id = error.record_id or line_record_id(file_index, line_number)
                        self._quarantine(record_id, error.code, error.message, src, raw)
                        continue
                    except UnicodeEncodeError:
                        message = "text contains an unpaired surrogate"
                        self._quarantine(record_id, Reason.INVALID_JSON, message, src, raw)
                        continue
                    size = len(jid) + len(body) + _LINE_OVERHEAD
                    if size > max_line:
                        message = f"the record is {size} bytes, over MAX_SHARD_BYTES ({max_line + 1})"
                        self._quarantine(record_id, Reason.RECORD_TOO_LARGE, message, src, raw)
                        continue
                    digest = hexlify(hashlib.blake2b(body, digest_size=16).digest())
                    bodies[hash(digest) % k].write(_BODY_ENTRY % (digest, src, jid, jid, body))
                    ids[hash(jid) % k].write(b"%s\t%s\t%s\n" % (jid, digest, src))
                    valid += 1
        self.lines, self.valid = lines, valid

    def _lines(self, bucket: str, key: str) -> Iterator[bytes]:
        """The lines of one input; an input that cannot be read to its end is refused with its reason (the
        lines before the problem are records like any other). Transient trouble propagates."""
        read = 0
        try:
            for raw in iter_lines(self.s3, bucket, key, sleep=self.sleep):
                read += 1
                yield raw
        except TransientError:
            raise
        except CorruptInput as error:
            self._refuse(bucket, key, f"{error}; the {read} lines before it were read")
        except Exception as error:
            if not error_code(error):
                raise
            after = f" after {read} lines, which were read" if read else ""
            self._refuse(bucket, key, f"could not be read{after}: {describe(error)}")

    def _refuse(self, bucket: str, key: str, reason: str) -> None:
        logger.warning(json.dumps({"event": "input_refused", "key": key, "reason": reason}))
        self.refused.append({"source": s3_uri(bucket, key), "reason": reason})

    # Pass 2: per id partition, a record whose id was used before with another body is rejected. The
    # rejection (`<file:line>\t<file:line of the first use>`) goes to its body partition's reject file.
    def check_ids(self) -> None:
        k = self.partitions
        with ExitStack() as files:
            rejects: dict[int, BinaryIO] = {}
            for index in range(k):
                path = self._path("id", index)
                seen: dict[bytes, tuple[bytes, bytes]] = {}
                with open(path, "rb") as spool:
                    for entry in spool:
                        jid, digest, src = entry[:-1].split(b"\t")
                        first = seen.get(jid)
                        if first is None:
                            seen[jid] = (digest, src)
                        elif first[0] != digest:
                            part = hash(digest) % k
                            if part not in rejects:
                                rejects[part] = files.enter_context(open(self._path("reject", part), "wb"))
                            rejects[part].write(src + b"\t" + first[1] + b"\n")
                            self.valid -= 1
                os.remove(path)

    def _rejected(self, index: int) -> dict[bytes, bytes]:
        """The records of body partition `index` rejected for a re-used id: file:line -> first file:line."""
        path = self._path("reject", index)
        if not os.path.exists(path):
            return {}
        with open(path, "rb") as rejects:
            return dict(entry[:-1].split(b"\t") for entry in rejects)

    # Pass 3: quarantine the rejected records; count distinct bodies and the bytes they make as shard lines.
    def count_distinct(self) -> None:
        for index in range(self.partitions):
            rejected = self._rejected(index)
            seen: set[bytes] = set()
            with open(self._path("body", index), "rb") as spool:
                for entry in spool:
                    if rejected:
                        _, src, jid, start = _fields(entry)
                        if src in rejected:
                            self._duplicate_id(src, jid, entry[start:-1], rejected[src])
                            continue
                    digest = entry[:32]
                    if digest not in seen:
                        seen.add(digest)
                        self.distinct_bytes += len(entry) - entry.index(b"\t", entry.index(b"\t", 33) + 1) - 1
            self.distinct += len(seen)

    def _duplicate_id(self, src: bytes, jid: bytes, line: bytes, first_src: bytes) -> None:
        file_index, _, line_number = first_src.partition(b":")
        message = (
            f"record id already used with a different body at line {int(line_number)} of "
            f"{self.sources[int(file_index)]}"
        )
        self._quarantine(json.loads(jid), Reason.DUPLICATE_RECORD_ID, message, src, line)

    def _entries(self, index: int) -> Iterator[tuple[bytes, bytes, bytes, int, bytes]]:
        """(digest, file:line, json id, offset of the record line, entry) of the records of a body
        partition that were not rejected; the partition's files are removed once read."""
        rejected = self._rejected(index)
        with open(self._path("body", index), "rb") as spool:
            for entry in spool:
                digest, src, jid, start = _fields(entry)
                if not rejected or src not in rejected:
                    yield digest, src, jid, start, entry
        self._remove(index)

    def _remove(self, index: int) -> None:
        for kind in ("body", "reject"):
            path = self._path(kind, index)
            if os.path.exists(path):
                os.remove(path)

    # Pass 4: shards (or the on-demand file, or the quarantine) and the de-duplication map.
    def write_outputs(self, stack: ExitStack) -> dict[str, Any]:
        config = self.config
        mode = "none"
        if 0 < self.distinct < config.min_records:
            mode = config.small_batch
        shards: list[dict[str, Any]] = []
        if mode == "fail":
            self._quarantine_below_minimum()
        elif self.distinct:
            sink = stack.enter_context(
                _ShardSink(self.s3, config, self.run_id, self.distinct, self.distinct_bytes, mode)
            )
            self._deduplicate_into(sink)
            sink.close()
            shards = sink.shards
        quarantined = self.quarantine.lines
        valid, distinct = (0, 0) if mode == "fail" else (self.valid, self.distinct)
        return {
            "run_id": self.run_id,
            "shards": shards,
            "small_batch": {"mode": mode, "records": self.distinct if mode != "none" else 0},
            "counts": {
                "lines": self.lines,
                "valid": valid,
                "distinct": distinct,
                "duplicates": valid - distinct,
                "quarantined": quarantined,
                "refused_inputs": len(self.refused),
            },
        }

    def _deduplicate_into(self, sink: _ShardSink) -> None:
        write = sink.write
        for index in range(self.partitions):
            groups: dict[bytes, list[Any]] = {}
            rejected = self._rejected(index)
            with open(self._path("body", index), "rb") as spool:
                for entry in spool:
                    second = entry.index(b"\t", 33)
                    third = entry.index(b"\t", second + 1)
                    if rejected and entry[33:second] in rejected:
                        continue
                    digest = entry[:32]
                    group = groups.get(digest)
                    if group is None:
                        groups[digest] = [write(entry[third + 1 :]), entry[second + 1 : third]]
                    else:
                        group.append(entry[second + 1 : third])
            self._remove(index)
            # Lines of the map go out ordered by shard, so collect can read it alongside the shards.
            with_duplicates = sorted((g for g in groups.values() if len(g) > 2), key=lambda g: g[0])
            for shard_index, kept, *copies in with_duplicates:
                shard_id = sink.shard_id(shard_index).encode("ascii")
                for begin in range(0, len(copies), DUPLICATES_PER_LINE):
                    chunk = b",".join(copies[begin : begin + DUPLICATES_PER_LINE])
                    self.duplicates.write_line(
                        b'{"recordId":'
                        + kept
                        + b',"shard_id":"'
                        + shard_id
                        + b'","duplicates":['
                        + chunk
                        + b"]}"
                    )

    def _quarantine_below_minimum(self) -> None:
        message = (
            f"the run has {self.distinct} distinct valid records, below the minimum of "
            f"{self.config.min_records} per batch job (SMALL_BATCH=fail)"
        )
        for index in range(self.partitions):
            for _, src, jid, start, entry in self._entries(index):
                self._quarantine(json.loads(jid), Reason.BELOW_MINIMUM_RECORDS, message, src, entry[start:-1])


def _write_refused(s3: S3Client, bucket: str, run_id: str, refused: list[dict[str, str]]) -> None:
    """Always written (empty too), so a retried prepare never leaves an earlier attempt's list behind."""
    body = "".join(json.dumps(entry) + "\n" for entry in refused).encode("utf-8")
    s3.put_object(Bucket=bucket, Key=refused_key(run_id), Body=body, ContentType="application/jsonl")


def _fields(entry: bytes) -> tuple[bytes, bytes, bytes, int]:
    """(digest, "file:line", json id, offset of the record line) of a spool entry, copying only the small
    fields. An entry is `<32 hex digits of the body digest>\t<file:line>\t<json id>\t<record line>\n`."""
    second = entry.index(b"\t", 33)
    third = entry.index(b"\t", second + 1)
    return entry[:32], entry[33:second], entry[second + 1 : third], third + 1


class _ShardSink:
    """Fills shards of equal record counts (all within MAX_RECORDS_PER_JOB and MAX_SHARD_BYTES)."""

    def __init__(
        self, s3: S3Client, config: PrepareConfig, run_id: str, records: int, record_bytes: int, mode: str
    ) -> None:
        self.s3, self.config, self.run_id, self.mode = s3, config, run_id, mode
        count = max(math.ceil(records / config.max_records), math.ceil(record_bytes / config.max_shard_bytes))
        self.target: float = math.ceil(records / count)
        if mode == "none" and self.target < config.min_records:
            logger.warning(
                json.dumps(
                    {"event": "small_shards", "records_per_shard": self.target, "reason": "MAX_SHARD_BYTES"}
                )
            )
        if mode != "none":  # one file, however large
            self.target, self.max_bytes = math.inf, math.inf
        else:
            self.max_bytes = config.max_shard_bytes
        self.shards: list[dict[str, Any]] = []
        self.writer: S3JsonlWriter | None = None
        self.index = -1

    def shard_id(self, index: int) -> str:
        return ON_DEMAND_SHARD_ID if self.mode == "on_demand" else shard_id_for(index)

    def write(self, line: bytes) -> int:
        """Add one record line (ending in a newline); returns the index of its shard."""
        writer = self.writer
        if writer is None or writer.lines >= self.target or writer.bytes + len(line) > self.max_bytes:
            writer = self._next()
        writer.write_raw(line)
        return self.index

    def _next(self) -> S3JsonlWriter:
        self._finish()
        bucket = self.config.work_bucket
        index = len(self.shards)
        shard_id = self.shard_id(index)
        key = on_demand_key(self.run_id) if self.mode == "on_demand" else shard_key(self.run_id, shard_id)
        self.writer = S3JsonlWriter(self.s3, bucket, key)
        self.index = index
        self.shards.append(
            {
                "shard_id": shard_id,
                "input_uri": s3_uri(bucket, shard_prefix(self.run_id, shard_id)),
                "records": 0,
            }
        )
        return self.writer

    def _finish(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.shards[-1]["records"] = self.writer.lines
            self.writer = None

    def close(self) -> None:
        self._finish()
        if self.mode == "on_demand":
            self.shards = []

    def __enter__(self) -> _ShardSink:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None and self.writer is not None:
            self.writer.abort()
