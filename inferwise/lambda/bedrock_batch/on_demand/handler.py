"""on_demand: run a batch too small for a Bedrock batch job through InvokeModel, record by record.

Event `{"run_id"}`; env WORK_BUCKET, MODEL_ID (ON_DEMAND_CONCURRENCY optional, default 4; INVOKE_MODEL_ID
optional: the pipeline's application inference profile ARN, named as `modelId` instead of MODEL_ID so the
token spend carries the pipeline's tags). Reads
`runs/<run>/on-demand/records.jsonl`, writes `runs/<run>/outputs/on-demand/records.jsonl.out` in the line
shape of a batch job (`{"recordId", "modelInput", "modelOutput"}` or `"error": {"errorCode",
"errorMessage"}`) plus a `manifest.json.out` with the token counts the responses reported, and returns a
job result (shard_id "on-demand", job_arn null). Throttling and transient errors are retried with
bounded exponential backoff; a record that still fails gets an error line. When the function is about to
time out it stops starting new calls: those records get no output line (collect reports them as
`no_output`) and the status is PartiallyCompleted.

Idempotent: each record's output line is also written, as soon as InvokeModel answers, to its own done
marker under `runs/<run>/on-demand/done/`. A rerun (the state machine retrying a `TransientError`, a
redriven execution) reads the markers first and invokes only the records without one, so no record is paid
for twice. Records whose calls were throttled to the end get no marker (they were not billed): a rerun
tries them again. S3 calls retry transient errors (bounded backoff, then `TransientError`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ..common.batch_records import ON_DEMAND_SHARD_ID, canonical_json, loads_strict, usage_from_response
from ..common.retry import RetryingS3, TransientError, describe, is_transient
from ..common.run_files import (
    S3Client,
    S3JsonlWriter,
    error_code,
    iter_lines,
    on_demand_key,
    outputs_prefix,
    s3_uri,
    validate_run_id,
)
from .done import DoneMarkers

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ServiceQuotaExceededException",
        "ModelNotReadyException",
        "InternalServerException",
        "ModelTimeoutException",
    }
)
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 20.0
READ_TIMEOUT_SECONDS = 120
# Stop starting calls when less than this is left of the function's time (one slow call + writing out).
TIME_RESERVE_MS = (READ_TIMEOUT_SECONDS + 30) * 1000
DEFAULT_CONCURRENCY = 4


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return on_demand(
        event, s3=_client("s3"), runtime=_client("bedrock-runtime"), env=os.environ, context=context
    )


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    # InvokeModel retries are ours (bounded backoff below), so the SDK makes one attempt per call; S3 calls
    # get the SDK's standard retries under the handler's own (RetryingS3).
    retries = {"mode": "standard", "total_max_attempts": 1 if name == "bedrock-runtime" else 3}
    return boto3.client(name, config=Config(read_timeout=READ_TIMEOUT_SECONDS, retries=retries))


def backoff_seconds(attempt: int) -> float:
    """Full-jitter exponential backoff: up to 1, 2, 4, ... seconds, capped."""
    delay: float = BACKOFF_BASE_SECONDS * 2**attempt  # typeshed types int ** int as Any (2**-1 is a float)
    return random.uniform(0.5, 1.0) * min(BACKOFF_CAP_SECONDS, delay)


class Outcome:
    __slots__ = ("error", "final", "input_tokens", "model_input", "output", "output_tokens", "record_id")

    def __init__(self, record_id: str, model_input: Any) -> None:
        self.record_id, self.model_input = record_id, model_input
        self.output: Any = None
        self.error: dict[str, str] | None = None
        self.input_tokens = self.output_tokens = 0
        self.final = True  # False: retries ran out on a throttle/transient error (not billed, worth a rerun)

    def line(self) -> str:
        entry: dict[str, Any] = {"recordId": self.record_id, "modelInput": self.model_input}
        if self.error is None:
            entry["modelOutput"] = self.output
        else:
            entry["error"] = self.error
        return json.dumps(entry)


def invoke(
    runtime: Any,
    model_id: str,
    record_id: str,
    model_input: Any,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    outcome = Outcome(record_id, model_input)
    body = canonical_json(model_input).encode("utf-8")
    for attempt in range(MAX_ATTEMPTS):
        try:
            response = runtime.invoke_model(
                modelId=model_id, body=body, contentType="application/json", accept="application/json"
            )
            raw = response["body"].read()
        except Exception as error:
            code = error_code(error) or type(error).__name__
            retryable = code in RETRYABLE_CODES or is_transient(error) or not error_code(error)
            if retryable and attempt + 1 < MAX_ATTEMPTS:
                sleep(backoff_seconds(attempt))
                continue
            suffix = f" (gave up after {attempt + 1} attempts)" if retryable else ""
            outcome.error = {"errorCode": code, "errorMessage": f"{error}{suffix}"}
            outcome.final = not retryable
            return outcome
        try:
            outcome.output = loads_strict(raw.decode("utf-8"))
        except ValueError as error:
            outcome.error = {
                "errorCode": "invalid_model_response",
                "errorMessage": f"response is not JSON: {error}",
            }
            return outcome
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders")
        outcome.input_tokens, outcome.output_tokens = usage_from_response(outcome.output, headers)
        return outcome
    raise AssertionError("unreachable")  # pragma: no cover


def on_demand(
    event: Mapping[str, Any],
    *,
    s3: S3Client,
    runtime: Any,
    env: Mapping[str, str],
    context: Any = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    run_id = validate_run_id(event.get("run_id"))
    bucket, model_id = env["WORK_BUCKET"], env.get("INVOKE_MODEL_ID") or env["MODEL_ID"]
    workers = max(1, int(env.get("ON_DEMAND_CONCURRENCY") or DEFAULT_CONCURRENCY))
    s3 = RetryingS3.wrap(s3, sleep=sleep)
    prefix = outputs_prefix(run_id, ON_DEMAND_SHARD_ID)
    done = DoneMarkers(s3, bucket, run_id)
    finished = done.load()
    run = _OnDemandRun(runtime, model_id, done, workers, context, sleep)
    with S3JsonlWriter(s3, bucket, prefix + "records.jsonl.out") as out:
        run.out = out
        records = (
            loads_strict(raw.decode("utf-8"))
            for raw in iter_lines(s3, bucket, on_demand_key(run_id), missing_ok=True, sleep=sleep)
            if raw.strip()
        )
        run.run(((record["recordId"], record["modelInput"]) for record in records), finished)
    counts = run.counts
    manifest = {
        "totalRecordCount": counts["total"],
        "processedRecordCount": counts["success"] + counts["error"],
        "successRecordCount": counts["success"],
        "errorRecordCount": counts["error"],
        "inputTokenCount": counts["input_tokens"],
        "outputTokenCount": counts["output_tokens"],
    }
    s3.put_object(
        Bucket=bucket,
        Key=prefix + "manifest.json.out",
        Body=json.dumps(manifest).encode(),
        ContentType="application/json",
    )
    message = ""
    if run.skipped:
        message = f"on-demand run stopped early to finish within the function timeout: {run.skipped} records were not invoked"
    logger.info(
        json.dumps(
            {
                "event": "on_demand_done",
                "run_id": run_id,
                **manifest,
                "skipped": run.skipped,
                "reused": counts["reused"],
            }
        )
    )
    return {
        "shard_id": ON_DEMAND_SHARD_ID,
        "job_arn": None,
        "status": "PartiallyCompleted" if run.skipped else "Completed",
        "output_uri": s3_uri(bucket, prefix),
        "message": message,
    }


class _OnDemandRun:
    """Invokes the records that have no done marker, a few at a time, and writes every outcome once."""

    def __init__(
        self,
        runtime: Any,
        model_id: str,
        done: DoneMarkers,
        workers: int,
        context: Any,
        sleep: Callable[[float], None],
    ) -> None:
        self.runtime, self.model_id, self.done, self.workers = runtime, model_id, done, workers
        self.context, self.sleep = context, sleep
        self.out: S3JsonlWriter | None = None
        self.counts = {
            "total": 0,
            "success": 0,
            "error": 0,
            "input_tokens": 0,
            "output_tokens": 0,
            "reused": 0,
        }
        self.skipped = 0

    def out_of_time(self) -> bool:
        return self.context is not None and self.context.get_remaining_time_in_millis() < TIME_RESERVE_MS

    def record(self, line: str, failed: bool, input_tokens: int, output_tokens: int) -> None:
        assert self.out is not None
        self.out.write_line(line)
        self.counts["error" if failed else "success"] += 1
        self.counts["input_tokens"] += input_tokens
        self.counts["output_tokens"] += output_tokens

    def invoke(self, record_id: str, model_input: Any) -> Outcome:
        outcome = invoke(self.runtime, self.model_id, record_id, model_input, sleep=self.sleep)
        if outcome.final:
            try:
                self.done.mark(
                    outcome.record_id,
                    outcome.line(),
                    failed=outcome.error is not None,
                    input_tokens=outcome.input_tokens,
                    output_tokens=outcome.output_tokens,
                )
            except (
                TransientError
            ) as error:  # the outcome is still written below; only a rerun would repeat it
                logger.warning(
                    json.dumps({"event": "done_marker_lost", "record": record_id, "error": describe(error)})
                )
        return outcome

    def finish(self, future: Future[Outcome]) -> None:
        outcome = future.result()
        self.record(outcome.line(), outcome.error is not None, outcome.input_tokens, outcome.output_tokens)

    def run(self, records: Iterator[tuple[str, Any]], finished: Mapping[str, dict[str, Any]]) -> None:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            running: set[Future[Outcome]] = set()
            for record_id, model_input in records:
                self.counts["total"] += 1
                marker = finished.get(record_id)
                if marker is not None:  # paid for by an earlier attempt: reuse its outcome
                    self.counts["reused"] += 1
                    self.record(
                        marker["line"], marker["failed"], marker["input_tokens"], marker["output_tokens"]
                    )
                    continue
                if self.skipped or self.out_of_time():
                    self.skipped += 1
                    continue
                running.add(pool.submit(self.invoke, record_id, model_input))
                if len(running) >= 2 * self.workers:
                    completed, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in completed:
                        self.finish(future)
            for future in running:
                self.finish(future)
