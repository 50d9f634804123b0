"""collect: join every shard's Bedrock output back to the input records and account for each of them.

Event `{"run_id", "prepare": <prepare output>, "jobs": [<job result>...]}`. Writes
`<output prefix><run>/results.jsonl`, `errors.jsonl` and `summary.json`, publishes metrics to
METRIC_NAMESPACE, and returns `{"run_id", "status", "counts", "summary_uri"}`.

Accounting identity (checked on every run; a violation raises AccountingError after the summary is
written): records_in == results + model_errors + job_errors + quarantined, where
  records_in   = non-blank input lines (prepare's counts.lines),
  results      = lines in results.jsonl (a model output, for a record or for its duplicates),
  model_errors = errors.jsonl lines with stage "model" (the model returned an error for the record),
  job_errors   = errors.jsonl lines with stage "job" (the record's job failed, stopped, expired, or
                 ended without an output for it: `no_output`),
  quarantined  = errors.jsonl lines with stage "validation" (prepare's quarantine).
Outputs are joined on recordId (Bedrock does not keep input order); memory holds one shard's record
ids and its duplicate map, never the outputs.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..common.batch_records import ON_DEMAND_SHARD_ID, error_line, record_id_of
from ..common.run_files import (
    S3Client,
    S3JsonlWriter,
    duplicates_key,
    input_key_for,
    iter_lines,
    job_id_from_arn,
    list_objects,
    parse_s3_uri,
    quarantine_key,
    read_json,
    s3_uri,
    validate_run_id,
)

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

JOB_ERROR_CODES = {
    "Failed": "job_failed",
    "Stopped": "job_stopped",
    "Expired": "job_expired",
    "Completed": "no_output",
    "PartiallyCompleted": "no_output",
}
PRICE_ENV = {
    "batch_input": "BATCH_INPUT_PRICE_PER_MTOK",
    "batch_output": "BATCH_OUTPUT_PRICE_PER_MTOK",
    "on_demand_input": "ON_DEMAND_INPUT_PRICE_PER_MTOK",
    "on_demand_output": "ON_DEMAND_OUTPUT_PRICE_PER_MTOK",
}


class AccountingError(RuntimeError):
    """Records went missing or were counted twice: a bug, never an expected outcome."""


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return collect(event, s3=_client("s3"), cloudwatch=_client("cloudwatch"), env=os.environ)


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(name)


def _prices(env: Mapping[str, str]) -> dict[str, float]:
    prices = {}
    for name, variable in PRICE_ENV.items():
        raw = env.get(variable) or "0"
        try:
            prices[name] = float(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a number (USD per million tokens), got {raw!r}") from None
    return prices


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


class _Collector:
    def __init__(
        self, s3: S3Client, work_bucket: str, run_id: str, results: S3JsonlWriter, errors: S3JsonlWriter
    ):
        self.s3, self.work_bucket, self.run_id = s3, work_bucket, run_id
        self.results, self.errors = results, errors
        self.counts = {"results": 0, "model_errors": 0, "job_errors": 0, "quarantined": 0}

    def quarantine(self) -> None:
        for raw in iter_lines(self.s3, self.work_bucket, quarantine_key(self.run_id), missing_ok=True):
            if raw.strip():
                entry = json.loads(raw)
                self.errors.write_line(
                    error_line(entry["recordId"], "validation", entry["errorCode"], entry["errorMessage"])
                )
                self.counts["quarantined"] += 1

    def _result(self, record_id: str, output: Any, copies: list[str]) -> None:
        for rid in (record_id, *copies):
            self.results.write_line(json.dumps({"recordId": rid, "modelOutput": output}))
        self.counts["results"] += 1 + len(copies)

    def _error(self, record_id: str, stage: str, code: object, message: object, copies: list[str]) -> None:
        for rid in (record_id, *copies):
            self.errors.write_line(error_line(rid, stage, code, message))
        self.counts["model_errors" if stage == "model" else "job_errors"] += 1 + len(copies)

    def shard(self, shard_id: str, job: Mapping[str, Any], copies: dict[str, list[str]]) -> dict[str, Any]:
        """Account for every record of one shard; returns the job's line of the summary."""
        status = job.get("status") or "Failed"
        message = job.get("message") or ""
        pending: set[str] = set()
        for raw in iter_lines(
            self.s3, self.work_bucket, input_key_for(self.run_id, shard_id), missing_ok=True
        ):
            if raw.strip():
                pending.add(record_id_of(raw.decode("utf-8")))
        records = len(pending)
        outputs = unexpected = 0
        manifest_found = False
        tokens = {"input": 0, "output": 0}
        for bucket, key in self._output_files(job):
            if key.endswith("manifest.json.out"):
                manifest_found = True
                manifest = read_json(self.s3, bucket, key)
                tokens["input"] += int(manifest.get("inputTokenCount") or 0)
                tokens["output"] += int(manifest.get("outputTokenCount") or 0)
                continue
            for raw in iter_lines(self.s3, bucket, key):
                if not raw.strip():
                    continue
                try:
                    entry = json.loads(raw)
                    record_id = entry["recordId"]
                except (ValueError, KeyError, TypeError):
                    unexpected += 1
                    continue
                if record_id not in pending:
                    unexpected += 1  # not ours, or a second output for the same record
                    continue
                pending.discard(record_id)
                outputs += 1
                if "modelOutput" in entry:
                    self._result(record_id, entry["modelOutput"], copies.pop(record_id, []))
                else:
                    error = entry.get("error") if isinstance(entry.get("error"), dict) else {}
                    self._error(
                        record_id,
                        "model",
                        error.get("errorCode", "malformed_output"),
                        error.get("errorMessage", "output line has neither modelOutput nor error"),
                        copies.pop(record_id, []),
                    )
        code = JOB_ERROR_CODES.get(status, "job_failed")
        why = message or f"the job ended {status} without an output for this record"
        for record_id in sorted(pending):
            self._error(record_id, "job", code, why, copies.pop(record_id, []))
        if copies:  # duplicates of records that are not in this shard: a prepare/collect mismatch
            logger.error(
                json.dumps({"event": "stray_duplicates", "shard_id": shard_id, "records": list(copies)[:20]})
            )
        if unexpected:
            logger.warning(
                json.dumps({"event": "unexpected_outputs", "shard_id": shard_id, "count": unexpected})
            )
        return {
            "shard_id": shard_id,
            "job_arn": job.get("job_arn"),
            "status": status,
            "message": message,
            "records": records,
            "outputs": outputs,
            "unexpected_outputs": unexpected,
            "manifest_found": manifest_found,
            "input_tokens": tokens["input"],
            "output_tokens": tokens["output"],
        }

    def _output_files(self, job: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
        """`*.jsonl.out` and `manifest.json.out` under the job's output folder (`<output_uri><job id>/`)."""
        if not job.get("output_uri"):
            return
        bucket, prefix = parse_s3_uri(job["output_uri"])
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if job.get("job_arn"):
            prefix += job_id_from_arn(job["job_arn"]) + "/"
        for key, _ in list_objects(self.s3, bucket, prefix):
            if key.endswith(".jsonl.out") or key.endswith("manifest.json.out"):
                yield bucket, key


def _write_results_and_errors(
    s3: S3Client, event: Mapping[str, Any], run_id: str, work_bucket: str, output_bucket: str, base: str
) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """Write `<base>results.jsonl` and `<base>errors.jsonl`: the quarantine, then every shard's records.

    Returns the record counts, one summary line per shard (the on-demand pseudo-shard included) and how
    many duplicates.jsonl lines no shard claimed.
    """
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
    with (
        S3JsonlWriter(s3, output_bucket, base + "results.jsonl") as results,
        S3JsonlWriter(s3, output_bucket, base + "errors.jsonl") as errors,
    ):
        collector = _Collector(s3, work_bucket, run_id, results, errors)
        collector.quarantine()
        duplicates = _Duplicates(iter_lines(s3, work_bucket, duplicates_key(run_id), missing_ok=True))
        for shard_id in shard_ids:
            job = jobs.get(shard_id) or {
                "shard_id": shard_id,
                "job_arn": None,
                "status": "Failed",
                "output_uri": None,
                "message": "no job result reached collect for this shard",
            }
            job_lines.append(collector.shard(shard_id, job, duplicates.for_shard(shard_id)))
        orphans = duplicates.leftover()
    return collector.counts, job_lines, orphans


def collect(
    event: Mapping[str, Any], *, s3: S3Client, cloudwatch: Any, env: Mapping[str, str]
) -> dict[str, Any]:
    run_id = validate_run_id(event.get("run_id"))
    pipeline = str(event.get("pipeline") or env.get("PIPELINE_NAME") or "default")
    prepare = event["prepare"]
    work_bucket, output_bucket = env["WORK_BUCKET"], env["OUTPUT_BUCKET"]
    output_prefix = env.get("OUTPUT_PREFIX", "")
    prices = _prices(env)
    base = f"{output_prefix}{run_id}/"
    counts, job_lines, orphans = _write_results_and_errors(
        s3, event, run_id, work_bucket, output_bucket, base
    )
    records_in = int(prepare["counts"]["lines"])
    accounted = counts["results"] + counts["model_errors"] + counts["job_errors"] + counts["quarantined"]
    errors_total = accounted - counts["results"]
    # SUCCEEDED: no record has an error (an empty input included); FAILED: no record has a result.
    status = "SUCCEEDED" if not errors_total else "PARTIAL" if counts["results"] else "FAILED"

    distinct = int(prepare["counts"].get("distinct", 0))
    duplicates_sent = int(prepare["counts"].get("duplicates", 0))
    tokens, cost = _tokens_and_cost(job_lines, prices, distinct, duplicates_sent)

    summary = {
        "run_id": run_id,
        "pipeline": pipeline,
        "model_id": env.get("MODEL_ID", ""),
        "status": status,
        "counts": {
            "records_in": records_in,
            **counts,
            "distinct": distinct,
            "duplicates": duplicates_sent,
        },
        "accounting": {
            "identity": "records_in == results + model_errors + job_errors + quarantined",
            "holds": records_in == accounted and not orphans,
            "accounted": accounted,
            "orphan_duplicates": orphans,
        },
        "tokens": tokens,
        "cost_usd": cost,
        "prices_usd_per_million_tokens": prices,
        "small_batch": prepare.get("small_batch"),
        "jobs": job_lines,
        "results_uri": s3_uri(output_bucket, base + "results.jsonl"),
        "errors_uri": s3_uri(output_bucket, base + "errors.jsonl"),
    }
    summary_key = base + "summary.json"
    s3.put_object(
        Bucket=output_bucket,
        Key=summary_key,
        Body=json.dumps(summary, indent=2).encode(),
        ContentType="application/json",
    )
    _publish(cloudwatch, env, pipeline, summary)
    logger.info(
        json.dumps({"event": "collect_done", "run_id": run_id, "status": status, **summary["counts"]})
    )
    if not summary["accounting"]["holds"]:
        raise AccountingError(
            f"run {run_id}: records_in={records_in} but accounted={accounted} "
            f"({counts}), orphan duplicates={orphans}; see {s3_uri(output_bucket, summary_key)}"
        )
    return {
        "run_id": run_id,
        "status": status,
        "counts": {"records_in": records_in, **counts},
        "summary_uri": s3_uri(output_bucket, summary_key),
    }


def _tokens_and_cost(
    job_lines: list[dict[str, Any]], prices: Mapping[str, float], distinct: int, duplicates: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """Tokens from the manifests (batch jobs) and on-demand usage, priced per million tokens."""
    batch = {"input": 0, "output": 0}
    on_demand = {"input": 0, "output": 0}
    for line in job_lines:
        kind = on_demand if line["shard_id"] == ON_DEMAND_SHARD_ID else batch
        kind["input"] += line["input_tokens"]
        kind["output"] += line["output_tokens"]
    tokens_in, tokens_out = batch["input"] + on_demand["input"], batch["output"] + on_demand["output"]
    actual = (
        batch["input"] * prices["batch_input"]
        + batch["output"] * prices["batch_output"]
        + on_demand["input"] * prices["on_demand_input"]
        + on_demand["output"] * prices["on_demand_output"]
    ) / 1e6
    same_tokens = (tokens_in * prices["on_demand_input"] + tokens_out * prices["on_demand_output"]) / 1e6
    # Duplicates were never sent. Had every record gone to InvokeModel, each copy would cost about what
    # its twin did: an estimate (manifests count tokens per job, not per record), reported, not published.
    with_duplicates = same_tokens * (distinct + duplicates) / distinct if distinct else same_tokens
    tokens = {"input": tokens_in, "output": tokens_out, "batch": batch, "on_demand": on_demand}
    cost = {
        "actual": round(actual, 6),
        "on_demand_equivalent": round(same_tokens, 6),
        "savings": round(same_tokens - actual, 6),
        "on_demand_with_duplicates_estimate": round(with_duplicates, 6),
    }
    return tokens, cost


METRICS: tuple[tuple[str, str, Callable[[Mapping[str, Any]], float]], ...] = (
    # (metric name, unit, value from summary); the construct's COLLECT_METRICS lists the same names.
    ("ActualCostUSD", "None", lambda s: s["cost_usd"]["actual"]),
    ("OnDemandEquivalentCostUSD", "None", lambda s: s["cost_usd"]["on_demand_equivalent"]),
    ("SavingsUSD", "None", lambda s: s["cost_usd"]["savings"]),
    ("RecordsIn", "Count", lambda s: s["counts"]["records_in"]),
    ("Results", "Count", lambda s: s["counts"]["results"]),
    ("ModelErrors", "Count", lambda s: s["counts"]["model_errors"]),
    ("InputTokens", "Count", lambda s: s["tokens"]["input"]),
    ("OutputTokens", "Count", lambda s: s["tokens"]["output"]),
)


def _publish(cloudwatch: Any, env: Mapping[str, str], pipeline: str, summary: Mapping[str, Any]) -> None:
    """One datapoint per metric, dimension `Pipeline` (the state machine's name)."""
    namespace = env.get("METRIC_NAMESPACE")
    if not namespace:
        return
    dimensions = [{"Name": "Pipeline", "Value": pipeline}]
    data = [
        {"MetricName": name, "Dimensions": dimensions, "Unit": unit, "Value": float(value(summary))}
        for name, unit, value in METRICS
    ]
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
