"""Log groups encrypted with a construct's own KMS key, when the construct created that key.

Checkov asks for customer-managed encryption of log groups (CKV_AWS_158). A construct that already made a
key for its data lets the CloudWatch Logs service of its Region use it for log groups of this account (the
encryption context names the log group), so no second key is bought. A key the user passed is left alone:
its policy belongs to the user, and the log group keeps the service-owned encryption, with a written skip.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from inferwise.constructs.nag import CHECKOV_REASONS, checkov_skip


def logs_encryption_key(owner: Construct, key: kms.IKey, *, creates_key: bool) -> kms.IKey | None:
    """`key`, allowed to CloudWatch Logs for this account's log groups, when `owner` created it; else None."""
    if not creates_key:
        return None
    stack = cdk.Stack.of(owner)
    key.add_to_resource_policy(
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
    return key


def skip_unencrypted_log_groups(owner: Construct) -> None:
    """The written Checkov skip for every log group under `owner` left with service-owned encryption."""
    for child in owner.node.find_all():
        if isinstance(child, logs.CfnLogGroup) and child.kms_key_id is None:
            checkov_skip(child, "CKV_AWS_158", CHECKOV_REASONS["log-group-kms"])
