"""Cost of a Bedrock batch inference pipeline, against the same records sent through on-demand InvokeModel.

Pure: (what the pipeline provisions, usage, price catalogue, Region) -> CostEstimate; no CDK.

What is billed: the model's batch token prices for the records left after de-duplication; Step Functions
state transitions (a fixed number per run plus a few per shard: the state machine iterates shards, never
records); five Lambda functions (requests and GB-seconds, with the durations stated on each line); S3
requests and storage of the work files, inputs and results; CloudWatch custom metrics, one alarm and log
ingestion; the customer-managed KMS key and its requests; the DynamoDB requests of the task-token table and
of the coordination table (the model's shared job quota, once-per-run markers); SNS publishes of each run's
summary. EventBridge carries the Bedrock job state-change events (and the S3
upload events with `start_on_upload`) on the default bus, where AWS service events are free.

The baseline is the naive way: every record, duplicates included, through on-demand InvokeModel at the
model's on-demand token prices.

The package: `plan` (what is provisioned, the usage, and how it falls into runs and shards), `tokens` (the
model's token lines), `orchestration` (everything the pipeline adds) and `estimate` (the estimate and its
baseline). Everything importable from `inferwise.cost.estimators.bedrock_batch` before the split still is.
"""

from __future__ import annotations

from inferwise.cost.estimators.bedrock_batch.estimate import (
    BASELINE_PATTERN,
    EVENTBRIDGE_NOTE,
    FREE_TIER_NOTE,
    PATTERN,
    estimate_bedrock_batch,
    estimate_on_demand_baseline,
    orchestration_lines,
    overhead_ratio,
    token_lines,
)
from inferwise.cost.estimators.bedrock_batch.orchestration import (
    BATCH_FUNCTIONS,
    DAYS_PER_MONTH,
    FIXED_SECONDS,
    FUNCTION_MEMORY_MB,
    GB,
    KMS_REQUESTS_PER_COORDINATION_WRITE,
    KMS_REQUESTS_PER_PUBLISH,
    KMS_REQUESTS_PER_S3_REQUEST,
    KMS_REQUESTS_PER_TOKEN_ITEM,
    LOG_BYTES_PER_INVOCATION,
    MARKER_WRITES_PER_RUN,
    ON_DEMAND_MARKER_REQUESTS_PER_RECORD,
    ON_DEMAND_SECONDS_PER_RECORD,
    QUOTA_HOLDER_BYTES,
    QUOTA_ITEM_BASE_BYTES,
    QUOTA_UPDATES_PER_SHARD,
    RECORDS_PER_SECOND,
    S3_TIER1_PER_RUN,
    S3_TIER1_PER_SHARD,
    S3_TIER2_PER_RUN,
    S3_TIER2_PER_SHARD,
    TOKEN_READ_UNITS_PER_SHARD,
    TOKEN_WRITE_UNITS_PER_SHARD,
    TRANSITIONS_PER_RUN,
    TRANSITIONS_PER_SHARD,
    coordination_writes,
    quota_write_units,
    state_transitions,
)
from inferwise.cost.estimators.bedrock_batch.plan import (
    BATCH_MODEL_FAMILIES,
    EPHEMERAL_DEFAULT_MB,
    EPHEMERAL_MAX_MB,
    MAX_SHARD_BYTES,
    RECORD_OVERHEAD_BYTES,
    SPOOL_FACTOR,
    BatchPlan,
    BatchShape,
    BatchUsage,
    ModelFamily,
    SmallBatchMode,
    batch_shape,
    prepare_ephemeral_mb,
)

__all__ = [
    "BASELINE_PATTERN",
    "BATCH_FUNCTIONS",
    "BATCH_MODEL_FAMILIES",
    "DAYS_PER_MONTH",
    "EPHEMERAL_DEFAULT_MB",
    "EPHEMERAL_MAX_MB",
    "EVENTBRIDGE_NOTE",
    "FIXED_SECONDS",
    "FREE_TIER_NOTE",
    "FUNCTION_MEMORY_MB",
    "GB",
    "KMS_REQUESTS_PER_COORDINATION_WRITE",
    "KMS_REQUESTS_PER_PUBLISH",
    "KMS_REQUESTS_PER_S3_REQUEST",
    "KMS_REQUESTS_PER_TOKEN_ITEM",
    "LOG_BYTES_PER_INVOCATION",
    "MARKER_WRITES_PER_RUN",
    "MAX_SHARD_BYTES",
    "ON_DEMAND_MARKER_REQUESTS_PER_RECORD",
    "ON_DEMAND_SECONDS_PER_RECORD",
    "PATTERN",
    "QUOTA_HOLDER_BYTES",
    "QUOTA_ITEM_BASE_BYTES",
    "QUOTA_UPDATES_PER_SHARD",
    "RECORDS_PER_SECOND",
    "RECORD_OVERHEAD_BYTES",
    "S3_TIER1_PER_RUN",
    "S3_TIER1_PER_SHARD",
    "S3_TIER2_PER_RUN",
    "S3_TIER2_PER_SHARD",
    "SPOOL_FACTOR",
    "TOKEN_READ_UNITS_PER_SHARD",
    "TOKEN_WRITE_UNITS_PER_SHARD",
    "TRANSITIONS_PER_RUN",
    "TRANSITIONS_PER_SHARD",
    "BatchPlan",
    "BatchShape",
    "BatchUsage",
    "ModelFamily",
    "SmallBatchMode",
    "batch_shape",
    "coordination_writes",
    "estimate_bedrock_batch",
    "estimate_on_demand_baseline",
    "orchestration_lines",
    "overhead_ratio",
    "prepare_ephemeral_mb",
    "quota_write_units",
    "state_transitions",
    "token_lines",
]
