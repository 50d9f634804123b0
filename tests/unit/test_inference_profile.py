"""ApplicationInferenceProfile: what it copies, its name, its tags and the ARNs a caller must be allowed."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from inferwise.constructs.inference_profile import ApplicationInferenceProfile, profile_name

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NAME_PATTERN = re.compile(r"^([0-9a-zA-Z:.][ _-]?)+$")


def _text(value: object) -> object:
    """A resolved ARN as text, with the partition token read as `aws`."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join("aws" if part == {"Ref": "AWS::Partition"} else str(part) for part in parts)
    return value


def _arns(profile: ApplicationInferenceProfile) -> list[object]:
    stack = cdk.Stack.of(profile)
    return [_text(stack.resolve(arn)) for arn in profile.invoke_resources]


def _profile(
    model_id: str, label: str = "Pipeline/Model", **tags: str
) -> tuple[ApplicationInferenceProfile, dict]:
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    profile = ApplicationInferenceProfile(
        stack, "Profile", model_id=model_id, label=label, description="test", tags=tags or None
    )
    resources = Template.from_stack(stack).find_resources("AWS::Bedrock::ApplicationInferenceProfile")
    (resource,) = resources.values()
    return profile, resource["Properties"]


def test_a_foundation_model_is_copied_from_its_arn_in_the_stack_region() -> None:
    profile, props = _profile("amazon.nova-pro-v1:0")
    assert _text(props["ModelSource"]["CopyFrom"]) == (
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0"
    )
    assert _arns(profile)[1:] == ["arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0"]


def test_a_system_profile_is_copied_and_its_model_allowed_in_every_region() -> None:
    profile, props = _profile("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert _text(props["ModelSource"]["CopyFrom"]) == (
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    resolved = _arns(profile)
    logical_id = cdk.Stack.of(profile).get_logical_id(profile.resource)
    assert resolved[0] == {"Fn::GetAtt": [logical_id, "InferenceProfileArn"]}
    assert resolved[1:] == [
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
    ]


def test_extra_tags_reach_the_profile() -> None:
    _, props = _profile("amazon.nova-pro-v1:0", **{"inferwise:tenant": "acme"})
    assert {"Key": "inferwise:tenant", "Value": "acme"} in props["Tags"]


@pytest.mark.parametrize("label", ["Pipeline/Model", "a" * 200, "///", "Gate way/acme:chat"])
def test_names_are_valid_and_at_most_64_characters(label: str) -> None:
    _, props = _profile("amazon.nova-pro-v1:0", label=label)
    name = props["InferenceProfileName"]
    assert len(name) <= 64
    assert NAME_PATTERN.match(name), name


def test_names_differ_between_constructs_with_the_same_label() -> None:
    app = cdk.App()
    first = cdk.Stack(app, "One", env=ENV)
    second = cdk.Stack(app, "Two", env=ENV)
    assert profile_name(first, "Model") != profile_name(second, "Model")
