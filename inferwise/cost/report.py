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


# ------------------------------------------------------------------------------------------- the reader
MANIFEST = "manifest.json"
STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
MAX_NESTED_ASSEMBLIES = 16
"""How deep Stage assemblies may nest (CDK nests one level per Stage)."""
MAX_SHOWN = 200
"""Characters of a parse error or a key quoted in a message."""

_EXPECTED_DIRECTORY = "expected a CDK cloud assembly directory (the cdk.out that `cdk synth` writes)"
_EXPECTED_MANIFEST = (
    'expected the manifest.json of a CDK cloud assembly (a JSON object with "version" and "artifacts")'
)
_EXPECTED_TEMPLATE = "expected a CloudFormation template written by `cdk synth` (a JSON object)"


def _short(text: object, limit: int = MAX_SHOWN) -> str:
    shown = " ".join(str(text).split())
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    names = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}
    return names.get(type(value), type(value).__name__)


def _read_json(path: Path, expected: str) -> Any:
    """The JSON document at `path`; a ReportError (naming the file and `expected`) for anything unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as bad:
        raise ReportError(f"cannot read {path} ({bad.strerror or type(bad).__name__}): {expected}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise ReportError(f"{path} is not UTF-8 text (byte {bad.start} is not): {expected}") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ReportError(f"{path} is JSON nested too deeply to read: {expected}") from None
    except ValueError as bad:  # JSONDecodeError, or an integer too long to convert
        raise ReportError(f"{path} is not valid JSON ({_short(bad)}): {expected}") from None


def _parse_estimate(template_path: Path, logical_id: str, entry: Any) -> CostEstimate:
    problem: object
    try:
        return CostEstimate.from_json(entry)
    except RecursionError:
        problem = "it is nested too deeply"
    except (EstimateFormatError, ArithmeticError, AttributeError, TypeError, ValueError) as bad:
        problem = bad
    raise ReportError(
        f"{template_path}: resource {_short(logical_id, 100)} has an {COST_METADATA_KEY} entry that does not parse: "
        f"{_short(problem)}"
    )


def estimates_in_template(template_path: Path) -> list[ConstructCost]:
    """Every `inferwise:cost` entry of one template; a ReportError names the template and resource."""
    template = _read_json(template_path, _EXPECTED_TEMPLATE)
    if not isinstance(template, dict):
        raise ReportError(
            f"{template_path} is {_kind(template)}, not a CloudFormation template: {_EXPECTED_TEMPLATE}"
        )
    resources = template.get("Resources", {})
    if not isinstance(resources, dict):
        raise ReportError(
            f"{template_path}: Resources is {_kind(resources)}: expected an object of resources by logical id"
        )
    found = []
    for logical_id, resource in sorted(resources.items()):
        where = f"{template_path}: resource {_short(logical_id, 100)}"
        if not isinstance(resource, dict):
            raise ReportError(f'{where} is {_kind(resource)}: expected an object with a "Type"')
        metadata = resource.get("Metadata", {})
        if not isinstance(metadata, dict):
            raise ReportError(f"{where} has Metadata that is {_kind(metadata)}: expected an object")
        entry = metadata.get(COST_METADATA_KEY)
        if entry is not None:
            estimate = _parse_estimate(template_path, logical_id, entry)
            found.append(ConstructCost(stack_name(template_path), logical_id, template_path, estimate))
    return found


def report_from_templates(template_paths: Iterable[Path | str]) -> CostReport:
    constructs = [c for path in template_paths for c in estimates_in_template(Path(path))]
    constructs.sort(key=lambda c: (c.stack, c.estimate.construct_path, c.logical_id))
    return CostReport(tuple(constructs))


def read_manifest(cdk_out: Path) -> dict[str, Any]:
    """The manifest of a CDK cloud assembly, refusing anything else (a CDKTF output, another tool's manifest)."""
    if not cdk_out.exists():
        raise ReportError(f"{cdk_out} does not exist: {_EXPECTED_DIRECTORY}; run `cdk synth` first")
    if not cdk_out.is_dir():
        raise ReportError(
            f"{cdk_out} is a file, not a directory: {_EXPECTED_DIRECTORY}, which holds manifest.json"
        )
    manifest_path = cdk_out / MANIFEST
    if not manifest_path.is_file():
        raise ReportError(
            f"{cdk_out} is not a cloud assembly: it has no manifest.json (run `cdk synth` first, "
            "or pass the directory it wrote, usually cdk.out)"
        )
    manifest = _read_json(manifest_path, _EXPECTED_MANIFEST)
    if not isinstance(manifest, dict):
        raise ReportError(
            f"{manifest_path} is {_kind(manifest)}, not a CDK cloud assembly manifest: {_EXPECTED_MANIFEST}"
        )
    if "artifacts" not in manifest and isinstance(manifest.get("stacks"), dict):
        raise ReportError(
            f"{cdk_out} is a CDK for Terraform (cdktf) output, not an AWS CDK cloud assembly: inferwise reads the "
            "CloudFormation templates of `cdk synth` (aws-cdk-lib)"
        )
    wrong = [
        f'"{key}" is {"missing" if key not in manifest else _kind(manifest[key])}'
        for key, kind in (("version", str), ("artifacts", dict))
        if not isinstance(manifest.get(key), kind)
    ]
    if wrong:
        raise ReportError(
            f"{manifest_path} is not a CDK cloud assembly manifest ({', '.join(wrong)}): {_EXPECTED_MANIFEST}"
        )
    return manifest


def _artifact_path(cdk_out: Path, artifact_id: str, artifact: Any) -> tuple[str, Path] | None:
    """(artifact type, the template or nested assembly it names) for a stack or a nested assembly, else None."""
    where = f"{cdk_out / MANIFEST}: artifact {_short(artifact_id, 100)}"
    if not isinstance(artifact, dict) or not isinstance(artifact.get("type"), str):
        raise ReportError(f'{where} is {_kind(artifact)}: expected an object with a "type"')
    kind = artifact["type"]
    if kind not in (STACK_ARTIFACT, NESTED_ASSEMBLY_ARTIFACT):
        return None
    key = "templateFile" if kind == STACK_ARTIFACT else "directoryName"
    properties = artifact.get("properties")
    value = properties.get(key) if isinstance(properties, dict) else None
    if not isinstance(value, str) or not value:
        raise ReportError(f"{where} ({kind}) has no properties.{key}: expected a path inside {cdk_out}")
    target = cdk_out / value
    if not target.resolve().is_relative_to(cdk_out.resolve()):
        raise ReportError(
            f"{where} ({kind}) names {_short(value)}, outside the assembly: expected a path inside {cdk_out}"
        )
    exists = target.is_file() if kind == STACK_ARTIFACT else (target / MANIFEST).is_file()
    if not exists:
        what = "template" if kind == STACK_ARTIFACT else "nested assembly (with a manifest.json)"
        raise ReportError(
            f"{where} names the {what} {_short(value)}, which is not in {cdk_out}: expected the complete cdk.out "
            "that `cdk synth` wrote"
        )
    return kind, target


def cloud_assembly_templates(cdk_out: Path, *, _seen: tuple[Path, ...] = ()) -> list[Path]:
    """The stack templates of a cloud assembly (nested Stage assemblies included), read from manifest.json.

    Anything that is not a CDK cloud assembly is a ReportError naming the path and what was expected; an
    assembly whose templates hold no estimate is valid (a report with no constructs).
    """
    if len(_seen) > MAX_NESTED_ASSEMBLIES or cdk_out.resolve() in _seen:
        raise ReportError(
            f"{cdk_out}: nested cloud assemblies loop or go deeper than {MAX_NESTED_ASSEMBLIES} levels: "
            "expected the Stage assemblies `cdk synth` writes"
        )
    manifest = read_manifest(cdk_out)
    templates: list[Path] = []
    for artifact_id, artifact in manifest["artifacts"].items():
        named = _artifact_path(cdk_out, artifact_id, artifact)
        if named is None:
            continue
        kind, path = named
        if kind == STACK_ARTIFACT:
            templates.append(path)
        else:
            templates.extend(cloud_assembly_templates(path, _seen=(*_seen, cdk_out.resolve())))
    return sorted(templates)


def report_from_cloud_assembly(cdk_out: Path) -> CostReport:
    return report_from_templates(cloud_assembly_templates(Path(cdk_out)))


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
