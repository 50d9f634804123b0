"""HardCap warns when it may not do what its user expects: an administrative deny role, or a tag-filtered
budget that cannot see Bedrock token spend."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match

from inferwise import CostGuardrails, HardCap


def _warnings(**props: Any) -> list[str]:
    app = cdk.App()
    stack = cdk.Stack(app, "Guarded", env=cdk.Environment(account="123456789012", region="us-east-1"))
    role_name = props.pop("role_name", "chatbot-runtime")
    role = iam.Role.from_role_arn(stack, "Role", f"arn:aws:iam::123456789012:role/{role_name}", mutable=False)
    CostGuardrails(
        stack,
        "Guardrails",
        monthly_budget_usd=1000,
        emails=["finops@example.com"],
        hard_cap=HardCap(at_percent=120, deny_roles=[role]),
        **props,
    )
    found = Annotations.from_stack(stack).find_warning("*", Match.any_value())
    return [str(entry.entry.data) for entry in found]


def test_an_administrative_deny_role_is_named_in_a_warning() -> None:
    warnings = _warnings(role_name="OrgAdminRole")
    assert any(
        "hard_cap.deny_roles includes 'OrgAdminRole'" in w and "looks administrative" in w for w in warnings
    )


def test_a_runtime_role_raises_no_administrative_warning() -> None:
    assert not [w for w in _warnings() if "looks administrative" in w]


def test_a_tag_filtered_budget_warns_that_token_spend_may_not_count() -> None:
    warnings = _warnings(cost_filter_tags={"project": ["chatbot"]})
    assert any(
        "filters on cost allocation tags (project)" in w and "application inference profile" in w
        for w in warnings
    )


def test_a_service_filtered_budget_does_not_warn() -> None:
    warnings = _warnings(services=["Amazon Bedrock"])
    assert not [w for w in warnings if "cost allocation tags" in w]


def test_an_unfiltered_budget_does_not_warn() -> None:
    assert not [w for w in _warnings() if "cost allocation tags" in w]
