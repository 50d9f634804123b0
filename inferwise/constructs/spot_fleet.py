"""`SpotInferenceFleet`: an EC2 Auto Scaling group of Inferentia2 or Graviton instances, mostly on Spot.

What it builds (AWS-FACTS.md section 3; gotchas 15-19):
- a launch template: IMDSv2 only (hop limit 2, so containers reach it), an encrypted gp3 root volume sized
  for the AMI, the AMI resolved from a public SSM parameter at every launch (the Neuron DLAMI base on
  Amazon Linux 2023 for inf2, Amazon Linux 2023 `kernel-default` arm64 for Graviton), an instance profile
  with least privilege, and user data that installs the drain agent and starts the server;
- the group, with a mixed-instances policy whose every distribution field is explicit (the API defaults
  are 100 % On-Demand and lowest-price Spot): an On-Demand base, price-capacity-optimized Spot above it,
  several instance-type overrides, capacity rebalancing;
- a termination lifecycle hook (explicit heartbeat, default result CONTINUE) that the on-instance drain
  agent (`inferwise/fleet_agent/drain.py`) completes once in-flight work is done, on a Spot interruption
  notice or any other termination;
- target tracking on CPU, optionally on queue backlog per instance (metric math through the L1 policy,
  which the L2 refuses), and optional off-hours scheduled actions to zero.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shlex
import textwrap
from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from inferwise.constructs.nag import iam5_resource_finding
from inferwise.constructs.schedule import OffHours
from inferwise.constructs.validation import check_whole_number
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError, catalog_for
from inferwise.cost.estimators.spot_fleet import (
    EC2_SERVICE,
    ON_DEMAND_DIMENSION,
    FleetUsage,
    estimate_gpu_comparison,
    estimate_spot_fleet,
)
from inferwise.cost.model import CostEstimate
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.specs.ec2 import (
    ACCELERATORS,
    ARCHITECTURE_OF,
    DEFAULT_INSTANCE_TYPES,
    DEFAULT_ROOT_VOLUME_GIB,
    Accelerator,
    Ec2InstanceSpec,
    ec2_instance_spec,
)
from inferwise.cost.usage_file import apply_usage_file

__all__ = [
    "ContainerServing",
    "FleetUsage",
    "OffHours",
    "QueueBacklogScaling",
    "SpotInferenceFleet",
    "UserDataServing",
]

NEURON_DLAMI_PARAMETER = "/aws/service/neuron/dlami/base/amazon-linux-2023/latest/image_id"
"""Neuron DLAMI base (driver + tools, for containers) on Amazon Linux 2023; only `latest` exists (gotcha 19)."""
AL2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
"""Amazon Linux 2023 arm64, kernel-default (CDK's latest_amazon_linux2023 picks kernel-6.1; gotcha 19)."""
AMI_PARAMETERS: dict[Accelerator, str] = {
    "inferentia2": NEURON_DLAMI_PARAMETER,
    "graviton": AL2023_ARM64_PARAMETER,
}
MIN_ROOT_VOLUME_GIB: dict[Accelerator, int] = {"inferentia2": 100, "graviton": 8}
"""Snapshot sizes of the default AMIs: the Neuron DLAMI's is about 100 GB (community), AL2023's 8 GiB."""
DEFAULT_WARMUP_SECONDS: dict[Accelerator, int] = {"inferentia2": 600, "graviton": 300}

LIFECYCLE_HOOK_NAME = "inferwise-drain"
DEFAULT_HEARTBEAT_SECONDS = 180
DEFAULT_DRAIN_SECONDS = 90
COMPLETE_MARGIN_SECONDS = 30
"""The drain deadline must leave this much of the heartbeat for CompleteLifecycleAction."""
MAX_OVERRIDES = 40
USER_DATA_LIMIT_BYTES = 16 * 1024
"""EC2 refuses user data over 16 KB (before base64)."""
TOKEN_BYTES = 128
AGENT_PATH = "/opt/inferwise/drain.py"
DRAIN_LOG = "/var/log/inferwise/drain.log"

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
_CONTAINER_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_AWS_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class ContainerServing:
    """Serve with one Docker container per instance, started by the user data.

    - `image`: any image reference; an ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`)
      gets a login and pull permission on exactly that repository.
    - `port`: the TCP port the server listens on inside the container; published 1:1 on the host and the
      only port the security group opens.
    - `command`: arguments after the image (the image's entrypoint stays).
    - On inf2 every `/dev/neuron*` device is passed in. Logs go to the fleet's log group (awslogs driver).
    - Draining: `docker kill --signal SIGTERM`, so the server must stop accepting work and finish in-flight
      requests on SIGTERM (TGI, vLLM and uvicorn-based servers do); the agent waits for the container to exit.
    """

    image: str
    port: int = 8080
    command: Sequence[str] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    container_name: str = "inferwise-serving"

    def __post_init__(self) -> None:
        if not isinstance(self.image, str) or not self.image.strip():
            raise ValueError(f"ContainerServing.image must be an image reference, got {self.image!r}")
        _check_port("ContainerServing.port", self.port)
        if not _CONTAINER_NAME.match(self.container_name):
            raise ValueError(
                f"ContainerServing.container_name must be letters, digits, '_', '.' or '-' (at most 63, starting "
                f"with a letter or digit), got {self.container_name!r}"
            )
        for key, value in self.environment.items():
            if not isinstance(key, str) or not _ENV_KEY.match(key) or not isinstance(value, str):
                raise ValueError(
                    f"ContainerServing.environment needs names matching {_ENV_KEY.pattern} and string values, "
                    f"got {key!r}: {value!r}"
                )


@dataclass(frozen=True)
class UserDataServing:
    """Serve with your own user data (appended after the construct's); say how to drain it.

    - `port`: the port your server listens on (the only one the security group opens).
    - `stop_commands`: commands (argument lists, no shell) the drain agent runs to stop taking work;
      `stop_url`: or an URL it POSTs to (e.g. `http://127.0.0.1:8080/drain`).
    - `busy_command`: a command that exits 0 while work is in flight. Without one the agent waits until the
      drain deadline before completing the lifecycle action.
    """

    user_data: ec2.UserData
    port: int
    stop_commands: Sequence[Sequence[str]] = ()
    stop_url: str | None = None
    busy_command: Sequence[str] = ()

    def __post_init__(self) -> None:
        _check_port("UserDataServing.port", self.port)
        if not self.stop_commands and not self.stop_url:
            raise ValueError(
                "UserDataServing needs stop_commands or stop_url: how the drain agent tells your server to stop "
                "taking work, got neither"
            )
        for command in self.stop_commands:
            if isinstance(command, str) or not command or not all(isinstance(w, str) for w in command):
                raise ValueError(
                    f"UserDataServing.stop_commands must hold argument lists such as ['systemctl', 'stop', "
                    f"'my-server'], got {command!r}"
                )


@dataclass(frozen=True)
class QueueBacklogScaling:
    """Scale on an SQS queue's backlog per InService instance (metric math; AWS-FACTS.md section 3.3).

    `target_backlog_per_instance`: messages one instance can hold as backlog within your latency goal
    (acceptable latency / average seconds per message). With no instance in service the divisor is 1,
    so the metric is the whole backlog.
    """

    queue: sqs.IQueue
    target_backlog_per_instance: float

    def __post_init__(self) -> None:
        target = self.target_backlog_per_instance
        if isinstance(target, bool) or not isinstance(target, int | float) or not target > 0:
            raise ValueError(
                f"QueueBacklogScaling.target_backlog_per_instance must be a number > 0, got {target!r}"
            )


def _check_port(prop: str, port: object) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{prop} must be a TCP port between 1 and 65535, got {port!r}")


def unix_recurrence(expression: str, prop: str) -> str:
    """An `OffHours` AWS cron body (6 fields) as the 5-field Unix cron EC2 Auto Scaling's Recurrence takes.

    `?` becomes `*`; day-of-week numbers (AWS: 1-7 = SUN-SAT) become names; the year must be `*`; `L`, `W`
    and `#` have no Unix equivalent and are refused.
    """
    minute, hour, day_of_month, month, day_of_week, year = expression.split(" ")
    if year != "*":
        raise ValueError(
            f"{prop} {expression!r}: EC2 Auto Scaling schedules have no year field; use '*' for the year"
        )
    unsupported = (("day-of-month", day_of_month, "LW"), ("day-of-week", day_of_week, "L#"))
    for name, text, marks in unsupported:
        if any(mark in text.upper() for mark in marks):
            raise ValueError(
                f"{prop} {expression!r}: the {name} field {text!r} uses {' or '.join(marks)}, which EC2 Auto "
                "Scaling's Unix cron does not support"
            )

    def weekday(match: re.Match[str]) -> str:
        return _AWS_WEEKDAYS[int(match.group(0)) - 1]

    days: list[str] = []
    for item in day_of_week.split(","):
        span, slash, step = item.partition("/")
        days.append(re.sub(r"\b[1-7]\b", weekday, span) + slash + step)
    unix_day_of_week = "*" if day_of_week == "?" else ",".join(days).upper()
    unix_day_of_month = "*" if day_of_month == "?" else day_of_month
    return " ".join((minute, hour, unix_day_of_month, month.upper(), unix_day_of_week))


class SpotInferenceFleet(Construct):
    """An Auto Scaling group of Inferentia2 or Graviton instances: an On-Demand floor, Spot above it, and
    interruption draining.

    Cost: see `cost_estimate` (priced against the same capacity all On-Demand) and, for Inferentia2,
    `gpu_comparison` (the same accelerators as On-Demand g5.xlarge). docs/spot-fleet.md has the details.
    """

    cost_estimate: CostEstimate

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        accelerator: Accelerator,
        serving: ContainerServing | UserDataServing,
        instance_types: Sequence[str] | None = None,
        on_demand_base: int = 1,
        spot_percent_above_base: int = 100,
        min_capacity: int = 0,
        max_capacity: int = 4,
        vpc_subnets: ec2.SubnetSelection | None = None,
        allowed_peer: ec2.IPeer | None = None,
        machine_image: ec2.IMachineImage | None = None,
        root_volume_gib: int | None = None,
        root_device_name: str = "/dev/xvda",
        lifecycle_heartbeat_timeout: cdk.Duration | None = None,
        drain_timeout: cdk.Duration | None = None,
        instance_warmup: cdk.Duration | None = None,
        target_cpu_utilization: float | None = 60.0,
        queue_backlog: QueueBacklogScaling | None = None,
        off_hours: OffHours | None = None,
        warm_pool: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        usage: FleetUsage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if accelerator not in ACCELERATORS:
            raise ValueError(
                f"accelerator must be one of {', '.join(repr(a) for a in ACCELERATORS)}, got {accelerator!r}"
            )
        if isinstance(instance_types, str):
            raise ValueError(
                f"instance_types must be a list of instance types such as ['{instance_types}'], got {instance_types!r}"
            )
        types = list(DEFAULT_INSTANCE_TYPES[accelerator] if instance_types is None else instance_types)
        region, region_assumptions = pricing_region(self)
        catalog = catalog_for(self)
        specs = _validate_instance_types(types, accelerator, catalog, region)
        effective_usage, usage_assumptions = apply_usage_file(self, usage or FleetUsage())
        heartbeat = _seconds(lifecycle_heartbeat_timeout, DEFAULT_HEARTBEAT_SECONDS)
        drain = _seconds(drain_timeout, DEFAULT_DRAIN_SECONDS)
        volume = DEFAULT_ROOT_VOLUME_GIB[accelerator] if root_volume_gib is None else root_volume_gib
        _validate(
            accelerator=accelerator,
            serving=serving,
            on_demand_base=on_demand_base,
            spot_percent_above_base=spot_percent_above_base,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            root_volume_gib=volume,
            default_ami=machine_image is None,
            heartbeat_seconds=heartbeat,
            drain_seconds=drain,
            target_cpu_utilization=target_cpu_utilization,
            queue_backlog=queue_backlog,
            off_hours=off_hours,
            warm_pool=warm_pool,
            usage=effective_usage,
        )
        self.accelerator = accelerator
        self.instance_types = tuple(types)
        self.instance_specs = tuple(specs)
        self.serving = serving
        self.on_demand_base = on_demand_base
        self.spot_percent_above_base = spot_percent_above_base
        self.usage = effective_usage

        stack = cdk.Stack.of(self)
        self.auto_scaling_group_name = _group_name([stack.stack_name, *self._path_below_stack()])
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        try:
            public_ipv4 = vpc.select_subnets(
                availability_zones=selection.availability_zones,
                one_per_az=selection.one_per_az,
                subnet_filters=selection.subnet_filters,
                subnet_group_name=selection.subnet_group_name,
                subnet_type=selection.subnet_type,
                subnets=selection.subnets,
            ).has_public
        except RuntimeError as error:
            raise ValueError(
                f"vpc_subnets selects no subnets in this VPC ({error}); the default is private subnets with "
                "egress (a NAT gateway): in a VPC without NAT gateways pass "
                "vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC) (instances then get public IPs)"
            ) from None

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"inferwise fleet {self.auto_scaling_group_name}: serving port only",
            allow_all_outbound=True,
        )
        peer = allowed_peer or ec2.Peer.ipv4(vpc.vpc_cidr_block)
        self.security_group.add_ingress_rule(
            peer, ec2.Port.tcp(serving.port), f"inference requests on port {serving.port}"
        )
        if allowed_peer is None and cdk.Token.is_unresolved(vpc.vpc_cidr_block):
            cdk.Validations.of(self.security_group).acknowledge(
                cdk.Acknowledgment(
                    id="AwsSolutions::AwsSolutions-EC23",
                    reason=(
                        "The only ingress rule admits the serving port from the VPC's own CIDR block, a "
                        "CloudFormation attribute the open-ingress rule cannot evaluate at synth (it throws); "
                        "nothing is open to 0.0.0.0/0."
                    ),
                )
            )
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention)
        self.role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description=f"Instances of inferwise fleet {self.auto_scaling_group_name}",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        self.machine_image = machine_image or ec2.MachineImage.resolve_ssm_parameter_at_launch(
            AMI_PARAMETERS[accelerator], os=ec2.OperatingSystemType.LINUX
        )
        self.user_data = self._user_data(stack, drain)
        self.launch_template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            machine_image=self.machine_image,
            role=self.role,
            security_group=self.security_group,
            user_data=self.user_data,
            http_endpoint=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=2,
            instance_metadata_tags=False,
            associate_public_ip_address=True if public_ipv4 else None,
            block_devices=[
                ec2.BlockDevice(
                    device_name=root_device_name,
                    volume=ec2.BlockDeviceVolume.ebs(
                        volume,
                        encrypted=True,
                        delete_on_termination=True,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                    ),
                )
            ],
        )
        warmup = instance_warmup or cdk.Duration.seconds(DEFAULT_WARMUP_SECONDS[accelerator])
        self.auto_scaling_group = autoscaling.AutoScalingGroup(
            self,
            "Group",
            vpc=vpc,
            vpc_subnets=selection,
            auto_scaling_group_name=self.auto_scaling_group_name,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            capacity_rebalance=True,
            default_instance_warmup=warmup,
            group_metrics=(
                [autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES)]
                if queue_backlog
                else None
            ),
            mixed_instances_policy=autoscaling.MixedInstancesPolicy(
                launch_template=self.launch_template,
                instances_distribution=autoscaling.InstancesDistribution(
                    on_demand_allocation_strategy=autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
                    on_demand_base_capacity=on_demand_base,
                    on_demand_percentage_above_base_capacity=100 - spot_percent_above_base,
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
                ),
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t)) for t in types
                ],
            ),
        )
        self.lifecycle_hook = self.auto_scaling_group.add_lifecycle_hook(
            "DrainHook",
            lifecycle_hook_name=LIFECYCLE_HOOK_NAME,
            lifecycle_transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
            heartbeat_timeout=cdk.Duration.seconds(heartbeat),
            default_result=autoscaling.DefaultResult.CONTINUE,
        )
        if warm_pool:
            self.auto_scaling_group.add_warm_pool(pool_state=autoscaling.PoolState.STOPPED, min_size=0)
        self._grant_instance_permissions(stack)

        self.cpu_scaling: autoscaling.TargetTrackingScalingPolicy | None = None
        if target_cpu_utilization is not None:
            self.cpu_scaling = self.auto_scaling_group.scale_on_cpu_utilization(
                "CpuTracking",
                target_utilization_percent=target_cpu_utilization,
                estimated_instance_warmup=warmup,
            )
        self.backlog_scaling: autoscaling.CfnScalingPolicy | None = None
        if queue_backlog is not None:
            self.backlog_scaling = self._backlog_policy(queue_backlog, warmup)
        self.scheduled_actions: list[autoscaling.ScheduledAction] = []
        if off_hours is not None:
            self.scheduled_actions = [
                self.auto_scaling_group.scale_on_schedule(
                    "OffHoursStop",
                    schedule=autoscaling.Schedule.expression(
                        unix_recurrence(off_hours.cron, "off_hours.cron")
                    ),
                    min_capacity=0,
                    max_capacity=0,
                    desired_capacity=0,
                    time_zone=off_hours.time_zone,
                ),
                self.auto_scaling_group.scale_on_schedule(
                    "OffHoursResume",
                    schedule=autoscaling.Schedule.expression(
                        unix_recurrence(off_hours.resume_cron, "off_hours.resume_cron")
                    ),
                    min_capacity=min_capacity,
                    max_capacity=max_capacity,
                    time_zone=off_hours.time_zone,
                ),
            ]

        estimate = estimate_spot_fleet(
            accelerator=accelerator,
            instance_types=types,
            on_demand_base=on_demand_base,
            spot_percent_above_base=spot_percent_above_base,
            root_volume_gib=volume,
            usage=effective_usage,
            catalog=catalog,
            region=region,
            max_capacity=max_capacity,
            warm_pool=warm_pool,
            public_ipv4=public_ipv4,
            off_hours=off_hours is not None,
            assumptions=region_assumptions,
        )
        group_resource = self.auto_scaling_group.node.default_child
        assert isinstance(group_resource, autoscaling.CfnAutoScalingGroup)
        self.cost_estimate = record_estimate(
            self, estimate, group_resource, extra_assumptions=usage_assumptions
        )
        self.gpu_comparison: CostEstimate | None = None
        if accelerator == "inferentia2":
            self.gpu_comparison = estimate_gpu_comparison(
                instance_type=types[0],
                root_volume_gib=volume,
                usage=effective_usage,
                catalog=catalog,
                region=region,
            )
        self._warn(types, min_capacity, queue_backlog, spot_percent_above_base)
        self._acknowledge(stack)

    # -------------------------------------------------------------------------------------------- API
    @property
    def connections(self) -> ec2.Connections:
        """The fleet's security group, for `connections.allow_from(...)`."""
        return self.security_group.connections

    # -------------------------------------------------------------------------------------- internals
    def _path_below_stack(self) -> list[str]:
        scopes = self.node.scopes
        stack_index = max(i for i, s in enumerate(scopes) if cdk.Stack.is_stack(s))
        return [s.node.id for s in scopes[stack_index + 1 :]]

    def _user_data(self, stack: cdk.Stack, drain_seconds: int) -> ec2.UserData:
        """Boot script: install and start the drain agent first, then the server (see docs/spot-fleet.md)."""
        user_data = ec2.UserData.for_linux()
        user_data.add_commands("set -euo pipefail")
        user_data.add_commands(*_agent_install_commands())
        args = [
            "--group",
            self.auto_scaling_group_name,
            "--hook",
            LIFECYCLE_HOOK_NAME,
            "--region",
            stack.region,
            "--drain-seconds",
            str(drain_seconds),
        ]
        serving = self.serving
        if isinstance(serving, ContainerServing):
            args += ["--container", serving.container_name]
        else:
            for command in serving.stop_commands:
                args += ["--stop-command", shlex.join(command)]
            if serving.stop_url:
                args += ["--stop-url", serving.stop_url]
            if serving.busy_command:
                args += ["--busy-command", shlex.join(serving.busy_command)]
        user_data.add_commands(*_agent_service_commands(args))
        user_data.add_commands(*_cloudwatch_agent_commands(self.log_group.log_group_name))
        if isinstance(serving, ContainerServing):
            user_data.add_commands(
                *_container_commands(serving, self.log_group.log_group_name, stack.region, self.accelerator)
            )
        else:
            user_data.add_commands("# --- your user data (UserDataServing) ---", serving.user_data.render())
        size = _user_data_size(stack, user_data.render())
        if size > USER_DATA_LIMIT_BYTES:
            raise ValueError(
                f"serving: the user data would be about {size} bytes, over EC2's 16 KB limit; move your "
                "script to an S3 object or the AMI and fetch it from a shorter user data"
            )
        return user_data

    def _grant_instance_permissions(self, stack: cdk.Stack) -> None:
        group_arn = stack.format_arn(
            service="autoscaling",
            resource="autoScalingGroup",
            resource_name=f"*:autoScalingGroupName/{self.auto_scaling_group_name}",
            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
        )
        self._group_arn_pattern = group_arn
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="CompleteOwnLifecycleActions",
                actions=["autoscaling:CompleteLifecycleAction"],
                resources=[group_arn],
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="ShipFleetLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[self.log_group.log_group_arn],
            )
        )
        serving = self.serving
        self._ecr_repository_wildcard: str | None = None
        if isinstance(serving, ContainerServing):
            repository: str | None = None
            if cdk.Token.is_unresolved(serving.image):
                repository = stack.format_arn(service="ecr", resource="repository", resource_name="*")
                self._ecr_repository_wildcard = repository
            else:
                match = _ECR_IMAGE.match(serving.image)
                if match is not None:
                    repository = stack.format_arn(
                        service="ecr",
                        region=match["region"],
                        account=match["account"],
                        resource="repository",
                        resource_name=match["repository"],
                    )
            if repository is not None:
                self.role.add_to_policy(
                    iam.PolicyStatement(
                        sid="PullServingImage",
                        actions=[
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                        ],
                        resources=[repository],
                    )
                )
                self.role.add_to_policy(
                    iam.PolicyStatement(
                        sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
                    )
                )

    def _backlog_policy(
        self, scaling: QueueBacklogScaling, warmup: cdk.Duration
    ) -> autoscaling.CfnScalingPolicy:
        """Target tracking on backlog per instance: L1, because the L2 refuses metric math (gotcha 17)."""
        policy = autoscaling.CfnScalingPolicy
        return policy(
            self,
            "BacklogTracking",
            auto_scaling_group_name=self.auto_scaling_group.auto_scaling_group_name,
            policy_type="TargetTrackingScaling",
            estimated_instance_warmup=warmup.to_seconds(),
            target_tracking_configuration=policy.TargetTrackingConfigurationProperty(
                target_value=float(scaling.target_backlog_per_instance),
                customized_metric_specification=policy.CustomizedMetricSpecificationProperty(
                    metrics=[
                        policy.TargetTrackingMetricDataQueryProperty(
                            id="backlog",
                            metric_stat=policy.TargetTrackingMetricStatProperty(
                                metric=policy.MetricProperty(
                                    namespace="AWS/SQS",
                                    metric_name="ApproximateNumberOfMessagesVisible",
                                    dimensions=[
                                        policy.MetricDimensionProperty(
                                            name="QueueName", value=scaling.queue.queue_name
                                        )
                                    ],
                                ),
                                stat="Sum",
                            ),
                            return_data=False,
                        ),
                        policy.TargetTrackingMetricDataQueryProperty(
                            id="instances",
                            metric_stat=policy.TargetTrackingMetricStatProperty(
                                metric=policy.MetricProperty(
                                    namespace="AWS/AutoScaling",
                                    metric_name="GroupInServiceInstances",
                                    dimensions=[
                                        policy.MetricDimensionProperty(
                                            name="AutoScalingGroupName", value=self.auto_scaling_group_name
                                        )
                                    ],
                                ),
                                stat="Average",
                            ),
                            return_data=False,
                        ),
                        policy.TargetTrackingMetricDataQueryProperty(
                            id="backlog_per_instance",
                            expression="backlog / IF(instances > 0, instances, 1)",
                            label="Queue backlog per InService instance",
                            return_data=True,
                        ),
                    ]
                ),
            ),
        )

    def _warn(
        self,
        types: list[str],
        min_capacity: int,
        queue_backlog: QueueBacklogScaling | None,
        spot_percent_above_base: int,
    ) -> None:
        if spot_percent_above_base > 0 and len(types) == 1:
            cdk.Annotations.of(self).add_warning_v2(
                "inferwise:spot-diversity",
                f"instance_types has a single type ({types[0]}): Spot can use only one pool per Availability Zone, "
                "so interruptions are more frequent and capacity is more often unavailable. Add types of the "
                f"same accelerator (e.g. {', '.join(t for t in DEFAULT_INSTANCE_TYPES[self.accelerator] if t != types[0])}).",
            )
        if min_capacity == 0 and queue_backlog is None:
            cdk.Annotations.of(self).add_warning_v2(
                "inferwise:no-wake-from-zero",
                "min_capacity=0 without queue_backlog: at 0 instances there is no CPU metric, so target tracking "
                "cannot scale the group out again. Keep min_capacity >= 1 (off_hours still stops it at night) or "
                "add queue_backlog scaling.",
            )

    def _acknowledge(self, stack: cdk.Stack) -> None:
        role_acks = [
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
                reason=(
                    "Session Manager and Run Command replace SSH (no inbound admin port, no key pair); the AWS "
                    "managed policy is the documented minimum for an SSM-managed instance."
                ),
            ),
            cdk.Acknowledgment(
                id=iam5_resource_finding(stack, self._group_arn_pattern),
                reason=(
                    "An Auto Scaling group ARN embeds a generated UUID; the wildcard stands only for that UUID, "
                    "the group name is fixed, so instances can complete lifecycle actions of this group only."
                ),
            ),
        ]
        if isinstance(self.serving, ContainerServing) and (
            self._ecr_repository_wildcard is not None or _ECR_IMAGE.match(self.serving.image)
        ):
            role_acks.append(
                cdk.Acknowledgment(
                    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                    reason=(
                        "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to "
                        "the serving image's repository."
                    ),
                )
            )
        if self._ecr_repository_wildcard is not None:
            role_acks.append(
                cdk.Acknowledgment(
                    id=iam5_resource_finding(stack, self._ecr_repository_wildcard),
                    reason=(
                        "The serving image is a deploy-time token that names no repository at synth; pulls are "
                        "limited to this account's repositories in this Region."
                    ),
                )
            )
        cdk.Validations.of(self.role).acknowledge(*role_acks)
        cdk.Validations.of(self.auto_scaling_group).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-EC26",
                reason=(
                    "cdk-nag 3.0.2's EBS-encryption rule reads only the group's LaunchTemplate property and throws "
                    "on a MixedInstancesPolicy group; the launch template's only block device is an encrypted gp3 "
                    "root volume (tests/unit/test_spot_fleet.py asserts it)."
                ),
            ),
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-AS3",
                reason=(
                    "Spot replacements are routine for this fleet; scaling and interruption events are in the "
                    "group's activity history and on EventBridge (aws.autoscaling, aws.ec2), where a rule can "
                    "route the ones worth paging on, instead of an SNS notification for every launch and terminate."
                ),
            ),
        )


# ------------------------------------------------------------------------------------------ validation
def _seconds(value: cdk.Duration | None, default: int) -> int:
    if value is None:
        return default
    return int(value.to_seconds())


def _validate_instance_types(
    types: list[str], accelerator: Accelerator, catalog: PriceCatalog, region: str
) -> list[Ec2InstanceSpec]:
    if not types:
        raise ValueError(f"instance_types must list at least one instance type, got {types!r}")
    if len(types) > MAX_OVERRIDES:
        raise ValueError(
            f"instance_types may list at most {MAX_OVERRIDES} types (EC2 Auto Scaling), got {len(types)}"
        )
    duplicates = sorted({t for t in types if types.count(t) > 1})
    if duplicates:
        raise ValueError(f"instance_types lists {', '.join(duplicates)} more than once; list each type once")
    specs = [ec2_instance_spec(t) for t in types]
    architectures = {s.architecture for s in specs}
    if len(architectures) > 1:
        by_arch = {a: [s.instance_type for s in specs if s.architecture == a] for a in sorted(architectures)}
        raise ValueError(
            "instance_types mixes CPU architectures under one AMI: "
            + "; ".join(f"{a}: {', '.join(ts)}" for a, ts in by_arch.items())
            + f". One launch template has one AMI; use only {ARCHITECTURE_OF[accelerator]} types for "
            f"accelerator={accelerator!r}"
        )
    for spec in specs:
        if spec.accelerator != accelerator:
            raise ValueError(
                f"instance_types has {spec.instance_type!r}, a {spec.accelerator} type, but accelerator="
                f"{accelerator!r} takes {'inf2.*' if accelerator == 'inferentia2' else 'Graviton c7g, m7g, r7g or c8g'} "
                f"types, e.g. {', '.join(DEFAULT_INSTANCE_TYPES[accelerator])}"
            )
    for spec in specs:
        try:
            catalog.price(EC2_SERVICE, spec.instance_type, region, ON_DEMAND_DIMENSION)
        except UnknownPriceError:
            priced = sorted(
                r.sku
                for r in catalog.records(EC2_SERVICE, region)
                if r.dimension == ON_DEMAND_DIMENSION and _is_type_of(r.sku, accelerator)
            )
            raise ValueError(
                f"instance_types has {spec.instance_type!r}, which has no EC2 On-Demand price for {region} in the "
                f"price catalogue; {accelerator} types priced there: {', '.join(priced) or 'none'}. Pick one of "
                'those or add an override record (cdk.json context "inferwise:prices", docs/prices.md)'
            ) from None
    return specs


def _is_type_of(instance_type: str, accelerator: Accelerator) -> bool:
    try:
        return ec2_instance_spec(instance_type).accelerator == accelerator
    except ValueError:
        return False


def _validate(
    *,
    accelerator: Accelerator,
    serving: object,
    on_demand_base: int,
    spot_percent_above_base: int,
    min_capacity: int,
    max_capacity: int,
    root_volume_gib: int,
    default_ami: bool,
    heartbeat_seconds: int,
    drain_seconds: int,
    target_cpu_utilization: float | None,
    queue_backlog: QueueBacklogScaling | None,
    off_hours: OffHours | None,
    warm_pool: bool,
    usage: FleetUsage,
) -> None:
    if not isinstance(serving, ContainerServing | UserDataServing):
        raise ValueError(f"serving must be a ContainerServing or a UserDataServing, got {serving!r}")
    check_whole_number("on_demand_base", on_demand_base, 0)
    check_whole_number("spot_percent_above_base", spot_percent_above_base, 0, 100)
    check_whole_number("min_capacity", min_capacity, 0)
    check_whole_number("max_capacity", max_capacity, 1)
    if min_capacity > max_capacity:
        raise ValueError(f"min_capacity must be <= max_capacity ({max_capacity}), got {min_capacity}")
    if on_demand_base > max_capacity:
        raise ValueError(
            f"on_demand_base must be <= max_capacity ({max_capacity}), got {on_demand_base}: the group can never "
            "run that many On-Demand instances"
        )
    check_whole_number("root_volume_gib", root_volume_gib, 1, 16384)
    if default_ami and root_volume_gib < MIN_ROOT_VOLUME_GIB[accelerator]:
        raise ValueError(
            f"root_volume_gib must be >= {MIN_ROOT_VOLUME_GIB[accelerator]} for the default {accelerator} AMI "
            f"({AMI_PARAMETERS[accelerator]}, whose snapshot is that large), got {root_volume_gib}; pass "
            "machine_image for a smaller AMI"
        )
    if not 30 <= heartbeat_seconds <= 7200:
        raise ValueError(
            f"lifecycle_heartbeat_timeout must be between 30 and 7200 seconds (EC2 Auto Scaling), got "
            f"{heartbeat_seconds} s"
        )
    if not 0 <= drain_seconds <= heartbeat_seconds - COMPLETE_MARGIN_SECONDS:
        raise ValueError(
            f"drain_timeout must be between 0 and lifecycle_heartbeat_timeout - {COMPLETE_MARGIN_SECONDS} s "
            f"({heartbeat_seconds - COMPLETE_MARGIN_SECONDS} s), so the agent can complete the lifecycle action "
            f"before the hook times out, got {drain_seconds} s"
        )
    if target_cpu_utilization is not None and (
        isinstance(target_cpu_utilization, bool)
        or not isinstance(target_cpu_utilization, int | float)
        or not 0 < target_cpu_utilization <= 100
    ):
        raise ValueError(
            f"target_cpu_utilization must be a percentage in (0, 100] or None, got {target_cpu_utilization!r}"
        )
    if queue_backlog is not None and not isinstance(queue_backlog, QueueBacklogScaling):
        raise ValueError(f"queue_backlog must be a QueueBacklogScaling or None, got {queue_backlog!r}")
    if off_hours is not None:
        if not isinstance(off_hours, OffHours):
            raise ValueError(f"off_hours must be an OffHours or None, got {off_hours!r}")
        unix_recurrence(off_hours.cron, "off_hours.cron")
        unix_recurrence(off_hours.resume_cron, "off_hours.resume_cron")
    if warm_pool and spot_percent_above_base > 0:
        raise ValueError(
            f"warm_pool=True needs an On-Demand-only fleet (spot_percent_above_base=0), got "
            f"spot_percent_above_base={spot_percent_above_base}: EC2 Auto Scaling refuses a warm pool on a "
            "mixed-instances group that requests Spot (CDK would not catch it until deploy)"
        )
    if not isinstance(usage, FleetUsage):
        raise ValueError(f"usage must be a FleetUsage, got {usage!r}")
    if Decimal(str(usage.average_instances)) > max_capacity:
        raise ValueError(
            f"usage.average_instances must be <= max_capacity ({max_capacity}), got {usage.average_instances:g}"
        )


# ------------------------------------------------------------------------------------------ user data
def _group_name(parts: Sequence[str]) -> str:
    """A stable Auto Scaling group name from the stack name and construct path (at most 255 characters)."""
    cleaned = [re.sub(r"[^a-zA-Z0-9]+", "-", part).strip("-") for part in parts]
    name = "-".join(part for part in cleaned if part)
    if len(name) <= 255:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:246].rstrip('-')}-{digest}"


def agent_source() -> bytes:
    """The drain agent's source as shipped in the wheel (`inferwise/fleet_agent/drain.py`)."""
    return resources.files("inferwise.fleet_agent").joinpath("drain.py").read_bytes()


def _agent_install_commands() -> list[str]:
    """Write the agent from a gzip+base64 heredoc (about a third of its size, for the 16 KB user-data limit)
    and check it against the sha256 of the file in the wheel."""
    source = agent_source()
    packed = b64encode(gzip.compress(source, compresslevel=9, mtime=0)).decode()
    digest = hashlib.sha256(source).hexdigest()
    return [
        f"# inferwise drain agent: inferwise/fleet_agent/drain.py, sha256 {digest}",
        "mkdir -p /opt/inferwise /var/log/inferwise",
        f"base64 -d > {AGENT_PATH}.gz <<'INFERWISE_AGENT'",
        *textwrap.wrap(packed, 76),
        "INFERWISE_AGENT",
        f"gunzip -f {AGENT_PATH}.gz",
        f"echo '{digest}  {AGENT_PATH}' | sha256sum -c -",
    ]


def _agent_service_commands(args: Sequence[str]) -> list[str]:
    command = shlex.join(["exec", "/usr/bin/python3", AGENT_PATH, *args])
    return [
        "cat > /opt/inferwise/drain.sh <<'INFERWISE_EOF'",
        "#!/bin/bash",
        command,
        "INFERWISE_EOF",
        "cat > /etc/systemd/system/inferwise-drain.service <<'INFERWISE_EOF'",
        "[Unit]",
        "Description=inferwise drain agent (Spot interruption notice and Auto Scaling termination)",
        "After=network-online.target docker.service",
        "Wants=network-online.target",
        "[Service]",
        "ExecStart=/bin/bash /opt/inferwise/drain.sh",
        "Restart=on-failure",
        "RestartSec=5",
        f"StandardOutput=append:{DRAIN_LOG}",
        f"StandardError=append:{DRAIN_LOG}",
        "[Install]",
        "WantedBy=multi-user.target",
        "INFERWISE_EOF",
        "systemctl daemon-reload",
        "systemctl enable --now inferwise-drain.service",
    ]


def _cloudwatch_agent_commands(log_group_name: str) -> list[str]:
    """Ship the drain log and the boot log to the fleet's log group: a terminated instance's journal is gone."""
    return [
        "if dnf install -y amazon-cloudwatch-agent; then",
        "cat > /opt/inferwise/cloudwatch-agent.json <<'INFERWISE_EOF'",
        '{"logs": {"logs_collected": {"files": {"collect_list": [',
        f'  {{"file_path": "{DRAIN_LOG}", "log_group_name": "{log_group_name}", '
        '"log_stream_name": "{instance_id}/drain"},',
        f'  {{"file_path": "/var/log/cloud-init-output.log", "log_group_name": "{log_group_name}", '
        '"log_stream_name": "{instance_id}/boot"}',
        "]}}}}",
        "INFERWISE_EOF",
        "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s "
        "-c file:/opt/inferwise/cloudwatch-agent.json",
        "fi",
    ]


def _container_commands(
    serving: ContainerServing, log_group_name: str, region: str, accelerator: Accelerator
) -> list[str]:
    run = ["docker", "run", "--detach", "--name", serving.container_name, "--restart", "unless-stopped"]
    run += ["--publish", f"{serving.port}:{serving.port}", "--log-driver", "awslogs"]
    run += ["--log-opt", f"awslogs-region={region}", "--log-opt", f"awslogs-group={log_group_name}"]
    for key, value in serving.environment.items():
        run += ["--env", f"{key}={value}"]
    devices = " $NEURON_DEVICES" if accelerator == "inferentia2" else ""
    docker_run = (
        shlex.join(run)
        + ' --log-opt "awslogs-stream=$INSTANCE_ID/serving"'
        + devices
        + ' "$IMAGE"'
        + "".join(" " + shlex.quote(word) for word in serving.command)
    )
    commands = [
        "# --- serving container (ContainerServing) ---",
        "IMDS_TOKEN=$(curl -fsS -X PUT http://169.254.169.254/latest/api/token "
        "-H 'X-aws-ec2-metadata-token-ttl-seconds: 300')",
        'INSTANCE_ID=$(curl -fsS -H "X-aws-ec2-metadata-token: $IMDS_TOKEN" '
        "http://169.254.169.254/latest/meta-data/instance-id)",
        "command -v docker >/dev/null || dnf install -y docker",
        "systemctl enable --now docker",
        f"IMAGE={shlex.quote(serving.image)}",
        'REGISTRY="${IMAGE%%/*}"',
        'case "$REGISTRY" in *.dkr.ecr.*.amazonaws.com*)',
        '  aws ecr get-login-password --region "$(echo "$REGISTRY" | cut -d. -f4)" '
        '| docker login --username AWS --password-stdin "$REGISTRY";;',
        "esac",
        'docker pull "$IMAGE"',
    ]
    if accelerator == "inferentia2":
        commands.append(
            "NEURON_DEVICES=$( (ls /dev/neuron* 2>/dev/null || true) | sed 's/^/--device=/' | tr '\\n' ' ')"
        )
    commands.append(docker_run)
    return commands


def _user_data_size(stack: cdk.Stack, rendered: str) -> int:
    """Bytes of the user data once deployed, counting each deploy-time value (e.g. a log group name) as
    TOKEN_BYTES, more than CloudFormation-generated names take."""
    resolved = stack.resolve(rendered)
    if isinstance(resolved, str):
        return len(resolved.encode())
    parts = resolved["Fn::Join"][1]
    return sum(len(p.encode()) if isinstance(p, str) else TOKEN_BYTES for p in parts)
