"""submit: start one Bedrock batch job for a shard and park the Step Functions task token.

Event `{"task_token", "run_id", "shard": {"shard_id", "input_uri", "records"}}` (invoked with
`.waitForTaskToken`). Env: WORK_BUCKET, MODEL_ID, ROLE_ARN, JOB_TIMEOUT_HOURS, KMS_KEY_ARN (may be empty),
TOKEN_TABLE. Raises JobSubmissionThrottled (retry with backoff) or JobSubmissionFailed (give up; the state
machine records the shard as Failed). The job name doubles as clientRequestToken, so a retried submission
gets the same job back instead of starting a second one.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from ..common.run_files import error_code, job_name, outputs_prefix, s3_uri, validate_run_id

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# Error codes worth retrying later: throttling, quotas (e.g. too many submitted/in-progress jobs for the
# model) and transient service errors.
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


class JobSubmissionThrottled(Exception):
    """Bedrock (or DynamoDB) is throttling or the job quota is full: retry the task later."""


class JobSubmissionFailed(Exception):
    """The job cannot be started (bad request, access denied, ...): retrying will not help."""


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return submit(event, bedrock=_client("bedrock"), dynamodb=_client("dynamodb"), env=os.environ)


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    return boto3.client(name, config=Config(retries={"mode": "standard", "max_attempts": 3}))


def _config(env: Mapping[str, str]) -> dict[str, Any]:
    missing = [name for name in ("WORK_BUCKET", "MODEL_ID", "ROLE_ARN", "TOKEN_TABLE") if not env.get(name)]
    if missing:
        raise JobSubmissionFailed(f"missing environment: {', '.join(missing)}")
    raw = env.get("JOB_TIMEOUT_HOURS", "")
    try:
        hours = int(raw)
    except ValueError:
        raise JobSubmissionFailed(f"JOB_TIMEOUT_HOURS must be an integer, got {raw!r}") from None
    if not 24 <= hours <= 168:
        raise JobSubmissionFailed(f"JOB_TIMEOUT_HOURS must be 24-168 (Bedrock's range), got {hours}")
    return {"hours": hours, "kms": env.get("KMS_KEY_ARN", "")}


def submit(
    event: Mapping[str, Any], *, bedrock: Any, dynamodb: Any, env: Mapping[str, str], now: float | None = None
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
    output_config: dict[str, Any] = {"s3Uri": output_uri}
    if config["kms"]:
        output_config["s3EncryptionKeyId"] = config["kms"]
    request = {
        "jobName": name,
        "clientRequestToken": name,
        "roleArn": env["ROLE_ARN"],
        "modelId": env["MODEL_ID"],
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri, "s3InputFormat": "JSONL"}},
        "outputDataConfig": {"s3OutputDataConfig": output_config},
        "timeoutDurationInHours": config["hours"],
    }
    try:
        job_arn = bedrock.create_model_invocation_job(**request)["jobArn"]
    except Exception as error:
        code = error_code(error)
        if not code:
            raise
        detail = f"CreateModelInvocationJob for {shard_id} failed with {code}: {error}"
        logger.warning(
            json.dumps({"event": "submit_error", "run_id": run_id, "shard_id": shard_id, "code": code})
        )
        if code in RETRYABLE_CODES:
            raise JobSubmissionThrottled(detail) from error
        raise JobSubmissionFailed(detail) from error

    expires_at = int(
        (now if now is not None else time.time()) + config["hours"] * 3600 + TOKEN_TTL_MARGIN_SECONDS
    )
    item = {
        "job_arn": {"S": job_arn},
        "task_token": {"S": event["task_token"]},
        "run_id": {"S": run_id},
        "shard_id": {"S": shard_id},
        "output_uri": {"S": output_uri},
        "expires_at": {"N": str(expires_at)},
    }
    try:
        dynamodb.put_item(TableName=env["TOKEN_TABLE"], Item=item)
    except Exception as error:
        code = error_code(error)
        if not code:
            raise
        if code in RETRYABLE_CODES:
            # A retry creates nothing new (same clientRequestToken) and stores the token again.
            raise JobSubmissionThrottled(
                f"storing the task token of {job_arn} failed with {code}: {error}"
            ) from error
        _stop_orphan(bedrock, job_arn)
        raise JobSubmissionFailed(
            f"storing the task token of {job_arn} failed with {code}: {error}"
        ) from error
    logger.info(
        json.dumps({"event": "job_submitted", "run_id": run_id, "shard_id": shard_id, "job_arn": job_arn})
    )
    return {"job_arn": job_arn, "job_name": name, "output_uri": output_uri}


def _stop_orphan(bedrock: Any, job_arn: str) -> None:
    """Nobody could ever be told when this job ends: stop it rather than pay for unreported output."""
    try:
        bedrock.stop_model_invocation_job(jobIdentifier=job_arn)
    except Exception as error:
        logger.error(json.dumps({"event": "stop_orphan_failed", "job_arn": job_arn, "error": str(error)}))
