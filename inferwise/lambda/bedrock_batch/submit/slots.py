"""submit's part of the shared job quota: freeing slots whose holders are gone, stopping orphaned jobs, and
the `release` action the state machine calls when a shard's submission failed for good or timed out.

A slot is normally given back by the events function when its job ends. Three things can keep one taken:
an execution stopped from the outside, a job event that never arrived, a submit that died between taking
a slot and creating the job. `reclaim_stale` frees those when the quota looks full; `release_shard` frees
a shard's slot (stopping its job if it still runs) on the state machine's failure path.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from ..common.batch_records import TERMINAL_STATUSES
from ..common.coordination import Quota, holder_id
from ..common.retry import Backoff, Sleep, describe, error_code, retry_call
from ..common.run_files import validate_run_id

logger = logging.getLogger(__name__)

STALE_CHECK_AFTER_SECONDS = 3600
"""A slot whose job has held it this long is checked with GetModelInvocationJob when the quota is full:
job events arrive within seconds, so a terminal job still holding a slot after an hour lost its event."""
STOP_BACKOFF = Backoff(attempts=4, base=0.5, cap=4.0)
GONE_CODES = frozenset({"ResourceNotFoundException", "ValidationException"})


class JobQuotaFull(Exception):
    """Every job slot of the model is taken (by this or another execution): retry the task later."""


def _job_status(bedrock: Any, job_arn: str, sleep: Sleep) -> str | None:
    """The job's status, "Gone" when Bedrock does not know it, None when it could not be read."""
    try:
        response = retry_call(
            lambda: bedrock.get_model_invocation_job(jobIdentifier=job_arn),
            what=f"GetModelInvocationJob {job_arn}",
            sleep=sleep,
            backoff=STOP_BACKOFF,
        )
    except Exception as error:
        if error_code(error) in GONE_CODES:
            return "Gone"
        logger.warning(
            json.dumps({"event": "job_status_unknown", "job_arn": job_arn, "error": describe(error)})
        )
        return None
    status = response.get("status")
    return status if isinstance(status, str) else None


def reclaim_stale(quota: Quota, bedrock: Any, holders: Mapping[str, Mapping[str, Any]]) -> int:
    """Free slots whose lease ran out or whose job has ended; returns how many were freed. Best effort."""
    now, sleep = int(quota.clock()), quota.sleep
    freed = 0
    for name, entry in holders.items():
        expires_at, job_arn = int(entry.get("expires_at") or 0), entry.get("job_arn")
        if expires_at and expires_at < now:
            why = "lease expired"
        elif job_arn and now - int(entry.get("since") or now) >= STALE_CHECK_AFTER_SECONDS:
            status = _job_status(bedrock, job_arn, sleep)
            if status is None or (status != "Gone" and status not in TERMINAL_STATUSES):
                continue
            why = f"job {status}"
        else:
            continue
        if quota.release(name, only_if_expires_at=expires_at):
            freed += 1
            logger.warning(json.dumps({"event": "slot_reclaimed", "holder": name, "why": why}))
    return freed


def stop_job(bedrock: Any, job_arn: str, *, sleep: Sleep = time.sleep) -> str | None:
    """Stop a job (retried); None when it is stopped or already over, else why it could not be stopped."""
    try:
        retry_call(
            lambda: bedrock.stop_model_invocation_job(jobIdentifier=job_arn),
            what=f"StopModelInvocationJob {job_arn}",
            sleep=sleep,
            backoff=STOP_BACKOFF,
        )
    except Exception as error:
        if error_code(error) in {"ConflictException", *GONE_CODES}:  # already ending, ended or never was
            return None
        logger.error(json.dumps({"event": "stop_failed", "job_arn": job_arn, "error": describe(error)}))
        return describe(error)
    logger.warning(json.dumps({"event": "job_stopped", "job_arn": job_arn}))
    return None


def release_shard(
    event: Mapping[str, Any],
    *,
    bedrock: Any,
    dynamodb: Any,
    env: Mapping[str, str],
    sleep: Sleep = time.sleep,
) -> dict[str, Any]:
    """The state machine gave up on a shard: stop its job if it still runs and give its slot back.

    Event `{"action": "release", "run_id", "shard": {"shard_id", ...}}`; returns what was done. Idempotent:
    a slot that is not held (already released by submit or events) is left alone.
    """
    run_id = validate_run_id(event.get("run_id"))
    shard_id = event["shard"]["shard_id"]
    quota = Quota(dynamodb, env["COORDINATION_TABLE"], env["MODEL_ID"], sleep=sleep)
    holder = holder_id(run_id, shard_id)
    _, holders = quota.read()
    entry = holders.get(holder)
    job_arn = entry.get("job_arn") if entry else None
    stopped, still_running = None, False
    if job_arn:
        status = _job_status(bedrock, job_arn, sleep)
        if status not in TERMINAL_STATUSES and status != "Gone":
            problem = stop_job(bedrock, job_arn, sleep=sleep)
            stopped, still_running = (job_arn, False) if problem is None else (None, True)
    # a job that could not be stopped keeps its slot until it ends (reclaim_stale checks it then)
    released = quota.release(holder) if entry and not still_running else False
    result = {"shard_id": shard_id, "released": released, "job_arn": job_arn, "stopped": stopped}
    logger.info(json.dumps({"event": "shard_released", "run_id": run_id, **result}))
    return result
