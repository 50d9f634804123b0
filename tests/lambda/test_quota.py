"""Two executions at once share the model's job quota: submit invocations racing on the counter.

Two runs of N shards each are submitted concurrently (one thread per shard, as two executions' Map states
would call submit), with the quota MAX_CONCURRENT_JOBS = N. A submit that finds every slot taken raises
`JobQuotaFull` and tries again later (the state machine's retry); a job runs a little while, then its end
event reaches the events function, which gives the slot back. Bedrock (`FakeBedrock`) counts the jobs in
flight: never more than N, and every one of the 2N shards gets its job in the end.

DynamoDB applies a conditional write atomically to its item; moto's in-process backend does not lock, so
the test serializes moto's DynamoDB requests (for one item, the guarantee the real service gives). Without the
shared counter (a quota as large as both runs together) the same race does exceed N: the test can see a
breach.
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from . import support
from .faults import FakeBedrock, FakeSfn, client, job_event, no_sleep

submit_module = support.handler_module("submit")
events_module = support.handler_module("events")
N = 3
RUNS = ("run-a", "run-b")


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One DynamoDB request at a time in moto: each conditional write is atomic, as DynamoDB guarantees for
    an item (the quota is one item). Requests are still interleaved in any order between threads."""
    lock = threading.RLock()
    original = DynamoHandler.call_action

    def locked(self: Any) -> Any:
        with lock:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", locked)
    yield


def race(quota: int) -> tuple[FakeBedrock, int, int]:
    """Submit 2 runs x N shards at once with MAX_CONCURRENT_JOBS = quota; (bedrock, quota-full answers,
    the largest in_flight the counter showed)."""
    s3, dynamodb = support.client("s3"), support.client("dynamodb")
    support.create_resources(s3, dynamodb)
    bedrock, sfn = FakeBedrock(), FakeSfn()
    env = support.submit_env(MAX_CONCURRENT_JOBS=quota)
    events_env = {"TOKEN_TABLE": support.TABLE, "COORDINATION_TABLE": support.COORDINATION}
    full = 0
    counter_peak = 0
    lock = threading.Lock()
    start = threading.Barrier(len(RUNS) * N)

    # one client per thread, as one Lambda invocation each; made here (boto3's default session is not
    # safe to build clients from several threads at once)
    clients = {(run, i): client("dynamodb") for run in RUNS for i in range(N)}

    def execution_shard(run_id: str, index: int) -> None:
        nonlocal full, counter_peak
        own = clients[(run_id, index)]
        shard_id = f"shard-{index:05d}"
        shard = {
            "shard_id": shard_id,
            "input_uri": f"s3://iw-work/runs/{run_id}/shards/{shard_id}/",
            "records": 1,
        }
        event = {"task_token": f"{run_id}-{shard_id}", "run_id": run_id, "shard": shard}
        start.wait()
        while True:
            try:
                arn = submit_module.submit(event, bedrock=bedrock, dynamodb=own, env=env, sleep=no_sleep)[
                    "job_arn"
                ]
                break
            except submit_module.JobQuotaFull:
                with lock:
                    full += 1
                time.sleep(random.uniform(0.005, 0.02))  # the state machine's retry wait, shortened
        in_flight = int(_quota_item(own).get("in_flight", {}).get("N", "0"))
        with lock:
            counter_peak = max(counter_peak, in_flight)
        time.sleep(random.uniform(0.02, 0.05))  # the job runs
        bedrock.end(arn)
        events_module.on_event(
            job_event(arn, "Completed"), dynamodb=own, sfn=sfn, env=events_env, sleep=no_sleep
        )

    failures: list[str] = []

    def guarded(run_id: str, index: int) -> None:
        try:
            execution_shard(run_id, index)
        except BaseException as error:  # surfaced below: a thread's exception would otherwise vanish
            failures.append("".join(traceback.format_exception(error)))
            raise

    threads = [threading.Thread(target=guarded, args=(run, i)) for run in RUNS for i in range(N)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []
    assert len(sfn.received) == len(RUNS) * N, "every shard's task completed"
    assert int(_quota_item(dynamodb)["in_flight"]["N"]) == 0 and _quota_item(dynamodb)["holders"] == {"M": {}}
    return bedrock, full, counter_peak


def _quota_item(dynamodb: Any) -> dict[str, Any]:
    key = {"pk": {"S": f"quota#{support.MODEL_ID}"}}
    item: dict[str, Any] = dynamodb.get_item(TableName=support.COORDINATION, Key=key, ConsistentRead=True)
    return item.get("Item", {})


def test_two_executions_at_once_never_have_more_than_the_quota_in_flight(atomic_dynamodb: None) -> None:
    with support.fake_aws_environment(), mock_aws():
        bedrock, full, counter_peak = race(N)
    assert len(bedrock.jobs) == len(RUNS) * N, "every shard of both runs got its job"
    assert bedrock.peak <= N, f"{bedrock.peak} jobs in flight with a quota of {N}"
    assert counter_peak <= N
    assert full > 0, "the runs did contend for the quota (some submissions waited)"


def test_without_a_shared_limit_the_same_race_exceeds_the_quota(atomic_dynamodb: None) -> None:
    """The control: each execution limited only by its own Map concurrency (N) lets 2N jobs run at once."""
    with support.fake_aws_environment(), mock_aws():
        bedrock, full, _ = race(len(RUNS) * N)
    assert full == 0
    assert bedrock.peak > N
