"""How the group scales: target tracking on CPU, on queue backlog per instance (metric math through the L1
policy, which the L2 refuses; gotcha 17), and off-hours scheduled actions to zero."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_autoscaling as autoscaling
from constructs import Construct

from inferwise.constructs.schedule import OffHours
from inferwise.constructs.spot_fleet.props import QueueBacklogScaling, unix_recurrence


def backlog_policy(
    scope: Construct,
    group: autoscaling.AutoScalingGroup,
    group_name: str,
    scaling: QueueBacklogScaling,
    warmup: cdk.Duration,
) -> autoscaling.CfnScalingPolicy:
    """Target tracking on backlog per instance: L1, because the L2 refuses metric math (gotcha 17)."""
    policy = autoscaling.CfnScalingPolicy
    return policy(
        scope,
        "BacklogTracking",
        auto_scaling_group_name=group.auto_scaling_group_name,
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
                                        name="AutoScalingGroupName", value=group_name
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


def off_hours_actions(
    group: autoscaling.AutoScalingGroup, off_hours: OffHours, min_capacity: int, max_capacity: int
) -> list[autoscaling.ScheduledAction]:
    """Stop the whole group (min = max = desired = 0) at `off_hours.cron`; give the limits back at resume."""
    return [
        group.scale_on_schedule(
            "OffHoursStop",
            schedule=autoscaling.Schedule.expression(unix_recurrence(off_hours.cron, "off_hours.cron")),
            min_capacity=0,
            max_capacity=0,
            desired_capacity=0,
            time_zone=off_hours.time_zone,
        ),
        group.scale_on_schedule(
            "OffHoursResume",
            schedule=autoscaling.Schedule.expression(
                unix_recurrence(off_hours.resume_cron, "off_hours.resume_cron")
            ),
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            time_zone=off_hours.time_zone,
        ),
    ]
