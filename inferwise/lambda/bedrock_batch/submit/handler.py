"""submit: start one Bedrock batch job for a shard inside the model's shared job quota and park the task token.

Event `{"task_token", "run_id", "shard": {"shard_id", "input_uri", "records"}}` (invoked with
`.waitForTaskToken`), or `{"action": "release", "run_id", "shard"}` from the state machine's failure path
(see `slots.release_shard`). Env: WORK_BUCKET, MODEL_ID, ROLE_ARN, JOB_TIMEOUT_HOURS, KMS_KEY_ARN (may be
empty), TOKEN_TABLE, COORDINATION_TABLE, MAX_CONCURRENT_JOBS, and INVOKE_MODEL_ID (optional): what the job
names as `modelId`, the pipeline's application inference profile ARN, so the job's token spend carries the
pipeline's tags; MODEL_ID when absent. The job quota stays keyed by MODEL_ID (Bedrock counts it per model).

1. Take one of the model's MAX_CONCURRENT_JOBS job slots in the coordination table, shared by every
   execution; none free -> `JobQuotaFull` (the state machine waits and retries for up to the job window).
2. CreateModelInvocationJob. The job name doubles as clientRequestToken, so a retried submission gets the
   same job back. Throttling and quota errors -> `JobSubmissionThrottled` (retried like a full quota);
   other client errors -> `JobSubmissionFailed`; either way the slot is given back first.
3. Record the job on its slot; store the task token under the job ARN (retried). A token that cannot be
   stored stops the job (nobody could be told when it ends), gives the slot back and raises
   `JobSubmissionFailed` naming the job.
Transient DynamoDB errors that outlast the handler's retries raise `TransientError`.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from ..common.coordination import Quota, holder_id
from ..common.retry import Backoff, Sleep, TransientError, describe, error_code, is_transient, retry_call
from ..common.run_files import job_name, outputs_prefix, s3_uri, validate_run_id
from .slots import JobQuotaFull, reclaim_stale, release_shard, stop_job

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# CreateModelInvocationJob errors worth retrying later: throttling, quotas (e.g. too many submitted or
# in-progress jobs for the model, some of them outside this pipeline) and transient service errors.
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ServiceQuotaExceededException",
        "TooManyRequestsException",
        "InternalServerException",
        "ServiceUnavailableException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
    }
)
# The token is kept past the job's own timeout: validation and queueing come before it.
TOKEN_TTL_MARGIN_SECONDS = 7 * 24 * 3600
# A slot's lease once it holds a job: the job's timeout plus the Submit task's 6 h margin and an hour.
SLOT_LEASE_MARGIN_SECONDS = 7 * 3600
CALL_BACKOFF = Backoff(attempts=3, base=0.5, cap=4.0)
TOKEN_BACKOFF = Backoff(attempts=4, base=0.5, cap=4.0)

__all__ = [
    "JobQuotaFull",
    "JobSubmissionFailed",
    "JobSubmissionThrottled",
    "TransientError",
    "handler",
    "submit",
]


class JobSubmissionThrottled(Exception):
    """Bedrock is throttling or its job quota is full: retry the task later."""


class JobSubmissionFailed(Exception):
    """The job cannot be started (bad request, access denied, ...): retrying will not help."""


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    if event.get("action") == "release":
        return release_shard(event, bedrock=_client("bedrock"), dynamodb=_client("dynamodb"), env=os.environ)
    return submit(event, bedrock=_client("bedrock"), dynamodb=_client("dynamodb"), env=os.environ)


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(name, config=Config(retries={"mode": "standard", "total_max_attempts": 3}))


def _config(env: Mapping[str, str]) -> dict[str, Any]:
    required = ("WORK_BUCKET", "MODEL_ID", "ROLE_ARN", "TOKEN_TABLE", "COORDINATION_TABLE")
    missing = [name for name in required if not env.get(name)]
    if missing:
        raise JobSubmissionFailed(f"missing environment: {', '.join(missing)}")
    numbers = {}
    for name in ("JOB_TIMEOUT_HOURS", "MAX_CONCURRENT_JOBS"):
        raw = env.get(name, "")
        try:
            numbers[name] = int(raw)
        except ValueError:
            raise JobSubmissionFailed(f"{name} must be an integer, got {raw!r}") from None
    hours = numbers["JOB_TIMEOUT_HOURS"]
    if not 24 <= hours <= 168:
        raise JobSubmissionFailed(f"JOB_TIMEOUT_HOURS must be 24-168 (Bedrock's range), got {hours}")
    if numbers["MAX_CONCURRENT_JOBS"] < 1:
        raise JobSubmissionFailed(f"MAX_CONCURRENT_JOBS must be >= 1, got {numbers['MAX_CONCURRENT_JOBS']}")
    return {"hours": hours, "limit": numbers["MAX_CONCURRENT_JOBS"], "kms": env.get("KMS_KEY_ARN", "")}


def _log(event: str, **fields: Any) -> None:
    logger.info(json.dumps({"event": event, **fields}))


def submit(
    event: Mapping[str, Any],
    *,
    bedrock: Any,
    dynamodb: Any,
    env: Mapping[str, str],
    now: float | None = None,
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    config = _config(env)
    try:
        run_id = validate_run_id(event.get("run_id"))
    except ValueError as error:
        raise JobSubmissionFailed(str(error)) from None
    shard = event["shard"]
    shard_id, input_uri = shard["shard_id"], shard["input_uri"]
    name = job_name(run_id, shard_id)
    output_uri = s3_uri(env["WORK_BUCKET"], outputs_prefix(run_id, shard_id))
    clock: Callable[[], float] = time.time if now is None else functools.partial(float, now)
    quota = Quota(dynamodb, env["COORDINATION_TABLE"], env["MODEL_ID"], sleep=sleep, clock=clock)
    holder = holder_id(run_id, shard_id)

    _take_slot(quota, bedrock, holder, config["limit"], run_id, shard_id)
    request = _job_request(env, config, name, input_uri, output_uri)
    job_arn = _create_job(bedrock, quota, holder, request, shard_id, sleep)
    _record_job(quota, holder, job_arn, config["hours"] * 3600 + SLOT_LEASE_MARGIN_SECONDS)
    item = {
        "job_arn": {"S": job_arn},
        "task_token": {"S": event["task_token"]},
        "run_id": {"S": run_id},
        "shard_id": {"S": shard_id},
        "output_uri": {"S": output_uri},
        "expires_at": {"N": str(int(clock() + config["hours"] * 3600 + TOKEN_TTL_MARGIN_SECONDS))},
        "quota_model": {"S": env["MODEL_ID"]},
        "slot": {"S": holder},
    }
    _store_token(bedrock, dynamodb, quota, env["TOKEN_TABLE"], item, holder, sleep)
    _log("job_submitted", run_id=run_id, shard_id=shard_id, job_arn=job_arn)
    return {"job_arn": job_arn, "job_name": name, "output_uri": output_uri}


def _take_slot(quota: Quota, bedrock: Any, holder: str, limit: int, run_id: str, shard_id: str) -> None:
    """One of the model's job slots, or JobQuotaFull (after freeing slots whose holders are gone)."""
    slot = quota.acquire(holder, limit)
    if not slot.taken and reclaim_stale(quota, bedrock, slot.holders):
        slot = quota.acquire(holder, limit)
    if not slot.taken:
        _log("quota_full", run_id=run_id, shard_id=shard_id, in_flight=slot.in_flight, limit=limit)
        raise JobQuotaFull(
            f"all {limit} job slots of the model are taken ({slot.in_flight} in flight across executions); "
            f"{shard_id} waits for one"
        )


def _record_job(quota: Quota, holder: str, job_arn: str, lease_seconds: int) -> None:
    """Name the job on its slot. Best effort: the token comes first (a slot that stays unnamed keeps its
    30-minute reservation, and the job's end event frees it by holder all the same)."""
    try:
        if not quota.hold_job(holder, job_arn, lease_seconds):
            _log("slot_lost", holder=holder, job_arn=job_arn)  # reclaimed meanwhile: rare
    except TransientError as error:
        logger.warning(json.dumps({"event": "slot_not_named", "job_arn": job_arn, "error": describe(error)}))


def _job_request(
    env: Mapping[str, str], config: Mapping[str, Any], name: str, input_uri: str, output_uri: str
) -> dict[str, Any]:
    output_config: dict[str, Any] = {"s3Uri": output_uri}
    if config["kms"]:
        output_config["s3EncryptionKeyId"] = config["kms"]
    return {
        "jobName": name,
        "clientRequestToken": name,
        "roleArn": env["ROLE_ARN"],
        "modelId": env.get("INVOKE_MODEL_ID") or env["MODEL_ID"],
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": output_config},
        "timeoutDurationInHours": config["hours"],
    }


def _create_job(
    bedrock: Any, quota: Quota, holder: str, request: dict[str, Any], shard_id: str, sleep: Sleep
) -> str:
    """The job's ARN. The same clientRequestToken makes every retry return the same job."""
    try:
        arn: str = retry_call(
            lambda: bedrock.create_model_invocation_job(**request)["jobArn"],
            what=f"CreateModelInvocationJob for {shard_id}",
            sleep=sleep,
            backoff=CALL_BACKOFF,
        )
        return arn
    except Exception as error:
        cause = error.__cause__ if isinstance(error, TransientError) and error.__cause__ else error
        code = error_code(cause) or type(cause).__name__
        detail = f"CreateModelInvocationJob for {shard_id} failed with {code}: {cause}"
        logger.warning(json.dumps({"event": "submit_error", "shard_id": shard_id, "code": code}))
        quota.release(holder)
        if code in RETRYABLE_CODES or is_transient(cause):
            raise JobSubmissionThrottled(detail) from error
        raise JobSubmissionFailed(detail) from error


def _store_token(
    bedrock: Any,
    dynamodb: Any,
    quota: Quota,
    table: str,
    item: dict[str, Any],
    holder: str,
    sleep: Sleep,
) -> None:
    """Store the task token (retried); if that fails for good, stop the job and give its slot back."""
    job_arn = item["job_arn"]["S"]
    try:
        retry_call(
            lambda: dynamodb.put_item(TableName=table, Item=item),
            what=f"store the task token of {job_arn}",
            sleep=sleep,
            backoff=TOKEN_BACKOFF,
        )
        return
    except Exception as error:
        failure = describe(error)
    stopped = stop_job(bedrock, job_arn, sleep=sleep)
    if stopped is None:
        quota.release(holder)
        report = "the job was stopped (nobody could be told when it ends)"
    else:  # the job still runs: its slot stays taken until it ends (reclaim_stale checks it)
        report = (
            f"stopping the job failed too ({stopped}): stop it with aws bedrock stop-model-invocation-job"
        )
    logger.error(
        json.dumps({"event": "token_not_stored", "job_arn": job_arn, "error": failure, "report": report})
    )
    raise JobSubmissionFailed(f"storing the task token of {job_arn} failed ({failure}); {report}")
