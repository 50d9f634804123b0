"""Tenant identity bound to the caller: the handler bills the tenant the signer's IAM identity maps to, and the
construct checks, configures and grants the principals."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam

from inferwise.constructs.gateway import InferenceGateway, Route, Tenant
from tests.gateway.configs import ACCOUNT, ENV, load, role_arn, session_arn, signed
from tests.gateway.support import LARGE, TABLE, converse_body, event, handler

TENANTS = (
    Tenant("acme", 100, principals=[role_arn("team/acme-app")]),  # a role with a path
    Tenant("globex", 100, principals=[role_arn("globex-app"), role_arn("shared-batch")]),
    Tenant("initech", 100, principals=[role_arn("shared-batch"), f"arn:aws:iam::{ACCOUNT}:user/ops/jane"]),
    Tenant("partner", 100, header_trusted=True),
)
CONFIG = load([Route("solo", LARGE, max_output_tokens=1000)], TENANTS)


@pytest.fixture
def call(aws: Any, bedrock: Any) -> Any:
    client = bedrock.client()

    def serve(caller: str | None, tenant: str | None = None) -> dict[str, Any]:
        request = event(converse_body(), tenant=tenant, path="/model/solo/converse")
        return handler.serve(
            signed(request, caller) if caller else request,
            config=CONFIG,
            bedrock=client,
            dynamodb=aws,
            table=TABLE,
            emit=lambda line: None,
        )

    return serve


def _billed(aws: Any) -> list[str]:
    return sorted(item["pk"]["S"].split("#")[0] for item in aws.scan(TableName=TABLE)["Items"])


def _refused(response: dict[str, Any], status: int) -> str:
    assert response["statusCode"] == status, response["body"]
    body = json.loads(response["body"])["error"]
    assert body["field"] == "x-inferwise-tenant"
    return str(body["message"])


def test_the_configuration_maps_role_and_user_keys_to_tenants() -> None:
    assert CONFIG.callers == {
        f"{ACCOUNT}:role/acme-app": ("acme",),
        f"{ACCOUNT}:role/globex-app": ("globex",),
        f"{ACCOUNT}:role/shared-batch": ("globex", "initech"),
        f"{ACCOUNT}:user/jane": ("initech",),
    }
    assert CONFIG.trusted == frozenset({"partner"})


def test_a_session_of_a_tenant_role_is_that_tenant_without_a_header(call, aws) -> None:
    assert call(session_arn("acme-app"))["statusCode"] == 200  # the role's path is not in a session ARN
    assert call(session_arn("acme-app", "another-session"), "acme")["statusCode"] == 200
    assert call(f"arn:aws:iam::{ACCOUNT}:user/ops/jane")["statusCode"] == 200
    assert _billed(aws) == ["acme", "initech"]


def test_a_header_naming_another_tenant_is_403(call, bedrock) -> None:
    message = _refused(call(session_arn("acme-app"), "globex"), 403)
    assert f"{ACCOUNT}:role/acme-app may act as acme, not as 'globex'" in message
    _refused(call(session_arn("acme-app"), "partner"), 403)  # bound callers do not use trusted headers
    assert not bedrock.calls


def test_a_caller_of_several_tenants_must_name_one(call, aws) -> None:
    message = _refused(call(session_arn("shared-batch")), 400)
    assert "several tenants: name one of globex, initech" in message
    assert call(session_arn("shared-batch"), "initech")["statusCode"] == 200
    _refused(call(session_arn("shared-batch"), "acme"), 403)
    assert _billed(aws) == ["initech"]


def test_an_unmapped_caller_may_only_name_a_header_trusted_tenant(call, aws) -> None:
    stranger = session_arn("some-other-role")
    assert "not a principal of tenant 'acme'" in _refused(call(stranger, "acme"), 403)
    assert "unknown tenant 'nobody'" in _refused(call(stranger, "nobody"), 403)
    assert "header missing" in _refused(call(stranger), 400)
    assert call(stranger, "partner")["statusCode"] == 200
    assert call(None, "partner")["statusCode"] == 200  # no authorizer in the event: unmapped too
    _refused(call(None, "acme"), 403)
    assert _billed(aws) == ["partner"]


def test_the_same_role_name_in_another_account_is_not_the_principal(call) -> None:
    _refused(call(session_arn("acme-app", account="999999999999")), 400)
    _refused(call(session_arn("acme-app", account="999999999999"), "acme"), 403)


# ------------------------------------------------------------------------------------------- construct
def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "S", env=ENV)


def _gateway(stack: cdk.Stack, tenants: list[Tenant], **props: Any) -> InferenceGateway:
    return InferenceGateway(stack, "Gateway", routes=[Route("solo", LARGE)], tenants=tenants, **props)


def test_principals_are_granted_the_url_and_named_in_the_configuration() -> None:
    stack = _stack()
    app_role = iam.Role(stack, "AcmeRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    outside = "arn:aws:iam::444455556666:role/partner-app"
    imported = iam.Role.from_role_arn(stack, "Imported", role_arn("team/initech-app"), mutable=False)
    tenants = [
        Tenant("acme", 10, principals=[app_role]),
        Tenant("globex", 10, principals=[outside]),
        Tenant("initech", 10, principals=[imported]),  # its policy is not ours to edit: the function's is
    ]
    _gateway(stack, tenants)
    template = assertions.Template.from_stack(stack)
    role_id = stack.get_logical_id(app_role.node.default_child)  # type: ignore[arg-type]
    policies = json.dumps(
        template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    )
    assert '"lambda:InvokeFunctionUrl"' in policies and '"lambda:InvokeFunction"' in policies
    for principal in (outside, role_arn("team/initech-app")):
        permissions = template.find_resources(
            "AWS::Lambda::Permission", {"Properties": {"Principal": principal}}
        )
        assert {p["Properties"]["Action"] for p in permissions.values()} == {
            "lambda:InvokeFunctionUrl",
            "lambda:InvokeFunction",
        }
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    config = json.dumps(function["Properties"]["Environment"]["Variables"]["GATEWAY_CONFIG"])
    assert f'{{"Ref": "{role_id}"}}' in config  # the role's deployed name, keyed with the account
    assert "444455556666:role/partner-app" in config and f"{ACCOUNT}:role/initech-app" in config


@pytest.mark.parametrize(
    ("tenants", "props", "message"),
    [
        ([Tenant("acme", 1)], {}, "Tenant 'acme' principals must name at least one caller, got none"),
        (
            [Tenant("a", 1, principals=[role_arn("batch")]), Tenant("b", 1, principals=[role_arn("batch")])],
            {},
            f"Tenant principals: {role_arn('batch')} is on tenants 'a', 'b'.*allow_shared_principals=True",
        ),
        (
            [Tenant("acme", 1, principals=[session_arn("acme-app")])],
            {},
            r"principals\[0\] must hold .*an assumed-role session names its role: pass "
            rf"'arn:aws:iam::{ACCOUNT}:role/acme-app'",
        ),
        ([Tenant("acme", 1, principals=["acme-app"])], {}, r"principals\[0\] must hold an iam.IRole"),
        ([Tenant("acme", 1, principals=[42])], {}, r"principals\[0\] must hold .*got 42"),  # type: ignore[list-item]
        ([Tenant("acme", 1, principals=role_arn("x"))], {}, "principals must be a list"),  # type: ignore[arg-type]
        ([Tenant("acme", 1, header_trusted="yes")], {}, "header_trusted must be True or False"),  # type: ignore[arg-type]
    ],
)
def test_bad_principals_are_refused_naming_the_prop(tenants, props, message) -> None:
    with pytest.raises(ValueError, match=message):
        _gateway(_stack(), tenants, **props)


def test_a_shared_principal_is_allowed_when_asked_and_granted_once() -> None:
    stack = _stack()
    shared = role_arn("batch")
    tenants = [Tenant("a", 1, principals=[shared]), Tenant("b", 1, principals=[shared])]
    _gateway(stack, tenants, allow_shared_principals=True)
    permissions = assertions.Template.from_stack(stack).find_resources(
        "AWS::Lambda::Permission", {"Properties": {"Principal": shared}}
    )
    assert len(permissions) == 2  # InvokeFunctionUrl and InvokeFunction, once


def test_a_configuration_too_large_for_the_environment_names_the_props() -> None:
    tenants = [Tenant(f"tenant-{i:03d}", 1, principals=[role_arn(f"role-{i:03d}")]) for i in range(60)]
    with pytest.raises(
        ValueError,
        match=r"-byte configuration \(.*bytes of Tenant.principals.*tenant_inference_profiles=False",
    ):
        _gateway(_stack(), tenants)
