"""What a batch pipeline is priced for: what it provisions (`BatchPlan`), the month of work (`BatchUsage`), and
how that work falls into runs and shards (`batch_shape`), within Bedrock's batch input-file quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from inferwise.cost.validation import check_number

ModelFamily = Literal["anthropic", "nova", "llama", "titan-embed"]
BATCH_MODEL_FAMILIES: tuple[tuple[str, ModelFamily], ...] = (
    ("anthropic.", "anthropic"),
    ("amazon.nova", "nova"),
    ("meta.llama", "llama"),
    ("amazon.titan-embed", "titan-embed"),
)
"""Model id prefixes (after any inference-profile prefix) that `BedrockBatchPipeline` builds requests for."""
SmallBatchMode = Literal["on_demand", "fail"]
MAX_SHARD_BYTES = 1_000_000_000
"""Largest shard file prepare writes: the default per-model "Batch inference input file size" quota is 1 GB
(docs/aws-facts.md#batch-quotas); one shard is one input file, so the 5 GB job-size quota never binds first."""
EPHEMERAL_DEFAULT_MB = 512
"""Lambda's free /tmp size; more is billed per GB-second."""
EPHEMERAL_MAX_MB = 10_240
SPOOL_FACTOR = Decimal("1.5")
"""/tmp prepare needs per byte of a run's input: one spooled copy of the valid records, plus headroom."""
RECORD_OVERHEAD_BYTES = 200
"""JSON framing per record line (recordId, keys, request parameters) on top of its text."""


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
        _check_int("records_per_month", self.records_per_month, minimum=0, cap=MAX_RECORDS_PER_MONTH)
        for name in ("input_tokens_per_record", "output_tokens_per_record"):
            _check_int(name, getattr(self, name), minimum=0, cap=MAX_TOKENS_PER_RECORD)
        _check_int("runs_per_month", self.runs_per_month, minimum=1, cap=MAX_RUNS_PER_MONTH)
        _check_int("bytes_per_token", self.bytes_per_token, minimum=1, cap=MAX_BYTES_PER_TOKEN)
        check_number(
            "usage.duplicate_share", self.duplicate_share, low=0, high=1, high_open=True, allowed="in [0, 1)"
        )

    @property
    def share(self) -> Decimal:
        return _decimal(self.duplicate_share)


@dataclass(frozen=True)
class BatchPlan:
    """What a `BedrockBatchPipeline` provisions, as far as its bill is concerned.

    `model_id` is what the jobs run (a model id, inference profile id or ARN the catalogue resolves);
    `family` its request family; `records_per_job` / `min_records_per_job` the shard bounds; `small_batch`
    what a run below the minimum does; `custom_metrics` how many metrics collect publishes; `creates_key`
    whether the pipeline made its own customer-managed key; `work_retention_days` how long work files live;
    `max_concurrent_jobs` the job slots the quota item tracks (it sizes that item's writes).
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
    max_concurrent_jobs: int = 10


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
    by_bytes = math.ceil(per_run * record_bytes(usage, input_only=True) / MAX_SHARD_BYTES)
    return BatchShape(usage.runs_per_month, distinct, per_run, max(by_count, by_bytes), False)


def prepare_ephemeral_mb(usage: BatchUsage) -> int:
    """/tmp for prepare, which spools one copy of a run's valid records: 1.5x a run's input, 512-10,240 MB."""
    records_per_run = Decimal(usage.records_per_month) / usage.runs_per_month
    needed = records_per_run * record_bytes(usage, input_only=True) * SPOOL_FACTOR / (1024 * 1024)
    return int(min(max(math.ceil(needed), EPHEMERAL_DEFAULT_MB), EPHEMERAL_MAX_MB))


def record_bytes(usage: BatchUsage, *, input_only: bool = False) -> Decimal:
    """Bytes of one JSONL line: its input (or output) tokens as text plus the JSON framing."""
    text = usage.input_tokens_per_record if input_only else usage.output_tokens_per_record
    return Decimal(text * usage.bytes_per_token + RECORD_OVERHEAD_BYTES)


MAX_RECORDS_PER_MONTH = 10**12
"""Sanity limits of `BatchUsage`: records a month, tokens of one record, runs a month, bytes of one token."""
MAX_TOKENS_PER_RECORD = 10_000_000
MAX_RUNS_PER_MONTH = 1_000_000
MAX_BYTES_PER_TOKEN = 1_000


def _check_int(name: str, value: object, *, minimum: int, cap: int) -> None:
    check_number(f"usage.{name}", value, low=minimum, whole=True, kind="int", cap=cap)


def _decimal(value: float | int | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
