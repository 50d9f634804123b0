"""Token spend is attributed in every reference stack that calls Bedrock (issue 16).

Checked over each whole template: every construct that calls Bedrock declares how (`model_uses`); each call
through a profile of its own names an `AWS::Bedrock::ApplicationInferenceProfile` of the template that carries
`inferwise:stack` and `inferwise:construct` of that construct; and every Allow statement with a Bedrock
invocation action names only those profiles and what they copy (a foundation model only through a profile),
so no role can spend tokens outside the profiles.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from inferwise.constructs.inference_profile import model_arns, model_uses
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY, STACK_TAG_KEY, construct_tag_value, stack_tag_value
from inferwise.stacks import REFERENCE_STACKS

STACK_NAMES = [name for name, _ in REFERENCE_STACKS]
PROFILE_TYPE = "AWS::Bedrock::ApplicationInferenceProfile"
INVOKE_ACTIONS = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CreateModelInvocationJob",
)
JOB_RESOURCE = ":model-invocation-job/*"


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _callers(stack: cdk.Stack) -> list[Any]:
    return [c for c in stack.node.find_all() if model_uses(c)]


def _invoke_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Allow statement of the template's policies with a Bedrock invocation action."""
    found = []
    for resource in template["Resources"].values():
        if resource["Type"] not in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = _listed(statement["Action"])
            if statement["Effect"] == "Allow" and any(a in INVOKE_ACTIONS for a in actions):
                found.append(statement)
    return found


def _allowed(stack: cdk.Stack) -> tuple[set[str], set[str], set[str]]:
    """(profile ARNs, the system profiles and models they copy, foundation-model ARNs) over every construct's
    calls, as the template writes them."""
    profiles, sources, foundations = set(), set(), set()
    for construct in _callers(stack):
        for use in model_uses(construct):
            arns = [stack.resolve(arn) for arn in model_arns(construct, use.model_id)]
            if use.invoked_id != use.model_id:
                profiles.add(_key(stack.resolve(use.invoked_id)))
            sources.update(_key(arn) for arn in arns[:-1])
            foundations.add(_key(arns[-1]))
    return profiles, sources, foundations


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_bedrock_permission_names_only_the_profiles_and_what_they_copy(
    stack_name: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    stack = reference_stacks[stack_name]
    statements = _invoke_statements(Template.from_stack(stack).to_json())
    if not statements:
        assert not _callers(stack), "a construct declares Bedrock calls but no role may make them"
        return
    profiles, sources, foundations = _allowed(stack)
    assert profiles, f"{stack_name} calls Bedrock through no application inference profile"
    for statement in statements:
        resources = [r for r in _listed(statement["Resource"]) if JOB_RESOURCE not in json.dumps(r)]
        keys = {_key(r) for r in resources}
        assert "*" not in keys and keys <= profiles | sources | foundations, statement
        actions = _listed(statement["Action"])
        if "bedrock:CreateModelInvocationJob" in actions:
            assert keys & profiles, f"a job creator that may not name the profile: {statement}"
            continue
        if keys & foundations:
            assert keys <= foundations, f"a foundation model next to a profile, unconditioned: {statement}"
            through = _listed(statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"])
            assert {_key(arn) for arn in through} & profiles, (
                f"the model is not reached through a profile: {statement}"
            )
        else:
            assert keys & profiles, f"an invoke permission that does not name the profile: {statement}"


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_attributed_call_goes_through_a_tagged_profile_of_the_stack(
    stack_name: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    stack = reference_stacks[stack_name]
    resources = Template.from_stack(stack).to_json()["Resources"]
    for construct in _callers(stack):
        for use in model_uses(construct):
            assert use.attributed, f"{construct.node.path} calls {use.model_id} without a profile of its own"
            [logical_id, attribute] = stack.resolve(use.invoked_id)["Fn::GetAtt"]
            assert (resources[logical_id]["Type"], attribute) == (PROFILE_TYPE, "InferenceProfileArn")
            tags = {tag["Key"]: tag["Value"] for tag in resources[logical_id]["Properties"]["Tags"]}
            assert tags[STACK_TAG_KEY] == stack_tag_value(stack.stack_name)
            assert tags[CONSTRUCT_TAG_KEY] == construct_tag_value(construct.node.path)


def test_the_batch_stack_is_among_the_stacks_that_call_bedrock(
    reference_stacks: dict[str, cdk.Stack],
) -> None:
    calling = {name for name, stack in reference_stacks.items() if _callers(stack)}
    assert "BatchInferenceStack" in calling


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_reference_budgets_filter_on_their_constructs_tag(
    stack_name: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    """Every reference stack that ends with `reference_guardrails` watches its constructs: the budget filters on
    the `inferwise:construct` tag, which their token spend now carries too."""
    stack = reference_stacks[stack_name]
    guardrails = getattr(stack, "guardrails", None)
    if guardrails is None or not guardrails.watch:
        pytest.skip(f"{stack_name} has guardrails that watch no construct")
    [budget] = Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()
    expression = budget["Properties"]["Budget"]["FilterExpression"]
    assert expression["Tags"] == {
        "Key": CONSTRUCT_TAG_KEY,
        "Values": [construct_tag_value(c.node.path) for c in guardrails.watch],
        "MatchOptions": ["EQUALS"],
    }
