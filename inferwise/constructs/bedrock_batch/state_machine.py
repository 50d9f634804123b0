"""The Standard workflow of a `BedrockBatchPipeline`, one fragment per stage.

    HasInputPrefix -> Prepare -> SmallBatchMode -> RunJobs (on-demand branch | SubmitJobs map) -> Collect
                                               \\-> NoJobs ----------------------------------------/
    Collect -> Notify -> RunOutcome (BelowMinimumRecords | RunFailed | RunSucceeded)
    SubmitJobs item: SubmitJob --(fails for good)--> ReleaseSlot -> SubmissionFailed

The workflow iterates shards, never records; each task keeps exactly the contract's fields of what its
function returns (docs/bedrock-batch-contract.md), so state payloads stay small.

Retries (the fault model in docs/bedrock-batch.md): every Lambda task retries Lambda's own service errors
and `TransientError` (what a handler raises when S3, DynamoDB or Bedrock stays unavailable past its own
retries; every handler is idempotent, so a retried task does no work twice). SubmitJob also retries a full
job quota (`JobQuotaFull`, the slots shared by every execution) and Bedrock throttling
(`JobSubmissionThrottled`) for as long as a job itself may take (`quota_wait`), then gives up on the shard.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import aws_cdk as cdk
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks

from inferwise.constructs.bedrock_batch.props import WORK_PREFIX, SmallBatch

if TYPE_CHECKING:
    from inferwise.constructs.bedrock_batch.construct import BedrockBatchPipeline

TASK_TIMEOUT_MARGIN_HOURS = 6
"""How long past the job timeout the Submit task waits for the job's terminal event before giving up."""
ON_DEMAND_SHARD_ID = "on-demand"

LAMBDA_THROTTLES = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)
"""Transient Lambda invocation errors every task retries with exponential backoff and full jitter."""
SUBMISSION_THROTTLED = "JobSubmissionThrottled"
"""What the submit function raises when Bedrock throttles or its concurrent-jobs quota is full."""
QUOTA_FULL = "JobQuotaFull"
"""What the submit function raises when every job slot of the model is taken (across executions)."""
TRANSIENT_ERROR = "TransientError"
"""What a handler raises when S3, DynamoDB or Bedrock stayed unavailable through its own bounded retries."""
QUOTA_WAIT_FIRST_SECONDS = 60
QUOTA_WAIT_HISTORY_EVENTS = 10_000
"""Execution-history events the quota waits of one run may use (of the 25,000 a Standard execution holds)."""
EVENTS_PER_SUBMIT_ATTEMPT = 4
"""History events of one failed `.waitForTaskToken` Lambda attempt: scheduled, started, submitted, failed."""


def definition(pipeline: BedrockBatchPipeline) -> sfn.IChainable:
    """The whole workflow; its start state checks for an input prefix (the configured one by default)."""
    prepare = _prepare(pipeline)
    start = _input_prefix(pipeline, prepare)
    on_demand, batch_jobs = _on_demand_branch(pipeline), _batch_jobs(pipeline)
    run_jobs = sfn.Parallel(
        pipeline,
        "RunJobs",
        result_selector={"jobs.$": "$[*][*]"},
        result_path="$.results",
    )
    run_jobs.branch(on_demand)
    run_jobs.branch(batch_jobs)
    no_jobs = sfn.Pass(
        pipeline, "NoJobs", result=sfn.Result.from_object({"jobs": []}), result_path="$.results"
    )

    collect = _collect(pipeline)
    notify = _notify(pipeline)
    outcome = _outcome(pipeline)
    notify.add_catch(outcome, errors=["States.ALL"], result_path="$.notify_error")
    collect.next(notify).next(outcome)
    run_jobs.next(collect)
    no_jobs.next(collect)
    prepare.next(_small_batch_mode(pipeline, run_jobs, no_jobs))
    return start


# ------------------------------------------------------------------------------------------- fragments
def _prepare(pipeline: BedrockBatchPipeline) -> tasks.LambdaInvoke:
    """Prepare: shard the run's records; keeps the run id, shards, small-batch mode and counts."""
    prepare = tasks.LambdaInvoke(
        pipeline,
        "Prepare",
        lambda_function=pipeline.prepare_function,
        payload=sfn.TaskInput.from_object(
            {
                "run_id": sfn.JsonPath.execution_name,
                "input_bucket": pipeline.input_bucket.bucket_name,
                "input_prefix": sfn.JsonPath.string_at("$.input_prefix"),
            }
        ),
        result_selector={
            "run_id.$": "$.Payload.run_id",
            "shards.$": "$.Payload.shards",
            "small_batch.$": "$.Payload.small_batch",
            "counts.$": "$.Payload.counts",
        },
        result_path="$.prepare",
        retry_on_service_exceptions=False,
    )
    _retry_lambda(prepare)
    return prepare


def _input_prefix(pipeline: BedrockBatchPipeline, prepare: tasks.LambdaInvoke) -> sfn.Choice:
    """Runs started without `input_prefix` get the configured one."""
    default_prefix = sfn.Pass(
        pipeline,
        "DefaultInputPrefix",
        result=sfn.Result.from_string(pipeline.input_prefix),
        result_path="$.input_prefix",
    )
    return (
        sfn.Choice(pipeline, "HasInputPrefix")
        .when(sfn.Condition.is_present("$.input_prefix"), prepare)
        .otherwise(default_prefix.next(prepare))
    )


def _on_demand_branch(pipeline: BedrockBatchPipeline) -> sfn.Choice:
    """The records below the minimum, through on-demand InvokeModel; a list of at most one job result."""
    work = pipeline.work_bucket.bucket_name
    on_demand = tasks.LambdaInvoke(
        pipeline,
        "RunOnDemand",
        lambda_function=pipeline.on_demand_function,
        payload=sfn.TaskInput.from_object({"run_id": sfn.JsonPath.string_at("$.prepare.run_id")}),
        result_selector=_job_result_selector("$.Payload"),
        retry_on_service_exceptions=False,
    )
    _retry_lambda(on_demand)
    wrap = sfn.Pass(
        pipeline, "OnDemandJobList", parameters={"jobs.$": "States.Array($)"}, output_path="$.jobs"
    )
    on_demand_failed = sfn.Pass(
        pipeline,
        "OnDemandFailed",
        parameters=_failed_job(
            ON_DEMAND_SHARD_ID,
            f"s3://{work}/{WORK_PREFIX}{{}}/outputs/{ON_DEMAND_SHARD_ID}/",
            "$.prepare.run_id",
        ),
    )
    on_demand.add_catch(on_demand_failed.next(wrap), errors=["States.ALL"], result_path="$.error")
    return (
        sfn.Choice(pipeline, "OnDemandNeeded")
        .when(
            sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.ON_DEMAND.value),
            on_demand.next(wrap),
        )
        .otherwise(sfn.Pass(pipeline, "NoOnDemandJob", result=sfn.Result.from_array([])))
    )


def _batch_jobs(pipeline: BedrockBatchPipeline) -> sfn.Map:
    """One batch job per shard, at most `max_concurrent_jobs` at once, each waiting for its terminal event."""
    work = pipeline.work_bucket.bucket_name
    submit = tasks.LambdaInvoke(
        pipeline,
        "SubmitJob",
        lambda_function=pipeline.submit_function,
        integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload=sfn.TaskInput.from_object(
            {
                "task_token": sfn.JsonPath.task_token,
                "run_id": sfn.JsonPath.string_at("$['run_id']"),
                "shard": sfn.JsonPath.object_at("$.shard"),
            }
        ),
        result_selector=_job_result_selector("$"),
        task_timeout=sfn.Timeout.duration(
            cdk.Duration.hours(pipeline.job_timeout_hours + TASK_TIMEOUT_MARGIN_HOURS)
        ),
        retry_on_service_exceptions=False,
    )
    attempts, max_delay = quota_wait(pipeline.job_timeout_hours, pipeline.max_concurrent_jobs)
    submit.add_retry(
        errors=[QUOTA_FULL, SUBMISSION_THROTTLED],
        interval=cdk.Duration.seconds(QUOTA_WAIT_FIRST_SECONDS),
        backoff_rate=2,
        max_attempts=attempts,
        max_delay=cdk.Duration.seconds(max_delay),
        jitter_strategy=sfn.JitterType.FULL,
    )
    _retry_lambda(submit)
    release = tasks.LambdaInvoke(
        pipeline,
        "ReleaseSlot",
        comment="Give the shard's job slot back and stop its job if it still runs (nobody waits for it)",
        lambda_function=pipeline.submit_function,
        payload=sfn.TaskInput.from_object(
            {
                "action": "release",
                "run_id": sfn.JsonPath.string_at("$['run_id']"),
                "shard": sfn.JsonPath.object_at("$.shard"),
            }
        ),
        result_path=sfn.JsonPath.DISCARD,
        retry_on_service_exceptions=False,
    )
    _retry_lambda(release)
    submission_failed = sfn.Pass(
        pipeline,
        "SubmissionFailed",
        parameters=_failed_job(
            "$.shard.shard_id",
            f"s3://{work}/{WORK_PREFIX}{{}}/outputs/{{}}/",
            "$.run_id",
            "$.shard.shard_id",
        ),
    )
    release.add_catch(submission_failed, errors=["States.ALL"], result_path="$.release_error")
    release.next(submission_failed)
    submit.add_catch(release, errors=["States.ALL"], result_path="$.error")
    return sfn.Map(
        pipeline,
        "SubmitJobs",
        items_path="$.prepare.shards",
        item_selector={"run_id.$": "$.prepare.run_id", "shard.$": "$$.Map.Item.Value"},
        max_concurrency=pipeline.max_concurrent_jobs,
    ).item_processor(submit)


def _collect(pipeline: BedrockBatchPipeline) -> tasks.LambdaInvoke:
    """Collect: join the job outputs into results and errors; keeps the run's status, counts and summary."""
    collect = tasks.LambdaInvoke(
        pipeline,
        "Collect",
        lambda_function=pipeline.collect_function,
        payload=sfn.TaskInput.from_object(
            {
                "run_id": sfn.JsonPath.string_at("$.prepare.run_id"),
                "prepare": sfn.JsonPath.object_at("$.prepare"),
                "jobs": sfn.JsonPath.list_at("$.results.jobs"),
                "pipeline": sfn.JsonPath.string_at("$$.StateMachine.Name"),
            }
        ),
        result_selector={
            "run_id.$": "$.Payload.run_id",
            "status.$": "$.Payload.status",
            "counts.$": "$.Payload.counts",
            "summary_uri.$": "$.Payload.summary_uri",
            "warnings.$": "$.Payload.warnings",
        },
        result_path="$.summary",
        retry_on_service_exceptions=False,
    )
    _retry_lambda(collect)
    return collect


def _notify(pipeline: BedrockBatchPipeline) -> tasks.SnsPublish:
    """The run summary to the topic; a failed publish does not fail the run."""
    notify = tasks.SnsPublish(
        pipeline,
        "Notify",
        topic=pipeline.topic,
        subject="Bedrock batch run finished",
        message=sfn.TaskInput.from_json_path_at("$.summary"),
        result_path=sfn.JsonPath.DISCARD,
    )
    notify.add_retry(
        errors=["States.ALL"],
        interval=cdk.Duration.seconds(2),
        backoff_rate=2,
        max_attempts=3,
        jitter_strategy=sfn.JitterType.FULL,
    )
    return notify


def _outcome(pipeline: BedrockBatchPipeline) -> sfn.Choice:
    """The execution fails when small batches must fail or collect reported FAILED, so the alarm sees it."""
    return (
        sfn.Choice(pipeline, "RunOutcome")
        .when(
            sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.FAIL.value),
            sfn.Fail(
                pipeline,
                "BelowMinimumRecords",
                error="BelowMinimumRecords",
                cause=(
                    f"fewer distinct valid records than min_records_per_job ({pipeline.min_records_per_job}); "
                    "they are in the run's errors.jsonl"
                ),
            ),
        )
        .when(
            sfn.Condition.string_equals("$.summary.status", "FAILED"),
            sfn.Fail(
                pipeline, "RunFailed", error="RunFailed", cause="collect reported FAILED; see the run summary"
            ),
        )
        .otherwise(sfn.Succeed(pipeline, "RunSucceeded"))
    )


def _small_batch_mode(
    pipeline: BedrockBatchPipeline, run_jobs: sfn.Parallel, no_jobs: sfn.Pass
) -> sfn.Choice:
    """After prepare: run the jobs when there are shards or records for on demand, else go straight to collect."""
    return (
        sfn.Choice(pipeline, "SmallBatchMode")
        .when(sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.FAIL.value), no_jobs)
        .when(
            sfn.Condition.or_(
                sfn.Condition.string_equals("$.prepare.small_batch.mode", SmallBatch.ON_DEMAND.value),
                sfn.Condition.is_present("$.prepare.shards[0]"),
            ),
            run_jobs,
        )
        .otherwise(no_jobs)
    )


# --------------------------------------------------------------------------------------------- helpers
def quota_wait(job_timeout_hours: int, max_concurrent_jobs: int) -> tuple[int, int]:
    """(MaxAttempts, MaxDelaySeconds) of SubmitJob's retry on a full quota: it keeps trying for about
    `job_timeout_hours`, the time a job itself may take, within a bounded share of the execution history.

    Waits start at a minute and double up to MaxDelaySeconds, each one a random part of that (full
    jitter, half on average). At most `max_concurrent_jobs` shards wait at once, each attempt costs
    `EVENTS_PER_SUBMIT_ATTEMPT` history events, so the attempts are what `QUOTA_WAIT_HISTORY_EVENTS`
    allows and the longest wait is the smallest whole minute whose expected total reaches the window.
    """
    window = job_timeout_hours * 3600
    attempts = max(20, QUOTA_WAIT_HISTORY_EVENTS // (EVENTS_PER_SUBMIT_ATTEMPT * max_concurrent_jobs))
    minutes = max(5, math.ceil(2 * window / attempts / 60))
    while expected_quota_wait(attempts, minutes * 60) < window:
        minutes += 1
    if minutes == 5:  # few shards at once: no need for every attempt the budget allows
        waited, needed = 0.0, 0
        while waited < window:
            waited += _ceiling(needed, 300) / 2
            needed += 1
        attempts = needed
    return attempts, minutes * 60


def expected_quota_wait(attempts: int, max_delay: int) -> float:
    """Seconds SubmitJob waits on average over `attempts` retries (full jitter halves each ceiling)."""
    return sum(_ceiling(i, max_delay) for i in range(attempts)) / 2


def _ceiling(attempt: int, max_delay: int) -> int:
    """The longest wait before retry `attempt` (from 0): a minute, doubling, at most `max_delay`."""
    return min(max_delay, QUOTA_WAIT_FIRST_SECONDS << min(attempt, 32))


def _retry_lambda(task: tasks.LambdaInvoke) -> None:
    """Every Lambda task: `TransientError` (the handler's retries ran out), then Lambda's own errors."""
    task.add_retry(
        errors=[TRANSIENT_ERROR],
        interval=cdk.Duration.seconds(5),
        backoff_rate=2,
        max_attempts=8,
        max_delay=cdk.Duration.minutes(5),
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=list(LAMBDA_THROTTLES),
        interval=cdk.Duration.seconds(2),
        backoff_rate=2,
        max_attempts=6,
        max_delay=cdk.Duration.minutes(1),
        jitter_strategy=sfn.JitterType.FULL,
    )


def _job_result_selector(root: str) -> dict[str, str]:
    """Keep exactly the contract's job result fields (no timestamps, nothing large)."""
    return {
        f"{field}.$": f"{root}.{field}"
        for field in ("shard_id", "job_arn", "status", "output_uri", "message")
    }


def _failed_job(shard_id: str, output_uri_template: str, *paths: str) -> dict[str, Any]:
    """A job result with status Failed for a shard whose task failed for good; the caught error is the message.

    `shard_id` is a literal id or a JSONPath (starting with `$`); `output_uri_template` is filled with `paths`.
    """
    shard = {"shard_id.$": shard_id} if shard_id.startswith("$") else {"shard_id": shard_id}
    return {
        **shard,
        "job_arn.$": "States.StringToJson('null')",  # JSON null: CDK drops a Python None
        "status": "Failed",
        "output_uri.$": f"States.Format('{output_uri_template}', {', '.join(paths)})",
        "message.$": "States.JsonToString($.error)",
    }
