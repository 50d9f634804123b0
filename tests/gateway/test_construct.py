"""InferenceGateway: prop validation, the synthesized template (cdk-nag strict, cfn-lint), the estimate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from inferwise.constructs.gateway import GatewayUsage, InferenceGateway, Route, Tenant
from inferwise.stacks.gateway import GatewayStack
from tests.gateway.support import LARGE, NOVA, SMALL
from tests.harness.cfn_lint import lint_template
from tests.harness.synth import VerifiedAssembly, synth_for_assertions, synth_verified

ENV = cdk.Environment(region="us-east-1")
TRUSTED = Tenant("acme", 10, header_trusted=True)


def _build(app: cdk.App) -> list[cdk.Stack]:
    return [GatewayStack(app, "GatewayStack", env=ENV)]


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> VerifiedAssembly:
    return synth_verified(_build, Path(tmp_path_factory.mktemp("gateway-out")))


@pytest.fixture(scope="module")
def template() -> assertions.Template:
    return assertions.Template.from_stack(synth_for_assertions(_build)[0])


def test_cdk_nag_strict_clean_with_reasons(assembly: VerifiedAssembly) -> None:
    assert not assembly.nag_failed, assembly.unacknowledged_findings()
    assert assembly.unacknowledged_findings() == []
    assert all(len(s.get("reason", "")) > 40 for s in assembly.acknowledged_findings())


def test_cfn_lint_clean(assembly: VerifiedAssembly) -> None:
    assert lint_template(assembly.template("GatewayStack")) == []


def test_iam_url_table_and_model_scope(template: assertions.Template) -> None:
    template.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM"})
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": assertions.Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )
    policies = template.find_resources("AWS::IAM::Policy")
    text = str(policies)
    assert "foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0" in text
    assert "inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0" in text
    assert "foundation-model/amazon.nova-pro-v1:0" in text
    assert "'bedrock:*'" not in text and "'Resource': '*'" not in text


def test_reference_estimate_and_baseline() -> None:
    stack = synth_for_assertions(_build)[0]
    estimate = stack.gateway.cost_estimate  # type: ignore[attr-defined]
    assert estimate.baseline is not None
    assert estimate.monthly_total < estimate.baseline.monthly_total
    components = [line.component for line in estimate.lines]
    assert "bulk: large model, flex: input tokens" in components
    assert any("cache reads" in c for c in components)
    assert any(c.startswith("chat: small model") for c in components)


def _gateway(**route: object) -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    options = {"name": "chat", "model_id": LARGE, **route}
    InferenceGateway(stack, "G", routes=[Route(**options)], tenants=[TRUSTED])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (
            {"model_id": "anthropic.claude-nope-v9"},
            "model_id 'anthropic.claude-nope-v9' is not in the price catalogue",
        ),
        ({"model_id": SMALL, "small_model_id": LARGE}, "costs more than model_id"),
        ({"deferrable_tier": "flex"}, "deferrable_tier 'flex': the catalogue has no flex price"),
        ({"model_id": NOVA, "tier": "priority", "small_model_id": None}, None),
        ({"deferrable_tier": "slow"}, "deferrable_tier must be one of flex"),
        ({"tier": "gold"}, "tier must be one of standard, priority"),
        ({"name": "bad name"}, "Route.name 'bad name' is not allowed"),
    ],
)
def test_route_validation(route: dict[str, object], message: str | None) -> None:
    if message is None:
        _gateway(**route)
        return
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _gateway(**route)


def test_tenant_and_duplicate_validation() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    with pytest.raises(ValueError, match="monthly_budget_usd must be > 0"):
        InferenceGateway(stack, "A", routes=[Route("chat", LARGE)], tenants=[Tenant("acme", 0)])
    with pytest.raises(ValueError, match=r"Tenant\.name must be unique; duplicated: acme"):
        InferenceGateway(
            stack, "B", routes=[Route("chat", LARGE)], tenants=[Tenant("acme", 1), Tenant("acme", 2)]
        )
    with pytest.raises(ValueError, match=r"Route\.name must be unique; duplicated: chat"):
        InferenceGateway(
            stack, "C", routes=[Route("chat", LARGE), Route("chat", NOVA)], tenants=[Tenant("a", 1)]
        )


def test_brief_example_estimate() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "S", env=ENV)
    gateway = InferenceGateway(
        stack,
        "Gateway",
        routes=[Route(name="chat", model_id=LARGE, small_model_id=SMALL, cache_system_prompt=True)],
        tenants=[Tenant(name="acme", monthly_budget_usd=500, header_trusted=True)],
        usage=GatewayUsage(
            requests_per_month=2_000_000,
            input_tokens_per_request=2_000,
            output_tokens_per_request=300,
            cached_prefix_tokens=1_500,
            small_model_share=0.7,
        ),
    )
    estimate = gateway.cost_estimate
    assert estimate.baseline is not None
    assert estimate.baseline.monthly_total == Decimal("21000")
    assert round(estimate.monthly_total, 2) == Decimal("8432.78")  # 8 EMF metrics since SkippedEscalations
