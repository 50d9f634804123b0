"""submit: the exact CreateModelInvocationJob request (botocore Stubber), the token item (moto DynamoDB)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber

from . import support
from .support import COORDINATION, KMS_KEY_ARN, MODEL_ID, ROLE_ARN, TABLE, submit_env

submit_module = support.handler_module("submit")
slots = importlib.import_module("bedrock_batch.submit.slots")
JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/a1b2c3d4e5f6"
SHARD = {"shard_id": "shard-00002", "input_uri": "s3://iw-work/runs/r1/shards/shard-00002/", "records": 50000}
EVENT = {"task_token": "AQCEAAAAKgAAAAMAAAAA" + "t" * 600, "run_id": "r1", "shard": SHARD}
NOW = 1_800_000_000
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"

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
    return submit_module.submit(
        event, bedrock=client, dynamodb=aws.dynamodb, env=submit_env(**env), now=NOW, sleep=lambda _: None
    )


def quota_item(aws: Any) -> dict[str, Any]:
    key = {"pk": {"S": f"quota#{MODEL_ID}"}}
    item: dict[str, Any] = aws.dynamodb.get_item(TableName=COORDINATION, Key=key).get("Item", {})
    return item


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
        "quota_model": {"S": MODEL_ID},
        "slot": {"S": "r1/shard-00002"},
    }
    quota = quota_item(aws)
    assert quota["in_flight"] == {"N": "1"}
    assert quota["holders"]["M"]["r1/shard-00002"]["M"]["job_arn"] == {"S": JOB_ARN}


def test_the_job_names_the_pipelines_inference_profile_and_the_quota_stays_per_model(
    aws: Any, bedrock: Any
) -> None:
    """With INVOKE_MODEL_ID (the pipeline's application inference profile) the job runs through the profile, so
    its token spend carries the pipeline's tags; the job slot and the token item still name the model, as
    Bedrock counts batch jobs per model."""
    client, stubber = bedrock
    stubber.add_response(
        "create_model_invocation_job", {"jobArn": JOB_ARN}, {**EXPECTED_REQUEST, "modelId": PROFILE_ARN}
    )
    submit(aws, client, INVOKE_MODEL_ID=PROFILE_ARN)
    item = aws.dynamodb.get_item(TableName=TABLE, Key={"job_arn": {"S": JOB_ARN}})["Item"]
    assert item["quota_model"] == {"S": MODEL_ID}
    assert quota_item(aws)["holders"]["M"]["r1/shard-00002"]["M"]["job_arn"] == {"S": JOB_ARN}


def test_an_empty_invoke_model_id_falls_back_to_the_model(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    submit(aws, client, INVOKE_MODEL_ID="")


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
    ("code", "status", "calls"),
    [
        ("ThrottlingException", 429, 3),  # transient: retried in the handler first
        ("ServiceQuotaExceededException", 400, 1),  # the quota is full: only waiting helps
        ("InternalServerException", 500, 3),
    ],
)
def test_throttling_quota_and_transient_errors_raise_job_submission_throttled(
    aws: Any, bedrock: Any, code: str, status: int, calls: int
) -> None:
    client, stubber = bedrock
    for _ in range(calls):
        stubber.add_client_error(
            "create_model_invocation_job", code, "slow down", status, expected_params=EXPECTED_REQUEST
        )
    with pytest.raises(submit_module.JobSubmissionThrottled, match=f"failed with {code}"):
        submit(aws, client)
    assert aws.dynamodb.scan(TableName=TABLE)["Items"] == []
    assert quota_item(aws)["in_flight"] == {"N": "0"}, "the slot is given back while the task waits"


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
    assert quota_item(aws)["in_flight"] == {"N": "0"}


def test_a_lost_token_table_stops_the_job_it_can_never_report(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    stubber.add_response("stop_model_invocation_job", {}, {"jobIdentifier": JOB_ARN})
    aws.dynamodb.delete_table(TableName=TABLE)
    with pytest.raises(
        submit_module.JobSubmissionFailed, match=r"ResourceNotFoundException.*job was stopped"
    ):
        submit(aws, client)
    assert quota_item(aws)["in_flight"] == {"N": "0"}


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


# ------------------------------------------------------------------------------ the shared job quota
def hold(aws: Any, holders: dict[str, dict[str, Any]]) -> None:
    """Put the model's quota item with `holders` (holder -> {"expires_at", "since", "job_arn"?})."""
    entries = {
        name: {"M": {key: {"S": v} if key == "job_arn" else {"N": str(v)} for key, v in fields.items()}}
        for name, fields in holders.items()
    }
    aws.dynamodb.put_item(
        TableName=COORDINATION,
        Item={
            "pk": {"S": f"quota#{MODEL_ID}"},
            "holders": {"M": entries},
            "in_flight": {"N": str(len(entries))},
        },
    )


def test_a_full_quota_raises_job_quota_full_without_calling_bedrock(aws: Any, bedrock: Any) -> None:
    client, _ = bedrock  # nothing stubbed: a CreateModelInvocationJob call would fail the test
    hold(aws, {f"other/shard-{n}": {"expires_at": NOW + 3600, "since": NOW - 60} for n in range(2)})
    with pytest.raises(submit_module.JobQuotaFull, match="all 2 job slots of the model are taken"):
        submit(aws, client, MAX_CONCURRENT_JOBS=2)
    assert quota_item(aws)["in_flight"] == {"N": "2"}


def test_a_retried_submission_keeps_its_one_slot_and_gets_the_same_job(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    for _ in range(2):  # same clientRequestToken: Bedrock returns the same job
        stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    submit(aws, client, MAX_CONCURRENT_JOBS=1)
    submit(aws, client, MAX_CONCURRENT_JOBS=1)
    assert quota_item(aws)["in_flight"] == {"N": "1"}


def test_slots_of_jobs_that_ended_unreported_are_reclaimed(aws: Any, bedrock: Any) -> None:
    """The quota is full of holders whose job events were lost: GetModelInvocationJob says they ended."""
    client, stubber = bedrock
    ended = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/old000000000"
    hold(aws, {"gone/shard-00000": {"expires_at": NOW + 99_999, "since": NOW - 7200, "job_arn": ended}})
    stubber.add_response("get_model_invocation_job", {**job_description(ended), "status": "Completed"})
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    submit(aws, client, MAX_CONCURRENT_JOBS=1)
    assert set(quota_item(aws)["holders"]["M"]) == {"r1/shard-00002"}


def test_a_network_error_storing_the_token_stops_the_job_and_frees_its_slot(
    aws: Any, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    stubber.add_response("stop_model_invocation_job", {}, {"jobIdentifier": JOB_ARN})
    original = aws.dynamodb.put_item

    def put_item(**kwargs: Any) -> Any:
        if kwargs["TableName"] == TABLE:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")
        return original(**kwargs)

    monkeypatch.setattr(aws.dynamodb, "put_item", put_item)
    with pytest.raises(
        submit_module.JobSubmissionFailed, match=r"EndpointConnectionError.*the job was stopped"
    ):
        submit(aws, client)
    assert quota_item(aws)["in_flight"] == {"N": "0"}


def test_the_release_action_stops_a_job_that_still_runs_and_frees_its_slot(aws: Any, bedrock: Any) -> None:
    client, stubber = bedrock
    stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN}, EXPECTED_REQUEST)
    submit(aws, client)
    stubber.add_response("get_model_invocation_job", {**job_description(JOB_ARN), "status": "InProgress"})
    stubber.add_response("stop_model_invocation_job", {}, {"jobIdentifier": JOB_ARN})
    release = {"action": "release", "run_id": "r1", "shard": SHARD}
    env = submit_env()
    answer = slots.release_shard(
        release, bedrock=client, dynamodb=aws.dynamodb, env=env, sleep=lambda _: None
    )
    assert answer == {"shard_id": "shard-00002", "released": True, "job_arn": JOB_ARN, "stopped": JOB_ARN}
    assert quota_item(aws)["in_flight"] == {"N": "0"}
    again = slots.release_shard(release, bedrock=client, dynamodb=aws.dynamodb, env=env, sleep=lambda _: None)
    assert again["released"] is False, "releasing twice frees one slot"


def test_the_lambda_entry_point_dispatches_the_release_action(
    aws: Any, bedrock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = bedrock
    for name, value in submit_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(submit_module, "_client", lambda name: client if name == "bedrock" else aws.dynamodb)
    answer = submit_module.handler({"action": "release", "run_id": "r1", "shard": SHARD}, None)
    assert answer == {"shard_id": "shard-00002", "released": False, "job_arn": None, "stopped": None}


def job_description(arn: str) -> dict[str, Any]:
    """The required fields of a GetModelInvocationJob answer (for the Stubber's validation)."""
    return {
        "jobArn": arn,
        "modelId": MODEL_ID,
        "roleArn": ROLE_ARN,
        "submitTime": "2026-11-23T09:00:00Z",
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://iw-work/runs/r1/shards/shard-00002/"}},
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://iw-work/runs/r1/outputs/shard-00002/"}},
    }
