"""`inferwise actual --suggest-usage FILE`: a usage file with the month's observed usage per construct path.

The bill counts what AWS meters (tokens, instance-hours), not the workload figures an estimate assumes
(records, active hours, average instances). Each pattern below turns one metered quantity into the figure it
drives, keeps every other assumption of the estimate (read from the estimate's own assumptions), and writes
the figure under the construct's path, so the next synth estimates from reality:

| pattern | metered (Cost Explorer) | figure written | how |
|---|---|---|---|
| Bedrock batch inference | input and output tokens of the model (the estimate's token lines) | `records_per_month`, `output_tokens_per_record` | records = assumed records x billed input / estimated input tokens (input tokens per record and the duplicate share kept); output tokens per record = billed output tokens / the distinct records that implies |
| scale-to-zero endpoint | SageMaker hosting instance-hours | `active_hours_per_day` | hours / instances while active / days per month - the cold-start and scale-in minutes per day (days, instances and wake figures kept), within 0-24 |
| spot inference fleet | EC2 instance-hours, On-Demand and Spot, any instance type | `average_instances` | instance-hours / hours per month (the schedule kept) |

Other patterns (guardrails, on-demand baselines) have no figure the bill determines; they are listed as
skipped. Whole-number fields are rounded to whole numbers, so the next estimate matches the bill within
that rounding (and within the bill's calendar month against the estimate's 730 hours).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from inferwise.cost.actual.matching import ActualReport, ConstructDrift, LineDrift
from inferwise.cost.actual.services import BEDROCK, EC2, unit_factor
from inferwise.cost.model import CostEstimate

BATCH_PATTERN = "Bedrock batch inference"
ENDPOINT_PATTERN = "scale-to-zero endpoint"
FLEET_PATTERN = "spot inference fleet"
SAGEMAKER = "AmazonSageMaker"

NEEDED_SERVICES: dict[str, str] = {BATCH_PATTERN: BEDROCK, ENDPOINT_PATTERN: SAGEMAKER, FLEET_PATTERN: EC2}
"""Pattern -> the service whose usage types `--suggest-usage` needs, whatever its drift."""

_BATCH_RECORDS = re.compile(r"^([\d,]+) records a month in \d+ runs")
_BATCH_TOKENS = re.compile(r"^([\d,]+) input and ([\d,]+) output tokens per record")
_ENDPOINT_TRAFFIC = re.compile(r"^traffic ([\d.]+) h/day on ([\d.]+) days/month, (\d+) instance\(s\) serving")
_ENDPOINT_WAKES = re.compile(
    r"^([\d.]+) wake\(s\) from zero per active day, each billing a ([\d.]+)-min cold start and a ([\d.]+)-min scale-in tail"
)
_FLEET_USAGE = re.compile(r"^([\d.]+) instance\(s\) running on average for ([\d.]+) h/month")


@dataclass(frozen=True)
class Suggestion:
    """The figures suggested for one construct path, and how each was inferred."""

    construct_path: str
    pattern: str
    fields: dict[str, int | float]
    how: tuple[str, ...]


def needed_services(estimate: CostEstimate) -> Collection[str]:
    """The service codes whose lines `suggest` needs for this estimate (passed to `compare_month`)."""
    code = NEEDED_SERVICES.get(estimate.pattern)
    return () if code is None else (code,)


def suggest_usage(report: ActualReport) -> tuple[list[Suggestion], list[str]]:
    """One suggestion per construct whose figures the bill determines; and why each other one is skipped."""
    suggestions: list[Suggestion] = []
    skipped: list[str] = []
    for construct in report.constructs:
        infer = _INFERRERS.get(construct.estimate.pattern)
        if infer is None:
            skipped.append(
                f"{construct.path}: no usage figure of a {construct.estimate.pattern} follows from the bill"
            )
            continue
        if not construct.has_spend:
            skipped.append(f"{construct.path}: no spend carries its tag in {report.month.label}")
            continue
        try:
            suggestions.append(infer(construct))
        except _CannotInfer as why:
            skipped.append(f"{construct.path}: {why}")
    return suggestions, skipped


class _CannotInfer(Exception):
    pass


def _find(estimate: CostEstimate, pattern: re.Pattern[str]) -> re.Match[str]:
    for text in estimate.assumptions:
        found = pattern.match(text)
        if found:
            return found
    raise _CannotInfer(
        "the estimate's assumptions do not state its usage figures (written by another inferwise version?)"
    )


def _number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _billed(line: LineDrift) -> Decimal:
    quantity = line.actual_quantity
    if quantity is None:
        raise _CannotInfer(
            f"{line.label}: Cost Explorer's unit {line.actual.unit!r} does not convert to {line.estimate_unit!r}"
        )
    return quantity


def _line(construct: ConstructDrift, keys: Sequence[str]) -> LineDrift | None:
    for line in construct.lines:
        if line.key in keys and line.estimate_lines:
            return line
    return None


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _rounded(value: Decimal, places: str) -> float:
    return float(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


# ------------------------------------------------------------------------------------------ patterns
def _batch(construct: ConstructDrift) -> Suggestion:
    estimate = construct.estimate
    records = _number(_find(estimate, _BATCH_RECORDS)[1])
    tokens = _find(estimate, _BATCH_TOKENS)
    input_per_record, output_per_record = _number(tokens[1]), _number(tokens[2])
    input_line = _line(construct, ("tokens:batch-input", "tokens:input"))
    if input_line is None or input_line.estimated_quantity == 0:
        raise _CannotInfer("the estimate has no input tokens to scale from")
    ratio = _billed(input_line) / input_line.estimated_quantity
    new_records = _whole(records * ratio)
    fields: dict[str, int | float] = {"records_per_month": new_records}
    how = [
        f"records_per_month: {records:,} assumed x {_ratio(ratio)} (billed / estimated input tokens); "
        f"{input_per_record:,} input tokens per record and the duplicate share kept"
    ]
    output_line = _line(construct, ("tokens:batch-output", "tokens:output"))
    if output_line is not None and output_line.estimated_quantity > 0 and new_records > 0:
        out_ratio = _billed(output_line) / output_line.estimated_quantity
        fields["output_tokens_per_record"] = _whole(output_per_record * out_ratio * records / new_records)
        how.append(
            f"output_tokens_per_record: billed output tokens / the {new_records:,} records "
            f"(was {output_per_record:,})"
        )
    return Suggestion(construct.path, estimate.pattern, fields, tuple(how))


def _endpoint(construct: ConstructDrift) -> Suggestion:
    estimate = construct.estimate
    traffic = _find(estimate, _ENDPOINT_TRAFFIC)
    wakes = _find(estimate, _ENDPOINT_WAKES)
    days, instances = _number(traffic[2]), _number(traffic[3])
    wake_hours = _number(wakes[1]) * (_number(wakes[2]) + _number(wakes[3])) / 60
    hosting = [line for line in construct.lines if line.key.startswith("host:ml.") and line.estimate_lines]
    if not hosting or days == 0 or instances == 0:
        raise _CannotInfer("the estimate has no hosting instance-hours to scale from")
    hours = sum((_billed(line) for line in hosting), Decimal(0))
    active = min(Decimal(24), max(Decimal(0), hours / instances / days - wake_hours))
    how = (
        f"active_hours_per_day: {hours.normalize():f} instance-hours / {instances} instance(s) / {days} days "
        f"- {wake_hours.quantize(Decimal('0.01'))} h of cold starts and scale-in tails a day (was {traffic[1]})",
    )
    return Suggestion(
        construct.path, estimate.pattern, {"active_hours_per_day": _rounded(active, "0.01")}, how
    )


def _fleet(construct: ConstructDrift) -> Suggestion:
    estimate = construct.estimate
    usage = _find(estimate, _FLEET_USAGE)
    hours_per_month = _number(usage[2])
    instance_hours = Decimal(0)
    for line in construct.lines:
        if line.code == EC2 and line.key.startswith(("boxusage:", "spotusage:")) and line.services:
            factor = unit_factor(line.actual.unit, "Hrs")
            if factor is None:
                raise _CannotInfer(f"{line.label}: Cost Explorer's unit {line.actual.unit!r} is not hours")
            instance_hours += line.actual.quantity * factor
    if hours_per_month == 0:
        raise _CannotInfer("the estimate assumes 0 hours a month: no average to infer")
    average = instance_hours / hours_per_month
    how = (
        f"average_instances: {instance_hours.normalize():f} instance-hours (On-Demand and Spot, every type) / "
        f"{hours_per_month} h/month (was {usage[1]})",
    )
    return Suggestion(
        construct.path, estimate.pattern, {"average_instances": _rounded(average, "0.001")}, how
    )


def _ratio(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP).normalize():f}"


_INFERRERS: dict[str, Callable[[ConstructDrift], Suggestion]] = {
    BATCH_PATTERN: _batch,
    ENDPOINT_PATTERN: _endpoint,
    FLEET_PATTERN: _fleet,
}


# ---------------------------------------------------------------------------------------------- file
def glob_escape(path: str) -> str:
    """A construct path as a usage-file selector that matches only itself (`*`, `?`, `[` escaped)."""
    return re.sub(r"([*?\[])", r"[\1]", path)


def render_usage_file(suggestions: Sequence[Suggestion], skipped: Sequence[str], report: ActualReport) -> str:
    """The usage file (the format `inferwise.cost.usage_file` reads), with how each figure was inferred."""
    month = report.month
    out = [
        f"# Suggested by `inferwise actual` from Cost Explorer, {month.label} "
        f"({month.start.isoformat()} to {month.end.isoformat()}, end exclusive"
        + (", a partial month" if month.partial else "")
        + ").",
        "# Each figure is the month's observed usage; docs/actual.md says how each is inferred.",
        "# Name this file with the cdk.json context key inferwise:usage-file and synth again.",
    ]
    out += [f"# skipped: {reason}" for reason in skipped]
    out.append("version: 1")
    if not suggestions:
        return "\n".join([*out, "constructs: {}", ""])
    out.append("constructs:")
    for suggestion in suggestions:
        out.append(f"  # {suggestion.construct_path} ({suggestion.pattern})")
        out += [f"  #   {how}" for how in suggestion.how]
        out.append(f"  {json.dumps(glob_escape(suggestion.construct_path))}:")
        out += [f"    {name}: {json.dumps(value)}" for name, value in suggestion.fields.items()]
    return "\n".join(out) + "\n"
