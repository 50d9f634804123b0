"""ScaleToZeroEndpoint: the four pieces of scale to zero, their wiring, the role, the schedule, bad props."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Annotations, Match, Template

from inferwise.constructs.sagemaker_images import sagemaker_image
from inferwise.constructs.scale_to_zero import InferenceModel, OffHours, ScaleToZeroEndpoint, physical_name
from inferwise.cost.estimators.scale_to_zero import EndpointUsage
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS
from inferwise.stacks.scale_to_zero import TGI_IMAGE
from tests.harness.cfn_lint import lint_template
from tests.harness.synth import CONTEXT, synth_verified

STACK = "ScaleToZeroEndpointStack"
COMPONENT = "ScaleToZeroEndpointStack-Chat-qwen"
ENDPOINT = "ScaleToZeroEndpointStack-Chat"
ARTIFACT = "s3://models-bucket/llama/model.tar.gz"


@pytest.fixture(scope="module")
def template(reference_stacks: dict[str, cdk.Stack]) -> Template:
    return Template.from_stack(reference_stacks[STACK])


@pytest.fixture(scope="module")
def resources(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = template.to_json()["Resources"]
    return found


def _one(resources: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [(k, v) for k, v in resources.items() if v["Type"] == resource_type]
    return logical_id, resource


def _model(name: str = "qwen", **overrides: Any) -> InferenceModel:
    props: dict[str, Any] = {"name": name, "image_uri": TGI_IMAGE, "memory_mb": 1024}
    props.update(overrides)
    return InferenceModel(**props)


def _stack(name: str = "Extra") -> cdk.Stack:
    return cdk.Stack(cdk.App(context=CONTEXT), name, env=cdk.Environment(region="us-east-1"))


@pytest.fixture(scope="module")
def two_model_stack() -> cdk.Stack:
    """What the reference stack does not exercise: two models sharing instances, a model archive in S3,
    grant_invoke, and no off-hours schedule."""
    stack = _stack("TwoModels")
    endpoint = ScaleToZeroEndpoint(
        stack,
        "Shared",
        instance_type="ml.g5.12xlarge",
        models=[_model("llama", model_data_url=ARTIFACT, accelerators=2, max_copies=2), _model("embed")],
        max_instances=2,
    )
    client = iam.Role(stack, "Client", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(client)
    return stack


# ---------------------------------------------------------------------------------- piece 1: the variant
def test_variant_scales_instances_down_to_zero(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like(
                    {
                        "InstanceType": "ml.g5.xlarge",
                        "InitialInstanceCount": 1,
                        "ManagedInstanceScaling": {
                            "Status": "ENABLED",
                            "MinInstanceCount": 0,
                            "MaxInstanceCount": 2,
                        },
                    }
                )
            ]
        },
    )


def test_variant_names_no_model_because_the_components_carry_the_containers(
    resources: dict[str, Any],
) -> None:
    _, config = _one(resources, "AWS::SageMaker::EndpointConfig")
    [variant] = config["Properties"]["ProductionVariants"]
    assert "ModelName" not in variant
    assert not [r for r in resources.values() if r["Type"] == "AWS::SageMaker::Model"]


def test_execution_role_is_on_the_endpoint_config(resources: dict[str, Any]) -> None:
    role_id, role = _one(resources, "AWS::IAM::Role")
    _, config = _one(resources, "AWS::SageMaker::EndpointConfig")
    assert config["Properties"]["ExecutionRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}


def test_requests_are_routed_to_the_least_busy_copy(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SageMaker::EndpointConfig",
        {
            "ProductionVariants": [
                Match.object_like({"RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}})
            ]
        },
    )


def test_endpoint_has_the_stable_name_the_construct_exposes(
    reference_stacks: dict[str, cdk.Stack], template: Template
) -> None:
    endpoint = reference_stacks[STACK].endpoint  # type: ignore[attr-defined]
    assert endpoint.endpoint_name == ENDPOINT
    assert endpoint.inference_component_names == [COMPONENT]
    template.has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": ENDPOINT})


# ---------------------------------------------------------------------------- the inference component
def test_component_carries_its_own_container_and_compute_reservation(resources: dict[str, Any]) -> None:
    endpoint_id, _ = _one(resources, "AWS::SageMaker::Endpoint")
    _, component = _one(resources, "AWS::SageMaker::InferenceComponent")
    props = component["Properties"]
    assert props["InferenceComponentName"] == COMPONENT
    assert props["EndpointName"] == {"Fn::GetAtt": [endpoint_id, "EndpointName"]}
    assert props["VariantName"] == "AllTraffic"
    spec = props["Specification"]
    assert "ModelName" not in spec
    assert spec["Container"]["Image"] == TGI_IMAGE
    assert spec["Container"]["Environment"]["HF_MODEL_ID"] == "Qwen/Qwen2.5-1.5B-Instruct"
    assert spec["ComputeResourceRequirements"] == {
        "NumberOfAcceleratorDevicesRequired": 1,
        "MinMemoryRequiredInMb": 1024,
    }
    assert props["RuntimeConfig"] == {"CopyCount": 1}


def test_component_and_endpoint_wait_for_the_execution_role_policy(resources: dict[str, Any]) -> None:
    policy_id, _ = _one(resources, "AWS::IAM::Policy")
    for resource_type in ("AWS::SageMaker::Endpoint", "AWS::SageMaker::InferenceComponent"):
        _, resource = _one(resources, resource_type)
        assert policy_id in resource["DependsOn"]


# ------------------------------------------------------------------ piece 2: the scalable target, min 0
def test_scalable_target_is_the_component_copy_count_with_minimum_zero(resources: dict[str, Any]) -> None:
    component_id, _ = _one(resources, "AWS::SageMaker::InferenceComponent")
    _, target = _one(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    props = target["Properties"]
    assert props["ServiceNamespace"] == "sagemaker"
    assert props["ResourceId"] == f"inference-component/{COMPONENT}"
    assert props["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (props["MinCapacity"], props["MaxCapacity"]) == (0, 2)
    assert "RoleARN" not in props  # the service-linked role
    assert target["DependsOn"] == [component_id]


# ------------------------------------------------------------------- piece 3: target tracking scales in
def test_target_tracking_scales_copies_on_invocations_per_copy(resources: dict[str, Any]) -> None:
    target_id, _ = _one(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    [policy] = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::ApplicationAutoScaling::ScalingPolicy"
        and r["Properties"]["PolicyType"] == "TargetTrackingScaling"
    ]
    assert policy["ScalingTargetId"] == {"Ref": target_id}
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert config["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"
    }
    assert config["TargetValue"] == 10
    assert "DisableScaleIn" not in config


# ---------------------------------------------------- piece 4: one failed request wakes the component
def test_wake_alarm_watches_no_capacity_failures_of_the_component(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SageMaker",
            "MetricName": "NoCapacityInvocationFailures",
            "Dimensions": [{"Name": "InferenceComponentName", "Value": COMPONENT}],
            "Statistic": "Sum",
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        },
    )


def test_alarm_drives_step_policy_which_adds_a_copy_to_the_components_target(
    resources: dict[str, Any],
) -> None:
    _, alarm = _one(resources, "AWS::CloudWatch::Alarm")
    [action] = alarm["Properties"]["AlarmActions"]
    policy_id, attribute = action["Fn::GetAtt"]
    assert attribute == "Arn"
    policy = resources[policy_id]["Properties"]
    assert policy["PolicyType"] == "StepScaling"
    assert policy["StepScalingPolicyConfiguration"] == {
        "AdjustmentType": "ChangeInCapacity",
        "MetricAggregationType": "Maximum",
        "Cooldown": 60,
        "StepAdjustments": [{"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}],
    }
    target = resources[policy["ScalingTargetId"]["Ref"]]["Properties"]
    component_name = target["ResourceId"].removeprefix("inference-component/")
    [dimension] = alarm["Properties"]["Dimensions"]
    assert dimension["Value"] == component_name
    _, component = _one(resources, "AWS::SageMaker::InferenceComponent")
    assert component["Properties"]["InferenceComponentName"] == component_name


# ---------------------------------------------------------------------------- off-hours schedule
def test_off_hours_force_zero_copies_and_resume_restores_the_limits(resources: dict[str, Any]) -> None:
    _, target = _one(resources, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert target["Properties"]["ScheduledActions"] == [
        {
            "ScheduledActionName": f"{COMPONENT}-off-hours",
            "Schedule": "cron(0 20 ? * MON-FRI *)",
            "Timezone": "Europe/Berlin",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 0},
        },
        {
            "ScheduledActionName": f"{COMPONENT}-resume",
            "Schedule": "cron(0 7 ? * MON-FRI *)",
            "Timezone": "Europe/Berlin",
            "ScalableTargetAction": {"MinCapacity": 0, "MaxCapacity": 2},
        },
    ]


def test_no_schedule_without_off_hours(two_model_stack: cdk.Stack) -> None:
    targets = Template.from_stack(two_model_stack).find_resources(
        "AWS::ApplicationAutoScaling::ScalableTarget"
    )
    assert targets and all("ScheduledActions" not in t["Properties"] for t in targets.values())


# ------------------------------------------------------------------------------- least privilege
def _statements(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    _, policy = _one(resources, "AWS::IAM::Policy")
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_role_pulls_only_the_images_repository(resources: dict[str, Any]) -> None:
    statements = _statements(resources)
    pull = statements["PullInferenceImages"]
    assert sorted(pull["Action"]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    assert pull["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference",
            ],
        ]
    }
    assert statements["EcrLogin"] == {
        "Sid": "EcrLogin",
        "Action": "ecr:GetAuthorizationToken",
        "Effect": "Allow",
        "Resource": "*",
    }


def test_role_writes_only_its_own_log_groups_and_sagemaker_metrics(resources: dict[str, Any]) -> None:
    statements = _statements(resources)
    log_resources = [part["Fn::Join"][1][-1] for part in statements["WriteLogs"]["Resource"]]
    assert log_resources == [
        f":log-group:/aws/sagemaker/Endpoints/{ENDPOINT}",
        f":log-group:/aws/sagemaker/InferenceComponents/{COMPONENT}",
        f":log-group:/aws/sagemaker/Endpoints/{ENDPOINT}:log-stream:*",
        f":log-group:/aws/sagemaker/InferenceComponents/{COMPONENT}:log-stream:*",
    ]
    assert statements["PutSageMakerMetrics"]["Condition"] == {
        "StringEquals": {
            "cloudwatch:namespace": ["/aws/sagemaker/Endpoints", "/aws/sagemaker/InferenceComponents"]
        }
    }
    assert "ReadModelArtifacts" not in statements  # the reference model comes from the Hub, not S3


def test_role_reads_exactly_the_model_archive_it_is_given(two_model_stack: cdk.Stack) -> None:
    template = Template.from_stack(two_model_stack)
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        {
                            "Sid": "ReadModelArtifacts",
                            "Action": "s3:GetObject",
                            "Effect": "Allow",
                            "Resource": {
                                "Fn::Join": [
                                    "",
                                    [
                                        "arn:",
                                        {"Ref": "AWS::Partition"},
                                        ":s3:::models-bucket/llama/model.tar.gz",
                                    ],
                                ]
                            },
                        }
                    ]
                )
            }
        },
    )
    template.has_resource_properties(
        "AWS::SageMaker::InferenceComponent",
        {
            "InferenceComponentName": "TwoModels-Shared-llama",
            "Specification": Match.object_like({"Container": Match.object_like({"ArtifactUrl": ARTIFACT})}),
        },
    )


def test_grant_invoke_allows_invoking_this_endpoint_only(two_model_stack: cdk.Stack) -> None:
    template = Template.from_stack(two_model_stack)
    [endpoint_id] = template.find_resources("AWS::SageMaker::Endpoint")
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": [{"Ref": Match.string_like_regexp("^Client")}],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
                        "Effect": "Allow",
                        "Resource": {"Fn::GetAtt": [endpoint_id, "EndpointArn"]},
                    }
                ]
            },
        },
    )


def test_models_share_the_endpoint_one_component_each(two_model_stack: cdk.Stack) -> None:
    template = Template.from_stack(two_model_stack)
    components = template.find_resources("AWS::SageMaker::InferenceComponent")
    names = sorted(c["Properties"]["InferenceComponentName"] for c in components.values())
    assert names == ["TwoModels-Shared-embed", "TwoModels-Shared-llama"]
    assert len({str(c["Properties"]["EndpointName"]) for c in components.values()}) == 1
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.resource_count_is("AWS::CloudWatch::Alarm", 2)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalingPolicy", 4)


def test_two_model_stack_is_cfn_lint_clean(two_model_stack: cdk.Stack) -> None:
    assert lint_template(dict(Template.from_stack(two_model_stack).to_json())) == []


def test_an_image_given_as_a_token_is_pulled_from_this_accounts_repositories_nag_clean(
    tmp_path: Path,
) -> None:
    def build(app: cdk.App) -> list[cdk.Stack]:
        stack = cdk.Stack(app, "Tokens", env=cdk.Environment(region="us-east-1"))
        repository = ecr.Repository.from_repository_name(stack, "Repo", "team/models")
        ScaleToZeroEndpoint(
            stack,
            "Chat",
            instance_type="ml.inf2.xlarge",
            models=[_model("m", image_uri=repository.repository_uri_for_tag("v1"), accelerators=2)],
        )
        return [stack]

    assembly = synth_verified(build, tmp_path)
    assert assembly.unacknowledged_findings() == []
    statements = [
        s
        for r in assembly.template("Tokens")["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    [pull] = [s for s in statements if s["Sid"] == "PullInferenceImages"]
    assert pull["Resource"]["Fn::Join"][1][-3:] == [
        ":ecr:us-east-1:",
        {"Ref": "AWS::AccountId"},
        ":repository/*",
    ]


def test_warns_when_max_copies_cannot_fit_on_max_instances() -> None:
    endpoint = _build(models=[_model(max_copies=3)], max_instances=2)
    Annotations.from_stack(cdk.Stack.of(endpoint)).has_warning(
        "*", Match.string_like_regexp("max_copies x accelerators of all models need 3 NVIDIA A10G")
    )


# ------------------------------------------------------------------------------------------- names
def test_names_fit_sagemakers_limit_and_stay_stable() -> None:
    long_stack = "A" * 50
    first = physical_name([long_stack, "Very_Long.Construct"], "m" * 40)
    assert len(first) == 63
    assert first == physical_name([long_stack, "Very_Long.Construct"], "m" * 40)
    assert first.endswith("-" + "m" * 40)
    assert first != physical_name([long_stack, "Other"], "m" * 40)
    assert physical_name(["My_Stack", "Chat"], "qwen") == "My-Stack-Chat-qwen"


# ------------------------------------------------------------------------------------------ bad props
def _build(**overrides: Any) -> ScaleToZeroEndpoint:
    props: dict[str, Any] = {"instance_type": "ml.g5.xlarge", "models": [_model()]}
    props.update(overrides)
    return ScaleToZeroEndpoint(_stack(), "Chat", **props)


ACCEPTED = ", ".join(INSTANCE_SPECS)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"instance_type": "ml.g5.4xlarge"},
            "instance_type 'ml.g5.4xlarge' is not in inferwise's instance table (sizes and prices); "
            f"accepted: {ACCEPTED}",
        ),
        (
            {"instance_type": "ml.m5.xlarge"},
            "instance_type must be an accelerated SageMaker instance type that supports inference components "
            f"(families ml.g5, ml.g6, ml.g6e, ml.inf2, ml.p4d, ml.p5), got 'ml.m5.xlarge'; accepted: {ACCEPTED}",
        ),
        ({"models": []}, "models must hold at least one InferenceModel, got none"),
        ({"max_instances": 0}, "max_instances must be a whole number >= 1, got 0"),
        (
            {"models": [_model("qwen"), _model("Qwen")]},
            "models has two models named 'qwen' and 'Qwen'; InferenceModel.name must be unique "
            "(case-insensitively) within an endpoint",
        ),
        (
            {"models": [_model(accelerators=2)]},
            "InferenceModel 'qwen': accelerators=2 is more than ml.g5.xlarge has (1 x NVIDIA A10G); "
            "use at most 1 or a larger instance type",
        ),
        (
            {"models": [_model(memory_mb=32768)]},
            "InferenceModel 'qwen': memory_mb=32768 is more than ml.g5.xlarge has (16384 MiB); ask for less "
            "(SageMaker reserves part of it) or use a larger instance type",
        ),
        (
            {"usage": EndpointUsage(instances_while_active=2)},
            "usage.instances_while_active must be <= max_instances (1), got 2",
        ),
    ],
    ids=[
        "unpriced-size",
        "no-inference-components",
        "no-models",
        "max-instances",
        "duplicate-names",
        "too-many-accelerators",
        "too-much-memory",
        "more-instances-than-max",
    ],
)
def test_bad_construct_props_are_refused_with_a_clear_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        _build(**overrides)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: _model("q" * 41),
            "InferenceModel.name must be at most 40 characters (the inference component name adds a "
            "stack/construct prefix within SageMaker's 63-character limit), got '"
            + "q" * 41
            + "' (41 characters)",
        ),
        (
            lambda: _model("qwen_2"),
            "InferenceModel.name must be letters, digits and hyphens, starting and ending with a letter or digit, "
            "got 'qwen_2'",
        ),
        (
            lambda: _model(accelerators=0),
            "InferenceModel 'qwen': accelerators must be a whole number >= 1, got 0",
        ),
        (
            lambda: _model(memory_mb=64),
            "InferenceModel 'qwen': memory_mb must be a whole number >= 128, got 64",
        ),
        (
            lambda: _model(max_copies=0),
            "InferenceModel 'qwen': max_copies must be a whole number >= 1, got 0",
        ),
        (
            lambda: _model(image_uri="docker.io/library/nginx:latest"),
            "InferenceModel 'qwen': image_uri must be an ECR image URI "
            "'<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>' (or '@sha256:<digest>'), "
            "got 'docker.io/library/nginx:latest'",
        ),
        (
            lambda: _model(model_data_url="s3://models-bucket/llama/"),
            "InferenceModel 'qwen': model_data_url must be an S3 object URL 's3://<bucket>/<key>' "
            "(e.g. a model.tar.gz) or None, got 's3://models-bucket/llama/'",
        ),
        (
            lambda: OffHours(cron="0 20 * * MON-FRI *", resume_cron="0 7 ? * MON-FRI *"),
            "OffHours.cron must set exactly one of day-of-month and day-of-week to '?', got '0 20 * * MON-FRI *'; "
            "e.g. '0 20 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)",
        ),
        (
            lambda: OffHours(cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI"),
            "OffHours.resume_cron must be an AWS cron expression with 6 fields, got '0 7 ? * MON-FRI' (5 fields); "
            "e.g. '0 20 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)",
        ),
        (
            lambda: OffHours(cron="0 24 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *"),
            "OffHours.cron has an invalid hours field '24' in '0 24 ? * MON-FRI *'; allowed: 0-23 , - * /; "
            "e.g. '0 20 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)",
        ),
        (
            lambda: OffHours(cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *", time_zone="CEST"),
            "OffHours.time_zone must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got 'CEST'",
        ),
        (
            lambda: EndpointUsage(active_hours_per_day=25),
            "EndpointUsage.active_hours_per_day must be between 0 and 24, got 25",
        ),
        (
            lambda: EndpointUsage(active_hours_per_day=-1),
            "EndpointUsage.active_hours_per_day must be between 0 and 24, got -1",
        ),
        (
            lambda: EndpointUsage(days_per_month=32),
            "EndpointUsage.days_per_month must be between 0 and 31, got 32",
        ),
        (
            lambda: EndpointUsage(cold_start_minutes=-5),
            "EndpointUsage.cold_start_minutes must be >= 0, got -5",
        ),
        (
            lambda: EndpointUsage(scale_in_tail_minutes=-1),
            "EndpointUsage.scale_in_tail_minutes must be >= 0, got -1",
        ),
        (
            lambda: EndpointUsage(cold_starts_per_day=-2),
            "EndpointUsage.cold_starts_per_day must be >= 0, got -2",
        ),
        (
            lambda: EndpointUsage(instances_while_active=0),
            "EndpointUsage.instances_while_active must be >= 1, got 0",
        ),
    ],
    ids=[
        "long-name",
        "bad-name",
        "accelerators",
        "memory",
        "max-copies",
        "not-ecr",
        "s3-prefix",
        "cron-two-days",
        "cron-five-fields",
        "cron-hour",
        "time-zone",
        "hours-over-24",
        "hours-negative",
        "days-over-31",
        "negative-cold-start",
        "negative-tail",
        "negative-wakes",
        "no-instances",
    ],
)
def test_bad_option_values_are_refused_with_a_clear_message(build: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        build()
    assert str(raised.value) == message


def test_off_hours_accepts_the_cron_wrapper_and_keeps_the_six_fields() -> None:
    off = OffHours(
        cron="cron(0 20 ? * MON-FRI *)", resume_cron="0 7 ? * MON-FRI *", time_zone="Europe/Berlin"
    )
    assert (off.cron, off.off_expression, off.resume_expression) == (
        "0 20 ? * MON-FRI *",
        "cron(0 20 ? * MON-FRI *)",
        "cron(0 7 ? * MON-FRI *)",
    )


# --------------------------------------------------------------------------------------- image helper
def test_image_helper_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sagemaker", None)
    monkeypatch.setitem(sys.modules, "sagemaker.core", None)
    with pytest.raises(ImportError) as raised:
        sagemaker_image("huggingface-llm", "3.3.6", "us-east-1", "ml.g5.xlarge")
    assert 'pip install "inferwise[sagemaker]"' in str(raised.value)
    assert "image_uri=" in str(raised.value)


# A small stand-in for `sagemaker.core.image_uris` with the four functions the helper uses; the real
# SDK is exercised in tests/packaging/test_sagemaker_sdk.py.
_FAKE_TABLES: dict[str, dict[str, Any]] = {
    "huggingface-llm": {
        "inference": {
            "version_aliases": {"3.3": "3.3.6"},
            "versions": {"3.3.6": {"registries": {"us-east-1": "763104351884", "eu-west-1": "763104351884"}}},
        }
    },
    "huggingface-vllm-neuronx": {
        "inference": {"versions": {"0.4.4": {"registries": {"us-east-1": "763104351884"}}}},
    },
    "pytorch-smp": {"training": {"versions": {"2.0": {"registries": {"us-east-1": "658645717510"}}}}},
}


def _fake_sdk(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, dict[str, Any]]]) -> None:
    def list_frameworks() -> list[str]:
        return sorted(_FAKE_TABLES)

    def list_versions(framework: str, image_scope: str | None = None) -> list[str]:
        if framework not in _FAKE_TABLES:
            raise ValueError(f"Unsupported framework: {framework}.")
        if image_scope not in _FAKE_TABLES[framework]:
            raise ValueError(f"Unsupported image scope: {image_scope} for framework: {framework}.")
        scope = _FAKE_TABLES[framework][image_scope]
        return sorted([*scope["versions"], *scope.get("version_aliases", {})])

    def config_for_framework(framework: str) -> dict[str, Any]:
        return _FAKE_TABLES[framework]

    def retrieve(framework: str, **kwargs: Any) -> str:
        calls.append((framework, kwargs))
        if (
            kwargs["region"]
            not in _FAKE_TABLES[framework]["inference"]["versions"][kwargs["version"]]["registries"]
        ):
            raise ValueError(f"Unsupported region: {kwargs['region']}.")
        return "763104351884.dkr.ecr.us-east-1.amazonaws.com/fake:1"

    core = types.ModuleType("sagemaker.core")
    core.image_uris = types.SimpleNamespace(  # type: ignore[attr-defined]
        retrieve=retrieve,
        list_frameworks=list_frameworks,
        list_versions=list_versions,
        config_for_framework=config_for_framework,
    )
    package = types.ModuleType("sagemaker")
    package.core = core  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sagemaker", package)
    monkeypatch.setitem(sys.modules, "sagemaker.core", core)


def test_image_helper_passes_framework_version_region_scope_and_instance_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    _fake_sdk(monkeypatch, calls)
    uri = sagemaker_image("huggingface-llm", "3.3.6", "us-east-1", "ml.g5.xlarge")
    assert uri == "763104351884.dkr.ecr.us-east-1.amazonaws.com/fake:1"
    assert calls == [
        (
            "huggingface-llm",
            {
                "region": "us-east-1",
                "version": "3.3.6",
                "image_scope": "inference",
                "instance_type": "ml.g5.xlarge",
            },
        )
    ]


def test_image_helper_drops_instance_type_where_the_sdk_breaks_on_it(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    _fake_sdk(monkeypatch, calls)
    sagemaker_image("huggingface-vllm-neuronx", "0.4.4", "us-east-1", "ml.inf2.xlarge")
    assert calls == [
        ("huggingface-vllm-neuronx", {"region": "us-east-1", "version": "0.4.4", "image_scope": "inference"})
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("huggingface-lm", "3.3.6", "us-east-1"),
            "unknown image family 'huggingface-lm' (did you mean 'huggingface-llm'?); the installed SageMaker "
            "SDK has serving images for: huggingface-llm, huggingface-vllm-neuronx",
        ),
        (
            ("pytorch-smp", "2.0", "us-east-1"),
            "image family 'pytorch-smp' has no serving (inference) images in the installed SageMaker SDK; "
            "families with serving images: huggingface-llm, huggingface-vllm-neuronx",
        ),
        (
            ("huggingface-llm", "9.9", "us-east-1"),
            "image family 'huggingface-llm' has no version '9.9' in the installed SageMaker SDK; versions (and "
            "aliases): 3.3, 3.3.6",
        ),
        (
            ("huggingface-vllm-neuronx", "0.4.4", "eu-west-1"),
            "image family 'huggingface-vllm-neuronx' 0.4.4 has no image in eu-west-1 in the installed SageMaker "
            "SDK; Regions with it: us-east-1",
        ),
    ],
    ids=["unknown-family", "training-only-family", "unknown-version", "missing-region"],
)
def test_image_helper_names_what_the_sdk_tables_have(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, str, str], message: str
) -> None:
    _fake_sdk(monkeypatch, [])
    monkeypatch.setattr(
        "inferwise.constructs.sagemaker_images._sdk_version", lambda: "the installed SageMaker SDK"
    )
    with pytest.raises(ValueError) as raised:
        sagemaker_image(*args)
    assert str(raised.value) == message


def test_image_helper_needs_a_concrete_region() -> None:
    with pytest.raises(ValueError, match="region must be a concrete Region name"):
        sagemaker_image("huggingface-llm", "3.3.6", cdk.Aws.REGION)


def test_explicit_image_uri_needs_no_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sagemaker", None)
    monkeypatch.setitem(sys.modules, "sagemaker.core", None)
    endpoint = _build()
    assert endpoint.models[0].image_uri == TGI_IMAGE
