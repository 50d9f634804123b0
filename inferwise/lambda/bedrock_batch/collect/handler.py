"""collect: join every shard's Bedrock output back to the input records and account for each of them.

Event `{"run_id", "prepare": <prepare output>, "jobs": [<job result>...]}`. Writes
`<output prefix><run>/results.jsonl`, `errors.jsonl` and `summary.json`, publishes metrics to
METRIC_NAMESPACE once per run (`report.publish_once`), and returns `{"run_id", "status", "counts",
"summary_uri", "warnings"}`. Idempotent: a retried collect rewrites the same files and publishes nothing
twice. S3 calls and broken response streams are retried (bounded backoff, then `TransientError`, which the
state machine retries); nothing in a job's output files stops the run (`outputs`).

Accounting identity (checked on every run; a violation raises AccountingError after the summary is
written): records_in == results + model_errors + job_errors + quarantined, where
  records_in   = non-blank input lines (prepare's counts.lines),
  results      = lines in results.jsonl (a model output, for a record or for its duplicates),
  model_errors = errors.jsonl lines with stage "model" (the model returned an error for the record),
  job_errors   = errors.jsonl lines with stage "job" (the record's job failed, stopped, expired, or
                 ended without an output for it: `no_output`),
  quarantined  = errors.jsonl lines with stage "validation" (prepare's quarantine).
Outputs are joined on recordId (Bedrock does not keep input order); memory holds one shard's record
ids and its duplicate map, never the outputs. Warnings (refused inputs, manifest gaps) are in the summary
and, the first ten, in the output.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

from ..common.batch_records import ON_DEMAND_SHARD_ID, error_line
from ..common.retry import RetryingS3, Sleep
from ..common.run_files import (
    S3Client,
    S3JsonlWriter,
    duplicates_key,
    iter_lines,
    quarantine_key,
    refused_key,
    s3_uri,
    validate_run_id,
)
from .outputs import JOB_ERROR_CODES as JOB_ERROR_CODES
from .outputs import ShardReader
from .report import MAX_WARNINGS, publish_once, tokens_and_cost, warnings
from .report import METRICS as METRICS
from .report import prices as _prices

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

REFUSED_IN_SUMMARY = 100


class AccountingError(RuntimeError):
    """Records went missing or were counted twice: a bug, never an expected outcome."""


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return collect(
        event,
        s3=_client("s3"),
        cloudwatch=_client("cloudwatch"),
        dynamodb=_client("dynamodb"),
        env=os.environ,
    )


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    # PutMetricData retries are collect's own (a lost answer is never resent: it may have counted)
    attempts = 1 if name == "cloudwatch" else 3
    return boto3.client(name, config=Config(retries={"mode": "standard", "total_max_attempts": attempts}))


class _Duplicates:
    """Reads duplicates.jsonl alongside the shards (prepare writes it ordered by shard)."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self._next: dict[str, Any] | None = None
        self._advance()

    def _advance(self) -> None:
        for raw in self._lines:
            if raw.strip():
                self._next = json.loads(raw)
                return
        self._next = None

    def for_shard(self, shard_id: str) -> dict[str, list[str]]:
        copies: dict[str, list[str]] = {}
        while self._next is not None and self._next.get("shard_id") == shard_id:
            copies.setdefault(self._next["recordId"], []).extend(self._next["duplicates"])
            self._advance()
        return copies

    def leftover(self) -> int:
        count = 0
        while self._next is not None:
            logger.error(json.dumps({"event": "orphan_duplicates", "line": self._next}))
            count += len(self._next.get("duplicates", []))
            self._advance()
        return count


def _quarantine(s3: S3Client, work_bucket: str, run_id: str, errors: S3JsonlWriter, sleep: Sleep) -> int:
    count = 0
    for raw in iter_lines(s3, work_bucket, quarantine_key(run_id), missing_ok=True, sleep=sleep):
        if raw.strip():
            entry = json.loads(raw)
            errors.write_line(
                error_line(entry["recordId"], "validation", entry["errorCode"], entry["errorMessage"])
            )
            count += 1
    return count


def _refused(s3: S3Client, work_bucket: str, run_id: str, sleep: Sleep) -> list[dict[str, str]]:
    """The inputs prepare refused, with their reasons."""
    lines = iter_lines(s3, work_bucket, refused_key(run_id), missing_ok=True, sleep=sleep)
    return [json.loads(raw) for raw in lines if raw.strip()]


def _write_results_and_errors(
    s3: S3Client,
    event: Mapping[str, Any],
    run_id: str,
    buckets: tuple[str, str],
    base: str,
    sleep: Sleep,
) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """Write `<base>results.jsonl` and `<base>errors.jsonl`: the quarantine, then every shard's records.

    Returns the record counts, one summary line per shard (the on-demand pseudo-shard included) and how
    many duplicates.jsonl lines no shard claimed.
    """
    work_bucket, output_bucket = buckets
    prepare = event["prepare"]
    jobs = {
        job["shard_id"]: job
        for job in event.get("jobs") or []
        if isinstance(job, Mapping) and "shard_id" in job
    }
    shard_ids = [shard["shard_id"] for shard in prepare.get("shards") or []]
    if (prepare.get("small_batch") or {}).get("mode") == "on_demand":
        shard_ids.append(ON_DEMAND_SHARD_ID)

    job_lines = []
    counts = {"results": 0, "model_errors": 0, "job_errors": 0, "quarantined": 0}
    with (
        S3JsonlWriter(s3, output_bucket, base + "results.jsonl") as results,
        S3JsonlWriter(s3, output_bucket, base + "errors.jsonl") as errors,
    ):
        counts["quarantined"] = _quarantine(s3, work_bucket, run_id, errors, sleep)
        reader = ShardReader(s3, work_bucket, run_id, results, errors, counts, sleep)
        duplicates = _Duplicates(
            iter_lines(s3, work_bucket, duplicates_key(run_id), missing_ok=True, sleep=sleep)
        )
        for shard_id in shard_ids:
            job = jobs.get(shard_id) or {
                "shard_id": shard_id,
                "job_arn": None,
                "status": "Failed",
                "output_uri": None,
                "message": "no job result reached collect for this shard",
            }
            job_lines.append(reader.read(shard_id, job, duplicates.for_shard(shard_id)))
        orphans = duplicates.leftover()
    return counts, job_lines, orphans


def collect(
    event: Mapping[str, Any],
    *,
    s3: S3Client,
    cloudwatch: Any,
    dynamodb: Any,
    env: Mapping[str, str],
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    run_id = validate_run_id(event.get("run_id"))
    pipeline = str(event.get("pipeline") or env.get("PIPELINE_NAME") or "default")
    prepare = event["prepare"]
    s3 = RetryingS3.wrap(s3, sleep=sleep)
    work_bucket, output_bucket = env["WORK_BUCKET"], env["OUTPUT_BUCKET"]
    price = _prices(env)
    base = f"{env.get('OUTPUT_PREFIX', '')}{run_id}/"
    counts, job_lines, orphans = _write_results_and_errors(
        s3, event, run_id, (work_bucket, output_bucket), base, sleep
    )
    refused = _refused(s3, work_bucket, run_id, sleep)
    summary = _summary(env, prepare, run_id, pipeline, counts, job_lines, orphans, price, refused)
    summary["results_uri"] = s3_uri(output_bucket, base + "results.jsonl")
    summary["errors_uri"] = s3_uri(output_bucket, base + "errors.jsonl")
    summary["metrics"] = publish_once(cloudwatch, dynamodb, env, summary, sleep=sleep)
    summary_key = base + "summary.json"
    s3.put_object(
        Bucket=output_bucket,
        Key=summary_key,
        Body=json.dumps(summary, indent=2).encode(),
        ContentType="application/json",
    )
    logger.info(
        json.dumps(
            {"event": "collect_done", "run_id": run_id, "status": summary["status"], **summary["counts"]}
        )
    )
    if not summary["accounting"]["holds"]:
        raise AccountingError(
            f"run {run_id}: records_in={summary['counts']['records_in']} but accounted="
            f"{summary['accounting']['accounted']} ({counts}), orphan duplicates={orphans}; "
            f"see {s3_uri(output_bucket, summary_key)}"
        )
    shown = summary["warnings"][:MAX_WARNINGS]
    if len(summary["warnings"]) > MAX_WARNINGS:
        shown.append(f"... and {len(summary['warnings']) - MAX_WARNINGS} more in the summary")
    return {
        "run_id": run_id,
        "status": summary["status"],
        "counts": {"records_in": summary["counts"]["records_in"], **counts},
        "summary_uri": s3_uri(output_bucket, summary_key),
        "warnings": shown,
    }


def _summary(
    env: Mapping[str, str],
    prepare: Mapping[str, Any],
    run_id: str,
    pipeline: str,
    counts: dict[str, int],
    job_lines: list[dict[str, Any]],
    orphans: int,
    price: dict[str, float],
    refused: list[dict[str, str]],
) -> dict[str, Any]:
    records_in = int(prepare["counts"]["lines"])
    accounted = counts["results"] + counts["model_errors"] + counts["job_errors"] + counts["quarantined"]
    errors_total = accounted - counts["results"]
    # SUCCEEDED: no record has an error (an empty input included); FAILED: no record has a result.
    status = "SUCCEEDED" if not errors_total else "PARTIAL" if counts["results"] else "FAILED"
    distinct = int(prepare["counts"].get("distinct", 0))
    duplicates_sent = int(prepare["counts"].get("duplicates", 0))
    tokens, cost = tokens_and_cost(job_lines, price, distinct, duplicates_sent)
    return {
        "run_id": run_id,
        "pipeline": pipeline,
        "model_id": env.get("MODEL_ID", ""),
        "status": status,
        "counts": {"records_in": records_in, **counts, "distinct": distinct, "duplicates": duplicates_sent},
        "accounting": {
            "identity": "records_in == results + model_errors + job_errors + quarantined",
            "holds": records_in == accounted and not orphans,
            "accounted": accounted,
            "orphan_duplicates": orphans,
        },
        "tokens": tokens,
        "cost_usd": cost,
        "prices_usd_per_million_tokens": price,
        "small_batch": prepare.get("small_batch"),
        "inputs": {"refused_count": len(refused), "refused": refused[:REFUSED_IN_SUMMARY]},
        "warnings": warnings(job_lines, refused),
        "jobs": job_lines,
    }
