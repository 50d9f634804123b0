"""The cost report: every `inferwise:cost` estimate in a cloud assembly, per stack, with totals.

The report is built from synthesized templates alone, so the synth-time plugin and `inferwise report`
(which imports no user code) produce the same bytes from the same cloud assembly. Its figures are the
rounded ones of `inferwise.cost.render`: each construct's total in cents, every total a sum of those, so
the table, the markdown and the JSON add up and agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from inferwise.cost.model import COST_METADATA_KEY, CostEstimate, EstimateFormatError
from inferwise.cost.render import (
    estimate_json,
    estimate_total,
    line_costs,
    md_cell,
    percent,
    quantity,
    share,
    usd,
)

REPORT_JSON = "cost-report.json"
REPORT_MARKDOWN = "cost-report.md"
TEMPLATE_SUFFIX = ".template.json"


class ReportError(ValueError):
    """Input the report cannot be built from: not a cloud assembly, or an estimate that does not parse."""


@dataclass(frozen=True)
class ConstructCost:
    """One estimate as found in a template: which stack, which resource carries it."""

    stack: str
    logical_id: str
    template_path: Path
    estimate: CostEstimate

    @property
    def monthly_total(self) -> Decimal:
        """The estimate's monthly total in cents, as every rendering shows it."""
        return estimate_total(self.estimate)

    @property
    def baseline_total(self) -> Decimal:
        """What the naive alternative costs, in cents; a construct without one counts at its own cost."""
        baseline = self.estimate.baseline
        return self.monthly_total if baseline is None else estimate_total(baseline)


@dataclass(frozen=True)
class CostReport:
    """All estimates of a cloud assembly, ordered by stack then construct path."""

    constructs: tuple[ConstructCost, ...]

    @cached_property
    def monthly_total(self) -> Decimal:
        """The sum of the constructs' totals in cents (so it is what their rows add up to)."""
        return sum((c.monthly_total for c in self.constructs), Decimal(0))

    @cached_property
    def baseline_total(self) -> Decimal:
        return sum((c.baseline_total for c in self.constructs), Decimal(0))

    @property
    def savings_usd(self) -> Decimal:
        return self.baseline_total - self.monthly_total

    @property
    def savings_percent(self) -> Decimal | None:
        """The saving as a share of the baseline, to one decimal; None when the baseline is $0."""
        return share(self.savings_usd, self.baseline_total)

    def stacks(self) -> list[str]:
        return sorted({c.stack for c in self.constructs})

    def stack_total(self, stack: str) -> Decimal:
        return sum((c.monthly_total for c in self.constructs if c.stack == stack), Decimal(0))

    def largest(self, count: int) -> list[ConstructCost]:
        return sorted(self.constructs, key=lambda c: (-c.estimate.monthly_total, c.estimate.construct_path))[
            :count
        ]


def stack_name(template_path: Path) -> str:
    """`cdk.out/assembly-Prod/ProdBatch.template.json` -> `ProdBatch` (the stack's artifact id)."""
    return template_path.name.removesuffix(TEMPLATE_SUFFIX)


def estimates_in_template(template_path: Path) -> list[ConstructCost]:
    """Every `inferwise:cost` entry of one template; a ReportError names the template and resource."""
    try:
        template = json.loads(template_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as bad:
        raise ReportError(f"cannot read template {template_path}: {bad}") from None
    found = []
    for logical_id, resource in sorted((template.get("Resources") or {}).items()):
        entry = (resource.get("Metadata") or {}).get(COST_METADATA_KEY)
        if entry is None:
            continue
        try:
            estimate = CostEstimate.from_json(entry)
        except EstimateFormatError as bad:
            raise ReportError(
                f"{template_path}: resource {logical_id} has an {COST_METADATA_KEY} entry that does not parse: {bad}"
            ) from None
        found.append(ConstructCost(stack_name(template_path), logical_id, template_path, estimate))
    return found


def report_from_templates(template_paths: Iterable[Path | str]) -> CostReport:
    constructs = [c for path in template_paths for c in estimates_in_template(Path(path))]
    constructs.sort(key=lambda c: (c.stack, c.estimate.construct_path, c.logical_id))
    return CostReport(tuple(constructs))


def cloud_assembly_templates(cdk_out: Path) -> list[Path]:
    """The stack templates of a cloud assembly (nested Stage assemblies included), read from manifest.json."""
    manifest_path = cdk_out / "manifest.json"
    if not manifest_path.is_file():
        raise ReportError(
            f"{cdk_out} is not a cloud assembly: it has no manifest.json (run `cdk synth` first, "
            "or pass the directory it wrote, usually cdk.out)"
        )
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as bad:
        raise ReportError(f"{manifest_path} is not valid JSON: {bad}") from None
    templates: list[Path] = []
    for artifact in (manifest.get("artifacts") or {}).values():
        properties = artifact.get("properties") or {}
        if artifact.get("type") == "aws:cloudformation:stack":
            templates.append(cdk_out / properties["templateFile"])
        elif artifact.get("type") == "cdk:cloud-assembly":
            templates.extend(cloud_assembly_templates(cdk_out / properties["directoryName"]))
    return sorted(templates)


def report_from_cloud_assembly(cdk_out: Path) -> CostReport:
    return report_from_templates(cloud_assembly_templates(cdk_out))


def render_json(report: CostReport) -> str:
    """The report as JSON: money in cents (each construct rounded once, every total a sum of those), unit
    prices at catalogue precision, quantities to six decimals; docs/cost-model.md lists the fields."""
    data: dict[str, Any] = {
        "x_SchemaVersion": 1,
        "BillingCurrency": "USD",
        "ListCost": str(report.monthly_total),
        "x_BaselineCost": str(report.baseline_total),
        "x_SavingsUSD": str(report.savings_usd),
        "x_SavingsPercent": None if report.savings_percent is None else str(report.savings_percent),
        "x_Stacks": [
            {
                "x_StackName": stack,
                "ListCost": str(report.stack_total(stack)),
                "x_Constructs": [
                    {"x_LogicalId": c.logical_id, **estimate_json(c.estimate)}
                    for c in report.constructs
                    if c.stack == stack
                ],
            }
            for stack in report.stacks()
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _rows(report: CostReport) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for c in report.constructs:
        e = c.estimate
        saved = c.baseline_total - c.monthly_total
        saved_share = share(saved, c.baseline_total)
        saving = (
            "-"
            if e.baseline is None
            else usd(saved) + ("" if saved_share is None else f" ({percent(saved_share)})")
        )
        baseline = "-" if e.baseline is None else f"{usd(c.baseline_total)} {e.baseline.pattern}"
        rows.append((c.stack, e.construct_path, e.pattern, usd(c.monthly_total), baseline, saving))
    return rows


HEADERS = ("Stack", "Construct", "Pattern", "Monthly", "Baseline", "Saving")


def _total_row(report: CostReport) -> tuple[str, ...]:
    saved_share = report.savings_percent
    saving = usd(report.savings_usd) + ("" if saved_share is None else f" ({percent(saved_share)})")
    return ("TOTAL", "", "", usd(report.monthly_total), usd(report.baseline_total), saving)


def render_table(report: CostReport) -> str:
    """A fixed-width table for a terminal."""
    if not report.constructs:
        return "inferwise: no cost estimates found in this cloud assembly\n"
    rows: Sequence[tuple[str, ...]] = [HEADERS, *_rows(report), _total_row(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    numeric = {3, 4, 5}

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(rows[0]), rule, *(fmt(r) for r in rows[1:-1]), rule, fmt(rows[-1])]
    return "inferwise monthly cost estimate (USD, 730 h/month)\n" + "\n".join(lines) + "\n"


def render_markdown(report: CostReport) -> str:
    """A Markdown report: the summary table, then each construct's lines and assumptions."""
    out = ["# inferwise cost report", ""]
    if not report.constructs:
        return "\n".join([*out, "No cost estimates found in this cloud assembly.", ""])
    saved_share = report.savings_percent
    out.append(
        f"**{usd(report.monthly_total)}/month** against a naive baseline of {usd(report.baseline_total)}/month"
        + ("" if saved_share is None else f": saves {usd(report.savings_usd)} ({percent(saved_share)})")
        + "."
    )
    out += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    out += [
        "| " + " | ".join(md_cell(cell) for cell in row) + " |"
        for row in [*_rows(report), _total_row(report)]
    ]
    for c in report.constructs:
        e = c.estimate
        out += ["", f"## {md_cell(e.construct_path)} ({c.stack})", ""]
        out += [
            "| Component | Quantity | Unit | Unit price | Monthly | Category | Price source |",
            "|---|---:|---|---:|---:|---|---|",
        ]
        for line, cost in zip(e.lines, line_costs(e), strict=True):
            out.append(
                f"| {md_cell(line.component)} | {quantity(line.monthly_quantity)} | {md_cell(line.pricing_unit)} "
                f"| ${line.unit_price.normalize():f} | {usd(cost)} | {line.pricing_category} "
                f"| {md_cell(line.price_source)} ({line.price_as_of.isoformat()}, {line.confidence}) |"
            )
        assumptions = [*e.assumptions, *(a for line in e.lines for a in line.assumptions)]
        if assumptions:
            out += ["", "Assumptions:", *(f"- {md_cell(a)}" for a in dict.fromkeys(assumptions))]
        if e.notes:
            out += ["", "Notes:", *(f"- {md_cell(n)}" for n in e.notes)]
    return "\n".join(out) + "\n"


def write_report_files(report: CostReport, outdir: Path) -> tuple[Path, Path]:
    json_path, md_path = outdir / REPORT_JSON, outdir / REPORT_MARKDOWN
    json_path.write_text(render_json(report), encoding="utf-8")
    md_path.write_text(render_markdown(report), encoding="utf-8")
    return json_path, md_path
