"""`SpotInferenceFleet`, the construct: validate the props, build the parts, estimate, record."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from inferwise.constructs.nag import CHECKOV_REASONS, checkov_skip
from inferwise.constructs.schedule import OffHours
from inferwise.constructs.spot_fleet.iam import acknowledge_role, grant_instance_permissions, instance_role
from inferwise.constructs.spot_fleet.launch import (
    fleet_launch_template,
    fleet_machine_image,
    group_name,
    has_public_subnets,
    serving_security_group,
)
from inferwise.constructs.spot_fleet.props import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_HEARTBEAT_SECONDS,
    DEFAULT_WARMUP_SECONDS,
    ContainerServing,
    QueueBacklogScaling,
    UserDataServing,
    check_capacity,
    check_fleet_props,
    check_instances,
    check_scaling,
    check_usage,
    imds_hop_limit,
    instance_type_list,
    seconds,
    validate_instance_types,
)
from inferwise.constructs.spot_fleet.scaling import backlog_policy, off_hours_actions
from inferwise.constructs.spot_fleet.user_data import LIFECYCLE_HOOK_NAME, fleet_user_data
from inferwise.cost.catalog import catalog_for
from inferwise.cost.estimators.spot_fleet import FleetUsage, estimate_gpu_comparison, estimate_spot_fleet
from inferwise.cost.model import CostEstimate
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.specs.ec2 import DEFAULT_INSTANCE_TYPES, DEFAULT_ROOT_VOLUME_GIB, Accelerator
from inferwise.cost.usage_file import apply_usage_file


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
        container_needs_instance_role: bool = False,
        session_manager: bool = False,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        usage: FleetUsage | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        allowed_peer = check_fleet_props(
            vpc, vpc_subnets, allowed_peer, machine_image, instance_warmup, log_retention, root_device_name
        )
        types = instance_type_list(accelerator, instance_types)
        self._region, region_assumptions = pricing_region(self)
        self._catalog = catalog_for(self)
        specs = validate_instance_types(types, accelerator, self._catalog, self._region)
        effective_usage, usage_assumptions = apply_usage_file(self, usage or FleetUsage())
        heartbeat = seconds(lifecycle_heartbeat_timeout, DEFAULT_HEARTBEAT_SECONDS)
        drain = seconds(drain_timeout, DEFAULT_DRAIN_SECONDS)
        volume = DEFAULT_ROOT_VOLUME_GIB[accelerator] if root_volume_gib is None else root_volume_gib
        check_capacity(serving, on_demand_base, spot_percent_above_base, min_capacity, max_capacity)
        check_instances(accelerator, volume, machine_image is None, heartbeat, drain)
        check_scaling(target_cpu_utilization, queue_backlog, off_hours, warm_pool, spot_percent_above_base)
        check_usage(effective_usage, max_capacity, min_capacity, off_hours, usage_assumptions)
        self.accelerator = accelerator
        self.instance_types = tuple(types)
        self.instance_specs = tuple(specs)
        self.serving = serving
        self.on_demand_base = on_demand_base
        self.spot_percent_above_base = spot_percent_above_base
        self.usage = effective_usage
        self.imds_hop_limit = imds_hop_limit(container_needs_instance_role, session_manager)

        stack = cdk.Stack.of(self)
        self.auto_scaling_group_name = group_name([stack.stack_name, *self._path_below_stack()])
        selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        public_ipv4 = has_public_subnets(vpc, selection)
        self._add_security_group_logs_and_role(vpc, allowed_peer, log_retention, session_manager)
        self.machine_image = fleet_machine_image(accelerator, machine_image)
        self.user_data = self._user_data(stack, drain)
        self.launch_template = self._launch_template(public_ipv4, root_device_name, volume)
        warmup = instance_warmup or cdk.Duration.seconds(DEFAULT_WARMUP_SECONDS[accelerator])
        self._add_group(
            vpc, selection, min_capacity, max_capacity, warmup, queue_backlog, heartbeat, warm_pool
        )
        grants = grant_instance_permissions(
            self.role, stack, self.auto_scaling_group_name, self.log_group, serving
        )
        self._add_scaling(
            target_cpu_utilization, queue_backlog, off_hours, min_capacity, max_capacity, warmup
        )
        self._record_estimate(
            region_assumptions, usage_assumptions, volume, public_ipv4, max_capacity, warm_pool, off_hours
        )
        self._warn(types, min_capacity, queue_backlog, spot_percent_above_base)
        acknowledge_role(self.role, stack, serving, grants, session_manager)
        self._acknowledge_group()

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

    def _add_security_group_logs_and_role(
        self,
        vpc: ec2.IVpc,
        allowed_peer: ec2.IPeer | None,
        log_retention: logs.RetentionDays,
        session_manager: bool,
    ) -> None:
        self.security_group = serving_security_group(
            self, vpc, self.auto_scaling_group_name, self.serving.port, allowed_peer
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention)
        checkov_skip(self.log_group, "CKV_AWS_158", CHECKOV_REASONS["log-group-kms"])
        self.role = instance_role(self, self.auto_scaling_group_name, session_manager)

    def _user_data(self, stack: cdk.Stack, drain_seconds: int) -> ec2.UserData:
        return fleet_user_data(
            stack,
            group_name=self.auto_scaling_group_name,
            serving=self.serving,
            log_group_name=self.log_group.log_group_name,
            accelerator=self.accelerator,
            drain_seconds=drain_seconds,
        )

    def _launch_template(self, public_ipv4: bool, root_device_name: str, volume: int) -> ec2.LaunchTemplate:
        return fleet_launch_template(
            self,
            machine_image=self.machine_image,
            role=self.role,
            security_group=self.security_group,
            user_data=self.user_data,
            public_ipv4=public_ipv4,
            root_device_name=root_device_name,
            root_volume_gib=volume,
            hop_limit=self.imds_hop_limit,
        )

    def _add_group(
        self,
        vpc: ec2.IVpc,
        selection: ec2.SubnetSelection,
        min_capacity: int,
        max_capacity: int,
        warmup: cdk.Duration,
        queue_backlog: QueueBacklogScaling | None,
        heartbeat_seconds: int,
        warm_pool: bool,
    ) -> None:
        """The group: every distribution field explicit (the API defaults are 100 % On-Demand and lowest-price
        Spot), capacity rebalancing, the drain lifecycle hook and, if asked, a stopped warm pool."""
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
                    on_demand_base_capacity=self.on_demand_base,
                    on_demand_percentage_above_base_capacity=100 - self.spot_percent_above_base,
                    spot_allocation_strategy=autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
                ),
                launch_template_overrides=[
                    autoscaling.LaunchTemplateOverrides(instance_type=ec2.InstanceType(t))
                    for t in self.instance_types
                ],
            ),
        )
        self.lifecycle_hook = self.auto_scaling_group.add_lifecycle_hook(
            "DrainHook",
            lifecycle_hook_name=LIFECYCLE_HOOK_NAME,
            lifecycle_transition=autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
            heartbeat_timeout=cdk.Duration.seconds(heartbeat_seconds),
            default_result=autoscaling.DefaultResult.CONTINUE,
        )
        if warm_pool:
            self.auto_scaling_group.add_warm_pool(pool_state=autoscaling.PoolState.STOPPED, min_size=0)

    def _add_scaling(
        self,
        target_cpu_utilization: float | None,
        queue_backlog: QueueBacklogScaling | None,
        off_hours: OffHours | None,
        min_capacity: int,
        max_capacity: int,
        warmup: cdk.Duration,
    ) -> None:
        """Target tracking on CPU and on queue backlog per instance, and the off-hours schedule, as asked."""
        self.cpu_scaling: autoscaling.TargetTrackingScalingPolicy | None = None
        if target_cpu_utilization is not None:
            self.cpu_scaling = self.auto_scaling_group.scale_on_cpu_utilization(
                "CpuTracking",
                target_utilization_percent=target_cpu_utilization,
                estimated_instance_warmup=warmup,
            )
        self.backlog_scaling: autoscaling.CfnScalingPolicy | None = None
        if queue_backlog is not None:
            self.backlog_scaling = backlog_policy(
                self, self.auto_scaling_group, self.auto_scaling_group_name, queue_backlog, warmup
            )
        self.scheduled_actions: list[autoscaling.ScheduledAction] = []
        if off_hours is not None:
            self.scheduled_actions = off_hours_actions(
                self.auto_scaling_group, off_hours, min_capacity, max_capacity
            )

    def _record_estimate(
        self,
        region_assumptions: tuple[str, ...],
        usage_assumptions: tuple[str, ...],
        volume: int,
        public_ipv4: bool,
        max_capacity: int,
        warm_pool: bool,
        off_hours: OffHours | None,
    ) -> None:
        """Record the estimate on the group resource; for Inferentia2 also price the On-Demand GPU alternative."""
        estimate = estimate_spot_fleet(
            accelerator=self.accelerator,
            instance_types=self.instance_types,
            on_demand_base=self.on_demand_base,
            spot_percent_above_base=self.spot_percent_above_base,
            root_volume_gib=volume,
            usage=self.usage,
            catalog=self._catalog,
            region=self._region,
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
        if self.accelerator == "inferentia2":
            self.gpu_comparison = estimate_gpu_comparison(
                instance_type=self.instance_types[0],
                root_volume_gib=volume,
                usage=self.usage,
                catalog=self._catalog,
                region=self._region,
            )

    def _warn(
        self,
        types: list[str],
        min_capacity: int,
        queue_backlog: QueueBacklogScaling | None,
        spot_percent_above_base: int,
    ) -> None:
        """Warn about too few Spot pools, and about a group at zero that nothing can scale out again."""
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

    def _acknowledge_group(self) -> None:
        """Acknowledge the group's two cdk-nag findings that do not apply, each with its reason."""
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
