"""BedrockBatchPipeline attributes its token spend: its own tagged application inference profile, the Lambda
environment that names it, the IAM that allows exactly it, and the two ways out (the user's profile, none)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from inferwise.constructs.bedrock_batch import BedrockBatchPipeline
from inferwise.constructs.inference_profile import ModelUse
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY, STACK_TAG_KEY
from inferwise.stacks.bedrock_batch import REFERENCE_MODEL_ID
from tests.harness.synth import CONTEXT

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROFILE_TYPE = "AWS::Bedrock::ApplicationInferenceProfile"
IN_REGION_MODEL = "amazon.nova-lite-v1:0"
SYSTEM_PROFILE = f"us.{IN_REGION_MODEL}"
USERS_PROFILE = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
INVOKERS = ("submit_function", "on_demand_function")
BEDROCK_FREE = ("prepare_function", "events_function", "collect_function")


def _partitioned(text: str) -> dict[str, Any]:
    """An ARN as CDK writes it with the partition token, `text` being what follows `arn:<partition>`."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, text]]}


class Built:
    """One pipeline in a stack with a known account, and its template."""

    def __init__(self, **props: Any) -> None:
        app = cdk.App(context=CONTEXT)
        self.stack = cdk.Stack(app, "Attributed", env=cdk.Environment(account=ACCOUNT, region=REGION))
        self.pipeline = BedrockBatchPipeline(self.stack, "Pipeline", **{"model_id": IN_REGION_MODEL, **props})
        self.json: dict[str, Any] = assertions.Template.from_stack(self.stack).to_json()

    def logical_id(self, construct: Any) -> str:
        child = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
        return str(self.stack.resolve(self.stack.get_logical_id(child)))

    def profiles(self) -> dict[str, Any]:
        return {k: r for k, r in self.json["Resources"].items() if r["Type"] == PROFILE_TYPE}

    def environment(self, function: str) -> dict[str, Any]:
        resource = self.json["Resources"][self.logical_id(getattr(self.pipeline, function))]
        variables: dict[str, Any] = resource["Properties"]["Environment"]["Variables"]
        return variables

    def invoke_statements(self, holder: str) -> list[dict[str, Any]]:
        role = getattr(self.pipeline, holder)
        role_id = self.logical_id(getattr(role, "role", role))
        return [
            statement
            for resource in self.json["Resources"].values()
            if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
            if "bedrock:InvokeModel" in json.dumps(statement["Action"])
        ]


@pytest.fixture(scope="module")
def own() -> Built:
    return Built()


@pytest.fixture(scope="module")
def reference(
    reference_stacks: dict[str, cdk.Stack],
) -> tuple[cdk.Stack, BedrockBatchPipeline, dict[str, Any]]:
    stack = reference_stacks["BatchInferenceStack"]
    pipeline = stack.pipeline  # type: ignore[attr-defined]
    return stack, pipeline, assertions.Template.from_stack(stack).to_json()


# ------------------------------------------------------------------------------------- its own profile
def test_the_reference_pipeline_copies_its_system_profile_into_a_tagged_profile(
    reference: tuple[cdk.Stack, BedrockBatchPipeline, dict[str, Any]],
) -> None:
    stack, pipeline, template = reference
    [(logical_id, resource)] = [(k, r) for k, r in template["Resources"].items() if r["Type"] == PROFILE_TYPE]
    assert pipeline.inference_profile is not None
    assert logical_id == stack.resolve(stack.get_logical_id(pipeline.inference_profile.resource))
    props = resource["Properties"]
    assert props["ModelSource"]["CopyFrom"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":bedrock:{REGION}:",
                {"Ref": "AWS::AccountId"},
                f":inference-profile/{REFERENCE_MODEL_ID}",
            ],
        ]
    }
    tags = {tag["Key"]: tag["Value"] for tag in props["Tags"]}
    assert tags[STACK_TAG_KEY] == "BatchInferenceStack"
    assert tags[CONSTRUCT_TAG_KEY] == "BatchInferenceStack/Summaries"


def test_an_in_region_model_is_copied_from_its_foundation_model(own: Built) -> None:
    [resource] = own.profiles().values()
    assert resource["Properties"]["ModelSource"]["CopyFrom"] == _partitioned(
        f":bedrock:{REGION}::foundation-model/{IN_REGION_MODEL}"
    )


def test_a_model_arn_is_copied_as_given() -> None:
    arn = f"arn:aws:bedrock:{REGION}::foundation-model/{IN_REGION_MODEL}"
    [resource] = Built(model_id=arn).profiles().values()
    assert resource["Properties"]["ModelSource"]["CopyFrom"] == arn


def test_jobs_and_on_demand_calls_name_the_profile_and_the_quota_stays_per_model(own: Built) -> None:
    """submit and on_demand pass INVOKE_MODEL_ID as modelId; MODEL_ID (the job-quota key, the summary's model)
    is still the model."""
    assert own.pipeline.inference_profile is not None
    profile_arn = {
        "Fn::GetAtt": [own.logical_id(own.pipeline.inference_profile.resource), "InferenceProfileArn"]
    }
    for function in INVOKERS:
        variables = own.environment(function)
        assert variables["INVOKE_MODEL_ID"] == profile_arn, function
        assert variables["MODEL_ID"] == IN_REGION_MODEL, function
    for function in BEDROCK_FREE:
        assert "INVOKE_MODEL_ID" not in own.environment(function), function
    assert own.stack.resolve(own.pipeline.invoke_model_id) == profile_arn


def test_the_pipeline_declares_how_it_calls_its_model(own: Built) -> None:
    assert own.pipeline.model_uses == (
        ModelUse(
            model_id=IN_REGION_MODEL, invoked_id=own.pipeline.invoke_model_id, attributed=True, label="Model"
        ),
    )
    assert own.pipeline.model_arns() == own.pipeline.model_access.resources(own.pipeline)


# ---------------------------------------------------------------------------------- the user's profile
def test_an_existing_application_profile_is_used_as_is() -> None:
    built = Built(inference_profile_arn=USERS_PROFILE)
    assert built.profiles() == {}
    assert built.pipeline.inference_profile is None
    for function in INVOKERS:
        assert built.environment(function)["INVOKE_MODEL_ID"] == USERS_PROFILE
    [on_profile, on_model] = built.invoke_statements("service_role")
    assert on_profile["Resource"] == USERS_PROFILE
    assert on_model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": USERS_PROFILE}}
    [use] = built.pipeline.model_uses
    assert (use.invoked_id, use.attributed) == (USERS_PROFILE, False), "its tags are the user's, not ours"


# ------------------------------------------------------------------------------------------ no profile
def test_without_attribution_the_model_is_called_directly_as_before() -> None:
    built = Built(model_id=SYSTEM_PROFILE, attribute_token_spend=False)
    assert built.profiles() == {}
    system = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":bedrock:{REGION}:{ACCOUNT}:inference-profile/{SYSTEM_PROFILE}",
            ],
        ]
    }
    for function in INVOKERS:
        assert built.environment(function)["INVOKE_MODEL_ID"] == SYSTEM_PROFILE
    for holder in ("service_role", "on_demand_function"):
        [on_profile, on_model] = built.invoke_statements(holder)
        assert on_profile["Resource"] == system and "Condition" not in on_profile
        assert on_model["Resource"] == _partitioned(f":bedrock:*::foundation-model/{IN_REGION_MODEL}")
        assert on_model["Condition"] == {"StringEquals": {"bedrock:InferenceProfileArn": system}}
    assert [use.attributed for use in built.pipeline.model_uses] == [False]


# --------------------------------------------------------------------------------------- cost and nag
def test_the_profile_adds_nothing_to_the_estimate() -> None:
    """An application inference profile is free: the estimate is the same with it or without it."""
    with_profile = Built().pipeline.cost_estimate
    without = Built(attribute_token_spend=False).pipeline.cost_estimate
    assert with_profile.monthly_total == without.monthly_total
    assert with_profile.lines == without.lines
