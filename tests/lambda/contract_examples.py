"""Real outputs of the batch handlers, for testing the state machine against actual shapes.

Each function runs the handler itself on a tiny input (moto S3/DynamoDB/CloudWatch in-process, Bedrock
and Step Functions through botocore Stubbers) and returns exactly what the Lambda function returns, or
for `events` what it sends with SendTaskSuccess. Nothing here is hand-written JSON.

`lambda` is a keyword, so import this module with
`importlib.import_module("tests.lambda.contract_examples")`. Every function is self-contained (fake
credentials, its own moto mock) and takes well under a second.

    examples = importlib.import_module("tests.lambda.contract_examples").all_examples()
    examples["prepare"]            # {"run_id", "shards": [...], "small_batch", "counts"}
    examples["collect"]            # {"run_id", "status", "counts", "summary_uri"}
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from botocore.stub import Stubber
from moto import mock_aws

from . import support

RUN_ID = "0f6e3c1a-5a5b-4c49-9c3e-1f1f0e0e0e0e"  # Step Functions execution names look like this
JOB_ARN = f"arn:aws:bedrock:{support.REGION}:{support.ACCOUNT}:model-invocation-job/a1b2c3d4e5f6"
TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAd" + "x" * 600
# three records, one a duplicate of another, one invalid line
INPUT_LINES: list[Any] = [
    {"id": "q1", "prompt": "What is the capital of France?"},
    {"id": "q2", "prompt": "Name a prime number."},
    {"id": "q3", "prompt": "What is the capital of France?"},
    "{this line is not JSON",
]


@contextmanager
def _aws() -> Iterator[SimpleNamespace]:
    with support.fake_aws_environment(), mock_aws():
        s3, dynamodb = support.client("s3"), support.client("dynamodb")
        support.create_resources(s3, dynamodb)
        yield SimpleNamespace(s3=s3, dynamodb=dynamodb, cloudwatch=support.client("cloudwatch"))


def _prepare(aws: SimpleNamespace, mode: str, *, invalid_line: bool = True) -> dict[str, Any]:
    lines = INPUT_LINES if invalid_line else INPUT_LINES[:-1]
    support.put_lines(aws.s3, support.INPUT, "incoming/batch.jsonl", lines)
    env = support.prepare_env(
        MIN_RECORDS_PER_JOB=100 if mode != "none" else 1,
        SMALL_BATCH=mode if mode != "none" else "on_demand",
    )
    event = {"run_id": RUN_ID, "input_bucket": support.INPUT, "input_prefix": "incoming/"}
    result: dict[str, Any] = support.handler_module("prepare").prepare(event, s3=aws.s3, env=env)
    return result


def prepare_example(mode: str = "none") -> dict[str, Any]:
    """prepare's output. mode "none": one shard; "on_demand"/"fail": below the minimum records."""
    with _aws() as aws:
        return _prepare(aws, mode)


def submit_example() -> dict[str, Any]:
    """submit's input event and return value, the token item it stores, and the exact job request."""
    with _aws() as aws:
        shard = _prepare(aws, "none")["shards"][0]
        event = {"task_token": TASK_TOKEN, "run_id": RUN_ID, "shard": shard}
        bedrock = support.client("bedrock")
        with Stubber(bedrock) as stubber:
            captured: dict[str, Any] = {}

            def capture(params: dict[str, Any], **_: Any) -> None:
                captured.update(params)

            bedrock.meta.events.register("provide-client-params.bedrock.CreateModelInvocationJob", capture)
            stubber.add_response("create_model_invocation_job", {"jobArn": JOB_ARN})
            returned = support.handler_module("submit").submit(
                event, bedrock=bedrock, dynamodb=aws.dynamodb, env=support.submit_env()
            )
        item = aws.dynamodb.get_item(TableName=support.TABLE, Key={"job_arn": {"S": JOB_ARN}})["Item"]
        return {
            "event": event,
            "returned": returned,
            "token_item": item,
            "create_model_invocation_job": captured,
        }


def job_result_example(status: str = "Completed", failure_message: str | None = None) -> dict[str, Any]:
    """The job result events sends with SendTaskSuccess (the submit task's output in the state machine)."""
    with _aws() as aws:
        shard = _prepare(aws, "none")["shards"][0]
        output_uri = support.run_files.s3_uri(
            support.WORK, support.run_files.outputs_prefix(RUN_ID, shard["shard_id"])
        )
        aws.dynamodb.put_item(
            TableName=support.TABLE,
            Item={
                "job_arn": {"S": JOB_ARN},
                "task_token": {"S": TASK_TOKEN},
                "run_id": {"S": RUN_ID},
                "shard_id": {"S": shard["shard_id"]},
                "output_uri": {"S": output_uri},
                "expires_at": {"N": "1900000000"},
            },
        )
        detail: dict[str, Any] = {"batchJobArn": JOB_ARN, "status": status, "batchJobName": "x"}
        if failure_message is not None:
            detail["failureMessage"] = failure_message
        event = {
            "source": "aws.bedrock",
            "detail-type": "Batch Inference Job State Change",
            "resources": [JOB_ARN],
        }
        sfn = support.client("stepfunctions")
        sent: dict[str, Any] = {}
        sfn.meta.events.register(
            "provide-client-params.sfn.SendTaskSuccess", lambda params, **_: sent.update(params)
        )
        with Stubber(sfn) as stubber:
            stubber.add_response("send_task_success", {})
            support.handler_module("events").on_event(
                {**event, "detail": detail},
                dynamodb=aws.dynamodb,
                sfn=sfn,
                env={"TOKEN_TABLE": support.TABLE},
            )
        output: dict[str, Any] = json.loads(sent["output"])
        return output


def on_demand_example() -> dict[str, Any]:
    """on_demand's output (a job result with job_arn null)."""
    with _aws() as aws:
        _prepare(aws, "on_demand")
        return _run_on_demand(aws)


def _run_on_demand(aws: SimpleNamespace) -> dict[str, Any]:
    class Runtime:
        def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
            return {"body": support.streaming_body(support.echo_output(json.loads(kwargs["body"])))}

    env = {"WORK_BUCKET": support.WORK, "MODEL_ID": support.MODEL_ID}
    result: dict[str, Any] = support.handler_module("on_demand").on_demand(
        {"run_id": RUN_ID}, s3=aws.s3, runtime=Runtime(), env=env
    )
    return result


def collect_example(outcome: str = "Completed", *, invalid_line: bool = True) -> dict[str, Any]:
    """collect's input event, output and summary.json. outcome: a job status, or "on_demand" / "fail"
    (small batches); invalid_line=False drops the input line that would be quarantined."""
    with _aws() as aws:
        if outcome in {"on_demand", "fail"}:
            prepared = _prepare(aws, outcome, invalid_line=invalid_line)
            jobs = [_run_on_demand(aws)] if outcome == "on_demand" else []
        else:
            prepared = _prepare(aws, "none", invalid_line=invalid_line)
            jobs = [
                support.run_fake_job(
                    aws.s3,
                    RUN_ID,
                    shard["shard_id"],
                    status=outcome,
                    job_id=JOB_ARN.rsplit("/", 1)[-1],
                    missing=lambda rid: rid == "q2" and outcome == "PartiallyCompleted",
                    message=""
                    if outcome in {"Completed", "PartiallyCompleted"}
                    else f"job {outcome.lower()}",
                )
                for shard in prepared["shards"]
            ]
        event = {
            "run_id": RUN_ID,
            "prepare": prepared,
            "jobs": jobs,
            "pipeline": "BedrockBatchPipelineStateMachine",
        }
        output: dict[str, Any] = support.handler_module("collect").collect(
            event, s3=aws.s3, cloudwatch=aws.cloudwatch, dynamodb=aws.dynamodb, env=support.collect_env()
        )
        summary = support.read_json(aws.s3, support.OUTPUT, f"results/{RUN_ID}/summary.json")
        return {"event": event, "output": output, "summary": summary}


def all_examples() -> dict[str, Any]:
    """One real output of each handler (and the small-batch variants of prepare)."""
    return {
        "prepare": prepare_example("none"),
        "prepare_on_demand": prepare_example("on_demand"),
        "prepare_fail": prepare_example("fail"),
        "submit": submit_example(),
        "events_job_result": job_result_example("Completed"),
        "events_job_result_failed": job_result_example("Failed", "Bedrock could not read the input"),
        "on_demand": on_demand_example(),
        "collect": collect_example("Completed", invalid_line=False)["output"],
        "collect_with_quarantine": collect_example("Completed")["output"],
        "collect_partial": collect_example("PartiallyCompleted")["output"],
        "collect_failed": collect_example("Failed")["output"],
        "collect_fail_mode": collect_example("fail")["output"],
    }


if __name__ == "__main__":
    print(json.dumps(all_examples(), indent=2))
