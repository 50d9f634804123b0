"""The synth-time cost report: a CDK validation plugin that runs after the templates are written."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii

from inferwise import __version__
from inferwise.cost.recording import MissingPrice, missing_in, missing_prices_message
from inferwise.cost.render import usd
from inferwise.cost.report import (
    ConstructCost,
    CostReport,
    render_table,
    report_from_templates,
    write_report_files,
)

PLUGIN_NAME = "inferwise-cost"
CAP_RULE = "monthly-cost-cap"
MISSING_PRICES_RULE = "missing-prices"
CAP_ACKNOWLEDGEMENT_ID = f"{PLUGIN_NAME}::{CAP_RULE}"
"""What `Validations.of(app).acknowledge(Acknowledgment(id=..., reason=...))` takes to let synth pass the cap."""


def _validate_cap(max_monthly_usd: Any) -> Decimal | None:
    if max_monthly_usd is None:
        return None
    cap: Decimal | None = None
    if isinstance(max_monthly_usd, int | float | Decimal | str) and not isinstance(max_monthly_usd, bool):
        try:
            cap = Decimal(str(max_monthly_usd))
        except InvalidOperation:
            cap = None
    if cap is None or not cap.is_finite() or cap <= 0:
        raise ValueError(f"max_monthly_usd must be a positive number of US dollars, got {max_monthly_usd!r}")
    return cap


@jsii.implements(cdk.IPolicyValidationPlugin)
class CostReportPlugin:
    """Collects every `inferwise:cost` estimate after synthesis, writes the report, enforces the cap.

    Writes `cost-report.json` and `cost-report.md` into the cloud assembly directory, prints a compact
    table to stderr, and fails synth when the total exceeds `max_monthly_usd`, naming the three largest
    contributors (one violation at the largest one's resource, so CDK prints it once; acknowledged with
    `CAP_ACKNOWLEDGEMENT_ID`). An estimate made with a missing price fails synth and writes no report.
    """

    def __init__(self, outdir: Path, max_monthly_usd: Decimal | None = None) -> None:
        self._outdir = outdir
        self._cap = max_monthly_usd
        self.last_report: CostReport | None = None

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [CAP_RULE, MISSING_PRICES_RULE]

    def validate(self, context: cdk.IPolicyValidationContext) -> cdk.PolicyValidationPluginReport:
        report = report_from_templates(context.template_paths)
        incomplete = _incomplete(report)
        if incomplete is not None:
            return cdk.PolicyValidationPluginReport(success=False, violations=[incomplete])
        self.last_report = report
        write_report_files(report, self._outdir)
        print(render_table(report), file=sys.stderr, end="")
        if self._cap is None or report.monthly_total <= self._cap:
            return cdk.PolicyValidationPluginReport(success=True, violations=[])
        top = report.largest(3)
        named = "; ".join(f"{c.estimate.construct_path} {usd(c.estimate.monthly_total)}" for c in top)
        violation = cdk.PolicyViolation(
            rule_name=CAP_RULE,
            severity="error",
            description=(
                f"Estimated monthly cost {usd(report.monthly_total)} exceeds the cap of {usd(self._cap)}. "
                f"Largest contributors: {named}."
            ),
            fix="Lower the workload's usage assumptions or choose a cheaper pattern, or raise max_monthly_usd.",
            violating_resources=[_resource(top[0])],
        )
        return cdk.PolicyValidationPluginReport(success=False, violations=[violation])


def _resource(construct: ConstructCost) -> cdk.PolicyViolatingResource:
    """The one resource a violation points at. CDK prints a violation once per violating resource, so each
    violation names one (the largest contributor, or the first incomplete estimate) and its description the
    rest: the message is printed once."""
    return cdk.PolicyViolatingResource(
        resource_logical_id=construct.logical_id,
        template_path=str(construct.template_path),
        locations=["Metadata/inferwise:cost"],
    )


def _incomplete(report: CostReport) -> cdk.PolicyViolation | None:
    """A violation naming every estimate made with a missing price (marked lines), or None.

    Synth normally stops earlier (the stack's missing-price validation); this keeps an incomplete estimate out
    of the report even when node validation is skipped.
    """
    found = [(c, missing_in(c.estimate)) for c in report.constructs]
    found = [(c, keys) for c, keys in found if keys]
    if not found:
        return None
    misses = []
    for construct, keys in found:
        for key in keys:
            service, rest = key.split("/", 1)
            sku, region, dimension = rest.rsplit("/", 2)
            misses.append(
                MissingPrice(
                    construct.stack, construct.estimate.construct_path, service, sku, region, dimension
                )
            )
    return cdk.PolicyViolation(
        rule_name=MISSING_PRICES_RULE,
        severity="error",
        description=missing_prices_message(misses),
        fix="Add the missing prices to a price override file (docs/prices.md, When a price is missing).",
        violating_resources=[_resource(found[0][0])],
    )


def enable_cost_report(
    app: cdk.App, *, max_monthly_usd: float | int | Decimal | None = None
) -> CostReportPlugin:
    """Write a cost report into the cloud assembly at every synth, and optionally cap the monthly total.

    `max_monthly_usd`: fail synth when the estimated monthly total of every stack exceeds it.
    Returns the plugin, whose `last_report` holds the report after `app.synth()`.
    """
    plugin = CostReportPlugin(Path(app.outdir), _validate_cap(max_monthly_usd))
    cdk.Validations.of(app).add_plugins(plugin)
    return plugin
