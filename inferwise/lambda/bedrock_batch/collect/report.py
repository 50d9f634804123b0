"""collect's report: what a run cost (tokens priced per million), its warnings, and its metrics, published
once per run.

Metrics once: before PutMetricData, collect claims the run's `metrics` marker in the coordination table
(`run#<run>#metrics`, a conditional put). A retried or repeated collect finds the marker and publishes
nothing; a publish that fails gives the marker back before raising `TransientError`, so the retry
publishes. The one window left, a function that dies after claiming and before PutMetricData goes through,
loses that run's datapoints rather than doubling them.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ..common.batch_records import ON_DEMAND_SHARD_ID
from ..common.coordination import RunMarker
from ..common.retry import Backoff, Sleep, TransientError, describe, is_transient, retry_call

logger = logging.getLogger(__name__)

PRICE_ENV = {
    "batch_input": "BATCH_INPUT_PRICE_PER_MTOK",
    "batch_output": "BATCH_OUTPUT_PRICE_PER_MTOK",
    "on_demand_input": "ON_DEMAND_INPUT_PRICE_PER_MTOK",
    "on_demand_output": "ON_DEMAND_OUTPUT_PRICE_PER_MTOK",
}
MAX_WARNINGS = 10
"""Warnings in collect's output (the summary holds all of them): the state carries at most this many."""
PUBLISH_BACKOFF = Backoff(attempts=4, base=0.5, cap=4.0)
AMBIGUOUS_ERRORS = frozenset({"ReadTimeoutError", "ConnectionClosedError", "ResponseStreamingError"})

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


def prices(env: Mapping[str, str]) -> dict[str, float]:
    found = {}
    for name, variable in PRICE_ENV.items():
        raw = env.get(variable) or "0"
        try:
            found[name] = float(raw)
        except ValueError:
            raise ValueError(f"{variable} must be a number (USD per million tokens), got {raw!r}") from None
    return found


def tokens_and_cost(
    job_lines: list[dict[str, Any]], price: Mapping[str, float], distinct: int, duplicates: int
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
        batch["input"] * price["batch_input"]
        + batch["output"] * price["batch_output"]
        + on_demand["input"] * price["on_demand_input"]
        + on_demand["output"] * price["on_demand_output"]
    ) / 1e6
    same_tokens = (tokens_in * price["on_demand_input"] + tokens_out * price["on_demand_output"]) / 1e6
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


def warnings(job_lines: list[dict[str, Any]], refused: list[dict[str, str]]) -> list[str]:
    """What a reader of the summary must know beyond the record counts: refused inputs, manifest gaps."""
    found = [f"input refused: {entry['source']}: {entry['reason']}" for entry in refused]
    for line in job_lines:
        for gap in line.get("manifest_gaps", []):
            source = line.get("tokens_source", "manifest")
            found.append(
                f"{line['shard_id']}: {gap}; tokens and cost from the {source}"
                + (
                    f" ({line['outputs_without_usage']} output lines carried no usage)"
                    if line.get("outputs_without_usage")
                    else ""
                )
            )
    return found


def publish_once(
    cloudwatch: Any,
    dynamodb: Any,
    env: Mapping[str, str],
    summary: Mapping[str, Any],
    *,
    sleep: Sleep = time.sleep,
) -> str:
    """Publish the run's metrics unless an earlier collect of the run did.

    Returns "published", "already_published", "disabled" (no namespace), "not published: <why>" (refused
    for good), or "unknown (...)" when the connection broke after the request went out: PutMetricData has no
    idempotency token, so that request is never sent again (at most once, never twice)."""
    namespace = env.get("METRIC_NAMESPACE")
    if not namespace:
        return "disabled"
    marker = RunMarker(
        dynamodb, env["COORDINATION_TABLE"], str(summary["run_id"]), "metrics", uuid.uuid4().hex, sleep=sleep
    )
    if not marker.claim():
        logger.info(json.dumps({"event": "metrics_already_published", "run_id": summary["run_id"]}))
        return "already_published"
    dimensions = [{"Name": "Pipeline", "Value": str(summary["pipeline"])}]
    data = [
        {"MetricName": name, "Dimensions": dimensions, "Unit": unit, "Value": float(value(summary))}
        for name, unit, value in METRICS
    ]
    try:
        retry_call(
            lambda: cloudwatch.put_metric_data(Namespace=namespace, MetricData=data),
            what="PutMetricData",
            sleep=sleep,
            backoff=PUBLISH_BACKOFF,
            transient=lambda error: is_transient(error) and not _maybe_applied(error),
        )
    except TransientError:
        marker.release()  # the state machine retries collect, which publishes then
        raise
    except Exception as error:
        if _maybe_applied(error):  # the request went out, its answer was lost: it may count, never resend
            logger.error(json.dumps({"event": "metrics_maybe_published", "error": describe(error)}))
            return f"unknown (the answer was lost; not sent again): {describe(error)}"
        marker.release()  # refused for good (access, parameters): the run's files stand, say so
        logger.error(json.dumps({"event": "metrics_not_published", "error": describe(error)}))
        return f"not published: {describe(error)}"
    return "published"


def _maybe_applied(error: BaseException) -> bool:
    """A connection that broke after the request was sent: CloudWatch may have stored the datapoints, and
    PutMetricData has no idempotency token, so a retry could count them twice."""
    names = {klass.__name__ for klass in type(error).__mro__}
    return bool(names & AMBIGUOUS_ERRORS)
