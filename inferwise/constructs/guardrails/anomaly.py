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

from inferwise.constructs.guardrails.props import Amount, plain, positive

MONITOR_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:ce::\d{12}:anomalymonitor/[A-Za-z0-9-]+$")


@dataclass(frozen=True)
class MonitorSpec:
    """The monitor to create: AWS services (DIMENSIONAL) or one cost allocation tag (CUSTOM)."""

    monitor_type: str
    dimension: str | None = None
    specification: str | None = None


def anomaly_thresholds(enabled: bool, usd: Amount | None, percent: Amount | None) -> dict[str, Any]:
    """The subscription's threshold expression: total impact in USD and/or percent, both must hold."""
    if not enabled:
        return {}
    terms = []
    if usd is not None:
        terms.append(_threshold_term("ANOMALY_TOTAL_IMPACT_ABSOLUTE", positive("anomaly_threshold_usd", usd)))
    if percent is not None:
        terms.append(
            _threshold_term("ANOMALY_TOTAL_IMPACT_PERCENTAGE", positive("anomaly_threshold_percent", percent))
        )
    if not terms:
        raise ValueError(
            "anomaly_threshold_usd and anomaly_threshold_percent are both None: give at least one, "
            "or pass anomaly_detection=False"
        )
    return terms[0] if len(terms) == 1 else {"And": terms}


def _threshold_term(key: str, value: Decimal) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "MatchOptions": ["GREATER_THAN_OR_EQUAL"], "Values": [plain(value)]}}


def monitor_spec(
    enabled: bool,
    monitor_type: str,
    existing_arn: str | None,
    tags: Mapping[str, Sequence[str]] | None,
) -> MonitorSpec | None:
    """What monitor to create; None when an existing one is used or anomaly detection is off."""
    if existing_arn is not None:
        if not cdk.Token.is_unresolved(existing_arn) and not MONITOR_ARN.match(existing_arn):
            raise ValueError(
                "existing_anomaly_monitor_arn must look like "
                f"arn:aws:ce::123456789012:anomalymonitor/<id>, got {existing_arn!r}"
            )
        return None
    if not enabled:
        return None
    if monitor_type == "DIMENSIONAL":
        return MonitorSpec("DIMENSIONAL", dimension="SERVICE")
    if monitor_type == "CUSTOM":
        if tags is None or len(tags) != 1 or len(next(iter(tags.values()))) > 10:
            raise ValueError(
                "anomaly_monitor_type='CUSTOM' watches the cost allocation tag of cost_filter_tags: it needs "
                f"exactly one tag key with 1 to 10 values, got {dict(tags) if tags else tags!r}"
            )
        key, values = next(iter(tags.items()))
        spec = {"Tags": {"Key": key, "Values": list(values)}}
        return MonitorSpec("CUSTOM", specification=json.dumps(spec, separators=(",", ":")))
    raise ValueError(f"anomaly_monitor_type must be 'DIMENSIONAL' or 'CUSTOM', got {monitor_type!r}")


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
