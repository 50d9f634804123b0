"""The instances' role: Session Manager, completing this group's lifecycle actions, shipping logs and
pulling the serving image, each granted on the narrowest resource the API allows."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from inferwise.constructs.nag import iam5_resource_finding
from inferwise.constructs.spot_fleet.props import ContainerServing, UserDataServing
from inferwise.constructs.validation import ECR_IMAGE


@dataclass(frozen=True)
class InstanceGrants:
    """The wildcard resources granted, which the cdk-nag acknowledgements must name exactly."""

    group_arn_pattern: str
    ecr_repository_wildcard: str | None


def instance_role(scope: Construct, group_name: str) -> iam.Role:
    """The role of the instance profile; SSM-managed, so no SSH key or inbound admin port."""
    return iam.Role(
        scope,
        "InstanceRole",
        assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
        description=f"Instances of inferwise fleet {group_name}",
        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
    )


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
) -> None:
    """Acknowledge, one by one, the cdk-nag findings the role's necessary wildcards raise."""
    role_acks = [
        cdk.Acknowledgment(
            id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
            reason=(
                "Session Manager and Run Command replace SSH (no inbound admin port, no key pair); the AWS "
                "managed policy is the documented minimum for an SSM-managed instance."
            ),
        ),
        cdk.Acknowledgment(
            id=iam5_resource_finding(stack, grants.group_arn_pattern),
            reason=(
                "An Auto Scaling group ARN embeds a generated UUID; the wildcard stands only for that UUID, "
                "the group name is fixed, so instances can complete lifecycle actions of this group only."
            ),
        ),
    ]
    if isinstance(serving, ContainerServing) and (
        grants.ecr_repository_wildcard is not None or ECR_IMAGE.match(serving.image)
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
