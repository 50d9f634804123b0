"""What the Python snippets in README.md and docs/*.md import: an app, a stack, a VPC and a role.

A snippet on a construct's page starts with, for example,

    from examples.common import app, stack, vpc

and ends with `app.synth()`. Run it from the repository root (`python -m` or a file there, so that
`examples` is importable) or put this directory on PYTHONPATH; tests/docs/test_doc_snippets.py runs every
snippet that way. Everything here synthesizes offline: the stack has an explicit Region (prices and image
URIs are per Region) and nothing looks anything up in an AWS account.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam

from inferwise import enable_cost_report

REGION = "us-east-1"
"""The Region of the bundled price catalogue's widest coverage, and of the reference stacks."""

app = cdk.App()
"""A CDK app with the cost report on: `app.synth()` writes cost-report.json and cost-report.md."""
enable_cost_report(app)

stack = cdk.Stack(app, "DocsStack", env=cdk.Environment(region=REGION))
"""The stack every snippet adds its constructs to (physical names start with `DocsStack-`)."""

vpc = ec2.Vpc(
    stack,
    "Vpc",
    nat_gateways=0,  # no NAT gateway: public subnets only, as in the SpotFleetStack reference stack
    subnet_configuration=[
        ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
    ],
)
"""A VPC with two public subnets and no NAT gateway (no context lookup: `Fn::GetAZs` picks the zones)."""

app_role = iam.Role(
    stack,
    "AppRole",
    description="Stand-in for your application's runtime role",
    assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
)
"""The role your application runs as: snippets grant it access or deny it (a guardrails hard cap)."""
