"""What the pipeline itself adds to the token bill: Step Functions transitions, the five Lambda functions, S3
requests and storage, the task-token and coordination tables, CloudWatch metrics, alarm and logs, KMS, and
SNS run summaries.

Each figure is sized from the batch shape (runs and shards, never records, drive the orchestration) and the
per-run and per-shard counts below, every one stated in the line's assumptions.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING

from inferwise.cost.estimators.bedrock_batch.plan import (
    RECORD_OVERHEAD_BYTES,
    BatchPlan,
    BatchShape,
    BatchUsage,
    record_bytes,
)
from inferwise.cost.estimators.bedrock_batch.wording import count_text, gb_text
from inferwise.cost.model import HOURS_PER_MONTH, CostLine

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

GB = Decimal(1024**3)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
TRANSITIONS_PER_RUN = 12
"""State transitions a run takes outside the per-shard Map, on its longest successful path: the input-prefix
check and default, Prepare, the small-batch choice, the Parallel, its on-demand choice and pass, the Map,
Collect, Notify, the outcome choice and Succeed."""
TRANSITIONS_PER_SHARD = 2
"""State transitions per shard: the Submit task, plus one retry or catch as a margin."""
BATCH_FUNCTIONS = ("prepare", "submit", "events", "collect", "on_demand")
FUNCTION_MEMORY_MB: dict[str, int] = {
    "prepare": 1769,
    "submit": 256,
    "events": 256,
    "collect": 1769,
    "on_demand": 512,
}
"""Memory of each Lambda function; 1769 MB is one full vCPU for the two that stream every record."""
RECORDS_PER_SECOND = 10_000
"""Assumed throughput of prepare and collect (read, validate, de-duplicate or join JSONL with one vCPU)."""
FIXED_SECONDS = {"prepare": 2.0, "submit": 1.0, "events": 0.5, "collect": 2.0, "on_demand": 2.0}
"""Seconds per invocation before any per-record work (start-up, S3 listing, one API call)."""
ON_DEMAND_SECONDS_PER_RECORD = 0.5
"""Wall-clock seconds per record in the on-demand function, which invokes the model with several threads."""
S3_TIER1_PER_RUN = 9
"""PUT/LIST requests per run: prepare lists the input and writes the duplicate, quarantine, refused-input and
on-demand files; collect lists outputs and writes results, errors and summary."""
S3_TIER1_PER_SHARD = 5
"""PUT/LIST requests per shard: the shard file, Bedrock's output and manifest (and its listing), collect's listing."""
S3_TIER2_PER_RUN = 4
"""GET requests per run: the input file(s) and the duplicate, quarantine and refused-input files read back by
collect."""
S3_TIER2_PER_SHARD = 3
"""GET requests per shard: Bedrock reads the shard; collect reads the output and the manifest."""
LOG_BYTES_PER_INVOCATION = 2_048
"""CloudWatch Logs ingested per Lambda invocation (start, end and report lines plus a few log lines)."""
KMS_REQUESTS_PER_S3_REQUEST = 1
"""Upper bound: one KMS request per request on an encrypted object; S3 Bucket Keys (enabled) cut this by
up to 99 %."""
KMS_REQUESTS_PER_PUBLISH = 2
"""GenerateDataKey + Decrypt per publish to the encrypted topic (upper bound; SNS reuses data keys)."""
KMS_REQUESTS_PER_TOKEN_ITEM = 3
"""Put, get and delete of a shard's task token in the encrypted table (upper bound; DynamoDB caches keys)."""
TOKEN_WRITE_UNITS_PER_SHARD = 2
"""Write request units for storing a shard's task token: the item (token up to 1,024 characters, job ARN,
run, shard, output URI, expiry) is 1-2 KB, and on-demand writes are billed per 1 KB."""
TOKEN_READ_UNITS_PER_SHARD = 1
"""Read request units for the events function's strongly consistent GetItem (items under 4 KB)."""
QUOTA_UPDATES_PER_SHARD = 3
"""Updates of the model's job-quota item per shard: submit takes a slot and records its job, events gives
it back when the job ends."""
QUOTA_ITEM_BASE_BYTES = 100
QUOTA_HOLDER_BYTES = 250
"""Bytes one slot holder adds to the quota item (run/shard name, lease, start, job ARN); an update is billed
on the item's size, 1 write unit per 1 KB."""
MARKER_WRITES_PER_RUN = 1
"""collect's once-per-run metrics marker (one conditional put of an item under 1 KB)."""
KMS_REQUESTS_PER_COORDINATION_WRITE = 1
"""Upper bound for the coordination table (DynamoDB caches the table key, so far fewer in practice)."""
ON_DEMAND_MARKER_REQUESTS_PER_RECORD = 1
"""on_demand's done marker: one PUT per record invoked (plus one LIST per run)."""


def state_transitions(shape: BatchShape) -> int:
    """Step Functions transitions a month: a fixed number per run plus a few per shard, never per record."""
    return shape.runs * TRANSITIONS_PER_RUN + shape.shards * TRANSITIONS_PER_SHARD


def orchestration_cost_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    """Every line the pipeline adds to the tokens, in a fixed order (Step Functions first, SNS last)."""
    runs, shards = Decimal(shape.runs), Decimal(shape.shards)
    transitions = Decimal(state_transitions(shape))
    lines = [
        catalog.line(
            "Step Functions state transitions",
            "AmazonStates",
            "standard",
            region,
            "StateTransitions",
            transitions,
            assumptions=(
                f"{TRANSITIONS_PER_RUN} transitions per run x {shape.runs} runs + {TRANSITIONS_PER_SHARD} per "
                f"shard x {shape.shards} shards: the state machine iterates shards, never records",
            ),
        )
    ]
    lines += _lambda_lines(plan, shape, catalog, region)
    markers = _on_demand_markers(plan, shape)
    tier1 = runs * S3_TIER1_PER_RUN + shards * S3_TIER1_PER_SHARD + markers
    tier2 = runs * S3_TIER2_PER_RUN + shards * S3_TIER2_PER_SHARD
    marker_note = (
        f" + {count_text(markers)} for on_demand's done markers (one per record, one LIST per run)"
        if markers
        else ""
    )
    lines.append(
        catalog.line(
            "S3 PUT/LIST requests",
            "AmazonS3",
            "standard",
            region,
            "Tier1Requests",
            tier1,
            assumptions=(f"{S3_TIER1_PER_RUN} per run + {S3_TIER1_PER_SHARD} per shard{marker_note}",),
        )
    )
    lines.append(
        catalog.line(
            "S3 GET requests",
            "AmazonS3",
            "standard",
            region,
            "Tier2Requests",
            tier2,
            assumptions=(f"{S3_TIER2_PER_RUN} per run + {S3_TIER2_PER_SHARD} per shard",),
        )
    )
    lines += _storage_lines(plan, usage, shape, catalog, region)
    lines += _token_table_lines(shards, catalog, region)
    lines.append(_coordination_line(plan, shape, catalog, region))
    lines += _monitoring_lines(plan, shape, catalog, region)
    lines += _kms_lines(plan, shape, tier1 + tier2, catalog, region)
    lines.append(
        catalog.line(
            "SNS run summaries",
            "AmazonSNS",
            "standard",
            region,
            "Requests",
            runs,
            assumptions=(
                "one publish per run; deliveries to subscriptions are billed by protocol and not included",
            ),
        )
    )
    return lines


def _invocations(plan: BatchPlan, shape: BatchShape) -> dict[str, Decimal]:
    runs, shards = Decimal(shape.runs), Decimal(shape.shards)
    small_runs = runs if shape.below_minimum and plan.small_batch == "on_demand" else Decimal(0)
    return {"prepare": runs, "submit": shards, "events": shards, "collect": runs, "on_demand": small_runs}


def _seconds(name: str, shape: BatchShape) -> Decimal:
    fixed = Decimal(str(FIXED_SECONDS[name]))
    if name in ("prepare", "collect"):
        return fixed + shape.records_per_run / RECORDS_PER_SECOND
    if name == "on_demand":
        return fixed + shape.records_per_run * Decimal(str(ON_DEMAND_SECONDS_PER_RECORD))
    return fixed


def _lambda_lines(plan: BatchPlan, shape: BatchShape, catalog: PriceCatalog, region: str) -> list[CostLine]:
    invocations = _invocations(plan, shape)
    requests = sum(invocations.values(), Decimal(0))
    gb_seconds = Decimal(0)
    parts = []
    for name in BATCH_FUNCTIONS:
        if invocations[name] == 0:
            continue
        seconds = _seconds(name, shape)
        memory_gb = Decimal(FUNCTION_MEMORY_MB[name]) / 1024
        gb_seconds += invocations[name] * seconds * memory_gb
        parts.append(
            f"{name}: {count_text(invocations[name])} x {seconds.quantize(Decimal('0.1'))} s at "
            f"{FUNCTION_MEMORY_MB[name]} MB"
        )
    durations = (
        f"prepare and collect stream {RECORDS_PER_SECOND:,} records/s after {FIXED_SECONDS['prepare']} s; "
        f"on_demand {ON_DEMAND_SECONDS_PER_RECORD} s per record; submit {FIXED_SECONDS['submit']} s; "
        f"events {FIXED_SECONDS['events']} s"
    )
    return [
        catalog.line(
            "Lambda requests",
            "AWSLambda",
            "arm64",
            region,
            "Requests",
            requests,
            assumptions=(
                "prepare and collect once per run, submit and events once per shard, on_demand once per "
                "run below the minimum",
            ),
        ),
        catalog.line(
            "Lambda compute (arm64)",
            "AWSLambda",
            "arm64",
            region,
            "Duration",
            gb_seconds,
            assumptions=("; ".join(parts) or "no invocations", durations),
        ),
    ]


def _storage_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    records = Decimal(usage.records_per_month)
    input_bytes = record_bytes(usage, input_only=True)
    output_bytes = record_bytes(usage)
    # a shard copy of the input, and Bedrock's output, which echoes the input next to the model output
    work_gb = shape.distinct_records * (2 * input_bytes + output_bytes) / GB
    kept_days = min(Decimal(plan.work_retention_days), DAYS_PER_MONTH)
    kept_gb = records * (input_bytes + output_bytes) / GB
    return [
        catalog.line(
            "S3 storage: work files",
            "AmazonS3",
            "standard",
            region,
            "Storage",
            work_gb * kept_days / DAYS_PER_MONTH,
            assumptions=(
                f"{gb_text(work_gb)} GB of shards and job outputs a month, expired after "
                f"{plan.work_retention_days} days by the lifecycle rule",
                f"{usage.bytes_per_token} bytes per token + {RECORD_OVERHEAD_BYTES} bytes of JSON per record",
            ),
        ),
        catalog.line(
            "S3 storage: inputs and results",
            "AmazonS3",
            "standard",
            region,
            "Storage",
            kept_gb,
            assumptions=(
                f"one month's inputs and results ({gb_text(kept_gb)} GB) for a whole month; they are kept, so "
                "each month adds as much again until you delete or expire them",
            ),
        ),
    ]


def _token_table_lines(shards: Decimal, catalog: PriceCatalog, region: str) -> list[CostLine]:
    return [
        catalog.line(
            "DynamoDB task-token writes",
            "AmazonDynamoDB",
            "on-demand",
            region,
            "WriteRequestUnits",
            shards * TOKEN_WRITE_UNITS_PER_SHARD,
            assumptions=(
                f"{TOKEN_WRITE_UNITS_PER_SHARD} write units per shard (one 1-2 KB item); expired items are "
                "removed by TTL, which is free",
            ),
        ),
        catalog.line(
            "DynamoDB task-token reads",
            "AmazonDynamoDB",
            "on-demand",
            region,
            "ReadRequestUnits",
            shards * TOKEN_READ_UNITS_PER_SHARD,
            assumptions=(f"{TOKEN_READ_UNITS_PER_SHARD} strongly consistent read per shard",),
        ),
    ]


def quota_write_units(plan: BatchPlan, shape: BatchShape) -> int:
    """Write units of one quota-item update: the item holds one entry per shard in flight (one execution)."""
    holders = min(plan.max_concurrent_jobs, max(shape.shards_per_run, 1))
    return math.ceil((QUOTA_ITEM_BASE_BYTES + holders * QUOTA_HOLDER_BYTES) / 1024)


def coordination_writes(plan: BatchPlan, shape: BatchShape) -> Decimal:
    """Write units a month on the coordination table: quota updates per shard and a marker per run."""
    per_update = quota_write_units(plan, shape)
    return Decimal(shape.shards * QUOTA_UPDATES_PER_SHARD * per_update + shape.runs * MARKER_WRITES_PER_RUN)


def _coordination_line(plan: BatchPlan, shape: BatchShape, catalog: PriceCatalog, region: str) -> CostLine:
    per_update = quota_write_units(plan, shape)
    return catalog.line(
        "DynamoDB job-quota and run-marker writes",
        "AmazonDynamoDB",
        "on-demand",
        region,
        "WriteRequestUnits",
        coordination_writes(plan, shape),
        assumptions=(
            f"{QUOTA_UPDATES_PER_SHARD} updates of the model's job-quota item per shard (take a slot, record "
            f"its job, give it back) at {per_update} write unit(s) each, + {MARKER_WRITES_PER_RUN} metrics "
            "marker per run",
            "a submission that finds every slot taken (executions overlapping) adds one read and one write "
            "per retry; not priced",
        ),
    )


def _on_demand_markers(plan: BatchPlan, shape: BatchShape) -> Decimal:
    if not (shape.below_minimum and plan.small_batch == "on_demand"):
        return Decimal(0)
    per_run = shape.records_per_run * ON_DEMAND_MARKER_REQUESTS_PER_RECORD + 1
    return Decimal(shape.runs) * per_run


def _monitoring_lines(
    plan: BatchPlan, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    invocations = sum(_invocations(plan, shape).values(), Decimal(0))
    log_gb = invocations * LOG_BYTES_PER_INVOCATION / GB
    return [
        catalog.line(
            "CloudWatch custom metrics",
            "AmazonCloudWatch",
            "standard",
            region,
            "CustomMetric",
            Decimal(plan.custom_metrics),
            assumptions=(f"{plan.custom_metrics} metrics collect publishes after each run",),
        ),
        catalog.line(
            "CloudWatch alarm",
            "AmazonCloudWatch",
            "standard",
            region,
            "StandardAlarm",
            Decimal(plan.alarms),
            assumptions=("the failed-executions alarm",),
        ),
        catalog.line(
            "CloudWatch Logs ingestion",
            "AmazonCloudWatch",
            "standard",
            region,
            "LogsIngestion",
            log_gb,
            assumptions=(
                f"{LOG_BYTES_PER_INVOCATION:,} bytes per Lambda invocation; the state machine logs at ERROR "
                "level without execution data",
            ),
        ),
    ]


def _kms_lines(
    plan: BatchPlan, shape: BatchShape, s3_requests: Decimal, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    requests = (
        s3_requests * KMS_REQUESTS_PER_S3_REQUEST
        + Decimal(shape.shards) * KMS_REQUESTS_PER_TOKEN_ITEM
        + coordination_writes(plan, shape) * KMS_REQUESTS_PER_COORDINATION_WRITE
        + Decimal(shape.runs) * KMS_REQUESTS_PER_PUBLISH
    )
    lines = []
    if plan.creates_key:
        lines.append(
            catalog.line(
                "KMS customer-managed key",
                "awskms",
                "standard",
                region,
                "CustomerManagedKey",
                Decimal(1),
                assumptions=("one key with rotation encrypts the buckets, the token table and the topic",),
            )
        )
    lines.append(
        catalog.line(
            "KMS requests",
            "awskms",
            "standard",
            region,
            "SymmetricRequests",
            requests,
            assumptions=(
                f"upper bound: {KMS_REQUESTS_PER_S3_REQUEST} per S3 request (Bucket Keys cut this by up to "
                f"99 %), {KMS_REQUESTS_PER_TOKEN_ITEM} per task token, {KMS_REQUESTS_PER_COORDINATION_WRITE} per "
                f"coordination-table write, {KMS_REQUESTS_PER_PUBLISH} per publish",
            ),
        )
    )
    return lines
