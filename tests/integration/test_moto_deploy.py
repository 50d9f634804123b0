"""Deployability (verification layer 3): the real CDK CLI bootstraps and deploys stacks to a moto server.

One moto server per test session; every deploy starts from a reset server (moto is create-only). The
stacks are synthesized once per session into plain cloud assemblies, and the CLI deploys them with
`--app <assembly>` so it never runs Python. The fixture stack's env names a Region and no account: the
CLI takes the account from STS, which moto answers with 123456789012.

moto models only part of CloudFormation and skips the rest while still reporting CREATE_COMPLETE, so
the checks cover what moto creates (`moto_modeled_types()`); its SageMaker gaps are patched in a copy of
the template (`patch_template_for_moto`), never in the product.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from inferwise.stacks import REFERENCE_STACKS
from tests.fixtures.fixture_stack import FixtureStack
from tests.harness.moto_deploy import (
    MOTO_FALLBACK_INSTANCE_TYPE,
    CdkCli,
    expected_moto_resources,
    moto_accepts_instance_type,
    moto_modeled_types,
    patch_template_for_moto,
    patched_assembly_copy,
    stack_resources,
    template_file,
)
from tests.integration.conftest import logical_id_like as _logical_id
from tests.integration.conftest import synth_plain

REFERENCE_STACK_NAMES = [name for name, _ in REFERENCE_STACKS]
FIXTURE_STACK = "Fixture"


@pytest.fixture(scope="session")
def fixture_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture stack, patched for moto's gaps (its KMS key now carries the inferwise tags, which moto's
    KMS cannot take from CloudFormation) in a copy, as the reference stacks are."""
    synthesized = synth_plain(
        tmp_path_factory.mktemp("fixture-plain-cdk-out"), lambda app: FixtureStack(app, FIXTURE_STACK)
    )
    patched, _ = patched_assembly_copy(
        synthesized, tmp_path_factory.mktemp("fixture-moto") / "cdk.out", FIXTURE_STACK
    )
    return patched


@pytest.fixture
def deployed_fixture(cdk_cli: CdkCli, fixture_cloud_assembly: Path) -> dict[str, dict[str, Any]]:
    """The fixture stack deployed to moto (once, while no other deploy intervenes): resources by logical id."""
    cdk_cli.ensure_deployed(fixture_cloud_assembly, FIXTURE_STACK)
    return stack_resources(cdk_cli.server.client("cloudformation"), FIXTURE_STACK)


def _physical_ids(resources: dict[str, dict[str, Any]], resource_type: str) -> dict[str, str]:
    return {
        logical_id: summary["PhysicalResourceId"]
        for logical_id, summary in resources.items()
        if summary["ResourceType"] == resource_type
    }


# ---------------------------------------------------------------------------------------------------
# The fixture stack: proves the deploy harness before the constructs exist


@pytest.mark.integration
def test_fixture_stack_is_create_complete_with_every_modeled_resource(
    deployed_fixture: dict[str, dict[str, Any]], cdk_cli: CdkCli, fixture_cloud_assembly: Path
) -> None:
    cloudformation = cdk_cli.server.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=FIXTURE_STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    template = json.loads(template_file(fixture_cloud_assembly, FIXTURE_STACK).read_text())
    expected = expected_moto_resources(template, moto_modeled_types())
    assert set(expected.values()) >= {
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::IAM::Role",
        "AWS::StepFunctions::StateMachine",
    }
    assert {lid: s["ResourceType"] for lid, s in deployed_fixture.items()} == expected
    assert {s["ResourceStatus"] for s in deployed_fixture.values()} == {"CREATE_COMPLETE"}


@pytest.mark.integration
def test_fixture_buckets_exist_with_their_encryption(
    deployed_fixture: dict[str, dict[str, Any]], cdk_cli: CdkCli
) -> None:
    s3 = cdk_cli.server.client("s3")
    buckets = _physical_ids(deployed_fixture, "AWS::S3::Bucket")
    assert len(buckets) == 2
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(buckets.values()) <= existing

    def default_encryption(bucket: str) -> dict[str, Any]:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert len(rules) == 1
        encryption: dict[str, Any] = rules[0]["ApplyServerSideEncryptionByDefault"]
        return encryption

    key_id = deployed_fixture[_logical_id(deployed_fixture, "AWS::KMS::Key", "Key")]["PhysicalResourceId"]
    data = default_encryption(buckets[_logical_id(deployed_fixture, "AWS::S3::Bucket", "WorkloadBucket")])
    assert data["SSEAlgorithm"] == "aws:kms"
    assert data["KMSMasterKeyID"] == f"arn:aws:kms:us-east-1:123456789012:key/{key_id}"
    logs = default_encryption(buckets[_logical_id(deployed_fixture, "AWS::S3::Bucket", "AccessLogs")])
    assert logs == {"SSEAlgorithm": "AES256"}


@pytest.mark.integration
def test_fixture_kms_key_exists_with_rotation(
    deployed_fixture: dict[str, dict[str, Any]], cdk_cli: CdkCli
) -> None:
    kms = cdk_cli.server.client("kms")
    (key_id,) = _physical_ids(deployed_fixture, "AWS::KMS::Key").values()
    assert key_id in {k["KeyId"] for k in kms.list_keys()["Keys"]}
    # DescribeKey answers HTTP 500 for keys moto's CloudFormation created (it stores KeyPolicy as a dict);
    # GetKeyRotationStatus reads the same key and shows EnableKeyRotation reached it.
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True


@pytest.mark.integration
def test_fixture_state_machine_exists_with_its_role(
    deployed_fixture: dict[str, dict[str, Any]], cdk_cli: CdkCli
) -> None:
    sfn, iam = cdk_cli.server.client("stepfunctions"), cdk_cli.server.client("iam")
    (machine_arn,) = _physical_ids(deployed_fixture, "AWS::StepFunctions::StateMachine").values()
    machine = sfn.describe_state_machine(stateMachineArn=machine_arn)
    role_name = deployed_fixture[_logical_id(deployed_fixture, "AWS::IAM::Role", "StateMachineRole")][
        "PhysicalResourceId"
    ]
    assert machine["roleArn"] == iam.get_role(RoleName=role_name)["Role"]["Arn"]

    bucket = deployed_fixture[_logical_id(deployed_fixture, "AWS::S3::Bucket", "WorkloadBucket")][
        "PhysicalResourceId"
    ]
    definition = json.loads(machine["definition"])
    assert definition["StartAt"] == "Start"
    assert definition["States"]["ListInputs"]["Parameters"] == {"Bucket": bucket}, (
        "the deploy resolved the token"
    )

    (policy_name,) = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    statements = iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"][
        "Statement"
    ]
    assert {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": f"arn:aws:s3:::{bucket}"} in statements


# ---------------------------------------------------------------------------------------------------
# Every reference stack


@pytest.mark.integration
@pytest.mark.parametrize("stack_name", REFERENCE_STACK_NAMES)
def test_reference_stack_deploys_to_moto(
    cdk_cli: CdkCli,
    reference_cloud_assembly: Path,
    tmp_path_factory: pytest.TempPathFactory,
    stack_name: str,
) -> None:
    original = template_file(reference_cloud_assembly, stack_name).read_text()
    assembly, patches = patched_assembly_copy(
        reference_cloud_assembly, tmp_path_factory.mktemp(f"moto-{stack_name}") / "cdk.out", stack_name
    )
    print(f"{stack_name}: moto patches: {[f'{p.logical_id}: {p.change}' for p in patches]}")
    cdk_cli.ensure_deployed(assembly, stack_name)
    assert template_file(reference_cloud_assembly, stack_name).read_text() == original, "patched a copy only"

    cloudformation = cdk_cli.server.client("cloudformation")
    assert (
        cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    )
    expected = expected_moto_resources(
        json.loads(template_file(assembly, stack_name).read_text()), moto_modeled_types()
    )
    found = stack_resources(cloudformation, stack_name)
    missing = {lid: kind for lid, kind in expected.items() if found.get(lid, {}).get("ResourceType") != kind}
    assert missing == {}, f"moto models these types but the deployed stack lacks them: {missing}"
    print(
        f"{stack_name}: {len(expected)} resources of {len(set(expected.values()))} types moto models, all created"
    )
    assert set(expected.values()) <= {s["ResourceType"] for s in found.values()}
    assert {found[lid]["ResourceStatus"] for lid in expected} <= {"CREATE_COMPLETE"}


# ---------------------------------------------------------------------------------------------------
# The moto patches, on a synthetic template (no server needed)


def _sagemaker_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ExecutionRoleArn": {"Fn::GetAtt": ["Role", "Arn"]},
                    "ProductionVariants": [
                        {
                            "VariantName": "Components",
                            "InstanceType": "ml.g5.xlarge",
                            "InitialInstanceCount": 1,
                        },
                        {"VariantName": "Cpu", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1},
                    ],
                },
            },
            "Classic": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "DependsOn": "Role",
                "Properties": {
                    "ProductionVariants": [
                        {"VariantName": "Gpu", "ModelName": "existing", "InstanceType": "ml.g6.2xlarge"},
                    ],
                },
            },
            "Endpoint": {
                "Type": "AWS::SageMaker::Endpoint",
                "Properties": {"EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}},
            },
        }
    }


def test_moto_patch_gives_bare_variants_a_placeholder_model_and_known_instance_types() -> None:
    template = _sagemaker_template()
    pristine = copy.deepcopy(template)

    patched, patches = patch_template_for_moto(template)

    assert template == pristine, "the input template is not modified"
    resources = patched["Resources"]
    model_id = "ConfigMotoPlaceholderModel"
    assert resources[model_id]["Type"] == "AWS::SageMaker::Model"
    assert resources[model_id]["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert resources[model_id]["Properties"]["PrimaryContainer"]["Image"]
    components, cpu = resources["Config"]["Properties"]["ProductionVariants"]
    assert components["ModelName"] == cpu["ModelName"] == {"Fn::GetAtt": [model_id, "ModelName"]}
    assert resources["Config"]["DependsOn"] == [model_id]
    assert components["InstanceType"] == MOTO_FALLBACK_INSTANCE_TYPE
    assert cpu["InstanceType"] == "ml.m5.large", "a type moto knows is kept"
    (gpu,) = resources["Classic"]["Properties"]["ProductionVariants"]
    assert gpu == {"VariantName": "Gpu", "ModelName": "existing", "InstanceType": MOTO_FALLBACK_INSTANCE_TYPE}
    assert resources["Classic"]["DependsOn"] == "Role", (
        "a config whose variants have models gets no placeholder"
    )
    assert sorted((p.logical_id, p.change) for p in patches) == [
        ("Classic", "variant Gpu: ml.g6.2xlarge -> ml.m5.xlarge"),
        ("Config", "variant Components: ml.g5.xlarge -> ml.m5.xlarge"),
        ("Config", f"variants Components, Cpu: ModelName -> placeholder model {model_id}"),
    ]
    assert patch_template_for_moto(patched) == (patched, []), "patching is idempotent"


def test_moto_patch_uses_a_placeholder_role_and_a_free_logical_id() -> None:
    template = {
        "Resources": {
            "Config": {
                "Type": "AWS::SageMaker::EndpointConfig",
                "Properties": {
                    "ProductionVariants": [{"VariantName": "A", "InstanceType": "ml.inf2.xlarge"}]
                },
            },
            "ConfigMotoPlaceholderModel": {"Type": "AWS::SNS::Topic"},
        }
    }
    patched, _ = patch_template_for_moto(template)
    model = patched["Resources"]["ConfigMotoPlaceholderModel2"]
    assert model["Properties"]["ExecutionRoleArn"].startswith("arn:aws:iam::123456789012:role/")
    assert patched["Resources"]["ConfigMotoPlaceholderModel"] == {"Type": "AWS::SNS::Topic"}


def test_moto_patch_leaves_templates_without_sagemaker_alone() -> None:
    template = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    assert patch_template_for_moto(template) == (template, [])


def test_moto_instance_type_enum_lacks_g5_and_g6_only_where_expected() -> None:
    assert not moto_accepts_instance_type("ml.g5.xlarge")
    assert not moto_accepts_instance_type("ml.g6.xlarge")
    assert moto_accepts_instance_type("ml.m5.xlarge")
    assert moto_accepts_instance_type("ml.g4dn.xlarge")


def test_expected_moto_resources_keeps_modeled_unconditional_resources() -> None:
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Policy": {"Type": "AWS::S3::BucketPolicy"},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm"},
            "Meta": {"Type": "AWS::CDK::Metadata", "Condition": "CDKMetadataAvailable"},
            "Maybe": {"Type": "AWS::SQS::Queue", "Condition": "Enabled"},
        }
    }
    modeled = moto_modeled_types()
    assert "AWS::SageMaker::InferenceComponent" not in modeled
    assert expected_moto_resources(template, modeled) == {"Bucket": "AWS::S3::Bucket"}


def test_moto_patch_gives_kms_key_tags_the_kms_api_shape() -> None:
    template = {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {"Tags": [{"Key": "project", "Value": "chatbot"}]},
            },
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"Tags": [{"Key": "project", "Value": "chatbot"}]},
            },
        }
    }
    patched, patches = patch_template_for_moto(template)
    assert patched["Resources"]["Key"]["Properties"]["Tags"] == [{"TagKey": "project", "TagValue": "chatbot"}]
    assert patched["Resources"]["Topic"] == template["Resources"]["Topic"], "only KMS keys are reshaped"
    assert [(p.logical_id, p.change) for p in patches] == [("Key", "1 tag(s): Key/Value -> TagKey/TagValue")]
    assert patch_template_for_moto(patched)[1] == []


def test_moto_patch_points_profile_references_at_a_placeholder_arn() -> None:
    """moto skips AWS::Bedrock::ApplicationInferenceProfile, so a GetAtt of its ARN would fail the deploy."""
    get_att = {"Fn::GetAtt": ["Profile", "InferenceProfileArn"]}
    template = {
        "Resources": {
            "Profile": {"Type": "AWS::Bedrock::ApplicationInferenceProfile", "Properties": {}},
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Environment": {"Variables": {"INVOKE_MODEL_ID": get_att, "MODEL_ID": "m"}}},
            },
            "Policy": {
                "Type": "AWS::IAM::Policy",
                "Properties": {"PolicyDocument": {"Statement": [{"Resource": [get_att, "arn:other"]}]}},
            },
        }
    }
    patched, patches = patch_template_for_moto(template)
    variables = patched["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    joined = variables["INVOKE_MODEL_ID"]["Fn::Join"][1]
    assert joined[-1] == ":application-inference-profile/motoprofile" and variables["MODEL_ID"] == "m"
    [statement] = patched["Resources"]["Policy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == [variables["INVOKE_MODEL_ID"], "arn:other"]
    assert "Fn::GetAtt" not in json.dumps(patched)
    assert (
        template["Resources"]["Function"]["Properties"]["Environment"]["Variables"]["INVOKE_MODEL_ID"]
        == get_att
    )
    assert [(p.logical_id, p.change) for p in patches] == [
        ("Profile", "2 Fn::GetAtt of the profile -> a placeholder ARN")
    ]
    assert patch_template_for_moto(patched)[1] == []


# ---------------------------------------------------------------------------------------------------
# SpotFleetStack: the properties the fleet depends on, read back from moto's EC2, Auto Scaling and IAM
# APIs after the CLI deployed it. moto 5.2.5's CloudFormation does not model two of them: the group's
# CapacityRebalance (dropped when it creates the group) and AWS::AutoScaling::LifecycleHook (skipped);
# those are asserted on the template the CLI deployed, and a check fails once moto starts modelling them.

SPOT_FLEET_STACK = "SpotFleetStack"


@pytest.fixture(scope="session")
def spot_fleet_assembly(reference_cloud_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A moto copy of the reference assembly (no patch applies to the fleet's resources)."""
    assembly, patches = patched_assembly_copy(
        reference_cloud_assembly, tmp_path_factory.mktemp("moto-fleet") / "cdk.out", SPOT_FLEET_STACK
    )
    fleet_patches = [p for p in patches if "Chat" in p.logical_id]
    assert fleet_patches == [], f"the fleet deploys unpatched: {fleet_patches}"
    return assembly


@pytest.fixture
def deployed_fleet(cdk_cli: CdkCli, spot_fleet_assembly: Path) -> dict[str, Any]:
    """The deployed fleet: its stack resources, the template the CLI deployed, and its group's name."""
    cdk_cli.ensure_deployed(spot_fleet_assembly, SPOT_FLEET_STACK)
    resources = stack_resources(cdk_cli.server.client("cloudformation"), SPOT_FLEET_STACK)
    template = json.loads(template_file(spot_fleet_assembly, SPOT_FLEET_STACK).read_text())
    [group] = [r for r in template["Resources"].values() if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"]
    return {
        "resources": resources,
        "template": template,
        "group": group["Properties"]["AutoScalingGroupName"],
    }


def _template_resource(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [resource] = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    return resource


@pytest.mark.integration
def test_spot_fleet_group_has_its_on_demand_floor_and_spot_strategy(
    deployed_fleet: dict[str, Any], cdk_cli: CdkCli
) -> None:
    autoscaling = cdk_cli.server.client("autoscaling")
    [group] = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[deployed_fleet["group"]])[
        "AutoScalingGroups"
    ]
    assert (group["MinSize"], group["MaxSize"]) == (1, 6)
    policy = group["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"] == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 1,
        "OnDemandPercentageAboveBaseCapacity": 0,
        "SpotAllocationStrategy": "price-capacity-optimized",
    }
    overrides = [o["InstanceType"] for o in policy["LaunchTemplate"]["Overrides"]]
    assert overrides == ["inf2.xlarge", "inf2.8xlarge"]
    template_id = deployed_fleet["resources"][
        _logical_id(deployed_fleet["resources"], "AWS::EC2::LaunchTemplate", "ChatLaunchTemplate")
    ]["PhysicalResourceId"]
    assert policy["LaunchTemplate"]["LaunchTemplateSpecification"]["LaunchTemplateId"] == template_id


@pytest.mark.integration
def test_spot_fleet_capacity_rebalance_as_deployed(deployed_fleet: dict[str, Any], cdk_cli: CdkCli) -> None:
    """moto drops CapacityRebalance when its CloudFormation creates a group: asserted on the template."""
    group = _template_resource(deployed_fleet["template"], "AWS::AutoScaling::AutoScalingGroup")
    assert group["Properties"]["CapacityRebalance"] is True
    [modelled] = cdk_cli.server.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[deployed_fleet["group"]]
    )["AutoScalingGroups"]
    assert modelled.get("CapacityRebalance") is False, "moto now models CapacityRebalance: assert it there"


@pytest.mark.integration
def test_spot_fleet_termination_hook_as_deployed(deployed_fleet: dict[str, Any], cdk_cli: CdkCli) -> None:
    """moto's CloudFormation skips AWS::AutoScaling::LifecycleHook: asserted on the template."""
    assert "AWS::AutoScaling::LifecycleHook" not in moto_modeled_types(), (
        "moto now models hooks: read it back"
    )
    hook = _template_resource(deployed_fleet["template"], "AWS::AutoScaling::LifecycleHook")["Properties"]
    assert hook["AutoScalingGroupName"] == {
        "Ref": _logical_id(deployed_fleet["resources"], "AWS::AutoScaling::AutoScalingGroup", "ChatGroup")
    }
    assert {
        k: hook[k] for k in ("LifecycleHookName", "LifecycleTransition", "HeartbeatTimeout", "DefaultResult")
    } == {
        "LifecycleHookName": "inferwise-drain",
        "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
        "HeartbeatTimeout": 180,
        "DefaultResult": "CONTINUE",
    }
    hooks = cdk_cli.server.client("autoscaling").describe_lifecycle_hooks(
        AutoScalingGroupName=deployed_fleet["group"]
    )["LifecycleHooks"]
    assert hooks == []


@pytest.mark.integration
def test_spot_fleet_launch_template_requires_imdsv2_one_hop_and_encrypts_its_volume(
    deployed_fleet: dict[str, Any], cdk_cli: CdkCli
) -> None:
    ec2_client = cdk_cli.server.client("ec2")
    template_id = deployed_fleet["resources"][
        _logical_id(deployed_fleet["resources"], "AWS::EC2::LaunchTemplate", "ChatLaunchTemplate")
    ]["PhysicalResourceId"]
    [version] = ec2_client.describe_launch_template_versions(LaunchTemplateId=template_id)[
        "LaunchTemplateVersions"
    ]
    data = version["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 1,
        "InstanceMetadataTags": "disabled",
    }
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 128, "VolumeType": "gp3"},
        }
    ]
    assert data["ImageId"] == "resolve:ssm:/aws/service/neuron/dlami/base/amazon-linux-2023/latest/image_id"
    user_data = base64.b64decode(data["UserData"]).decode()
    assert "systemctl enable --now inferwise-drain.service" in user_data
    assert "--hook inferwise-drain --region us-east-1 --drain-seconds 90" in user_data


@pytest.mark.integration
def test_spot_fleet_instance_role_has_no_managed_policy_and_no_session_manager(
    deployed_fleet: dict[str, Any], cdk_cli: CdkCli
) -> None:
    iam = cdk_cli.server.client("iam")
    role_name = deployed_fleet["resources"][
        _logical_id(deployed_fleet["resources"], "AWS::IAM::Role", "ChatInstanceRole")
    ]["PhysicalResourceId"]
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    actions: list[str] = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        for statement in iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"][
            "Statement"
        ]:
            action = statement["Action"]
            actions += [action] if isinstance(action, str) else action
    assert "autoscaling:CompleteLifecycleAction" in actions
    assert not [a for a in actions if a.startswith(("ssm", "ec2messages"))]


def test_moto_patch_replaces_outputs_that_read_a_type_moto_skips() -> None:
    """moto fails a whole deploy on an output's `Fn::GetAtt` of a type it does not model (AWS::Lambda::Url)."""
    template = {
        "Resources": {
            "Url": {"Type": "AWS::Lambda::Url", "Properties": {}},
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        },
        "Outputs": {
            "GatewayUrl": {"Value": {"Fn::GetAtt": ["Url", "FunctionUrl"]}},
            "TableName": {"Value": {"Ref": "Table"}},
            "TableArn": {"Value": {"Fn::GetAtt": ["Table", "Arn"]}},
        },
    }
    patched, patches = patch_template_for_moto(template)
    assert patched["Outputs"]["GatewayUrl"] == {"Value": "moto-placeholder-GatewayUrl"}
    assert patched["Outputs"]["TableArn"] == template["Outputs"]["TableArn"]
    assert patched["Outputs"]["TableName"] == template["Outputs"]["TableName"]
    assert [(p.logical_id, p.change) for p in patches] == [
        ("GatewayUrl", "output of a type moto skips -> a placeholder text")
    ]
