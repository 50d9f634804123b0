"""Where and how the fleet's instances launch: the group's name, its subnets, the security group that opens
only the serving port, the AMI and the launch template (IMDSv2 only, hop limit 1 unless a container needs the
instance role, encrypted gp3 root volume)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.nag import CHECKOV_REASONS, checkov_skip
from inferwise.constructs.spot_fleet.props import AMI_PARAMETERS
from inferwise.cost.specs.ec2 import Accelerator


def group_name(parts: Sequence[str]) -> str:
    """A stable Auto Scaling group name from the stack name and construct path (at most 255 characters)."""
    cleaned = [re.sub(r"[^a-zA-Z0-9]+", "-", part).strip("-") for part in parts]
    name = "-".join(part for part in cleaned if part)
    if len(name) <= 255:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:246].rstrip('-')}-{digest}"


def has_public_subnets(vpc: ec2.IVpc, selection: ec2.SubnetSelection) -> bool:
    """Whether `selection` picks public subnets (the instances then need public IPv4 addresses)."""
    try:
        return vpc.select_subnets(
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


def serving_security_group(
    scope: Construct, vpc: ec2.IVpc, name: str, port: int, allowed_peer: ec2.IPeer | None
) -> ec2.SecurityGroup:
    """A security group that admits the serving port only, from `allowed_peer` or else the VPC's CIDR block."""
    security_group = ec2.SecurityGroup(
        scope,
        "SecurityGroup",
        vpc=vpc,
        description=f"inferwise fleet {name}: serving port only",
        allow_all_outbound=True,
    )
    peer = allowed_peer or ec2.Peer.ipv4(vpc.vpc_cidr_block)
    security_group.add_ingress_rule(peer, ec2.Port.tcp(port), f"inference requests on port {port}")
    if allowed_peer is None and cdk.Token.is_unresolved(vpc.vpc_cidr_block):
        cdk.Validations.of(security_group).acknowledge(
            cdk.Acknowledgment(
                id="AwsSolutions::AwsSolutions-EC23",
                reason=(
                    "The only ingress rule admits the serving port from the VPC's own CIDR block, a "
                    "CloudFormation attribute the open-ingress rule cannot evaluate at synth (it throws); "
                    "nothing is open to 0.0.0.0/0."
                ),
            )
        )
    return security_group


def fleet_machine_image(
    accelerator: Accelerator, machine_image: ec2.IMachineImage | None
) -> ec2.IMachineImage:
    """`machine_image`, or the accelerator's default AMI resolved from its public SSM parameter at each launch."""
    return machine_image or ec2.MachineImage.resolve_ssm_parameter_at_launch(
        AMI_PARAMETERS[accelerator], os=ec2.OperatingSystemType.LINUX
    )


def fleet_launch_template(
    scope: Construct,
    *,
    machine_image: ec2.IMachineImage,
    role: iam.IRole,
    security_group: ec2.ISecurityGroup,
    user_data: ec2.UserData,
    public_ipv4: bool,
    root_device_name: str,
    root_volume_gib: int,
    hop_limit: int,
) -> ec2.LaunchTemplate:
    """IMDSv2 only, answering `hop_limit` network hops (1: the host only; 2: containers too), and one
    encrypted gp3 root volume."""
    template = ec2.LaunchTemplate(
        scope,
        "LaunchTemplate",
        machine_image=machine_image,
        role=role,
        security_group=security_group,
        user_data=user_data,
        http_endpoint=True,
        http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
        http_put_response_hop_limit=hop_limit,
        instance_metadata_tags=False,
        associate_public_ip_address=True if public_ipv4 else None,
        block_devices=[
            ec2.BlockDevice(
                device_name=root_device_name,
                volume=ec2.BlockDeviceVolume.ebs(
                    root_volume_gib,
                    encrypted=True,
                    delete_on_termination=True,
                    volume_type=ec2.EbsDeviceVolumeType.GP3,
                ),
            )
        ],
    )
    if public_ipv4:
        checkov_skip(template, "CKV_AWS_88", CHECKOV_REASONS["public-ip-no-nat"])
    return template
