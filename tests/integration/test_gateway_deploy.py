"""GatewayStack deployed to moto by the real CDK CLI: the properties the gateway's guarantees rest on, read
back from moto's DynamoDB, Lambda and IAM APIs.

moto 5.2.5's CloudFormation skips `AWS::Lambda::Url` and `AWS::Bedrock::ApplicationInferenceProfile` and drops
a table's encryption and point-in-time recovery and a function's architecture and environment key: those
are asserted on the template the CLI deployed, each next to a check that fails once moto models it; the
profiles' ARNs are placeholders in the moto copy (`patch_template_for_moto`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.harness.moto_deploy import (
    CdkCli,
    moto_modeled_types,
    patched_assembly_copy,
    stack_resources,
    template_file,
)
from tests.integration.conftest import logical_id_like

GATEWAY_STACK = "GatewayStack"


@pytest.fixture(scope="session")
def gateway_assembly(reference_cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    assembly, _ = patched_assembly_copy(
        reference_cloud_assembly, tmp_path_factory.mktemp("moto-gateway") / "cdk.out", GATEWAY_STACK
    )
    return assembly


@pytest.fixture
def deployed_gateway(cdk_cli: CdkCli, gateway_assembly: Path) -> dict[str, Any]:
    """The deployed gateway: its stack resources and the template the CLI deployed."""
    cdk_cli.ensure_deployed(gateway_assembly, GATEWAY_STACK)
    return {
        "resources": stack_resources(cdk_cli.server.client("cloudformation"), GATEWAY_STACK),
        "template": json.loads(template_file(gateway_assembly, GATEWAY_STACK).read_text()),
    }


def _physical(deployed: dict[str, Any], resource_type: str, contains: str) -> str:
    resources = deployed["resources"]
    return str(resources[logical_id_like(resources, resource_type, contains)]["PhysicalResourceId"])


def _role_statements(cdk_cli: CdkCli, role_name: str) -> list[dict[str, Any]]:
    iam = cdk_cli.server.client("iam")
    statements: list[dict[str, Any]] = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        statements += iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]["Statement"]
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.integration
def test_budget_table_is_on_demand_encrypted_with_the_gateway_key_and_recoverable(
    deployed_gateway: dict[str, Any], cdk_cli: CdkCli
) -> None:
    dynamodb = cdk_cli.server.client("dynamodb")
    name = _physical(deployed_gateway, "AWS::DynamoDB::Table", "BudgetTable")
    table = dynamodb.describe_table(TableName=name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    # moto's CloudFormation drops SSESpecification when it creates a table: asserted on the template.
    assert "SSEDescription" not in table, "moto now models table encryption: read it back"
    [template] = [
        r for r in deployed_gateway["template"]["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"
    ]
    key_id = logical_id_like(deployed_gateway["resources"], "AWS::KMS::Key", "GatewayKey")
    assert template["Properties"]["SSESpecification"] == {
        "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
        "SSEEnabled": True,
        "SSEType": "KMS",
    }
    assert template["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    backups = dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "DISABLED", (
        "moto now models point-in-time recovery from CloudFormation: assert ENABLED here"
    )


@pytest.mark.integration
def test_function_runs_the_streaming_runtime_on_arm64_with_an_encrypted_environment(
    deployed_gateway: dict[str, Any], cdk_cli: CdkCli
) -> None:
    name = _physical(deployed_gateway, "AWS::Lambda::Function", "GatewayFunction")
    config = cdk_cli.server.client("lambda").get_function_configuration(FunctionName=name)
    assert config["Runtime"] == "python3.12"
    # moto's CloudFormation drops Architectures (its functions are x86_64): asserted on the template.
    assert config["Architectures"] == ["x86_64"], "moto now models Architectures: read it back"
    [function] = [
        r
        for lid, r in deployed_gateway["template"]["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function" and lid.startswith("GatewayFunction")
    ]
    assert function["Properties"]["Architectures"] == ["arm64"]
    variables = config["Environment"]["Variables"]
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/gateway/runtime/launch"
    tenants = json.loads(variables["GATEWAY_CONFIG"])
    assert tenants, "the routes and tenants reach the function"
    assert "KMSKeyArn" not in config, "moto now models KmsKeyArn: read it back"
    key_id = logical_id_like(deployed_gateway["resources"], "AWS::KMS::Key", "GatewayKey")
    assert function["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}


@pytest.mark.integration
def test_function_may_invoke_only_the_tenant_profiles_and_their_sources(
    deployed_gateway: dict[str, Any], cdk_cli: CdkCli
) -> None:
    role = _physical(deployed_gateway, "AWS::IAM::Role", "GatewayRole")
    bedrock = [
        s
        for s in _role_statements(cdk_cli, role)
        if any(a.startswith("bedrock:") for a in _as_list(s["Action"]))
    ]
    assert bedrock, "the gateway role must be allowed to call Bedrock"
    resources = [r for s in bedrock for r in _as_list(s["Resource"])]
    profiles = [r for r in resources if ":application-inference-profile/" in r]
    assert len(profiles) == 6, "one profile per tenant (2) and Bedrock model (3)"
    assert "*" not in resources
    for statement in bedrock:
        named = _as_list(statement["Resource"])
        if any(":foundation-model/" in r for r in named):
            assert "bedrock:InferenceProfileArn" in json.dumps(statement.get("Condition", {})), statement


@pytest.mark.integration
def test_function_url_is_iam_authenticated_and_streams_as_deployed(deployed_gateway: dict[str, Any]) -> None:
    """moto's CloudFormation skips AWS::Lambda::Url: asserted on the template the CLI deployed."""
    assert "AWS::Lambda::Url" not in moto_modeled_types(), "moto now models function URLs: read it back"
    [url] = [r for r in deployed_gateway["template"]["Resources"].values() if r["Type"] == "AWS::Lambda::Url"]
    assert {k: url["Properties"][k] for k in ("AuthType", "InvokeMode")} == {
        "AuthType": "AWS_IAM",
        "InvokeMode": "RESPONSE_STREAM",
    }


@pytest.mark.integration
def test_each_tenant_role_may_call_the_function_through_its_url_only(
    deployed_gateway: dict[str, Any], cdk_cli: CdkCli
) -> None:
    """Function URLs with IAM auth need both actions; InvokeFunction only when it comes through the URL."""
    function = _physical(deployed_gateway, "AWS::Lambda::Function", "GatewayFunction")
    for tenant in ("Acme", "Globex"):
        role = _physical(deployed_gateway, "AWS::IAM::Role", f"{tenant}ServiceRole")
        granted = {
            action: statement.get("Condition")
            for statement in _role_statements(cdk_cli, role)
            for action in _as_list(statement["Action"])
        }
        assert granted == {
            "lambda:InvokeFunctionUrl": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
            "lambda:InvokeFunction": {"Bool": {"lambda:InvokedViaFunctionUrl": True}},
        }, tenant
        resources = {r for s in _role_statements(cdk_cli, role) for r in _as_list(s["Resource"])}
        assert all(r.endswith(f":function:{function}") for r in resources), resources
