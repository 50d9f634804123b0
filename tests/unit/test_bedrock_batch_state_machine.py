"""The BedrockBatchPipeline state machine, executed for real by moto's Step Functions interpreter.

The definition is the one synthesized for the reference stack, with its tokens replaced by concrete names.
moto's `lambda:invoke` only echoes its input, so in a copy of the definition each LambdaInvoke task becomes
a Pass state whose `Result` is a real handler output (tests/lambda/contract_examples.py runs the handlers
on a tiny input), passed through the task's own ResultSelector as Step Functions would; every Choice,
Parallel, Map, Pass, Fail and the SNS publish run as synthesized. A
submission that fails is a task that really fails in moto (an S3 call on a missing bucket) under the
Submit task's own Retry and Catch, so the Catch path is the synthesized one.
"""

from __future__ import annotations

import copy
import importlib
import json
import time
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk import assertions
from moto import mock_aws

from inferwise.cost.estimators.bedrock_batch import TRANSITIONS_PER_RUN, TRANSITIONS_PER_SHARD

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/state-machine"
WORK = "work-bucket"
INPUT = "input-bucket"
OUTPUT = "output-bucket"
FUNCTIONS = ("prepare", "submit", "events", "collect", "on_demand")
MOTO_CONFIG: Any = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


# ------------------------------------------------------------------------------------ handler outputs
@pytest.fixture(scope="module")
def examples() -> dict[str, Any]:
    """Real handler outputs: the handlers run on a tiny input by tests/lambda/contract_examples.py."""
    result: dict[str, Any] = importlib.import_module("tests.lambda.contract_examples").all_examples()
    return result


def outputs(examples: Mapping[str, Any], **chosen: str) -> dict[str, Any]:
    """The output each stubbed function returns: `chosen` names an example per function (default the plain one)."""
    names = {
        "prepare": "prepare",
        "submit": "events_job_result",
        "on_demand": "on_demand",
        "collect": "collect",
    }
    names.update(chosen)
    return {function: copy.deepcopy(examples[name]) for function, name in names.items()}


# ------------------------------------------------------------------------------- definition handling
@pytest.fixture(scope="module")
def template(reference_stacks: dict[str, cdk.Stack]) -> dict[str, Any]:
    result: dict[str, Any] = assertions.Template.from_stack(reference_stacks["BatchInferenceStack"]).to_json()
    return result


def _function_logical_ids(template: Mapping[str, Any]) -> dict[str, str]:
    """Lambda logical id -> pipeline function name (prepare, submit, ...), from each handler string."""
    names = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            _, name, *_ = resource["Properties"]["Handler"].split(".")  # bedrock_batch.<name>.handler.handler
            names[logical_id] = name
    assert sorted(names.values()) == sorted(FUNCTIONS)
    return names


def concrete_definition(template: Mapping[str, Any], topic_arn: str) -> dict[str, Any]:
    """The synthesized ASL with every token replaced: functions by ARNs naming them, buckets, the topic."""
    functions = _function_logical_ids(template)
    buckets = {"WorkBucket": WORK, "InputBucket": INPUT, "OutputBucket": OUTPUT}
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    separator, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]

    def literal(part: Any) -> str:
        if isinstance(part, str):
            return part
        if "Fn::GetAtt" in part and part["Fn::GetAtt"][0] in functions:
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{functions[part['Fn::GetAtt'][0]]}"
        ref = part.get("Ref", "")
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws"}
        if ref in pseudo:
            return pseudo[ref]
        for marker, name in buckets.items():
            if marker in ref:
                return name
        if template["Resources"].get(ref, {}).get("Type") == "AWS::SNS::Topic":
            return topic_arn
        raise AssertionError(f"unexpected token in the definition: {part}")

    definition: dict[str, Any] = json.loads(separator.join(literal(p) for p in parts))
    return definition


def _states(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, at any depth (Parallel branches, Map item processors)."""
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        if "ItemProcessor" in state:
            yield from _states(state["ItemProcessor"])


def _select(selector: Mapping[str, Any], raw: Any) -> dict[str, Any]:
    """Apply a ResultSelector of plain `$.a.b` paths to `raw`, as Step Functions does."""
    selected: dict[str, Any] = {}
    for key, path in selector.items():
        assert key.endswith(".$") and path.startswith("$"), (key, path)
        value = raw
        for step in path[1:].split(".")[1:] if path.startswith("$.") else []:
            value = value[step]
        selected[key[:-2]] = value
    return selected


def _function_of(state: Mapping[str, Any]) -> str:
    return str(state["Parameters"]["FunctionName"]).rsplit(":", 1)[-1]


def stub_lambdas(
    definition: Mapping[str, Any], outputs: Mapping[str, Any], *, failing: Collection[str] = ()
) -> dict[str, Any]:
    """A copy where each LambdaInvoke task is a Pass with the handler's output, through its ResultSelector.

    A function named in `failing` becomes a task that really fails in moto (an S3 call on a bucket that
    does not exist), keeping the task's Retry and Catch.
    """
    stubbed = copy.deepcopy(dict(definition))
    for _, state in _states(stubbed):
        if state.get("Type") != "Task" or not state["Resource"].startswith("arn:aws:states:::lambda:invoke"):
            continue
        function = _function_of(state)
        if function in failing:
            state["Resource"] = "arn:aws:states:::aws-sdk:s3:getObject"
            state["Parameters"] = {"Bucket": "no-such-bucket-for-this-test", "Key": f"{function}.json"}
            continue
        waits = state["Resource"].endswith(".waitForTaskToken")
        raw = outputs[function] if waits else {"Payload": outputs[function], "StatusCode": 200}
        result = _select(state["ResultSelector"], raw) if "ResultSelector" in state else raw
        for field in (
            "Resource",
            "Parameters",
            "ResultSelector",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "HeartbeatSeconds",
        ):
            state.pop(field, None)
        state["Type"] = "Pass"
        state["Result"] = result
    return stubbed


# --------------------------------------------------------------------------------------- execution
def execute(
    template: Mapping[str, Any],
    results: Mapping[str, Any],
    *,
    execution_input: Mapping[str, Any] | None = None,
    failing: Collection[str] = (),
) -> tuple[dict[str, Any], list[str], dict[str, Any]]:
    """Run the stubbed state machine in moto; (describe_execution, states entered in order, their inputs)."""
    with mock_aws(config=MOTO_CONFIG):
        sns = boto3.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="notifications")["TopicArn"]
        definition = stub_lambdas(concrete_definition(template, topic), results, failing=failing)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="pipeline", definition=json.dumps(definition), roleArn=ROLE_ARN
        )
        execution = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"],
            name=str(results["prepare"]["run_id"]),
            input=json.dumps(
                execution_input if execution_input is not None else {"input_prefix": "incoming/"}
            ),
        )["executionArn"]
        deadline = time.monotonic() + 30
        described = sfn.describe_execution(executionArn=execution)
        while described["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
            described = sfn.describe_execution(executionArn=execution)
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    entered = [
        (
            e["stateEnteredEventDetails"]["name"],
            json.loads(e["stateEnteredEventDetails"].get("input") or "null"),
        )
        for e in events
        if "stateEnteredEventDetails" in e
    ]
    return described, [name for name, _ in entered], dict(entered)


def in_order(path: list[str], *expected: str) -> bool:
    """Whether `expected` appear in `path` in this order (other states may come between)."""
    remaining = iter(path)
    return all(any(name == wanted for name in remaining) for wanted in expected)


# ------------------------------------------------------------------------------------------- tests
def test_stubbing_leaves_no_lambda_task(template: dict[str, Any], examples: dict[str, Any]) -> None:
    stubbed = stub_lambdas(
        concrete_definition(template, f"arn:aws:sns:{REGION}:{ACCOUNT}:t"), outputs(examples)
    )
    tasks = [name for name, state in _states(stubbed) if state["Type"] == "Task"]
    assert tasks == ["Notify"]


def test_batch_run_submits_every_shard_and_succeeds(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    described, path, inputs = execute(template, outputs(examples))

    assert described["status"] == "SUCCEEDED"
    assert in_order(
        path, "HasInputPrefix", "Prepare", "SmallBatchMode", "RunJobs", "SubmitJobs", "SubmitJob", "Collect",
        "Notify", "RunOutcome", "RunSucceeded",
    )  # fmt: skip
    assert path.count("SubmitJob") == len(examples["prepare"]["shards"])
    assert "NoOnDemandJob" in path and "RunOnDemand" not in path and "SubmissionFailed" not in path
    assert inputs["Collect"]["results"]["jobs"] == [examples["events_job_result"]]
    assert inputs["Collect"]["prepare"] == examples["prepare"]


def test_missing_input_prefix_defaults_to_the_configured_one(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    described, path, inputs = execute(template, outputs(examples), execution_input={})

    assert described["status"] == "SUCCEEDED"
    assert in_order(path, "HasInputPrefix", "DefaultInputPrefix", "Prepare")
    assert inputs["Prepare"]["input_prefix"] == "incoming/"


def test_the_estimator_counts_the_states_a_run_enters(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    """The estimate prices TRANSITIONS_PER_RUN per run plus TRANSITIONS_PER_SHARD per shard; check the path."""
    described, path, _ = execute(template, outputs(examples), execution_input={})
    shards = len(examples["prepare"]["shards"])

    assert described["status"] == "SUCCEEDED"
    assert path.count("SubmitJob") == shards
    assert path.count("SubmitJob") <= TRANSITIONS_PER_SHARD * shards
    assert len(path) - path.count("SubmitJob") == TRANSITIONS_PER_RUN


def test_failed_submission_becomes_a_failed_job_result_and_collect_still_runs(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    described, path, inputs = execute(
        template, outputs(examples, collect="collect_failed"), failing={"submit"}
    )

    assert described["status"] == "FAILED"
    assert in_order(
        path, "SubmitJobs", "SubmitJob", "ReleaseSlot", "SubmissionFailed", "Collect", "Notify", "RunFailed"
    )  # ReleaseSlot fails too here (it calls the same function): its Catch still reaches SubmissionFailed
    [shard] = examples["prepare"]["shards"]
    [job] = inputs["Collect"]["results"]["jobs"]
    assert job["shard_id"] == shard["shard_id"], "no shard may be lost"
    assert (job["status"], job["job_arn"]) == ("Failed", None)
    run_id = examples["prepare"]["run_id"]
    assert job["output_uri"].endswith(f"/runs/{run_id}/outputs/{shard['shard_id']}/")
    assert "NoSuchBucket" in job["message"]
    assert set(job) == set(examples["events_job_result"]), "the same shape as a job result from events"


def test_small_batch_on_demand_runs_without_batch_jobs(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    described, path, inputs = execute(template, outputs(examples, prepare="prepare_on_demand"))

    assert described["status"] == "SUCCEEDED"
    assert in_order(
        path, "SmallBatchMode", "RunJobs", "OnDemandNeeded", "RunOnDemand", "OnDemandJobList", "Collect",
        "RunSucceeded",
    )  # fmt: skip
    assert "SubmitJob" not in path
    assert inputs["Collect"]["results"]["jobs"] == [examples["on_demand"]]


def test_failed_on_demand_call_is_a_failed_job_result(
    template: dict[str, Any], examples: dict[str, Any]
) -> None:
    chosen = outputs(examples, prepare="prepare_on_demand", collect="collect_failed")

    described, path, inputs = execute(template, chosen, failing={"on_demand"})

    assert described["status"] == "FAILED"
    assert in_order(
        path, "RunOnDemand", "OnDemandFailed", "OnDemandJobList", "Collect", "Notify", "RunFailed"
    )
    [job] = inputs["Collect"]["results"]["jobs"]
    assert (job["shard_id"], job["status"], job["job_arn"]) == ("on-demand", "Failed", None)


def test_small_batch_fail_collects_then_fails(template: dict[str, Any], examples: dict[str, Any]) -> None:
    chosen = outputs(examples, prepare="prepare_fail", collect="collect_fail_mode")

    described, path, inputs = execute(template, chosen)

    assert described["status"] == "FAILED"
    assert described.get("error") == "BelowMinimumRecords"
    assert in_order(
        path, "SmallBatchMode", "NoJobs", "Collect", "Notify", "RunOutcome", "BelowMinimumRecords"
    )
    assert "RunJobs" not in path
    assert inputs["Collect"]["results"] == {"jobs": []}


def test_collect_reporting_failed_fails_the_run(template: dict[str, Any], examples: dict[str, Any]) -> None:
    chosen = outputs(examples, submit="events_job_result_failed", collect="collect_failed")

    described, path, inputs = execute(template, chosen)

    assert described["status"] == "FAILED"
    assert described.get("error") == "RunFailed"
    assert in_order(path, "SubmitJob", "Collect", "Notify", "RunOutcome", "RunFailed")
    assert inputs["Collect"]["results"]["jobs"] == [examples["events_job_result_failed"]]


def test_partial_run_succeeds(template: dict[str, Any], examples: dict[str, Any]) -> None:
    described, path, _ = execute(template, outputs(examples, collect="collect_partial"))

    assert described["status"] == "SUCCEEDED"
    assert in_order(path, "Collect", "RunOutcome", "RunSucceeded")


def test_run_summary_is_published_to_the_topic(template: dict[str, Any], examples: dict[str, Any]) -> None:
    described, path, inputs = execute(template, outputs(examples))

    assert in_order(path, "Collect", "Notify", "RunOutcome")
    assert inputs["Notify"]["summary"] == examples["collect"]
    assert "notify_error" not in json.loads(described["output"])
