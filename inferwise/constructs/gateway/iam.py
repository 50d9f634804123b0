"""What the gateway function may do: Converse and ConverseStream on the route models only, read and write
its budget table, use the table's key through DynamoDB, write its own log group; and the cdk-nag
acknowledgements that are left.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from inferwise.constructs.nag import iam5_resource_finding

INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
"""Converse is authorized as bedrock:InvokeModel, ConverseStream as bedrock:InvokeModelWithResponseStream
(there are no bedrock:Converse* actions, docs/aws-facts.md)."""


def grant_function(
    scope: Construct,
    function: lambda_.Function,
    invoke_statements: Sequence[iam.PolicyStatement],
    table: dynamodb.Table,
    key: kms.IKey,
) -> None:
    """`invoke_statements`: Bedrock through the tenants' inference profiles (`profiles.invoke_statements`)."""
    stack = cdk.Stack.of(scope)
    for statement in invoke_statements:
        function.add_to_role_policy(statement)
    resources = [arn for statement in invoke_statements for arn in statement.resources]
    function.add_to_role_policy(
        iam.PolicyStatement(actions=["dynamodb:UpdateItem", "dynamodb:GetItem"], resources=[table.table_arn])
    )
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{stack.region}.amazonaws.com"}},
        )
    )
    for arn in resources:
        if ":*::foundation-model/" in arn:
            assert function.role is not None
            cdk.Validations.of(function.role).acknowledge(
                cdk.Acknowledgment(
                    id=iam5_resource_finding(stack, arn),
                    reason=(
                        "A cross-Region inference profile routes each call to the model in any Region it "
                        "serves, so InvokeModel must be allowed on the foundation model in every Region; the "
                        "model itself is named, and only through the tenants' profiles "
                        "(bedrock:InferenceProfileArn)."
                    ),
                )
            )
