"""ApplicationInferenceProfile: what it copies, its name, its tags and the ARNs a caller must be allowed."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from inferwise.constructs.inference_profile import (
    ApplicationInferenceProfile,
    existing_profile_arn,
    invoke_statements,
    model_arns,
    profile_description,
    profile_name,
)

ENV = cdk.Environment(account="123456789012", region="eu-west-1")
NAME_PATTERN = re.compile(r"^([0-9a-zA-Z][ _-]?)+$")
"""cfn schema `AWS::Bedrock::ApplicationInferenceProfile` `InferenceProfileName` (no `.` or `:`)."""
DESCRIPTION_PATTERN = re.compile(r"^([0-9a-zA-Z:.][ _-]?)+$")
"""The same schema's `Description`."""


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


@pytest.mark.parametrize(
    "text",
    [
        "Bedrock batch pipeline Stack/Summaries calls anthropic.claude-haiku-4-5-20251001-v1:0",
        "--a__ -b--",
        "///",
        "x" * 300,
        "tenant acme: chat/route, 50% (bulk)",
    ],
)
def test_descriptions_are_cleaned_to_what_cloudformation_accepts(text: str) -> None:
    cleaned = profile_description(text)
    assert 1 <= len(cleaned) <= 200
    assert DESCRIPTION_PATTERN.match(cleaned), cleaned


def test_model_arns_are_accepted_as_given() -> None:
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    foundation = "arn:aws:bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0"
    system = "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0"
    assert model_arns(stack, foundation) == [foundation]
    assert [_text(stack.resolve(arn)) for arn in model_arns(stack, system)] == [
        system,
        "arn:aws:bedrock:*::foundation-model/amazon.nova-pro-v1:0",
    ]
    profile = ApplicationInferenceProfile(stack, "Profile", model_id=system, label="x", description="y")
    assert profile.resource.model_source.copy_from == system  # type: ignore[union-attr]


def _statements(profile: ApplicationInferenceProfile) -> list[dict[str, object]]:
    stack = cdk.Stack.of(profile)
    return [stack.resolve(s.to_statement_json()) for s in profile.invoke_statements()]


def test_the_foundation_model_is_reached_only_through_the_profiles() -> None:
    """Statements: the profiles (the application one, and the system one it copies) unconditioned; the
    foundation model only with bedrock:InferenceProfileArn naming one of them."""
    profile, _ = _profile("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    on_profiles, on_model = _statements(profile)
    resolved = _arns(profile)
    assert [_text(r) for r in on_profiles["Resource"]] == resolved[:2]  # type: ignore[union-attr]
    assert "Condition" not in on_profiles
    assert _text(on_model["Resource"]) == resolved[2]
    condition = on_model["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]  # type: ignore[index]
    assert [_text(arn) for arn in condition] == resolved[:2]


def test_a_copied_foundation_model_is_reached_only_through_the_profile() -> None:
    profile, _ = _profile("amazon.nova-pro-v1:0")
    on_profile, on_model = _statements(profile)
    stack = cdk.Stack.of(profile)
    assert on_profile["Resource"] == stack.resolve(profile.arn)
    assert on_model["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": stack.resolve(profile.arn)}
    }


def test_a_model_called_directly_is_one_unconditioned_statement() -> None:
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    [statement] = invoke_statements(stack, "amazon.nova-pro-v1:0", actions=["bedrock:InvokeModel"])
    assert "Condition" not in stack.resolve(statement.to_statement_json())


PROFILE_ARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/a1b2c3d4e5f6"


@pytest.mark.parametrize(
    ("value", "error", "says"),
    [
        (
            PROFILE_ARN.replace("eu-west-1", "us-east-1"),
            ValueError,
            "this stack's Region (eu-west-1), got one of us-east-1",
        ),
        (PROFILE_ARN.replace("123456789012", "210987654321"), ValueError, "got one of 210987654321"),
        (
            "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0",
            ValueError,
            "model_id",
        ),
        (
            "arn:aws:bedrock:eu-west-1::application-inference-profile/a1b2c3d4e5f6",
            ValueError,
            "12-digit account",
        ),
        ("a1b2c3d4e5f6", ValueError, "application inference profile ARN"),
        (None, TypeError, "got None"),
    ],
    ids=["other Region", "other account", "system profile", "no account", "bare id", "None"],
)
def test_an_existing_profile_elsewhere_is_refused_naming_the_prop(
    value: object, error: type, says: str
) -> None:
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    with pytest.raises(error) as refused:
        existing_profile_arn(stack, "inference_profile_arn", value)
    assert str(refused.value).startswith("inference_profile_arn must") and says in str(refused.value)


def test_an_existing_profile_of_the_stack_or_a_token_is_accepted() -> None:
    stack = cdk.Stack(cdk.App(), "Stack", env=ENV)
    assert existing_profile_arn(stack, "p", PROFILE_ARN) == PROFILE_ARN
    token = cdk.Fn.import_value("Shared")
    assert existing_profile_arn(stack, "p", token) == token
