"""events: EventBridge job state change -> token lookup (moto DynamoDB) -> SendTaskSuccess (Stubber)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from . import support
from .support import TABLE

events_module = support.handler_module("events")
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/a1b2c3d4e5f6"
TOKEN = "AQCEAAAAKgAAAAMAAAAA" + "t" * 600
ENV = {"TOKEN_TABLE": TABLE}


def bedrock_event(status: str, job_arn: str = JOB_ARN, failure: str | None = None) -> dict[str, Any]:
    """The shape EventBridge delivers (detail keys as in docs/aws-facts.md#batch-pricing-events: batchJobArn, status)."""
    detail: dict[str, Any] = {
        "version": "0.0",
        "accountId": "123456789012",
        "batchJobName": "iw-r1-shard-00000",
        "batchJobArn": job_arn,
        "batchModelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "status": status,
        "creationTime": "2026-11-23T09:00:00.000Z",
    }
    if failure is not None:
        detail["failureMessage"] = failure
    return {
        "version": "0",
        "id": "9e2d7f0c-0000-0000-0000-000000000000",
        "detail-type": "Batch Inference Job State Change",
        "source": "aws.bedrock",
        "account": "123456789012",
        "time": "2026-11-23T10:00:00Z",
        "region": "us-east-1",
        "resources": [job_arn],
        "detail": detail,
    }


@pytest.fixture
def sfn() -> Iterator[tuple[Any, Stubber]]:
    client = support.client("stepfunctions")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def stored(aws: Any) -> Any:
    aws.dynamodb.put_item(
        TableName=TABLE,
        Item={
            "job_arn": {"S": JOB_ARN},
            "task_token": {"S": TOKEN},
            "run_id": {"S": "r1"},
            "shard_id": {"S": "shard-00000"},
            "output_uri": {"S": "s3://iw-work/runs/r1/outputs/shard-00000/"},
            "expires_at": {"N": "1800000000"},
        },
    )
    return aws


@pytest.mark.parametrize(
    ("status", "failure", "message"),
    [
        ("Completed", None, ""),
        ("PartiallyCompleted", None, ""),
        ("Failed", "Access denied to s3://iw-work/...", "Access denied to s3://iw-work/..."),
        ("Stopped", None, ""),
        ("Expired", None, ""),
    ],
)
def test_a_terminal_status_sends_the_job_result_to_the_waiting_task(
    stored: Any, sfn: Any, status: str, failure: str | None, message: str
) -> None:
    client, stubber = sfn
    result = {
        "shard_id": "shard-00000",
        "job_arn": JOB_ARN,
        "status": status,
        "output_uri": "s3://iw-work/runs/r1/outputs/shard-00000/",
        "message": message,
    }
    stubber.add_response("send_task_success", {}, {"taskToken": TOKEN, "output": json.dumps(result)})
    answer = events_module.on_event(
        bedrock_event(status, failure=failure), dynamodb=stored.dynamodb, sfn=client, env=ENV
    )
    assert answer == {"action": "task_success", "job_arn": JOB_ARN, "status": status, "result": result}


@pytest.mark.parametrize("status", ["Submitted", "Validating", "Scheduled", "InProgress", "Stopping"])
def test_a_status_that_is_not_terminal_does_nothing(stored: Any, sfn: Any, status: str) -> None:
    client, _ = sfn  # no stubbed responses: any call would fail the test
    answer = events_module.on_event(bedrock_event(status), dynamodb=stored.dynamodb, sfn=client, env=ENV)
    assert answer["action"] == "ignored"


def test_an_unknown_job_is_logged_and_ignored(aws: Any, sfn: Any, caplog: pytest.LogCaptureFixture) -> None:
    client, _ = sfn
    other = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/zzzzzzzzzzzz"
    answer = events_module.on_event(
        bedrock_event("Completed", other), dynamodb=aws.dynamodb, sfn=client, env=ENV
    )
    assert answer == {"action": "unknown_job", "job_arn": other, "status": "Completed"}
    assert "unknown_job" in caplog.text


@pytest.mark.parametrize("code", ["TaskTimedOut", "TaskDoesNotExist", "InvalidToken"])
def test_a_task_that_no_longer_waits_is_not_an_error(stored: Any, sfn: Any, code: str) -> None:
    client, stubber = sfn
    stubber.add_client_error("send_task_success", code, "gone", 400)
    answer = events_module.on_event(bedrock_event("Completed"), dynamodb=stored.dynamodb, sfn=client, env=ENV)
    assert answer["action"] == "task_closed"


def test_throttled_send_task_success_raises_so_eventbridge_retries(stored: Any, sfn: Any) -> None:
    client, stubber = sfn
    stubber.add_client_error("send_task_success", "ThrottlingException", "slow down", 400)
    with pytest.raises(client.exceptions.ClientError, match="ThrottlingException"):
        events_module.on_event(bedrock_event("Completed"), dynamodb=stored.dynamodb, sfn=client, env=ENV)


def test_the_job_arn_falls_back_to_resources(stored: Any, sfn: Any) -> None:
    client, stubber = sfn
    event = bedrock_event("Completed")
    del event["detail"]["batchJobArn"]
    stubber.add_response("send_task_success", {}, {"taskToken": TOKEN, "output": stubbed_output("Completed")})
    assert (
        events_module.on_event(event, dynamodb=stored.dynamodb, sfn=client, env=ENV)["action"]
        == "task_success"
    )


def stubbed_output(status: str) -> str:
    return json.dumps(
        {
            "shard_id": "shard-00000",
            "job_arn": JOB_ARN,
            "status": status,
            "output_uri": "s3://iw-work/runs/r1/outputs/shard-00000/",
            "message": "",
        }
    )


def test_the_lambda_entry_point_uses_its_environment(
    stored: Any, sfn: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = sfn
    stubber.add_response("send_task_success", {}, {"taskToken": TOKEN, "output": stubbed_output("Completed")})
    monkeypatch.setenv("TOKEN_TABLE", TABLE)
    monkeypatch.setattr(
        events_module, "_client", lambda name: client if name == "stepfunctions" else stored.dynamodb
    )
    assert events_module.handler(bedrock_event("Completed"), None)["action"] == "task_success"


def test_a_job_that_ended_gives_its_quota_slot_back_once(stored: Any, sfn: Any) -> None:
    """The token item names the slot; a second delivery of the same event frees nothing more."""
    client, stubber = sfn
    quota_key = {"pk": {"S": f"quota#{support.MODEL_ID}"}}
    stored.dynamodb.put_item(
        TableName=support.COORDINATION,
        Item={
            **quota_key,
            "in_flight": {"N": "2"},
            "holders": {"M": {"r1/shard-00000": {"M": {}}, "r2/shard-00000": {"M": {}}}},
        },
    )
    stored.dynamodb.update_item(
        TableName=TABLE,
        Key={"job_arn": {"S": JOB_ARN}},
        UpdateExpression="SET quota_model = :m, slot = :s",
        ExpressionAttributeValues={":m": {"S": support.MODEL_ID}, ":s": {"S": "r1/shard-00000"}},
    )
    env = {**ENV, "COORDINATION_TABLE": support.COORDINATION}
    stubber.add_response("send_task_success", {})
    stubber.add_client_error("send_task_success", "TaskDoesNotExist", "already answered", 400)
    for _ in range(2):
        events_module.on_event(bedrock_event("Completed"), dynamodb=stored.dynamodb, sfn=client, env=env)
    item = stored.dynamodb.get_item(TableName=support.COORDINATION, Key=quota_key)["Item"]
    assert item["in_flight"] == {"N": "1"}
    assert set(item["holders"]["M"]) == {"r2/shard-00000"}
