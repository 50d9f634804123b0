"""events: turn a Bedrock "Batch Inference Job State Change" event into SendTaskSuccess.

Target of the EventBridge rule on source `aws.bedrock`. Reads `detail.batchJobArn` and `detail.status`
(not `jobArn`/`jobStatus`, which are the model-customization keys), finds the task token that submit
stored under the job ARN in TOKEN_TABLE, and sends the job result of docs/bedrock-batch-contract.md.
Non-terminal statuses, jobs this pipeline did not start and tasks that are already closed are logged and
ignored: raising would only make EventBridge retry an event that can never succeed.

A job that ended gives its slot of the model's job quota back (COORDINATION_TABLE; the token item names
the slot). Both steps are idempotent, so an event delivered twice, or retried by EventBridge after a
transient error (raised as is), frees one slot and completes one task.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from ..common.batch_records import TERMINAL_STATUSES
from ..common.coordination import Quota
from ..common.retry import Sleep
from ..common.run_files import error_code

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

# SendTaskSuccess errors that mean the task no longer waits (already answered, timed out, bad token).
CLOSED_TASK_CODES = frozenset({"TaskDoesNotExist", "TaskTimedOut", "InvalidToken"})


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    return on_event(event, dynamodb=_client("dynamodb"), sfn=_client("stepfunctions"), env=os.environ)


@functools.cache
def _client(name: str) -> Any:
    import boto3  # type: ignore[import-untyped]
    from botocore.config import Config  # type: ignore[import-untyped]

    # adaptive: a burst of job events (many shards ending together) is paced client-side, not failed
    return boto3.client(name, config=Config(retries={"mode": "adaptive", "total_max_attempts": 5}))


def job_result(item: Mapping[str, Any], job_arn: str, status: str, message: str) -> dict[str, Any]:
    return {
        "shard_id": item["shard_id"]["S"],
        "job_arn": job_arn,
        "status": status,
        "output_uri": item["output_uri"]["S"],
        "message": message,
    }


def on_event(
    event: Mapping[str, Any], *, dynamodb: Any, sfn: Any, env: Mapping[str, str], sleep: Sleep = time.sleep
) -> dict[str, Any]:
    detail = event.get("detail") or {}
    resources = event.get("resources") or [None]
    job_arn = detail.get("batchJobArn") or resources[0]
    status = detail.get("status")
    if not job_arn or status not in TERMINAL_STATUSES:
        logger.info(json.dumps({"event": "ignored", "job_arn": job_arn, "status": status}))
        return {"action": "ignored", "job_arn": job_arn, "status": status}

    found = dynamodb.get_item(
        TableName=env["TOKEN_TABLE"], Key={"job_arn": {"S": job_arn}}, ConsistentRead=True
    )
    item = found.get("Item")
    if not item:
        logger.warning(json.dumps({"event": "unknown_job", "job_arn": job_arn, "status": status}))
        return {"action": "unknown_job", "job_arn": job_arn, "status": status}

    _release_slot(dynamodb, env, item, sleep)
    result = job_result(item, job_arn, status, detail.get("failureMessage") or "")
    try:
        sfn.send_task_success(taskToken=item["task_token"]["S"], output=json.dumps(result))
    except Exception as error:
        code = error_code(error)
        if code not in CLOSED_TASK_CODES:
            raise
        logger.warning(json.dumps({"event": "task_closed", "job_arn": job_arn, "code": code}))
        return {"action": "task_closed", "job_arn": job_arn, "status": status}
    logger.info(json.dumps({"event": "task_success", "job_arn": job_arn, "status": status}))
    return {"action": "task_success", "job_arn": job_arn, "status": status, "result": result}


def _release_slot(dynamodb: Any, env: Mapping[str, str], item: Mapping[str, Any], sleep: Sleep) -> None:
    """The job ended: its slot of the model's job quota is free again (a no-op when already released)."""
    model, slot = (item.get("quota_model") or {}).get("S"), (item.get("slot") or {}).get("S")
    if not (model and slot and env.get("COORDINATION_TABLE")):
        return  # a token stored before slots existed
    Quota(dynamodb, env["COORDINATION_TABLE"], model, sleep=sleep).release(slot)
