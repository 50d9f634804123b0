"""Every taggable resource an inferwise construct creates carries `inferwise:stack` and `inferwise:construct`.

The whole template of every reference stack is walked. Whether a CloudFormation type takes tags, and in which
property (`Tags`, or `ResourceTags` for Budgets and Cost Anomaly Detection), comes from the resource provider
schemas cfn-lint ships: a type is taggable when its schema says `tagging.taggable` or has a `Tags` property.
Tags are read as a list of `{Key, Value}` (with `PropagateAtLaunch` for Auto Scaling groups) or as a map.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from constructs import IConstruct

from inferwise import CostGuardrails
from inferwise.cost.recording import NOT_TAGGED_TYPES, TAG_PRIORITY
from inferwise.cost.tagging import (
    CONSTRUCT_TAG_KEY,
    STACK_TAG_KEY,
    construct_tag_value,
    is_valid_tag_value,
    stack_tag_value,
)
from inferwise.stacks import REFERENCE_REGION, REFERENCE_STACKS

STACK_NAMES = [name for name, _ in REFERENCE_STACKS]


# ------------------------------------------------------------------------------------------ helpers
@cache
def tag_property(resource_type: str) -> str | None:
    """The property a type takes its tags in, per the provider schema; None when the type takes none."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REFERENCE_REGION, resource_type).schema
    tagging = schema.get("tagging") or {}
    properties = schema.get("properties") or {}
    if tagging.get("taggable"):
        return str(tagging.get("tagProperty", "/properties/Tags")).rsplit("/", 1)[-1]
    return "Tags" if "Tags" in properties else None


def tags_of(resource: dict[str, Any], prop: str) -> dict[str, str]:
    """A resource's tags as a map, whether the template writes a list of {Key, Value} or a map."""
    raw = resource.get("Properties", {}).get(prop) or []
    if isinstance(raw, dict):
        return {str(k): v for k, v in raw.items()}
    return {entry["Key"]: entry["Value"] for entry in raw}


def owner_path(construct: IConstruct) -> str | None:
    """The path of the nearest enclosing inferwise construct (one that recorded an estimate), else None."""
    node = construct.node.scope
    while node is not None:
        if getattr(node, "cost_estimate", None) is not None:
            return node.node.path
        node = node.node.scope
    return None


_TEMPLATES: dict[int, dict[str, Any]] = {}


def template_of(stack: cdk.Stack) -> dict[str, Any]:
    if id(stack) not in _TEMPLATES:
        _TEMPLATES[id(stack)] = Template.from_stack(stack).to_json()
    return _TEMPLATES[id(stack)]


def resources(stack: cdk.Stack) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(logical id, template resource, owning inferwise construct path) for every resource of the stack."""
    owners = {
        stack.resolve(c.logical_id): owner_path(c)
        for c in stack.node.find_all()
        if isinstance(c, cdk.CfnResource)
    }
    for logical_id, resource in template_of(stack)["Resources"].items():
        yield logical_id, resource, owners.get(logical_id)


# ----------------------------------------------------------------------------------- reference stacks
@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_every_taggable_resource_of_a_construct_carries_both_keys(
    stack_name: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    stack = reference_stacks[stack_name]
    wrong: list[str] = []
    tagged = 0
    for logical_id, resource, owner in resources(stack):
        prop = tag_property(resource["Type"])
        if prop is None or owner is None or resource["Type"] in NOT_TAGGED_TYPES:
            continue
        tags = tags_of(resource, prop)
        expected = {
            STACK_TAG_KEY: stack_tag_value(stack.stack_name),
            CONSTRUCT_TAG_KEY: construct_tag_value(owner),
        }
        got = {key: tags.get(key) for key in expected}
        if got != expected:
            wrong.append(f"{logical_id} ({resource['Type']}, {prop}): {got} != {expected}")
        tagged += 1
    assert not wrong, "\n".join(wrong)
    assert tagged > 0


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_resources_outside_inferwise_constructs_get_no_inferwise_tags(
    stack_name: str, reference_stacks: dict[str, cdk.Stack]
) -> None:
    """The app's own resources (the spot fleet's VPC, the guardrails stack's app role) are not ours to tag."""
    stack = reference_stacks[stack_name]
    for logical_id, resource, owner in resources(stack):
        prop = tag_property(resource["Type"])
        if prop is not None and owner is None:
            assert not {STACK_TAG_KEY, CONSTRUCT_TAG_KEY} & set(tags_of(resource, prop)), logical_id


def test_untaggable_types_are_listed(reference_stacks: dict[str, cdk.Stack]) -> None:
    """Types whose schema takes no tags stay untagged (not a failure); the list is printed for the record."""
    types = {
        r["Type"] for stack in reference_stacks.values() for r in template_of(stack)["Resources"].values()
    }
    taggable = sorted(t for t in types if tag_property(t) is not None)
    untaggable = sorted(types - set(taggable))
    print(f"\ntagged types ({len(taggable)}): {', '.join(taggable)}")
    print(f"untaggable types ({len(untaggable)}): {', '.join(untaggable)}")
    assert "AWS::IAM::Policy" in untaggable and "AWS::Budgets::Budget" in taggable


def test_budgets_take_resource_tags_and_anomaly_detection_only_the_users(
    reference_stacks: dict[str, cdk.Stack],
) -> None:
    """Budgets are tagged through `ResourceTags`. Cost Anomaly Detection is free and its `ResourceTags` are
    create-only (new tags would replace the monitor, and a second DIMENSIONAL monitor fails): no inferwise tags,
    but the user's tags still reach it, as CDK puts them there."""
    stack = reference_stacks["CostGuardrailsStack"]
    seen = set()
    for _, resource, owner in resources(stack):
        kind = resource["Type"]
        if kind.startswith(("AWS::Budgets::", "AWS::CE::")):
            assert tag_property(kind) == "ResourceTags"
            tags = tags_of(resource, "ResourceTags")
            assert tags["project"] == "chatbot"
            if kind in NOT_TAGGED_TYPES:
                assert not {STACK_TAG_KEY, CONSTRUCT_TAG_KEY} & set(tags), kind
            else:
                assert tags[CONSTRUCT_TAG_KEY] == owner == "CostGuardrailsStack/Guardrails"
            seen.add(kind)
    assert {"AWS::Budgets::Budget", "AWS::Budgets::BudgetsAction", *NOT_TAGGED_TYPES} <= seen


def test_user_tags_reach_every_taggable_resource(reference_stacks: dict[str, cdk.Stack]) -> None:
    """CostGuardrailsStack tags itself `project: chatbot`; that tag and ours sit side by side everywhere."""
    stack = reference_stacks["CostGuardrailsStack"]
    for logical_id, resource, _ in resources(stack):
        prop = tag_property(resource["Type"])
        if prop is not None:
            assert tags_of(resource, prop).get("project") == "chatbot", logical_id


def test_fleet_instances_and_volumes_inherit_the_tags(reference_stacks: dict[str, cdk.Stack]) -> None:
    """EC2 spend is the instances' and volumes': the launch template tags both, the group propagates."""
    template = template_of(reference_stacks["SpotFleetStack"])
    expected = {STACK_TAG_KEY: "SpotFleetStack", CONSTRUCT_TAG_KEY: "SpotFleetStack/Chat"}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::EC2::LaunchTemplate":
            specs = resource["Properties"]["LaunchTemplateData"]["TagSpecifications"]
            by_type = {spec["ResourceType"]: {t["Key"]: t["Value"] for t in spec["Tags"]} for spec in specs}
            for kind in ("instance", "volume"):
                assert expected.items() <= by_type[kind].items(), kind
        if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup":
            tags = {t["Key"]: t for t in resource["Properties"]["Tags"]}
            for key, value in expected.items():
                assert tags[key] == {"Key": key, "Value": value, "PropagateAtLaunch": True}


# ------------------------------------------------------------------------------------- a small app
def _guardrails_app(construct_id: str) -> tuple[cdk.Stack, dict[str, Any]]:
    app = cdk.App()
    stack = cdk.Stack(app, "Tagged", env=cdk.Environment(region="us-east-1"))
    cdk.Tags.of(app).add("team", "ml")
    cdk.Tags.of(stack).add(CONSTRUCT_TAG_KEY, "clobbered")  # same key, default priority: must not win
    cdk.Tags.of(stack).add(STACK_TAG_KEY, "clobbered")
    CostGuardrails(stack, construct_id, monthly_budget_usd=100, emails=["finops@example.com"])
    return stack, Template.from_stack(stack).to_json()


def test_user_tags_pass_through_and_cannot_clobber_ours_by_accident() -> None:
    _, template = _guardrails_app("Guardrails")
    checked = 0
    for logical_id, resource in template["Resources"].items():
        prop = tag_property(resource["Type"])
        if prop is None:
            continue
        tags = tags_of(resource, prop)
        assert tags.get("team") == "ml", logical_id
        if resource["Type"] in NOT_TAGGED_TYPES:
            assert tags.get(CONSTRUCT_TAG_KEY) == "clobbered", "the user's own tag, untouched"
            continue
        assert tags.get(CONSTRUCT_TAG_KEY) == "Tagged/Guardrails", logical_id
        assert tags.get(STACK_TAG_KEY) == "Tagged", logical_id
        checked += 1
    assert checked >= 3
    assert TAG_PRIORITY > 200, "above CDK's default priorities for Tags.add (100) and Tags.remove (200)"


def test_a_path_outside_the_tag_rules_is_shortened_with_its_hash() -> None:
    construct_id = "Café (v2) " + "x" * 300
    _, template = _guardrails_app(construct_id)
    expected = construct_tag_value(f"Tagged/{construct_id}")
    assert expected != f"Tagged/{construct_id}" and is_valid_tag_value(expected)
    values = {
        tags_of(r, prop).get(CONSTRUCT_TAG_KEY)
        for r in template["Resources"].values()
        if (prop := tag_property(r["Type"])) is not None and r["Type"] not in NOT_TAGGED_TYPES
    }
    assert values == {expected}


def test_a_construct_inside_another_tags_its_resources_with_its_own_path() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Tagged", env=cdk.Environment(region="us-east-1"))
    outer = CostGuardrails(
        stack, "Outer", monthly_budget_usd=100, emails=["a@example.com"], anomaly_detection=False
    )
    CostGuardrails(outer, "Inner", monthly_budget_usd=100, emails=["a@example.com"], anomaly_detection=False)
    found = {}
    for logical_id, resource in Template.from_stack(stack).to_json()["Resources"].items():
        prop = tag_property(resource["Type"])
        if prop is not None:
            found[logical_id] = tags_of(resource, prop)[CONSTRUCT_TAG_KEY]
    assert found and all(
        value == ("Tagged/Outer/Inner" if logical_id.startswith("OuterInner") else "Tagged/Outer")
        for logical_id, value in found.items()
    ), found
