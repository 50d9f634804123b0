"""The alerts topic, encrypted with a customer-managed key whose policy lets AWS Budgets, Cost Anomaly
Detection and (with token-spend alarms) CloudWatch publish: with `alias/aws/sns` they cannot, and every
notification fails silently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct


def alerts_topic(
    scope: Construct,
    stack: cdk.Stack,
    *,
    alarms: bool,
    subscriptions: Sequence[sns.ITopicSubscription],
) -> tuple[kms.Key, sns.Topic]:
    """The key and the topic, with the key and topic policy statements each publisher needs."""
    key = kms.Key(
        scope,
        "TopicKey",
        description=f"Encrypts the cost-guardrail alerts topic of {scope.node.path}",
        enable_key_rotation=True,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        pending_window=cdk.Duration.days(7),
    )
    topic = sns.Topic(scope, "AlertsTopic", master_key=key, enforce_ssl=True)
    publishers = ["budgets.amazonaws.com", "costalerts.amazonaws.com"]
    if alarms:
        publishers.append("cloudwatch.amazonaws.com")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCostServicesToPublishEncrypted",
            principals=[iam.ServicePrincipal(service) for service in publishers],
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
    topic.add_to_resource_policy(
        _publish_statement(
            "AllowBudgetsToPublish",
            "budgets.amazonaws.com",
            topic,
            stack.account,
            source_arn=f"arn:{stack.partition}:budgets::{stack.account}:*",
        )
    )
    topic.add_to_resource_policy(
        _publish_statement(
            "AllowCostAnomalyDetectionToPublish", "costalerts.amazonaws.com", topic, stack.account
        )
    )
    if alarms:
        topic.add_to_resource_policy(
            _publish_statement(
                "AllowAlarmsToPublish",
                "cloudwatch.amazonaws.com",
                topic,
                stack.account,
                source_arn=f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*",
            )
        )
    for subscription in subscriptions:
        topic.add_subscription(subscription)
    return key, topic


def topic_policy(topic: sns.Topic) -> sns.TopicPolicy:
    """The topic's resource policy, which what publishes must depend on."""
    return next(child for child in topic.node.children if isinstance(child, sns.TopicPolicy))


def _publish_statement(
    sid: str, service: str, topic: sns.ITopic, account: str, *, source_arn: str | None = None
) -> iam.PolicyStatement:
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions=conditions,
    )
