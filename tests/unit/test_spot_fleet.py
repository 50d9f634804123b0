"""SpotInferenceFleet: the launch template, the mixed-instances group, draining, scaling, schedules, bad props."""

from __future__ import annotations

import ast
import base64
import gzip
import hashlib
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Annotations, Match, Template

from inferwise.constructs.schedule import OffHours
from inferwise.constructs.spot_fleet import (
    AL2023_ARM64_PARAMETER,
    NEURON_DLAMI_PARAMETER,
    ContainerServing,
    QueueBacklogScaling,
    SpotInferenceFleet,
    UserDataServing,
    agent_source,
    unix_recurrence,
)
from inferwise.constructs.spot_fleet.user_data import shipped_agent_source
from inferwise.cost.estimators.spot_fleet import FleetUsage
from inferwise.fleet_agent import drain
from inferwise.stacks.spot_fleet import TGI_NEURONX_IMAGE
from tests.harness.cfn_lint import lint_template
from tests.harness.synth import CONTEXT, synth_verified

STACK = "SpotFleetStack"
GROUP_NAME = "SpotFleetStack-Chat"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def template(reference_stacks: dict[str, cdk.Stack]) -> Template:
    return Template.from_stack(reference_stacks[STACK])


@pytest.fixture(scope="module")
def resources(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = template.to_json()["Resources"]
    return found


def _one(resources: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [resource] = [r for r in resources.values() if r["Type"] == resource_type]
    return resource


def _stack(name: str = "Extra", region: str = REGION) -> tuple[cdk.Stack, ec2.Vpc]:
    stack = cdk.Stack(cdk.App(context=CONTEXT), name, env=cdk.Environment(region=region))
    vpc = ec2.Vpc(stack, "Vpc", ip_addresses=ec2.IpAddresses.cidr("10.1.0.0/16"), nat_gateways=0)
    return stack, vpc


def _fleet(region: str = REGION, **overrides: Any) -> SpotInferenceFleet:
    stack, vpc = _stack(region=region)
    props: dict[str, Any] = {
        "vpc": vpc,
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        "accelerator": "inferentia2",
        "serving": ContainerServing(image="public.ecr.aws/example/server:1"),
        "min_capacity": 1,
    }
    props.update(overrides)
    return SpotInferenceFleet(stack, "Fleet", **props)


def _user_data(stack: cdk.Stack) -> str:
    """The launch template's user data with deploy-time values shown as <Ref ...>."""
    lt = _one(Template.from_stack(stack).to_json()["Resources"], "AWS::EC2::LaunchTemplate")
    return _user_data_text(lt)


def _user_data_text(launch_template: dict[str, Any]) -> str:
    body = launch_template["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return "".join(p if isinstance(p, str) else f"<Ref {p.get('Ref', p)}>" for p in parts)


@pytest.fixture(scope="module")
def graviton_stack() -> cdk.Stack:
    """What the reference stack does not exercise: Graviton, your own user data, isolated subnets, a given
    peer, queue-backlog scaling instead of CPU, and scaling from zero."""
    stack, vpc = _stack("Graviton")
    queue = sqs.Queue(stack, "Jobs", enforce_ssl=True)
    script = ec2.UserData.for_linux()
    script.add_commands("dnf install -y llama-cpp-server", "systemctl enable --now llama-server")
    SpotInferenceFleet(
        stack,
        "Cpu",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
        accelerator="graviton",
        serving=UserDataServing(
            user_data=script,
            port=8000,
            stop_commands=[["systemctl", "kill", "--signal=SIGTERM", "llama-server"]],
            busy_command=["systemctl", "is-active", "--quiet", "llama-server"],
        ),
        allowed_peer=ec2.Peer.ipv4("10.0.0.0/8"),
        min_capacity=0,
        max_capacity=8,
        target_cpu_utilization=None,
        queue_backlog=QueueBacklogScaling(queue=queue, target_backlog_per_instance=20),
    )
    return stack


@pytest.fixture(scope="module")
def graviton(graviton_stack: cdk.Stack) -> dict[str, Any]:
    found: dict[str, Any] = Template.from_stack(graviton_stack).to_json()["Resources"]
    return found


# ----------------------------------------------------------------------------------- launch template
def test_launch_template_requires_imdsv2_answering_the_host_only(resources: dict[str, Any]) -> None:
    data = _one(resources, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 1,  # the TGI container calls no AWS API: it gets no instance credentials
        "InstanceMetadataTags": "disabled",
    }


def test_a_container_that_needs_the_instance_role_gets_one_more_hop() -> None:
    fleet = _fleet(container_needs_instance_role=True)
    data = _one(Template.from_stack(cdk.Stack.of(fleet)).to_json()["Resources"], "AWS::EC2::LaunchTemplate")
    options = data["Properties"]["LaunchTemplateData"]["MetadataOptions"]
    assert options["HttpPutResponseHopLimit"] == 2 and options["HttpTokens"] == "required"
    assert fleet.imds_hop_limit == 2


def test_root_volume_is_encrypted_gp3_sized_for_the_neuron_dlami(resources: dict[str, Any]) -> None:
    data = _one(resources, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert data["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 128, "VolumeType": "gp3"},
        }
    ]


def test_ami_is_resolved_from_the_public_ssm_parameter_at_each_launch(
    resources: dict[str, Any], graviton: dict[str, Any]
) -> None:
    inf2 = _one(resources, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    arm = _one(graviton, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert inf2["ImageId"] == f"resolve:ssm:{NEURON_DLAMI_PARAMETER}"
    assert arm["ImageId"] == f"resolve:ssm:{AL2023_ARM64_PARAMETER}"
    assert AL2023_ARM64_PARAMETER.endswith("al2023-ami-kernel-default-arm64")
    assert arm["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 32


def test_a_user_ami_replaces_the_default_and_its_volume_may_be_small() -> None:
    fleet = _fleet(
        machine_image=ec2.MachineImage.generic_linux({REGION: "ami-0123456789abcdef0"}),
        root_volume_gib=40,
    )
    data = _one(Template.from_stack(cdk.Stack.of(fleet)).to_json()["Resources"], "AWS::EC2::LaunchTemplate")
    assert data["Properties"]["LaunchTemplateData"]["ImageId"] == "ami-0123456789abcdef0"


def test_instances_in_public_subnets_get_public_addresses_and_private_ones_do_not(
    resources: dict[str, Any], graviton: dict[str, Any]
) -> None:
    public = _one(resources, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    [interface] = public["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is True and interface["DeviceIndex"] == 0
    isolated = _one(graviton, "AWS::EC2::LaunchTemplate")["Properties"]["LaunchTemplateData"]
    assert "NetworkInterfaces" not in isolated and len(isolated["SecurityGroupIds"]) == 1


# ----------------------------------------------------------------------------------------- the group
def test_instances_distribution_sets_every_field_explicitly(resources: dict[str, Any]) -> None:
    policy = _one(resources, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["MixedInstancesPolicy"]
    assert policy["InstancesDistribution"] == {
        "OnDemandAllocationStrategy": "prioritized",
        "OnDemandBaseCapacity": 1,
        "OnDemandPercentageAboveBaseCapacity": 0,
        "SpotAllocationStrategy": "price-capacity-optimized",
    }


def test_overrides_list_every_instance_type_preferred_first(
    resources: dict[str, Any], graviton: dict[str, Any]
) -> None:
    inf2 = _one(resources, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["MixedInstancesPolicy"]
    arm = _one(graviton, "AWS::AutoScaling::AutoScalingGroup")["Properties"]["MixedInstancesPolicy"]
    assert inf2["LaunchTemplate"]["Overrides"] == [
        {"InstanceType": "inf2.xlarge"},
        {"InstanceType": "inf2.8xlarge"},
    ]
    assert arm["LaunchTemplate"]["Overrides"] == [
        {"InstanceType": "m7g.xlarge"},
        {"InstanceType": "c7g.2xlarge"},
        {"InstanceType": "m7g.2xlarge"},
    ]


def test_group_rebalances_capacity_has_a_stable_name_and_its_limits(template: Template) -> None:
    template.has_resource_properties(
        "AWS::AutoScaling::AutoScalingGroup",
        {
            "AutoScalingGroupName": GROUP_NAME,
            "CapacityRebalance": True,
            "MinSize": "1",
            "MaxSize": "6",
            "DefaultInstanceWarmup": 600,
            "VPCZoneIdentifier": Match.any_value(),
        },
    )


def test_spot_percentages_map_to_the_on_demand_percentage_above_base() -> None:
    fleet = _fleet(on_demand_base=2, spot_percent_above_base=70, max_capacity=6)
    group = _one(
        Template.from_stack(cdk.Stack.of(fleet)).to_json()["Resources"], "AWS::AutoScaling::AutoScalingGroup"
    )
    distribution = group["Properties"]["MixedInstancesPolicy"]["InstancesDistribution"]
    assert distribution["OnDemandBaseCapacity"] == 2
    assert distribution["OnDemandPercentageAboveBaseCapacity"] == 30


def test_security_group_admits_only_the_serving_port_from_the_vpc(
    resources: dict[str, Any], graviton: dict[str, Any]
) -> None:
    [group] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroup" and "fleet" in r["Properties"]["GroupDescription"]
    ]
    [rule] = group["Properties"]["SecurityGroupIngress"]
    assert rule["FromPort"] == rule["ToPort"] == 8080 and rule["IpProtocol"] == "tcp"
    vpc_id, attribute = rule["CidrIp"]["Fn::GetAtt"]
    assert vpc_id.startswith("Vpc") and attribute == "CidrBlock"
    [given] = _one(graviton, "AWS::EC2::SecurityGroup")["Properties"]["SecurityGroupIngress"]
    assert (given["CidrIp"], given["FromPort"], given["ToPort"]) == ("10.0.0.0/8", 8000, 8000)


# ---------------------------------------------------------------------------------------- draining
def test_termination_hook_has_an_explicit_heartbeat_and_continues_by_default(template: Template) -> None:
    template.resource_count_is("AWS::AutoScaling::LifecycleHook", 1)
    template.has_resource_properties(
        "AWS::AutoScaling::LifecycleHook",
        {
            "LifecycleHookName": "inferwise-drain",
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
            "HeartbeatTimeout": 180,
            "DefaultResult": "CONTINUE",
            "NotificationTargetARN": Match.absent(),
        },
    )


def test_user_data_installs_the_agent_shipped_in_the_wheel_without_its_docstrings(
    resources: dict[str, Any],
) -> None:
    text = _user_data_text(_one(resources, "AWS::EC2::LaunchTemplate"))
    packed = re.search(r"<<'INFERWISE_AGENT'\n(.*?)\nINFERWISE_AGENT\n", text, re.S)
    assert packed is not None
    source = gzip.decompress(base64.b64decode(packed.group(1).replace("\n", "")))
    assert source == shipped_agent_source()
    digest = hashlib.sha256(source).hexdigest()
    assert f"echo '{digest}  /opt/inferwise/drain.py' | sha256sum -c -" in text


def _without_docstrings(source: bytes) -> tuple[str, list[tuple[str, int, int]]]:
    """The syntax tree with docstrings emptied, and where each node starts."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            node.value.value = ""
    starts = [
        (type(n).__name__, n.lineno, n.col_offset)
        for n in ast.walk(tree)
        if isinstance(n, ast.stmt | ast.expr)
    ]
    return ast.dump(tree), starts


def test_shipped_agent_is_the_wheels_code_line_for_line() -> None:
    wheel, shipped = agent_source().decode().splitlines(), shipped_agent_source().decode().splitlines()
    assert len(shipped) == len(wheel)  # a traceback's line numbers are the wheel's
    changed = [(w, s) for w, s in zip(wheel, shipped, strict=True) if w != s]
    assert changed and all(s.strip() in ("", '""') for _, s in changed[1:])
    assert (
        changed[0][1]
        == '"""inferwise drain agent: lets an inference server finish its work before its instance goes away."""'
    )
    # the same program: equal syntax trees once docstrings are emptied (node starts included)
    assert _without_docstrings(shipped_agent_source()) == _without_docstrings(agent_source())
    packed = len(base64.b64encode(gzip.compress(shipped_agent_source(), mtime=0)))
    assert packed < 0.8 * len(base64.b64encode(gzip.compress(agent_source(), mtime=0)))


def test_agent_service_drains_the_container_of_this_group(resources: dict[str, Any]) -> None:
    text = _user_data_text(_one(resources, "AWS::EC2::LaunchTemplate"))
    assert (
        "exec /usr/bin/python3 /opt/inferwise/drain.py --group SpotFleetStack-Chat --hook inferwise-drain "
        "--region us-east-1 --drain-seconds 90 --container inferwise-serving"
    ) in text
    assert "systemctl enable --now inferwise-drain.service" in text
    # the agent starts before the server, so a failing image pull cannot leave it out
    assert text.index("inferwise-drain.service") < text.index("docker run")


def test_container_gets_the_neuron_devices_and_ships_logs_to_the_fleet_log_group(
    resources: dict[str, Any],
) -> None:
    text = _user_data_text(_one(resources, "AWS::EC2::LaunchTemplate"))
    [run] = [line for line in text.splitlines() if line.startswith("docker run")]
    assert "--publish 8080:8080" in run and "$NEURON_DEVICES" in run
    assert "--log-driver awslogs" in run and "'awslogs-group=<Ref ChatLogs" in run
    assert "--env HF_MODEL_ID=Qwen/Qwen2.5-1.5B-Instruct" in run
    assert f"IMAGE={TGI_NEURONX_IMAGE}" in text
    assert "docker login --username AWS --password-stdin" in text


def test_agent_service_is_stopped_gently_enough_to_complete_the_action(resources: dict[str, Any]) -> None:
    text = _user_data_text(_one(resources, "AWS::EC2::LaunchTemplate"))
    unit = text[text.index("[Service]") : text.index("[Install]")]
    assert "KillMode=mixed" in unit  # SIGTERM to the agent only: a completion call in flight survives
    [stop_timeout] = re.findall(r"TimeoutStopSec=(\d+)", unit)
    assert int(stop_timeout) > drain.TERM_GRACE_SECONDS  # the agent completes before systemd's SIGKILL


def test_your_user_data_runs_after_the_agent_with_your_drain_commands(graviton_stack: cdk.Stack) -> None:
    text = _user_data(graviton_stack)
    assert (
        "--drain-seconds 90 --stop-command 'systemctl kill --signal=SIGTERM llama-server' "
        "--busy-command 'systemctl is-active --quiet llama-server'"
    ) in text
    assert text.index("inferwise-drain.service") < text.index("systemctl enable --now llama-server")
    assert "docker run" not in text and "docker login" not in text


def test_user_data_over_16_kb_is_refused() -> None:
    script = ec2.UserData.for_linux()
    script.add_commands("# " + "x" * 12_000)
    with pytest.raises(
        ValueError, match=r"serving: the user data would be about \d+ bytes, over EC2's 16 KB limit"
    ):
        _fleet(serving=UserDataServing(user_data=script, port=8000, stop_url="http://127.0.0.1:8000/drain"))


# --------------------------------------------------------------------------------------------- IAM
def _policy_statements(resources: dict[str, Any], role_prefix: str) -> list[dict[str, Any]]:
    [policy] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Policy" and r["Properties"]["Roles"][0]["Ref"].startswith(role_prefix)
    ]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_instances_complete_lifecycle_actions_of_their_own_group_only(resources: dict[str, Any]) -> None:
    [statement] = [
        s for s in _policy_statements(resources, "ChatInstanceRole") if "autoscaling" in str(s["Action"])
    ]
    assert statement["Action"] == "autoscaling:CompleteLifecycleAction"
    parts = statement["Resource"]["Fn::Join"][1]
    assert parts[-1] == f":autoScalingGroup:*:autoScalingGroupName/{GROUP_NAME}"


def test_instances_pull_only_the_serving_images_repository(resources: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in _policy_statements(resources, "ChatInstanceRole")}
    assert set(statements) == {"CompleteOwnLifecycleActions", "ShipFleetLogs", "PullServingImage", "EcrLogin"}
    pull = statements["PullServingImage"]
    assert (
        pull["Resource"]["Fn::Join"][1][-1]
        == ":ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference"
    )
    log_group, attribute = statements["ShipFleetLogs"]["Resource"]["Fn::GetAtt"]
    assert log_group.startswith("ChatLogs") and attribute == "Arn"
    assert statements["ShipFleetLogs"]["Action"] == [
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    ]


def _fleet_role(resources: dict[str, Any]) -> dict[str, Any]:
    [role] = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::IAM::Role" and "fleet" in r["Properties"].get("Description", "")
    ]
    return role


def test_role_has_no_managed_policy_and_no_session_manager_by_default(resources: dict[str, Any]) -> None:
    assert "ManagedPolicyArns" not in _fleet_role(resources)["Properties"]
    statements = _policy_statements(resources, "ChatInstanceRole")
    assert not [s for s in statements if "ssm" in str(s["Action"])]


def test_session_manager_is_an_inline_statement_with_only_what_sessions_need() -> None:
    fleet = _fleet(session_manager=True)
    found = Template.from_stack(cdk.Stack.of(fleet)).to_json()["Resources"]
    assert "ManagedPolicyArns" not in _fleet_role(found)["Properties"]
    statements = {s["Sid"]: s for s in _policy_statements(found, "FleetInstanceRole")}
    assert statements["SessionManager"] == {
        "Sid": "SessionManager",
        "Effect": "Allow",
        "Action": [
            "ssm:UpdateInstanceInformation",
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
        ],
        "Resource": "*",
    }


def test_no_ecr_permission_without_an_ecr_image(graviton: dict[str, Any]) -> None:
    statements = _policy_statements(graviton, "CpuInstanceRole")
    assert {s["Sid"] for s in statements} == {"CompleteOwnLifecycleActions", "ShipFleetLogs"}


def test_fleet_log_group_has_a_finite_retention(resources: dict[str, Any]) -> None:
    retentions = sorted(
        r["Properties"]["RetentionInDays"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"
    )
    assert retentions == [14, 30]  # flow logs, fleet logs


# ----------------------------------------------------------------------------------------- scaling
def test_cpu_target_tracking_is_the_default_policy(template: Template) -> None:
    template.resource_count_is("AWS::AutoScaling::ScalingPolicy", 1)
    template.has_resource_properties(
        "AWS::AutoScaling::ScalingPolicy",
        {
            "PolicyType": "TargetTrackingScaling",
            "EstimatedInstanceWarmup": 600,
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": 60,
            },
        },
    )


def test_backlog_policy_divides_queue_depth_by_in_service_instances_with_metric_math(
    graviton: dict[str, Any],
) -> None:
    policy = _one(graviton, "AWS::AutoScaling::ScalingPolicy")["Properties"]
    assert policy["PolicyType"] == "TargetTrackingScaling" and policy["EstimatedInstanceWarmup"] == 300
    config = policy["TargetTrackingConfiguration"]
    assert config["TargetValue"] == 20
    backlog, instances, ratio = config["CustomizedMetricSpecification"]["Metrics"]
    assert backlog["MetricStat"]["Metric"]["Namespace"] == "AWS/SQS"
    assert backlog["MetricStat"]["Metric"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert backlog["MetricStat"]["Metric"]["Dimensions"][0]["Name"] == "QueueName"
    assert backlog["MetricStat"]["Stat"] == "Sum" and backlog["ReturnData"] is False
    assert instances["MetricStat"]["Metric"] == {
        "Namespace": "AWS/AutoScaling",
        "MetricName": "GroupInServiceInstances",
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "Graviton-Cpu"}],
    }
    assert instances["ReturnData"] is False
    assert ratio == {
        "Id": "backlog_per_instance",
        "Expression": "backlog / IF(instances > 0, instances, 1)",
        "Label": "Queue backlog per InService instance",
        "ReturnData": True,
    }


def test_backlog_scaling_collects_the_in_service_group_metric(graviton: dict[str, Any]) -> None:
    group = _one(graviton, "AWS::AutoScaling::AutoScalingGroup")["Properties"]
    assert group["MetricsCollection"] == [{"Granularity": "1Minute", "Metrics": ["GroupInServiceInstances"]}]


def test_scheduled_actions_stop_at_night_and_restore_the_limits_in_the_morning(
    resources: dict[str, Any],
) -> None:
    actions = sorted(
        (r["Properties"] for r in resources.values() if r["Type"] == "AWS::AutoScaling::ScheduledAction"),
        key=lambda p: p["Recurrence"],
    )
    assert [{k: v for k, v in a.items() if k != "AutoScalingGroupName"} for a in actions] == [
        {
            "Recurrence": "0 20 * * MON-FRI",
            "MinSize": 0,
            "MaxSize": 0,
            "DesiredCapacity": 0,
            "TimeZone": "Europe/Berlin",
        },
        {"Recurrence": "0 7 * * MON-FRI", "MinSize": 1, "MaxSize": 6, "TimeZone": "Europe/Berlin"},
    ]


@pytest.mark.parametrize(
    ("aws_cron", "unix"),
    [
        ("0 20 ? * MON-FRI *", "0 20 * * MON-FRI"),
        ("30 6 ? * 2-6 *", "30 6 * * MON-FRI"),
        ("0 22 ? * 1,7 *", "0 22 * * SUN,SAT"),
        ("0 0 1 * ? *", "0 0 1 * *"),
        ("*/15 8-18 ? jan-mar mon *", "*/15 8-18 * JAN-MAR MON"),
    ],
)
def test_aws_cron_becomes_the_unix_cron_ec2_auto_scaling_takes(aws_cron: str, unix: str) -> None:
    assert unix_recurrence(aws_cron, "off_hours.cron") == unix


# -------------------------------------------------------------------------------------- warm pool
def test_an_on_demand_only_fleet_may_keep_a_stopped_warm_pool() -> None:
    fleet = _fleet(spot_percent_above_base=0, warm_pool=True)
    Template.from_stack(cdk.Stack.of(fleet)).has_resource_properties(
        "AWS::AutoScaling::WarmPool", {"PoolState": "Stopped", "MinSize": 0}
    )


# -------------------------------------------------------------------------------------- warnings
def test_a_single_spot_instance_type_is_warned_about() -> None:
    fleet = _fleet(instance_types=["inf2.xlarge"])
    warnings = Annotations.from_stack(cdk.Stack.of(fleet)).find_warning(
        "*", Match.string_like_regexp("single type")
    )
    [warning] = warnings
    text = warning.entry.data
    assert "[ack: inferwise:spot-diversity]" in text
    assert "instance_types has a single type (inf2.xlarge)" in text and "e.g. inf2.8xlarge" in text


def test_a_single_type_is_fine_without_spot() -> None:
    fleet = _fleet(instance_types=["inf2.xlarge"], spot_percent_above_base=0)
    assert not Annotations.from_stack(cdk.Stack.of(fleet)).find_warning(
        "*", Match.string_like_regexp("single type")
    )


def test_min_zero_without_queue_scaling_is_warned_about_and_with_it_is_not(graviton_stack: cdk.Stack) -> None:
    fleet = _fleet(min_capacity=0)
    [warning] = Annotations.from_stack(cdk.Stack.of(fleet)).find_warning(
        "*", Match.string_like_regexp("min_capacity=0")
    )
    assert "[ack: inferwise:no-wake-from-zero]" in warning.entry.data
    assert not Annotations.from_stack(graviton_stack).find_warning(
        "*", Match.string_like_regexp("min_capacity=0")
    )


def test_reference_stack_has_no_warnings(reference_stacks: dict[str, cdk.Stack]) -> None:
    assert Annotations.from_stack(reference_stacks[STACK]).find_warning("*", Match.any_value()) == []


# ------------------------------------------------------------------------------- lint and cdk-nag
def test_extra_stack_is_cfn_lint_clean(graviton_stack: cdk.Stack) -> None:
    assert lint_template(Template.from_stack(graviton_stack).to_json()) == []


def test_extra_stack_is_cdk_nag_clean(tmp_path: Any) -> None:
    def build(app: cdk.App) -> list[cdk.Stack]:
        stack = cdk.Stack(app, "NagGraviton", env=cdk.Environment(region=REGION))
        vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, ip_addresses=ec2.IpAddresses.cidr("10.2.0.0/16"))
        ec2.FlowLog(stack, "FlowLog", resource_type=ec2.FlowLogResourceType.from_vpc(vpc))
        SpotInferenceFleet(
            stack,
            "Fleet",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            accelerator="graviton",
            serving=ContainerServing(image=cdk.Fn.import_value("ServingImageUri")),
            min_capacity=1,
            session_manager=True,
            container_needs_instance_role=True,
        )
        return [stack]

    assembly = synth_verified(build, tmp_path)
    assert assembly.unacknowledged_findings() == []


# ---------------------------------------------------------------------------------------- bad props
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"accelerator": "gpu"}, "accelerator must be one of 'inferentia2', 'graviton', got 'gpu'"),
        (
            {"instance_types": ["inf2.xlarge", "inf3.xlarge"]},
            "instance_types has 'inf3.xlarge', which is not an instance type SpotInferenceFleet knows; allowed: "
            "inf2.xlarge, inf2.8xlarge, inf2.24xlarge, inf2.48xlarge (inferentia2) or a non-metal size of c7g, c8g, "
            "m7g, r7g (graviton), e.g. m7g.xlarge",
        ),
        (
            {"accelerator": "graviton", "instance_types": ["m7g.xlarge", "inf2.xlarge"]},
            "instance_types mixes CPU architectures under one AMI: arm64: m7g.xlarge; x86_64: inf2.xlarge. One "
            "launch template has one AMI; use only arm64 types for accelerator='graviton'",
        ),
        (
            {"instance_types": ["m7g.xlarge"]},
            "instance_types has 'm7g.xlarge', a graviton type, but accelerator='inferentia2' takes inf2.* types, "
            "e.g. inf2.xlarge, inf2.8xlarge",
        ),
        (
            {"region": "eu-west-1", "accelerator": "graviton", "instance_types": ["r7g.xlarge"]},
            "instance_types has 'r7g.xlarge', which has no EC2 On-Demand price for eu-west-1 in the price "
            "catalogue; graviton types priced there: c7g.12xlarge, c7g.16xlarge, c7g.2xlarge, c7g.4xlarge, "
            "c7g.8xlarge, c7g.large, c7g.medium, c7g.xlarge, c8g.12xlarge, c8g.16xlarge, c8g.24xlarge, "
            "c8g.2xlarge, c8g.48xlarge, c8g.4xlarge, c8g.8xlarge, c8g.large, c8g.medium, c8g.xlarge, "
            "m7g.12xlarge, m7g.16xlarge, m7g.2xlarge, m7g.4xlarge, m7g.8xlarge, m7g.large, m7g.medium, "
            "m7g.xlarge. Pick one of those or add an override record (cdk.json context "
            '"inferwise:prices", docs/prices.md)',
        ),
        (
            {"instance_types": ["inf2.xlarge", "inf2.xlarge"]},
            "instance_types lists inf2.xlarge more than once; list each type once",
        ),
        ({"instance_types": []}, "instance_types must list at least one instance type, got []"),
        (
            {"instance_types": "inf2.xlarge"},
            "instance_types must be a list of instance types such as ['inf2.xlarge'], got 'inf2.xlarge'",
        ),
        (
            {"on_demand_base": 5, "max_capacity": 4},
            "on_demand_base must be <= max_capacity (4), got 5: the group can never run that many On-Demand instances",
        ),
        (
            {"spot_percent_above_base": 101},
            "spot_percent_above_base must be a whole number between 0 and 100, got 101",
        ),
        (
            {"spot_percent_above_base": -1},
            "spot_percent_above_base must be a whole number between 0 and 100, got -1",
        ),
        ({"min_capacity": 5, "max_capacity": 4}, "min_capacity must be <= max_capacity (4), got 5"),
        ({"max_capacity": 0, "min_capacity": 0}, "max_capacity must be a whole number >= 1, got 0"),
        (
            {"lifecycle_heartbeat_timeout": cdk.Duration.seconds(20)},
            "lifecycle_heartbeat_timeout must be between 30 and 7200 seconds (EC2 Auto Scaling), got 20 s",
        ),
        (
            {"lifecycle_heartbeat_timeout": cdk.Duration.hours(3)},
            "lifecycle_heartbeat_timeout must be between 30 and 7200 seconds (EC2 Auto Scaling), got 10800 s",
        ),
        (
            {"drain_timeout": cdk.Duration.seconds(160)},
            "drain_timeout must be between 0 and lifecycle_heartbeat_timeout - 30 s (150 s), so the agent can "
            "complete the lifecycle action before the hook times out, got 160 s",
        ),
        (
            {"warm_pool": True},
            "warm_pool=True needs an On-Demand-only fleet (spot_percent_above_base=0), got "
            "spot_percent_above_base=100: EC2 Auto Scaling refuses a warm pool on a mixed-instances group that "
            "requests Spot (CDK would not catch it until deploy)",
        ),
        (
            {"root_volume_gib": 50},
            "root_volume_gib must be >= 100 for the default inferentia2 AMI "
            "(/aws/service/neuron/dlami/base/amazon-linux-2023/latest/image_id, whose snapshot is that large), got "
            "50; pass machine_image for a smaller AMI",
        ),
        (
            {"session_manager": "yes"},
            "session_manager must be True or False, got 'yes'",
        ),
        (
            {"container_needs_instance_role": 2},
            "container_needs_instance_role must be True or False, got 2",
        ),
        (
            {"target_cpu_utilization": 0},
            "target_cpu_utilization must be a percentage in (0, 100] or None, got 0",
        ),
        (
            {"usage": FleetUsage(average_instances=7), "max_capacity": 6},
            "usage.average_instances must be <= max_capacity (6), got 7",
        ),
        (
            {"off_hours": OffHours(cron="0 20 L * ? *", resume_cron="0 7 ? * MON-FRI *")},
            "off_hours.cron '0 20 L * ? *': the day-of-month field 'L' uses L or W, which EC2 Auto Scaling's Unix "
            "cron does not support",
        ),
        (
            {"off_hours": OffHours(cron="0 20 ? * MON-FRI 2027", resume_cron="0 7 ? * MON-FRI *")},
            "off_hours.cron '0 20 ? * MON-FRI 2027': EC2 Auto Scaling schedules have no year field; use '*' for the year",
        ),
        (
            {"off_hours": OffHours(cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * 6#3 *")},
            "off_hours.resume_cron '0 7 ? * 6#3 *': the day-of-week field '6#3' uses L or #, which EC2 Auto "
            "Scaling's Unix cron does not support",
        ),
        (
            {"vpc_subnets": None},
            "vpc_subnets selects no subnets in this VPC (ThereSubnetGroups: There are no 'Private' subnet groups in "
            "this VPC. Available types: Isolated,Deprecated_Isolated,Public); the default is private subnets with "
            "egress (a NAT gateway): in a VPC without NAT gateways pass "
            "vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC) (instances then get public IPs)",
        ),
    ],
)
def test_bad_props_are_refused_with_a_clear_message(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        _fleet(**overrides)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: ContainerServing(image="x", port=70000),
            "ContainerServing.port must be a TCP port between 1 and 65535, got 70000",
        ),
        (
            lambda: ContainerServing(image="x", container_name="-bad"),
            "ContainerServing.container_name must be letters, digits, '_', '.' or '-' (at most 63, starting with a "
            "letter or digit), got '-bad'",
        ),
        (
            lambda: UserDataServing(user_data=ec2.UserData.for_linux(), port=8080),
            "UserDataServing needs stop_commands or stop_url: how the drain agent tells your server to stop taking "
            "work, got neither",
        ),
        (
            lambda: UserDataServing(
                user_data=ec2.UserData.for_linux(), port=8080, stop_commands=["systemctl stop x"]
            ),
            "UserDataServing.stop_commands must hold argument lists such as ['systemctl', 'stop', 'my-server'], got "
            "'systemctl stop x'",
        ),
        (
            lambda: QueueBacklogScaling(queue=None, target_backlog_per_instance=0),  # type: ignore[arg-type]
            "QueueBacklogScaling.queue must be an sqs.IQueue, got None",
        ),
    ],
)
def test_bad_option_values_are_refused_with_a_clear_message(build: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        build()
    assert str(raised.value) == message
