"""`BedrockBatchPipeline`: Bedrock batch inference (about half the on-demand token price) behind one state machine.

Records land in an input bucket as JSONL; a Standard Step Functions workflow prepares them into shards
(de-duplicated, validated, at most `records_per_job` records each), submits one Bedrock batch job per shard
(at most `max_concurrent_jobs` at once, the per-model quota), waits for each job's EventBridge state-change
event through a task token, collects the outputs into one results file and one error file, publishes a run
summary to an encrypted SNS topic and records what the run cost in CloudWatch metrics. The workflow iterates
shards, never records, so orchestration stays well under 1 % of the token bill.

The Lambda functions (`inferwise/lambda/bedrock_batch/`) follow the contract in
docs/bedrock-batch-contract.md; the construct and its cost are described in docs/bedrock-batch.md.

The package, one room per part: `props` (model id parsing, quotas, prop and price checks), `attribution`
(the tagged application inference profile the jobs and calls go through, so the token spend is the
pipeline's), `iam` (the Bedrock service role, each function's grants, the cdk-nag acknowledgements),
`state_machine` (the workflow, one fragment per stage) and `construct` (the construct, which puts them
together and records its cost).
`__all__` is the public API; the constants of the former single module stay importable here.
"""

from inferwise.constructs.bedrock_batch.construct import JOB_STATE_CHANGE as JOB_STATE_CHANGE
from inferwise.constructs.bedrock_batch.construct import LAMBDA_DIR as LAMBDA_DIR
from inferwise.constructs.bedrock_batch.construct import TERMINAL_JOB_STATUSES as TERMINAL_JOB_STATUSES
from inferwise.constructs.bedrock_batch.construct import BedrockBatchPipeline
from inferwise.constructs.bedrock_batch.props import COLLECT_METRICS as COLLECT_METRICS
from inferwise.constructs.bedrock_batch.props import (
    DEFAULT_MAX_CONCURRENT_JOBS as DEFAULT_MAX_CONCURRENT_JOBS,
)
from inferwise.constructs.bedrock_batch.props import INLINE_MAP_MAX_CONCURRENCY as INLINE_MAP_MAX_CONCURRENCY
from inferwise.constructs.bedrock_batch.props import JOB_TIMEOUT_HOURS as JOB_TIMEOUT_HOURS
from inferwise.constructs.bedrock_batch.props import MAX_RECORDS_PER_JOB as MAX_RECORDS_PER_JOB
from inferwise.constructs.bedrock_batch.props import METRIC_NAMESPACE as METRIC_NAMESPACE
from inferwise.constructs.bedrock_batch.props import MIN_RECORDS_PER_JOB as MIN_RECORDS_PER_JOB
from inferwise.constructs.bedrock_batch.props import WORK_PREFIX as WORK_PREFIX
from inferwise.constructs.bedrock_batch.props import BedrockModel, SmallBatch, parse_model_id
from inferwise.constructs.bedrock_batch.state_machine import LAMBDA_THROTTLES as LAMBDA_THROTTLES
from inferwise.constructs.bedrock_batch.state_machine import ON_DEMAND_SHARD_ID as ON_DEMAND_SHARD_ID
from inferwise.constructs.bedrock_batch.state_machine import SUBMISSION_THROTTLED as SUBMISSION_THROTTLED
from inferwise.constructs.bedrock_batch.state_machine import (
    TASK_TIMEOUT_MARGIN_HOURS as TASK_TIMEOUT_MARGIN_HOURS,
)
from inferwise.cost.estimators.bedrock_batch import BatchUsage

__all__ = [
    "BatchUsage",
    "BedrockBatchPipeline",
    "BedrockModel",
    "SmallBatch",
    "parse_model_id",
]
