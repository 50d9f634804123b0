"""The instances' role: completing this group's lifecycle actions, shipping logs, pulling the serving image
and, only if asked, Session Manager, each granted on the narrowest resource the API allows."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from inferwise.constructs.nag import iam5_resource_finding
from inferwise.constructs.spot_fleet.props import SESSION_MANAGER_ACTIONS, ContainerServing, UserDataServing
from inferwise.constructs.validation import ECR_IMAGE


@dataclass(frozen=True)
class InstanceGrants:
    """The wildcard resources granted, which the cdk-nag acknowledgements must name exactly."""

    group_arn_pattern: str
    ecr_repository_wildcard: str | None


def instance_role(scope: Construct, group_name: str, session_manager: bool) -> iam.Role:
    """The role of the instance profile, with no managed policy. No SSH key and no inbound admin port either
    way; with `session_manager`, an inline statement with exactly what SSM Agent needs for Session Manager
    (not AmazonSSMManagedInstanceCore, which also allows Run Command, State Manager, inventory, patching)."""
    role = iam.Role(
        scope,
        "InstanceRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description=f"Instances of inferwise fleet {group_name}",
    )
    if session_manager:
        role.add_to_policy(
            iam.PolicyStatement(sid="SessionManager", actions=list(SESSION_MANAGER_ACTIONS), resources=["*"])
        )
    return role


def grant_instance_permissions(
    role: iam.Role,
    stack: cdk.Stack,
    group_name: str,
    log_group: logs.ILogGroup,
    serving: ContainerServing | UserDataServing,
) -> InstanceGrants:
    """Complete this group's lifecycle actions, write to its log group, pull an ECR serving image."""
    group_arn = stack.format_arn(
        service="autoscaling",
        resource="autoScalingGroup",
        resource_name=f"*:autoScalingGroupName/{group_name}",
        arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="CompleteOwnLifecycleActions",
            actions=["autoscaling:CompleteLifecycleAction"],
            resources=[group_arn],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            sid="ShipFleetLogs",
            actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            resources=[log_group.log_group_arn],
        )
    )
    wildcard: str | None = None
    if isinstance(serving, ContainerServing):
        wildcard = _grant_image_pull(role, stack, serving.image)
    return InstanceGrants(group_arn_pattern=group_arn, ecr_repository_wildcard=wildcard)


def _grant_image_pull(role: iam.Role, stack: cdk.Stack, image: str) -> str | None:
    """Pull permission on the image's ECR repository (any of this account's for a deploy-time token);
    returns that wildcard repository ARN, if one was granted."""
    repository: str | None = None
    wildcard: str | None = None
    if cdk.Token.is_unresolved(image):
        repository = stack.format_arn(service="ecr", resource="repository", resource_name="*")
        wildcard = repository
    else:
        match = ECR_IMAGE.match(image)
        if match is not None:
            repository = stack.format_arn(
                service="ecr",
                region=match["region"],
                account=match["account"],
                resource="repository",
                resource_name=match["repository"],
            )
    if repository is not None:
        role.add_to_policy(
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
        role.add_to_policy(
            iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )
    return wildcard


def acknowledge_role(
    role: iam.Role,
    stack: cdk.Stack,
    serving: ContainerServing | UserDataServing,
    grants: InstanceGrants,
    session_manager: bool,
) -> None:
    """Acknowledge, one by one, the cdk-nag findings the role's necessary wildcards raise."""
    role_acks = [
        cdk.Acknowledgment(
            id=iam5_resource_finding(stack, grants.group_arn_pattern),
            reason=(
                "An Auto Scaling group ARN embeds a generated UUID; the wildcard stands only for that UUID, "
                "the group name is fixed, so instances can complete lifecycle actions of this group only."
            ),
        ),
    ]
    any_resource = []  # why a statement needs Resource "*"
    if isinstance(serving, ContainerServing) and (
        grants.ecr_repository_wildcard is not None or ECR_IMAGE.match(serving.image)
    ):
        any_resource.append(
            "ecr:GetAuthorizationToken has no resource-level permissions; image pulls are limited to the "
            "serving image's repository."
        )
    if session_manager:
        any_resource.append(
            "Session Manager (session_manager=True): the ssmmessages channel actions have no resource types, "
            "and AWS's own Session Manager-only instance policy grants these five actions on '*'; they let the "
            "instance's SSM Agent open sessions that IAM principals with ssm:StartSession start, nothing more."
        )
    if any_resource:
        role_acks.append(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]", reason=" ".join(any_resource)
            )
        )
    if grants.ecr_repository_wildcard is not None:
        role_acks.append(
            cdk.Acknowledgment(
                id=iam5_resource_finding(stack, grants.ecr_repository_wildcard),
                reason=(
                    "The serving image is a deploy-time token that names no repository at synth; pulls are "
                    "limited to this account's repositories in this Region."
                ),
            )
        )
    cdk.Validations.of(role).acknowledge(*role_acks)
