"""Cost Anomaly Detection: which monitor to create (or reuse), the alert threshold, and the two resources."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ce as ce
from aws_cdk import aws_sns as sns
from constructs import Construct

from inferwise.constructs.guardrails.props import plain, positive
from inferwise.constructs.validation import (
    InvalidTypeError,
    InvalidValueError,
    check_bool,
    check_choice,
    shown,
)

MONITOR_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:ce::\d{12}:anomalymonitor/[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class MonitorSpec:
    """The monitor to create: AWS services (DIMENSIONAL) or one cost allocation tag (CUSTOM)."""

    monitor_type: str
    dimension: str | None = None
    specification: str | None = None


MAX_IMPACT_PERCENT = Decimal(100_000)
"""Sanity limit of `anomaly_threshold_percent` (an anomaly 1,000 times the expected spend)."""


def anomaly_thresholds(enabled: object, usd: object, percent: object) -> dict[str, Any]:
    """The subscription's threshold expression: total impact in USD and/or percent, both must hold."""
    if not check_bool("anomaly_detection", enabled):
        return {}
    terms = []
    if usd is not None:
        terms.append(_threshold_term("ANOMALY_TOTAL_IMPACT_ABSOLUTE", positive("anomaly_threshold_usd", usd)))
    if percent is not None:
        terms.append(
            _threshold_term(
                "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                positive("anomaly_threshold_percent", percent, cap=MAX_IMPACT_PERCENT),
            )
        )
    if not terms:
        raise InvalidValueError(
            "anomaly_threshold_usd and anomaly_threshold_percent are both None: give at least one, "
            "or pass anomaly_detection=False"
        )
    return terms[0] if len(terms) == 1 else {"And": terms}


def _threshold_term(key: str, value: Decimal) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "MatchOptions": ["GREATER_THAN_OR_EQUAL"], "Values": [plain(value)]}}


def monitor_spec(
    enabled: bool,
    monitor_type: object,
    existing_arn: object,
    tags: Mapping[str, Sequence[str]] | None,
) -> MonitorSpec | None:
    """What monitor to create; None when an existing one is used or anomaly detection is off."""
    check_choice("anomaly_monitor_type", monitor_type, ("DIMENSIONAL", "CUSTOM"))
    if existing_arn is not None:
        if not isinstance(existing_arn, str) or (
            not cdk.Token.is_unresolved(existing_arn) and not MONITOR_ARN.fullmatch(existing_arn)
        ):
            raise (InvalidValueError if isinstance(existing_arn, str) else InvalidTypeError)(
                "existing_anomaly_monitor_arn must look like "
                f"arn:aws:ce::123456789012:anomalymonitor/<id>, got {shown(existing_arn)}"
            )
        return None
    if not enabled:
        return None
    if monitor_type == "DIMENSIONAL":
        return MonitorSpec("DIMENSIONAL", dimension="SERVICE")
    if monitor_type == "CUSTOM":
        if tags is None or len(tags) != 1 or len(next(iter(tags.values()))) > 10:
            raise InvalidValueError(
                "anomaly_monitor_type='CUSTOM' watches the cost allocation tag of cost_filter_tags: it needs "
                f"exactly one tag key with 1 to 10 values, got {dict(tags) if tags else tags!r}"
            )
        key, values = next(iter(tags.items()))
        spec = {"Tags": {"Key": key, "Values": list(values)}}
        return MonitorSpec("CUSTOM", specification=json.dumps(spec, separators=(",", ":")))
    raise AssertionError(monitor_type)  # check_choice above


_DIMENSIONAL_MONITORS = "_inferwise_dimensional_monitors"


def claim_dimensional_monitor(scope: Construct) -> None:
    """Record that `scope` creates its account's DIMENSIONAL SERVICE monitor; refuse a second one in the app.

    AWS allows one DIMENSIONAL monitor per dimension per account, and CloudFormation reports the second as
    `AlreadyExists` with message `null` (docs/aws-facts.md#anomaly-detection). Stacks without an account
    (environment-agnostic) count as one account, the one they will be deployed to.
    """
    stack = cdk.Stack.of(scope)
    account = (
        "the deploying account" if cdk.Token.is_unresolved(stack.account) else f"account {stack.account}"
    )
    root = scope.node.root
    claimed: dict[str, str] = getattr(root, _DIMENSIONAL_MONITORS, None) or {}
    first = claimed.get(account)
    if first is not None:
        raise InvalidValueError(
            f"anomaly_monitor_type must be 'CUSTOM' (or existing_anomaly_monitor_arn set) in {scope.node.path}, got "
            f"'DIMENSIONAL': {first} already creates the DIMENSIONAL SERVICE monitor of {account} in this app, and "
            "AWS allows one per account (docs/aws-facts.md#anomaly-detection). Pass "
            "existing_anomaly_monitor_arn=<that CostGuardrails>.anomaly_monitor_arn, anomaly_monitor_type='CUSTOM' "
            "or anomaly_detection=False"
        )
    claimed[account] = scope.node.path
    setattr(root, _DIMENSIONAL_MONITORS, claimed)


def anomaly_monitor(scope: Construct, spec: MonitorSpec) -> ce.CfnAnomalyMonitor:
    """The monitor, named after the guardrails' path (monitor names are unique per account)."""
    return ce.CfnAnomalyMonitor(
        scope,
        "AnomalyMonitor",
        monitor_name=f"{cdk.Names.unique_resource_name(scope, max_length=200, separator='-')}-monitor",
        monitor_type=spec.monitor_type,
        monitor_dimension=spec.dimension,
        monitor_specification=spec.specification,
    )


def anomaly_subscription(
    scope: Construct, monitor_arn: str, topic: sns.ITopic, thresholds: dict[str, Any]
) -> ce.CfnAnomalySubscription:
    """Immediate alerts of `monitor_arn`'s anomalies above `thresholds` to the topic."""
    return ce.CfnAnomalySubscription(
        scope,
        "AnomalySubscription",
        subscription_name=f"{cdk.Names.unique_resource_name(scope, max_length=200, separator='-')}-alerts",
        monitor_arn_list=[monitor_arn],
        frequency="IMMEDIATE",
        subscribers=[ce.CfnAnomalySubscription.SubscriberProperty(type="SNS", address=topic.topic_arn)],
        threshold_expression=json.dumps(thresholds, separators=(",", ":")),
    )
