"""Cost of a Bedrock batch inference pipeline, against the same records sent through on-demand InvokeModel.

Pure: (what the pipeline provisions, usage, price catalogue, Region) -> CostEstimate; no CDK.

What is billed: the model's batch token prices for the records left after de-duplication; Step Functions
state transitions (a fixed number per run plus a few per shard: the state machine iterates shards, never
records); five Lambda functions (requests and GB-seconds, with the durations stated on each line); S3
requests and storage of the work files, inputs and results; CloudWatch custom metrics, one alarm and log
ingestion; the customer-managed KMS key and its requests; the task-token table's DynamoDB requests; SNS
publishes of each run's summary. EventBridge carries the Bedrock job state-change events (and the S3
upload events with `start_on_upload`) on the default bus, where AWS service events are free.

The baseline is the naive way: every record, duplicates included, through on-demand InvokeModel at the
model's on-demand token prices.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from inferwise.cost.estimators.bedrock_on_demand import TokenUsage, on_demand_token_lines
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

PATTERN = "Bedrock batch inference"
BASELINE_PATTERN = "on-demand InvokeModel"

ModelFamily = Literal["anthropic", "nova", "llama", "titan-embed"]

BATCH_MODEL_FAMILIES: tuple[tuple[str, ModelFamily], ...] = (
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("meta.llama", "llama"),
    ("amazon.titan-embed", "titan-embed"),
)
"""Model id prefixes (after any inference-profile prefix) that `BedrockBatchPipeline` builds requests for."""
SmallBatchMode = Literal["on_demand", "fail"]

GB = Decimal(1024**3)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

MAX_SHARD_BYTES = 1_000_000_000
"""Largest shard file prepare writes: the default per-model "Batch inference input file size" quota is 1 GB
(AWS-FACTS.md 1.5); one shard is one input file, so the 5 GB job-size quota never binds first."""

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

EPHEMERAL_DEFAULT_MB = 512
"""Lambda's free /tmp size; more is billed per GB-second."""
EPHEMERAL_MAX_MB = 10_240
SPOOL_FACTOR = Decimal("1.5")
"""/tmp prepare needs per byte of a run's input: one spooled copy of the valid records, plus headroom."""

RECORDS_PER_SECOND = 10_000
"""Assumed throughput of prepare and collect (read, validate, de-duplicate or join JSONL with one vCPU)."""

FIXED_SECONDS = {"prepare": 2.0, "submit": 1.0, "events": 0.5, "collect": 2.0, "on_demand": 2.0}
"""Seconds per invocation before any per-record work (start-up, S3 listing, one API call)."""

ON_DEMAND_SECONDS_PER_RECORD = 0.5
"""Wall-clock seconds per record in the on-demand function, which invokes the model with several threads."""

S3_TIER1_PER_RUN = 8
"""PUT/LIST requests per run: prepare lists the input and writes the duplicate, quarantine and on-demand
files; collect lists outputs and writes results, errors and summary."""
S3_TIER1_PER_SHARD = 5
"""PUT/LIST requests per shard: the shard file, Bedrock's output and manifest (and its listing), collect's listing."""
S3_TIER2_PER_RUN = 3
"""GET requests per run: the input file(s) and the duplicate and quarantine files read back by collect."""
S3_TIER2_PER_SHARD = 3
"""GET requests per shard: Bedrock reads the shard; collect reads the output and the manifest."""

RECORD_OVERHEAD_BYTES = 200
"""JSON framing per record line (recordId, keys, request parameters) on top of its text."""

LOG_BYTES_PER_INVOCATION = 2_048
"""CloudWatch Logs ingested per Lambda invocation (start, end and report lines plus a few log lines)."""

KMS_REQUESTS_PER_S3_REQUEST = 1
"""Upper bound: one KMS request per request on an encrypted object; S3 Bucket Keys (enabled) cut this by
up to 99 %."""
KMS_REQUESTS_PER_PUBLISH = 2
"""GenerateDataKey + Decrypt per publish to the encrypted topic (upper bound; SNS reuses data keys)."""
KMS_REQUESTS_PER_TOKEN_ITEM = 3
"""Put, get and delete of a shard's task token in the encrypted table (upper bound; DynamoDB caches keys)."""

EVENTBRIDGE_NOTE = (
    "EventBridge: Bedrock 'Batch Inference Job State Change' events (and, with start_on_upload, S3 "
    "'Object Created' events) arrive on the default event bus, where AWS service events are free; the rules "
    "add no charge."
)
TOKEN_WRITE_UNITS_PER_SHARD = 2
"""Write request units for storing a shard's task token: the item (token up to 1,024 characters, job ARN,
run, shard, output URI, expiry) is 1-2 KB, and on-demand writes are billed per 1 KB."""
TOKEN_READ_UNITS_PER_SHARD = 1
"""Read request units for the events function's strongly consistent GetItem (items under 4 KB)."""
FREE_TIER_NOTE = (
    "AWS free allowances (Lambda, Step Functions, CloudWatch, SNS, KMS) are account-wide and not applied."
)


@dataclass(frozen=True)
class BatchUsage:
    """The workload a batch pipeline is sized and priced for; every figure appears in the estimate.

    - `records_per_month`: records submitted in a month, duplicates included (default 1,000,000).
    - `input_tokens_per_record` / `output_tokens_per_record`: average tokens per record (default 1,000 / 200;
      embedding models bill input tokens only).
    - `duplicate_share`: fraction of records that repeat an earlier record's model input within a run and
      are answered from their twin instead of the model (0 <= share < 1; default 0).
    - `runs_per_month`: executions of the state machine a month; the records are spread evenly (default 30).
    - `bytes_per_token`: size of a token in the JSONL files, for S3 storage (default 4, English text).
    """

    records_per_month: int = 1_000_000
    input_tokens_per_record: int = 1_000
    output_tokens_per_record: int = 200
    duplicate_share: float | Decimal = 0.0
    runs_per_month: int = 30
    bytes_per_token: int = 4

    def __post_init__(self) -> None:
        for name in ("records_per_month", "input_tokens_per_record", "output_tokens_per_record"):
            _check_int(name, getattr(self, name), minimum=0)
        _check_int("runs_per_month", self.runs_per_month, minimum=1)
        _check_int("bytes_per_token", self.bytes_per_token, minimum=1)
        share = self.duplicate_share
        if isinstance(share, bool) or not isinstance(share, float | int | Decimal):
            raise ValueError(f"usage.duplicate_share must be a number in [0, 1), got {share!r}")
        if not 0 <= _decimal(share) < 1:
            raise ValueError(f"usage.duplicate_share must be in [0, 1), got {share!r}")

    @property
    def share(self) -> Decimal:
        return _decimal(self.duplicate_share)


@dataclass(frozen=True)
class BatchPlan:
    """What a `BedrockBatchPipeline` provisions, as far as its bill is concerned.

    `model_id` is what the jobs run (a model id, inference profile id or ARN the catalogue resolves);
    `family` its request family; `records_per_job` / `min_records_per_job` the shard bounds; `small_batch`
    what a run below the minimum does; `custom_metrics` how many metrics collect publishes; `creates_key`
    whether the pipeline made its own customer-managed key; `work_retention_days` how long work files live.
    """

    model_id: str
    family: ModelFamily = "anthropic"
    records_per_job: int = 50_000
    min_records_per_job: int = 100
    small_batch: SmallBatchMode = "on_demand"
    custom_metrics: int = 8
    alarms: int = 1
    creates_key: bool = True
    work_retention_days: int = 14


@dataclass(frozen=True)
class BatchShape:
    """How a month of usage falls into runs and shards."""

    runs: int
    distinct_records: Decimal
    records_per_run: Decimal
    shards_per_run: int
    below_minimum: bool

    @property
    def shards(self) -> int:
        return self.runs * self.shards_per_run


def batch_shape(plan: BatchPlan, usage: BatchUsage) -> BatchShape:
    """Runs, records per run and shards per run for `usage` under `plan`'s shard bounds.

    A shard holds at most `records_per_job` records and at most `MAX_SHARD_BYTES` of JSONL; a run with
    fewer distinct records than `min_records_per_job` takes the small-batch path and submits no shard.
    """
    distinct = Decimal(usage.records_per_month) * (1 - usage.share)
    per_run = distinct / usage.runs_per_month
    below = per_run < plan.min_records_per_job
    if below or per_run == 0:
        return BatchShape(usage.runs_per_month, distinct, per_run, 0, below)
    by_count = math.ceil(per_run / plan.records_per_job)
    by_bytes = math.ceil(per_run * _record_bytes(usage, input_only=True) / MAX_SHARD_BYTES)
    return BatchShape(usage.runs_per_month, distinct, per_run, max(by_count, by_bytes), False)


def prepare_ephemeral_mb(usage: BatchUsage) -> int:
    """/tmp for prepare, which spools one copy of a run's valid records: 1.5x a run's input, 512-10,240 MB."""
    records_per_run = Decimal(usage.records_per_month) / usage.runs_per_month
    needed = records_per_run * _record_bytes(usage, input_only=True) * SPOOL_FACTOR / (1024 * 1024)
    return int(min(max(math.ceil(needed), EPHEMERAL_DEFAULT_MB), EPHEMERAL_MAX_MB))


def state_transitions(shape: BatchShape) -> int:
    """Step Functions transitions a month: a fixed number per run plus a few per shard, never per record."""
    return shape.runs * TRANSITIONS_PER_RUN + shape.shards * TRANSITIONS_PER_SHARD


def estimate_bedrock_batch(
    plan: BatchPlan,
    usage: BatchUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    assumptions: Sequence[str] = (),
) -> CostEstimate:
    """The monthly cost of the pipeline for `usage`, priced from `catalog` in `region`, with its baseline."""
    shape = batch_shape(plan, usage)
    lines = [
        *_token_lines(plan, usage, shape, catalog, region),
        *_orchestration_lines(plan, usage, shape, catalog, region),
    ]
    notes = [EVENTBRIDGE_NOTE, FREE_TIER_NOTE]
    ephemeral = prepare_ephemeral_mb(usage)
    if ephemeral > EPHEMERAL_DEFAULT_MB:
        notes.append(
            f"prepare has {ephemeral:,} MB of ephemeral storage for a run's spooled records; the part above "
            f"{EPHEMERAL_DEFAULT_MB} MB is billed per GB-second and is not priced (the catalogue has no "
            "Lambda ephemeral-storage record)."
        )
    if shape.below_minimum:
        notes.append(_small_batch_note(plan, shape))
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=tuple(lines),
        baseline=estimate_on_demand_baseline(plan, usage, catalog, region),
        assumptions=(*_usage_assumptions(plan, usage, shape), *assumptions),
        notes=tuple(notes),
    )


def estimate_on_demand_baseline(
    plan: BatchPlan, usage: BatchUsage, catalog: PriceCatalog, region: str
) -> CostEstimate:
    """Every record, duplicates included, through on-demand InvokeModel: token lines only, priced by the
    one on-demand token estimator (`bedrock_on_demand.on_demand_token_lines`)."""
    tokens = TokenUsage(
        requests_per_month=usage.records_per_month,
        input_tokens_per_request=usage.input_tokens_per_record,
        output_tokens_per_request=usage.output_tokens_per_record if _bills_output(plan, usage) else 0,
    )
    why = "duplicates included (no de-duplication on demand)"
    return CostEstimate(
        construct_path="",
        pattern=BASELINE_PATTERN,
        region=region,
        lines=on_demand_token_lines(
            plan.model_id, tokens, catalog, region, label="on-demand ", assumptions=(why,)
        ),
        assumptions=(f"model {plan.model_id}",),
    )


def token_lines(estimate: CostEstimate) -> tuple[CostLine, ...]:
    """The Bedrock token lines of an estimate (or its baseline)."""
    return tuple(line for line in estimate.lines if line.service_code == "AmazonBedrock")


def orchestration_lines(estimate: CostEstimate) -> tuple[CostLine, ...]:
    """Everything but tokens: what the pipeline itself adds."""
    return tuple(line for line in estimate.lines if line.service_code != "AmazonBedrock")


def overhead_ratio(estimate: CostEstimate) -> Decimal:
    """Orchestration cost as a fraction of token cost (0.01 = 1 %)."""
    tokens = sum((line.monthly_cost for line in token_lines(estimate)), Decimal(0))
    overhead = sum((line.monthly_cost for line in orchestration_lines(estimate)), Decimal(0))
    if tokens == 0:
        raise ValueError("the estimate has no token cost to compare the overhead with")
    return overhead / tokens


# ------------------------------------------------------------------------------------------------ tokens
def _token_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    category: Literal["OnDemand", "Batch"]
    dedup = (
        f"{usage.records_per_month:,} records a month less {_percent(usage.share)} duplicates = "
        f"{_count(shape.distinct_records)} distinct records sent to the model"
    )
    if shape.below_minimum and plan.small_batch == "fail":
        distinct = Decimal(0)
        how = (
            f"each run has {_count(shape.records_per_run)} records, below min_records_per_job "
            f"{plan.min_records_per_job:,}: with SmallBatch.FAIL no record reaches the model"
        )
        dimension_in, dimension_out, category, label = "batch-input", "batch-output", "Batch", "batch"
    elif shape.below_minimum:
        distinct = shape.distinct_records
        how = (
            f"each run has {_count(shape.records_per_run)} records, below min_records_per_job "
            f"{plan.min_records_per_job:,}: SmallBatch.ON_DEMAND sends them through InvokeModel"
        )
        dimension_in, dimension_out, category, label = "input", "output", "OnDemand", "on-demand"
    else:
        distinct = shape.distinct_records
        how = f"{shape.shards_per_run} batch job(s) per run, {shape.runs} runs a month"
        dimension_in, dimension_out, category, label = "batch-input", "batch-output", "Batch", "batch"
    lines = [
        _bedrock_line(
            catalog,
            region,
            plan.model_id,
            dimension_in,
            f"{label} input tokens",
            distinct * usage.input_tokens_per_record,
            category,
            (dedup, f"{usage.input_tokens_per_record:,} input tokens per record", how),
        )
    ]
    if _bills_output(plan, usage):
        lines.append(
            _bedrock_line(
                catalog,
                region,
                plan.model_id,
                dimension_out,
                f"{label} output tokens",
                distinct * usage.output_tokens_per_record,
                category,
                (dedup, f"{usage.output_tokens_per_record:,} output tokens per record", how),
            )
        )
    return lines


def _bedrock_line(
    catalog: PriceCatalog,
    region: str,
    model_id: str,
    dimension: str,
    component: str,
    tokens: Decimal,
    category: Literal["OnDemand", "Batch"],
    assumptions: Sequence[str],
) -> CostLine:
    return catalog.bedrock_line(
        component,
        model_id,
        region,
        dimension,
        tokens,
        pricing_category=category,
        assumptions=(f"model {model_id}", *assumptions),
    )


def _bills_output(plan: BatchPlan, usage: BatchUsage) -> bool:
    return plan.family != "titan-embed" and usage.output_tokens_per_record > 0


# ----------------------------------------------------------------------------------------- orchestration
def _orchestration_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
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
    tier1 = runs * S3_TIER1_PER_RUN + shards * S3_TIER1_PER_SHARD
    tier2 = runs * S3_TIER2_PER_RUN + shards * S3_TIER2_PER_SHARD
    lines.append(
        catalog.line(
            "S3 PUT/LIST requests",
            "AmazonS3",
            "standard",
            region,
            "Tier1Requests",
            tier1,
            assumptions=(f"{S3_TIER1_PER_RUN} per run + {S3_TIER1_PER_SHARD} per shard",),
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
            f"{name}: {_count(invocations[name])} x {seconds.quantize(Decimal('0.1'))} s at "
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


def _record_bytes(usage: BatchUsage, *, input_only: bool = False) -> Decimal:
    text = usage.input_tokens_per_record if input_only else usage.output_tokens_per_record
    return Decimal(text * usage.bytes_per_token + RECORD_OVERHEAD_BYTES)


def _storage_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    records = Decimal(usage.records_per_month)
    input_bytes = _record_bytes(usage, input_only=True)
    output_bytes = _record_bytes(usage)
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
                f"{_gb(work_gb)} GB of shards and job outputs a month, expired after "
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
                f"one month's inputs and results ({_gb(kept_gb)} GB) for a whole month; they are kept, so "
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
                f"99 %), {KMS_REQUESTS_PER_TOKEN_ITEM} per task token, {KMS_REQUESTS_PER_PUBLISH} per publish",
            ),
        )
    )
    return lines


# ---------------------------------------------------------------------------------------------- wording
def _usage_assumptions(plan: BatchPlan, usage: BatchUsage, shape: BatchShape) -> tuple[str, ...]:
    return (
        f"model {plan.model_id} ({plan.family})",
        f"{usage.records_per_month:,} records a month in {usage.runs_per_month} runs "
        f"({_count(shape.records_per_run)} distinct records per run)",
        f"{usage.input_tokens_per_record:,} input and {usage.output_tokens_per_record:,} output tokens per record",
        f"duplicate share {_percent(usage.share)}",
        f"at most {plan.records_per_job:,} records per job, at least {plan.min_records_per_job:,}",
    )


def _small_batch_note(plan: BatchPlan, shape: BatchShape) -> str:
    if plan.small_batch == "fail":
        return (
            f"Each run ({_count(shape.records_per_run)} records) is below min_records_per_job "
            f"{plan.min_records_per_job:,}: with SmallBatch.FAIL every run fails and nothing is inferred."
        )
    return (
        f"Each run ({_count(shape.records_per_run)} records) is below min_records_per_job "
        f"{plan.min_records_per_job:,}: its records go through on-demand InvokeModel at on-demand prices."
    )


def _check_int(name: str, value: object, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"usage.{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"usage.{name} must be >= {minimum}, got {value}")


def _decimal(value: float | int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _percent(share: Decimal) -> str:
    return f"{(share * 100).normalize():f} %"


def _count(value: Decimal) -> str:
    return f"{value.to_integral_value():,}"


def _gb(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"
