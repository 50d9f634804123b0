"""Per-tenant application inference profiles: one tagged profile per (tenant, model), the function allowed
exactly those, and the handler calling Converse through the tenant's profile at the model's prices."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import assertions

from inferwise.constructs.gateway import InferenceGateway, Route, Tenant
from tests.gateway.configs import ACCOUNT, ENV, load, role_arn, session_arn, signed
from tests.gateway.support import LARGE, NOVA, REGION, SMALL, TABLE, converse_body, event, handler

PROFILE_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/"
ROUTES = [Route("chat", LARGE, small_model_id=SMALL), Route("bulk", NOVA)]
TENANTS = [Tenant("acme", 100, principals=[role_arn("acme-app")]), Tenant("globex", 100, header_trusted=True)]


def _synth(**props: Any) -> tuple[cdk.Stack, InferenceGateway, assertions.Template]:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    gateway = InferenceGateway(stack, "Gateway", routes=ROUTES, tenants=TENANTS, **props)
    return stack, gateway, assertions.Template.from_stack(stack)


def _invoke_statements(template: assertions.Template) -> list[dict[str, Any]]:
    found = [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "bedrock:InvokeModel" in statement["Action"]
    ]
    assert found, "no bedrock:InvokeModel statement"
    return found


def _invoke_resources(template: assertions.Template) -> list[Any]:
    return [r for s in _invoke_statements(template) for r in _as_list(s["Resource"])]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_one_tagged_profile_per_tenant_and_model() -> None:
    stack, gateway, template = _synth()
    profiles = template.find_resources("AWS::Bedrock::ApplicationInferenceProfile")
    assert len(profiles) == 2 * 3  # tenants x (Sonnet 4.5, Haiku 4.5, Nova Pro)
    for tenant, by_model in gateway.inference_profiles.items():
        assert sorted(by_model) == sorted([LARGE, SMALL, NOVA])
        for profile in by_model.values():
            tags = {
                t["Key"]: t["Value"]
                for t in profiles[stack.get_logical_id(profile.resource)]["Properties"]["Tags"]
            }
            assert tags["inferwise:tenant"] == tenant
            assert tags["inferwise:stack"] == "S"
            assert tags["inferwise:construct"] == "S/Gateway"


def test_model_uses_declare_the_attributed_calls_for_guardrails() -> None:
    _, gateway, _ = _synth()
    assert len(gateway.model_uses) == 6 and all(use.attributed for use in gateway.model_uses)
    acme_small = next(use for use in gateway.model_uses if use.label == f"acme {SMALL}")
    assert (acme_small.model_id, acme_small.invoked_id) == (
        SMALL,
        gateway.inference_profiles["acme"][SMALL].arn,
    )
    _, direct, _ = _synth(tenant_inference_profiles=False)
    assert [(u.model_id, u.invoked_id, u.attributed) for u in direct.model_uses] == [
        (m, m, False) for m in sorted([LARGE, SMALL, NOVA])
    ]


def test_the_function_may_invoke_exactly_the_profiles_and_what_they_copy() -> None:
    stack, gateway, template = _synth()
    resources = _invoke_resources(template)
    profile_arns = [
        {"Fn::GetAtt": [stack.get_logical_id(p.resource), "InferenceProfileArn"]}
        for by_model in gateway.inference_profiles.values()
        for p in by_model.values()
    ]
    assert all(arn in resources for arn in profile_arns)
    copied = [r for r in resources if r not in profile_arns]
    text = json.dumps(copied)
    for name in (
        "inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0",
        "foundation-model/amazon.nova-pro-v1:0",
    ):
        assert name in text
    assert len(copied) == 5  # two system profiles, their two models in every Region, Nova Pro here
    for statement in _invoke_statements(template):  # a foundation model only through the tenants' profiles
        if "foundation-model/" in json.dumps(statement["Resource"]):
            allowed = _as_list(statement["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"])
            assert [arn for arn in allowed if arn in profile_arns], statement
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    config = json.dumps(function["Properties"]["Environment"]["Variables"]["GATEWAY_CONFIG"])
    assert config.count("InferenceProfileId") == 6 and "application-inference-profile/" in config


def test_profiles_can_be_turned_off() -> None:
    _, gateway, template = _synth(tenant_inference_profiles=False)
    assert gateway.inference_profiles == {}
    template.resource_count_is("AWS::Bedrock::ApplicationInferenceProfile", 0)
    assert all(isinstance(r, str) or "Fn::Join" in r for r in _invoke_resources(template))
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    assert "profiles" not in json.dumps(function["Properties"]["Environment"]["Variables"]["GATEWAY_CONFIG"])


def test_calls_name_the_tenants_profile_and_cost_the_models_price(aws, bedrock) -> None:
    models = sorted([LARGE, SMALL, NOVA])
    ids = {"acme": ["acmenova0001", "acmesmall002", "acmelarge003"], "globex": ["glx1", "glx2", "glx3"]}
    config = load(ROUTES, TENANTS, profile_arn=PROFILE_ARN, profiles={t: ids[t] for t in ids})
    assert models == [NOVA, SMALL, LARGE]  # the `prices` order the ids follow
    lines: list[str] = []
    request = signed(
        event(converse_body(), tenant=None, path="/model/chat/converse"), session_arn("acme-app")
    )
    response = handler.serve(
        request, config=config, bedrock=bedrock.client(), dynamodb=aws, table=TABLE, emit=lines.append
    )
    assert response["statusCode"] == 200, response["body"]
    assert [model for model, _ in bedrock.calls] == [f"{PROFILE_ARN}acmesmall002"]
    assert response["headers"]["x-inferwise-model"] == SMALL  # callers see the model, not the profile
    (item,) = aws.scan(TableName=TABLE)["Items"]
    # 10 input tokens x 1.0 + 5 output x 5.0 USD/1M (global Haiku 4.5): the model's price through its profile
    assert item["pk"]["S"].startswith("acme#") and item["spent"]["N"] == "35"
    assert json.loads(lines[-1])["CostUSD"] == 0.000035


def test_each_tenant_calls_through_its_own_profile(aws, bedrock) -> None:
    config = load(
        ROUTES,
        TENANTS,
        profile_arn=PROFILE_ARN,
        profiles={"acme": ["a1", "a2", "a3"], "globex": ["g1", "g2", "g3"]},
    )
    client = bedrock.client()
    for request in (
        signed(event(converse_body(), tenant=None, path="/model/bulk/converse"), session_arn("acme-app")),
        event(converse_body(), tenant="globex", path="/model/bulk/converse"),
    ):
        handler.serve(
            request, config=config, bedrock=client, dynamodb=aws, table=TABLE, emit=lambda line: None
        )
    assert [model for model, _ in bedrock.calls] == [f"{PROFILE_ARN}a1", f"{PROFILE_ARN}g1"]
