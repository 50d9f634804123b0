"""The Checkov checks the gateway deviates from on purpose, each skipped with its written reason.

Its log group and function environment are encrypted with the gateway's key where the gateway owns it
(`inferwise.constructs.log_encryption`); what is left is skipped here, as cdk-nag findings are acknowledged.
"""

from __future__ import annotations

from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from inferwise.constructs.log_encryption import skip_unencrypted_log_groups
from inferwise.constructs.nag import checkov_skip

FUNCTION_SKIPS: dict[str, str] = {
    "CKV_AWS_116": (
        "The function URL invokes the function synchronously and the caller receives every error as an HTTP "
        "status; a dead-letter queue only receives failed asynchronous invocations, so it would stay empty."
    ),
    "CKV_AWS_117": (
        "The function calls only AWS APIs (Bedrock, DynamoDB, SageMaker runtime); a VPC would need a NAT "
        "gateway ($32.85/month) or interface endpoints ($7.30/month per AZ each) and adds a hop to every "
        "request while protecting nothing more than the IAM scoping does."
    ),
    "CKV_AWS_115": (
        "Spend is bounded per tenant by the budget reservations, not by concurrency; reserved concurrency "
        "would take from the account's unreserved pool (10 on new accounts) and turn bursts into throttles."
    ),
}


def acknowledge_checkov(gateway: Construct) -> None:
    """Skip, with reasons, the Checkov checks the gateway deviates from on purpose."""
    for child in gateway.node.find_all():
        if isinstance(child, lambda_.CfnFunction):
            for check_id, reason in FUNCTION_SKIPS.items():
                checkov_skip(child, check_id, reason)
    skip_unencrypted_log_groups(gateway)
