"""What the pipeline does about the Checkov policy checks users run on CDK output.

Cheap fixes are made where the resources are built (log groups and function environments are encrypted
with the pipeline's key when the pipeline created that key); each deliberate deviation gets a Checkov skip
with its written reason here, as cdk-nag findings get acknowledgements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3

from inferwise.constructs.nag import CHECKOV_REASONS, checkov_skip

if TYPE_CHECKING:
    from inferwise.constructs.bedrock_batch.construct import BedrockBatchPipeline

FUNCTION_SKIPS: dict[str, str] = {
    "CKV_AWS_117": (
        "The functions call only AWS APIs (S3, DynamoDB, Bedrock, Step Functions, CloudWatch); a VPC would "
        "need a NAT gateway ($32.85/month) or interface endpoints ($7.30/month per AZ each) and protect "
        "nothing more than the IAM scoping does."
    ),
    "CKV_AWS_116": (
        "The state machine invokes these functions synchronously and its Retry/Catch handle every error; the "
        "events function's deliveries are retried by its EventBridge target, so a function DLQ would never "
        "receive anything."
    ),
    "CKV_AWS_115": (
        "Concurrency is bounded by the state machine (at most max_concurrent_jobs shards at once); reserved "
        "concurrency would take from the account's unreserved pool (10 on new accounts) and throttle runs."
    ),
}
BUCKET_VERSIONING = (
    "Run files and logs are written once and expired by lifecycle rules; versioning would keep non-current "
    "copies and multiply the storage the estimate prices."
)
ACCESS_LOG_RECURSION = (
    "This bucket receives the pipeline buckets' access logs; logging its own access would recurse (the same "
    "reason as its cdk-nag S1 acknowledgement)."
)
TABLE_RECOVERY = (
    "The table holds short-lived coordination state only (task tokens that expire with their executions, "
    "counters of the jobs running now, markers of steps done); a point-in-time restore would bring back "
    "state that no longer matches the running jobs (the same reason as its cdk-nag DDB3 acknowledgement)."
)


def logs_encryption_key(pipeline: BedrockBatchPipeline) -> kms.IKey | None:
    """The pipeline's key for its log groups, allowed to the CloudWatch Logs service of this Region, when the
    pipeline created the key; `None` (service-owned encryption) for a key the user passed, whose policy the
    pipeline cannot change."""
    if not pipeline.creates_key:
        return None
    stack = cdk.Stack.of(pipeline)
    pipeline.key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsUseOfTheKey",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )
    )
    return pipeline.key


def acknowledge_checkov(pipeline: BedrockBatchPipeline) -> None:
    """Skip, with reasons, the Checkov checks the pipeline deviates from on purpose."""
    for child in pipeline.node.find_all():
        if isinstance(child, lambda_.CfnFunction):
            for check_id, reason in FUNCTION_SKIPS.items():
                checkov_skip(child, check_id, reason)
        elif isinstance(child, s3.CfnBucket):
            checkov_skip(child, "CKV_AWS_21", BUCKET_VERSIONING)
            if child.node.scope is pipeline.access_log_bucket:
                checkov_skip(child, "CKV_AWS_18", ACCESS_LOG_RECURSION)
        elif isinstance(child, dynamodb.CfnTable):
            checkov_skip(child, "CKV_AWS_28", TABLE_RECOVERY)
        elif isinstance(child, logs.CfnLogGroup) and not pipeline.creates_key:
            checkov_skip(child, "CKV_AWS_158", CHECKOV_REASONS["log-group-kms"])
