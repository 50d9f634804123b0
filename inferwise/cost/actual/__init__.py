"""Actual spend against the estimates: `inferwise actual` and `inferwise tags activate`.

The parts: `query` (Cost Explorer requests, paging, months and error messages), `services` (Cost Explorer
service names, usage types and units against the estimate's), `matching` (tag values to construct paths, drift
and the lines that explain it), `render` (table, Markdown, JSON), `suggest` (a usage file from the observed
usage) and `activate` (cost allocation tag activation). The tag keys and the path-to-value rule are in
`inferwise.cost.tagging`. docs/actual.md shows a worked example.
"""

from __future__ import annotations

from inferwise.cost.actual.activate import DELAY, NOT_FOUND, TagOutcome, activate_tags, tag_statuses
from inferwise.cost.actual.matching import (
    ActualReport,
    ConstructDrift,
    LineDrift,
    ServiceDrift,
    compare_month,
)
from inferwise.cost.actual.query import (
    CE_REGION,
    METRICS,
    ActualError,
    Month,
    ce_client,
    last_full_month,
    month_period,
    parse_month,
)
from inferwise.cost.actual.render import explain, render_json, render_markdown, render_table
from inferwise.cost.actual.suggest import Suggestion, needed_services, render_usage_file, suggest_usage

__all__ = [
    "CE_REGION",
    "DELAY",
    "METRICS",
    "NOT_FOUND",
    "ActualError",
    "ActualReport",
    "ConstructDrift",
    "LineDrift",
    "Month",
    "ServiceDrift",
    "Suggestion",
    "TagOutcome",
    "activate_tags",
    "ce_client",
    "compare_month",
    "explain",
    "last_full_month",
    "month_period",
    "needed_services",
    "parse_month",
    "render_json",
    "render_markdown",
    "render_table",
    "render_usage_file",
    "suggest_usage",
    "tag_statuses",
]
