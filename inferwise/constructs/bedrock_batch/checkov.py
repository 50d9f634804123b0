"""What the pipeline does about the Checkov policy checks users run on CDK output.

Cheap fixes are made where the resources are built (function environments are encrypted with the
pipeline's key, log groups too when the pipeline created that key: `inferwise.constructs.log_encryption`);
each deliberate deviation gets a Checkov skip with its written reason here, as cdk-nag findings get
acknowledgements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from inferwise.constructs.log_encryption import skip_unencrypted_log_groups
from inferwise.constructs.nag import checkov_skip

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
    skip_unencrypted_log_groups(pipeline)
