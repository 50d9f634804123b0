"""CloudWatch embedded metric format (EMF): one log line per request becomes metrics per tenant and route.

Lambda sends stdout to CloudWatch Logs, which extracts the metrics: no PutMetricData call, no extra latency.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

NAMESPACE = "inferwise/Gateway"
METRICS = (
    ("CostUSD", "None"),
    ("InputTokens", "Count"),
    ("OutputTokens", "Count"),
    ("CacheReadInputTokens", "Count"),
    ("CacheWriteInputTokens", "Count"),
    ("Escalations", "Count"),
    ("SkippedEscalations", "Count"),  # streamed small-model answers that would have escalated
    ("BudgetRefusals", "Count"),
)
"""The metrics of every line (`GatewayUsage` prices len(METRICS) x tenants x routes custom metrics)."""
ENDPOINT_METRICS = (("EndpointCalls", "Count"), ("Fallbacks", "Count"))
"""Added on routes whose primary is a SageMaker endpoint: calls to it, and requests it had no capacity for
(answered by, or refused a budget for, the Bedrock fallback model)."""


def emf_line(
    tenant: str,
    route: str,
    values: Mapping[str, float | int],
    properties: Mapping[str, object],
    now_ms: int | None = None,
) -> str:
    """One EMF JSON line: dimensions Tenant and Route, every metric of METRICS (0 when absent), and those of
    ENDPOINT_METRICS that `values` names."""
    metrics = METRICS + tuple(m for m in ENDPOINT_METRICS if m[0] in values)
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if now_ms is None else now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Tenant", "Route"]],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics],
                }
            ],
        },
        "Tenant": tenant,
        "Route": route,
        **{name: values.get(name, 0) for name, _ in metrics},
        **properties,
    }
    return json.dumps(document, separators=(",", ":"))
