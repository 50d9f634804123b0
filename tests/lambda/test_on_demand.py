"""on_demand: InvokeModel per record (Stubber), throttle retries, batch-shaped outputs (moto S3)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from . import support
from .support import MODEL_ID, WORK, put_lines, read_json, read_lines, streaming_body

on_demand_module = support.handler_module("on_demand")
ENV = {"WORK_BUCKET": WORK, "MODEL_ID": MODEL_ID, "ON_DEMAND_CONCURRENCY": "1"}
BODY_A = support.records.build_model_input("anthropic", "hello", None, 64)
BODY_B = support.records.build_model_input("anthropic", "bye", "be brief", 64)
OUTPUT_A = {"content": [{"type": "text", "text": "Hi!"}], "usage": {"input_tokens": 9, "output_tokens": 3}}
OUTPUT_B = {"content": [{"type": "text", "text": "Bye"}], "usage": {"input_tokens": 12, "output_tokens": 2}}


PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"


def invoke_params(body: dict[str, Any], model_id: str = MODEL_ID) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "body": support.records.canonical_json(body).encode(),
        "contentType": "application/json",
        "accept": "application/json",
    }


def invoke_response(output: dict[str, Any]) -> dict[str, Any]:
    return {"body": streaming_body(output), "contentType": "application/json"}


@pytest.fixture
def runtime() -> Iterator[tuple[Any, Stubber]]:
    client = support.client("bedrock-runtime")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def staged(aws: Any) -> Any:
    put_lines(
        aws.s3,
        WORK,
        "runs/r1/on-demand/records.jsonl",
        [{"recordId": "a", "modelInput": BODY_A}, {"recordId": "b", "modelInput": BODY_B}],
    )
    return aws


def run(
    aws: Any,
    client: Any,
    sleeps: list[float] | None = None,
    context: Any = None,
    env: dict[str, str] = ENV,
) -> dict[str, Any]:
    sleeper = sleeps.append if sleeps is not None else lambda seconds: None
    return on_demand_module.on_demand(
        {"run_id": "r1"}, s3=aws.s3, runtime=client, env=env, context=context, sleep=sleeper
    )


def outputs(aws: Any) -> dict[str, dict[str, Any]]:
    return {
        line["recordId"]: line
        for line in read_lines(aws.s3, WORK, "runs/r1/outputs/on-demand/records.jsonl.out")
    }


def test_each_record_is_invoked_with_its_exact_body_and_written_in_batch_line_shape(
    staged: Any, runtime: Any
) -> None:
    client, stubber = runtime
    stubber.add_response("invoke_model", invoke_response(OUTPUT_A), invoke_params(BODY_A))
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    result = run(staged, client)
    assert result == {
        "shard_id": "on-demand",
        "job_arn": None,
        "status": "Completed",
        "output_uri": "s3://iw-work/runs/r1/outputs/on-demand/",
        "message": "",
    }
    assert outputs(staged) == {
        "a": {"recordId": "a", "modelInput": BODY_A, "modelOutput": OUTPUT_A},
        "b": {"recordId": "b", "modelInput": BODY_B, "modelOutput": OUTPUT_B},
    }
    assert read_json(staged.s3, WORK, "runs/r1/outputs/on-demand/manifest.json.out") == {
        "totalRecordCount": 2,
        "processedRecordCount": 2,
        "successRecordCount": 2,
        "errorRecordCount": 0,
        "inputTokenCount": 21,
        "outputTokenCount": 5,
    }


def test_calls_name_the_pipelines_inference_profile_when_it_has_one(staged: Any, runtime: Any) -> None:
    """With INVOKE_MODEL_ID (the pipeline's application inference profile) every InvokeModel names the profile,
    so the on-demand token spend carries the pipeline's tags too."""
    client, stubber = runtime
    stubber.add_response("invoke_model", invoke_response(OUTPUT_A), invoke_params(BODY_A, PROFILE_ARN))
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B, PROFILE_ARN))
    result = run(staged, client, env={**ENV, "INVOKE_MODEL_ID": PROFILE_ARN})
    assert result["status"] == "Completed"
    assert set(outputs(staged)) == {"a", "b"}


def test_throttles_are_retried_with_growing_backoff(staged: Any, runtime: Any) -> None:
    client, stubber = runtime
    for _ in range(3):
        stubber.add_client_error(
            "invoke_model",
            "ThrottlingException",
            "Too many requests",
            429,
            expected_params=invoke_params(BODY_A),
        )
    stubber.add_response("invoke_model", invoke_response(OUTPUT_A), invoke_params(BODY_A))
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    sleeps: list[float] = []
    run(staged, client, sleeps)
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1 and 1 <= sleeps[1] <= 2 and 2 <= sleeps[2] <= 4
    assert outputs(staged)["a"]["modelOutput"] == OUTPUT_A


def test_throttling_that_never_ends_gives_up_after_bounded_attempts(staged: Any, runtime: Any) -> None:
    client, stubber = runtime
    for _ in range(on_demand_module.MAX_ATTEMPTS):
        stubber.add_client_error(
            "invoke_model",
            "ThrottlingException",
            "Too many requests",
            429,
            expected_params=invoke_params(BODY_A),
        )
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    sleeps: list[float] = []
    result = run(staged, client, sleeps)
    assert len(sleeps) == on_demand_module.MAX_ATTEMPTS - 1
    assert max(sleeps) <= on_demand_module.BACKOFF_CAP_SECONDS
    error = outputs(staged)["a"]["error"]
    assert error["errorCode"] == "ThrottlingException"
    assert error["errorMessage"].endswith(f"(gave up after {on_demand_module.MAX_ATTEMPTS} attempts)")
    assert result["status"] == "Completed"
    manifest = read_json(staged.s3, WORK, "runs/r1/outputs/on-demand/manifest.json.out")
    assert (manifest["successRecordCount"], manifest["errorRecordCount"]) == (1, 1)


def test_a_validation_error_is_not_retried_and_becomes_an_error_line(staged: Any, runtime: Any) -> None:
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_model",
        "ValidationException",
        "Malformed input request",
        400,
        expected_params=invoke_params(BODY_A),
    )
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    sleeps: list[float] = []
    run(staged, client, sleeps)
    assert sleeps == []
    assert outputs(staged)["a"] == {
        "recordId": "a",
        "modelInput": BODY_A,
        "error": {
            "errorCode": "ValidationException",
            "errorMessage": outputs(staged)["a"]["error"]["errorMessage"],
        },
    }
    assert "Malformed input request" in outputs(staged)["a"]["error"]["errorMessage"]


def test_a_response_that_is_not_json_is_an_error_line(staged: Any, runtime: Any) -> None:
    client, stubber = runtime
    stubber.add_response(
        "invoke_model", {"body": streaming_body(b"<html>"), "contentType": "text/html"}, invoke_params(BODY_A)
    )
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    run(staged, client)
    assert outputs(staged)["a"]["error"]["errorCode"] == "invalid_model_response"


def test_near_the_timeout_it_stops_invoking_and_reports_partially_completed(
    staged: Any, runtime: Any
) -> None:
    client, stubber = runtime
    stubber.add_response("invoke_model", invoke_response(OUTPUT_A), invoke_params(BODY_A))

    class Context:
        def __init__(self) -> None:
            self.remaining = [900_000, 1_000]

        def get_remaining_time_in_millis(self) -> int:
            return self.remaining.pop(0)

    result = run(staged, client, context=Context())
    assert result["status"] == "PartiallyCompleted"
    assert "1 records were not invoked" in result["message"]
    assert set(outputs(staged)) == {"a"}
    assert read_json(staged.s3, WORK, "runs/r1/outputs/on-demand/manifest.json.out")["totalRecordCount"] == 2


def test_no_on_demand_records_is_an_empty_completed_run(aws: Any, runtime: Any) -> None:
    client, _ = runtime
    assert run(aws, client)["status"] == "Completed"
    assert read_lines(aws.s3, WORK, "runs/r1/outputs/on-demand/records.jsonl.out") == []


def test_concurrent_invocations_write_every_record_once(staged: Any) -> None:
    class FakeRuntime:
        def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
            prompt = json.loads(kwargs["body"])["messages"][0]["content"][0]["text"]
            return invoke_response({"content": [{"type": "text", "text": prompt.upper()}]})

    lines = [
        {"recordId": f"r{i}", "modelInput": support.records.build_model_input("anthropic", f"p{i}", None, 8)}
        for i in range(40)
    ]
    put_lines(staged.s3, WORK, "runs/r1/on-demand/records.jsonl", lines)
    on_demand_module.on_demand(
        {"run_id": "r1"}, s3=staged.s3, runtime=FakeRuntime(), env={**ENV, "ON_DEMAND_CONCURRENCY": "4"}
    )
    written = outputs(staged)
    assert sorted(written) == sorted(f"r{i}" for i in range(40))
    assert written["r7"]["modelOutput"]["content"][0]["text"] == "P7"


def test_the_lambda_entry_point_uses_its_environment(
    staged: Any, runtime: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = runtime
    stubber.add_response("invoke_model", invoke_response(OUTPUT_A), invoke_params(BODY_A))
    stubber.add_response("invoke_model", invoke_response(OUTPUT_B), invoke_params(BODY_B))
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        on_demand_module, "_client", lambda name: client if name == "bedrock-runtime" else staged.s3
    )
    assert on_demand_module.handler({"run_id": "r1"}, None)["status"] == "Completed"
