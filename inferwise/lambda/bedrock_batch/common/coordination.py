"""Shared code of the BedrockBatchPipeline Lambda functions (see docs/bedrock-batch-contract.md): coordination.

The pipeline's coordination table (partition key `pk`, TTL attribute `expires_at`) holds two kinds of item:

- `quota#<model id>`: the job slots of one model, shared by every execution of the state machine.
  `in_flight` (number) counts the slots taken, `holders` (map) names them: `<run>/<shard>` ->
  `{"expires_at", "since", "job_arn"?}`. Taking a slot is one conditional update (`in_flight < limit` and
  the holder absent), giving it back another (holder present); both are idempotent, so a retried submit
  or a repeated job event never counts twice. A holder whose lease ran out (an execution stopped from the
  outside) is reclaimed by the next submission that finds the quota full.
- `run#<run>#<step>`: a step's once-per-run marker (collect's metrics), created with a conditional put.

Standard library only; `dynamodb` is any boto3 DynamoDB client.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .retry import Sleep, error_code, retry_call

logger = logging.getLogger(__name__)

CONDITION_FAILED = "ConditionalCheckFailedException"
RESERVE_LEASE_SECONDS = 30 * 60
"""A slot taken but not yet holding a job: a submit that dies in between frees it after this long."""
MARKER_TTL_SECONDS = 90 * 24 * 3600
"""Run markers outlive the 90 days during which Step Functions keeps an execution name (the run id)."""


def quota_key(model_id: str) -> str:
    return f"quota#{model_id}"


def marker_key(run_id: str, step: str) -> str:
    return f"run#{run_id}#{step}"


def holder_id(run_id: str, shard_id: str) -> str:
    return f"{run_id}/{shard_id}"


@dataclass(frozen=True)
class Slot:
    """Whether a slot was taken, the holders seen when it was not, and the job it already holds (a retry)."""

    taken: bool
    in_flight: int
    holders: dict[str, dict[str, Any]]
    job_arn: str | None = None


def _number(value: Mapping[str, Any] | None) -> int:
    try:
        return int((value or {}).get("N", "0"))
    except ValueError:
        return 0


def _holders(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, entry in (item.get("holders") or {}).get("M", {}).items():
        fields = entry.get("M", {})
        found[name] = {
            "expires_at": _number(fields.get("expires_at")),
            "since": _number(fields.get("since")),
            "job_arn": (fields.get("job_arn") or {}).get("S"),
        }
    return found


class Quota:
    """The job slots of one model in the coordination table (see the module docstring)."""

    def __init__(
        self,
        dynamodb: Any,
        table: str,
        model_id: str,
        *,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.dynamodb, self.table, self.key = dynamodb, table, {"pk": {"S": quota_key(model_id)}}
        self.sleep, self.clock = sleep, clock

    def _update(self, what: str, **kwargs: Any) -> bool:
        """One conditional update, retried when transient; False when its condition did not hold."""

        def call() -> bool:
            try:
                self.dynamodb.update_item(TableName=self.table, Key=self.key, **kwargs)
            except Exception as error:
                if error_code(error) == CONDITION_FAILED:
                    return False
                raise
            return True

        return retry_call(call, what=what, sleep=self.sleep)

    def read(self) -> tuple[int, dict[str, dict[str, Any]]]:
        item = (
            retry_call(
                lambda: self.dynamodb.get_item(TableName=self.table, Key=self.key, ConsistentRead=True),
                what="read the job quota",
                sleep=self.sleep,
            ).get("Item")
            or {}
        )
        return _number(item.get("in_flight")), _holders(item)

    def _ensure_item(self) -> None:
        """The quota item with an empty holder map (a nested SET needs the map to exist)."""
        self._update(
            "create the job quota item",
            UpdateExpression="SET holders = if_not_exists(holders, :empty), in_flight = if_not_exists(in_flight, :zero)",
            ExpressionAttributeValues={":empty": {"M": {}}, ":zero": {"N": "0"}},
        )

    def acquire(self, holder: str, limit: int) -> Slot:
        """Take a slot for `holder` if fewer than `limit` are taken; taking one already held is a no-op."""
        now = int(self.clock())
        entry = {"M": {"expires_at": {"N": str(now + RESERVE_LEASE_SECONDS)}, "since": {"N": str(now)}}}
        kwargs = {
            "UpdateExpression": "SET holders.#h = :entry ADD in_flight :one",
            "ConditionExpression": "attribute_not_exists(holders.#h) AND (attribute_not_exists(in_flight) OR in_flight < :limit)",
            "ExpressionAttributeNames": {"#h": holder},
            "ExpressionAttributeValues": {":entry": entry, ":one": {"N": "1"}, ":limit": {"N": str(limit)}},
        }
        try:
            taken = self._update("take a job slot", **kwargs)
        except Exception as error:
            if error_code(error) != "ValidationException":  # the holder map does not exist yet
                raise
            self._ensure_item()
            taken = self._update("take a job slot", **kwargs)
        in_flight, holders = (0, {}) if taken else self.read()
        if taken:
            return Slot(True, in_flight, holders)
        mine = holders.get(holder)
        if mine is not None:  # a retry of a submission that already holds its slot
            return Slot(True, in_flight, holders, mine.get("job_arn"))
        return Slot(False, in_flight, holders)

    def hold_job(self, holder: str, job_arn: str, lease_seconds: int) -> bool:
        """Record the job a slot holds and extend its lease to the job's lifetime; False if the slot is gone."""
        return self._update(
            "record the job of a slot",
            UpdateExpression="SET holders.#h.job_arn = :arn, holders.#h.expires_at = :expires",
            ConditionExpression="attribute_exists(holders.#h)",
            ExpressionAttributeNames={"#h": holder},
            ExpressionAttributeValues={
                ":arn": {"S": job_arn},
                ":expires": {"N": str(int(self.clock()) + lease_seconds)},
            },
        )

    def release(self, holder: str, *, only_if_expires_at: int | None = None) -> bool:
        """Give a slot back; False when `holder` held none (already released). Idempotent.

        `only_if_expires_at` releases only the lease that was seen (reclaiming an expired holder must not
        release one that was renewed meanwhile).
        """
        condition = "attribute_exists(holders.#h)"
        values: dict[str, Any] = {":minus": {"N": "-1"}}
        if only_if_expires_at is not None:
            condition += " AND holders.#h.expires_at = :seen"
            values[":seen"] = {"N": str(only_if_expires_at)}
        released = self._update(
            "release a job slot",
            UpdateExpression="REMOVE holders.#h ADD in_flight :minus",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#h": holder},
            ExpressionAttributeValues=values,
        )
        logger.info(json.dumps({"event": "slot_released" if released else "slot_not_held", "holder": holder}))
        return released


class RunMarker:
    """A once-per-run marker: `claim` succeeds for one invocation of a step (and for its own retries)."""

    def __init__(
        self, dynamodb: Any, table: str, run_id: str, step: str, claim_id: str, *, sleep: Sleep = time.sleep
    ) -> None:
        self.dynamodb, self.table, self.claim_id, self.sleep = dynamodb, table, claim_id, sleep
        self.key = {"pk": {"S": marker_key(run_id, step)}}

    def claim(self, now: float | None = None) -> bool:
        """True when this invocation holds the marker (new, or created by an earlier attempt of the call)."""
        moment = int(now if now is not None else time.time())
        item = {
            **self.key,
            "claim_id": {"S": self.claim_id},
            "claimed_at": {"N": str(moment)},
            "expires_at": {"N": str(moment + MARKER_TTL_SECONDS)},
        }

        def put() -> bool:
            try:
                self.dynamodb.put_item(
                    TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            except Exception as error:
                if error_code(error) == CONDITION_FAILED:
                    return False
                raise
            return True

        if retry_call(put, what="claim a run marker", sleep=self.sleep):
            return True
        found = (
            retry_call(
                lambda: self.dynamodb.get_item(TableName=self.table, Key=self.key, ConsistentRead=True),
                what="read a run marker",
                sleep=self.sleep,
            ).get("Item")
            or {}
        )
        return bool((found.get("claim_id") or {}).get("S") == self.claim_id)

    def release(self) -> None:
        """Drop this invocation's claim (its work failed), so a retry of the step can claim it again."""

        def delete() -> None:
            try:
                self.dynamodb.delete_item(
                    TableName=self.table,
                    Key=self.key,
                    ConditionExpression="claim_id = :mine",
                    ExpressionAttributeValues={":mine": {"S": self.claim_id}},
                )
            except Exception as error:
                if error_code(error) != CONDITION_FAILED:
                    raise

        retry_call(delete, what="release a run marker", sleep=self.sleep)
