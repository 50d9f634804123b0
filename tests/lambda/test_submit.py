"""submit: the exact CreateModelInvocationJob request (botocore Stubber), the token item (moto DynamoDB)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from . import support
from .support import KMS_KEY_ARN, MODEL_ID, ROLE_ARN, TABLE, submit_env

submit_module = support.handler_module("submit")
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/a1b2c3d4e5f6"
SHARD = {"shard_id": "shard-00002", "input_uri": "s3://iw-work/runs/r1/shards/shard-00002/", "records": 50000}
EVENT = {"task_token": "AQCEAAAAKgAAAAMAAAAA" + "t" * 600, "run_id": "r1", "shard": SHARD}
NOW = 1_800_000_000

EXPECTED_REQUEST = {
    "jobName": "iw-r1-shard-00002",
    "clientRequestToken": "iw-r1-shard-00002",
    "roleArn": ROLE_ARN,
    "modelId": MODEL_ID,
    "inputDataConfig": {
        "s3InputDataConfig": {"s3Uri": "s3://iw-work/runs/r1/shards/shard-00002/", "s3InputFormat": "JSONL"}
    },
    "outputDataConfig": {
        "s3OutputDataConfig": {
            "s3Uri": "s3://iw-work/runs/r1/outputs/shard-00002/",
            "s3EncryptionKeyId": KMS_KEY_ARN,
        }
    },
    "timeoutDurationInHours": 72,
}


@pytest.fixture
def bedrock() -> Iterator[tuple[Any, Stubber]]:
    client = support.client("bedrock")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def submit(aws: Any, client: Any, event: dict[str, Any] = EVENT, **env: object) -> dict[str, Any]:
    return submit_module.submit(event, bedrock=client, dynamodb=aws.dynamodb, env=submit_env(**env), now=NOW)


def test_the_job_request_has_the_exact_api_shape_and_the_token_is_stored(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    result = submit(aws, client)
    assert result == {
        "job_arn": JOB_ARN,
        "job_name": "iw-r1-shard-00002",
        "output_uri": "s3://iw-work/runs/r1/outputs/shard-00002/",
    }
    item = aws.dynamodb.get_item(TableName=TABLE, Key={"job_arn": {"S": JOB_ARN}})["Item"]
    assert item == {
        "job_arn": {"S": JOB_ARN},
        "task_token": {"S": EVENT["task_token"]},
        "run_id": {"S": "r1"},
        "shard_id": {"S": "shard-00002"},
        "output_uri": {"S": "s3://iw-work/runs/r1/outputs/shard-00002/"},
        "expires_at": {"N": str(NOW + 72 * 3600 + 7 * 24 * 3600)},
    }


def test_without_a_kms_key_the_output_config_has_no_encryption_key(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    request = {
        **EXPECTED_REQUEST,
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://iw-work/runs/r1/outputs/shard-00002/"}},
    }
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, request)
    submit(aws, client, KMS_KEY_ARN="")


def test_a_long_run_id_gets_a_short_valid_job_name(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    run_id = "nightly_" + "x" * 70
    name = support.run_files.job_name(run_id, "shard-00002")
    request = {
        **EXPECTED_REQUEST,
        "jobName": name,
        "clientRequestToken": name,
        "inputDataConfig": {
            "s3InputDataConfig": {
                "s3Uri": f"s3://iw-work/runs/{run_id}/shards/shard-00002/",
                "s3InputFormat": "JSONL",
            }
        },
        "outputDataConfig": {
            "s3OutputDataConfig": {
                "s3Uri": f"s3://iw-work/runs/{run_id}/outputs/shard-00002/",
                "s3EncryptionKeyId": KMS_KEY_ARN,
            }
        },
    }
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, request)
    shard = {**SHARD, "input_uri": f"s3://iw-work/runs/{run_id}/shards/shard-00002/"}
    submit(aws, client, {**EVENT, "run_id": run_id, "shard": shard})
    assert len(name) <= 63 and name.startswith("iw-nightly-xxx")


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ServiceQuotaExceededException", "InternalServerException"]
)
def test_throttling_quota_and_transient_errors_raise_job_submission_throttled(
    aws: Any, bedrock: Any, code: str
) -> None:
    client, stubber = bedrock
    stubber.add_client_error(
        "create_model_invocation_job", code, "slow down", 429, expected_params=EXPECTED_REQUEST
    )
    with pytest.raises(submit_module.JobSubmissionThrottled, match=f"failed with {code}"):
        submit(aws, client)
    assert aws.dynamodb.scan(TableName=TABLE)["Items"] == []


@pytest.mark.parametrize(
    "code", ["ValidationException", "AccessDeniedException", "ResourceNotFoundException"]
)
def test_other_client_errors_raise_job_submission_failed(aws: Any, bedrock: Any, code: str) -> None:
    client, stubber = bedrock
    stubber.add_client_error("create_model_invocation_job", code, "no", 400, expected_params=EXPECTED_REQUEST)
    with pytest.raises(
        submit_module.JobSubmissionFailed,
        match=f"CreateModelInvocationJob for shard-00002 failed with {code}",
    ):
        submit(aws, client)


def test_a_lost_token_table_stops_the_job_it_can_never_report(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    stubber.add_response("stop_model_invocation_job", {}, {"jobIdentifier": JOB_ARN})
    aws.dynamodb.delete_table(TableName=TABLE)
    with pytest.raises(submit_module.JobSubmissionFailed, match="ResourceNotFoundException"):
        submit(aws, client)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JOB_TIMEOUT_HOURS": "12"}, "JOB_TIMEOUT_HOURS must be 24-168 (Bedrock's range), got 12"),
        ({"JOB_TIMEOUT_HOURS": "1d"}, "JOB_TIMEOUT_HOURS must be an integer, got '1d'"),
        ({"ROLE_ARN": "", "TOKEN_TABLE": ""}, "missing environment: ROLE_ARN, TOKEN_TABLE"),
    ],
)
def test_bad_configuration_fails_without_calling_bedrock(
    aws: Any, bedrock: Any, env: dict[str, str], message: str
) -> None:
    client, _ = bedrock
    with pytest.raises(submit_module.JobSubmissionFailed) as caught:
        submit(aws, client, **env)
    assert str(caught.value) == message


def test_the_lambda_entry_point_uses_its_environment(
    aws: Any, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    for name, value in submit_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(submit_module, "_client", lambda name: client if name == "bedrock" else aws.dynamodb)
    assert submit_module.handler(EVENT, None)["job_arn"] == JOB_ARN
