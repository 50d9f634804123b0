"""`inferwise actual` output: a terminal table, Markdown, or JSON (docs/actual.md lists the JSON fields).

Money is shown and written in cents: a construct's actual cost is rounded once and its drift is that minus
the estimate as the cost report shows it (also cents), so rows and totals add up. In JSON, amounts are strings
(`"1103.73"`), quantities have at most six decimals and unit prices keep their precision, as in the report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from inferwise.cost.actual.matching import ActualReport, ConstructDrift, LineDrift, ServiceDrift
from inferwise.cost.render import QUANTITY_PLACES, cents, percent, quantity, share, signed_usd, usd
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY

SCHEMA_VERSION = 1
HEADERS = ("Stack", "Construct", "Estimate", "Actual", "Amortized", "Drift", "Drift %")
UNTAGGED_LABEL = "(untagged)"
PRICE_PLACES = Decimal("0.0000000001")


# ------------------------------------------------------------------------------------------ wording
def unit_price(value: Decimal) -> str:
    """`$0.55`, `$0.0000133334`: four significant digits below a cent, four decimals above."""
    if value == 0:
        return "$0"
    places = Decimal("0.0001") if abs(value) >= Decimal("0.01") else Decimal(1).scaleb(value.adjusted() - 3)
    return f"${value.quantize(places, rounding=ROUND_HALF_UP).normalize():f}"


def signed_percent(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return ("+" if value > 0 else "") + percent(value)


def explain(line: LineDrift) -> str:
    """One sentence: what was billed against what was estimated, and whether usage or price made the gap."""
    cause = line.cause
    if cause == "not in the estimate":
        return f"{line.label}: {usd(line.actual.unblended)} billed, not in the estimate"
    if cause == "not billed":
        return f"{line.label}: {usd(line.estimated_cost)} estimated, nothing billed"
    billed, usage, price = line.actual_quantity, line.usage_effect, line.price_effect
    if billed is None or usage is None or price is None:
        return (
            f"{line.label}: {usd(line.actual.unblended)} billed vs {usd(line.estimated_cost)} estimated; "
            f"quantities not compared (Cost Explorer unit {line.actual.unit or 'none'!r}, "
            f"estimate unit {line.estimate_unit!r})"
        )
    unit = line.estimate_unit
    change = signed_percent(share(billed - line.estimated_quantity, line.estimated_quantity))
    per_unit = f" per {unit}"
    if cents(price) == 0 and line.estimated_unit_price is not None:
        price_text = f"price as estimated ({unit_price(line.estimated_unit_price)}{per_unit})"
    elif line.actual_unit_price is not None and line.estimated_unit_price is not None:
        price_text = (
            f"price {signed_usd(price)} ({unit_price(line.actual_unit_price)} vs "
            f"{unit_price(line.estimated_unit_price)}{per_unit})"
        )
    else:
        price_text = f"price {signed_usd(price)}"
    return (
        f"{line.label}: {cause}: {quantity(billed)} {unit} billed vs {quantity(line.estimated_quantity)} "
        f"estimated ({change}); usage {signed_usd(usage)}, {price_text}"
    )


# -------------------------------------------------------------------------------------------- table
def _row(c: ConstructDrift) -> tuple[str, ...]:
    return (
        c.stack,
        c.path,
        usd(c.estimated),
        usd(c.billed),
        usd(c.amortized),
        signed_usd(c.drift),
        signed_percent(c.drift_percent),
    )


def _rows(report: ActualReport) -> list[tuple[str, ...]]:
    rows = [_row(c) for c in report.constructs]
    if report.untagged:
        rows.append(
            (
                UNTAGGED_LABEL,
                "same services, no construct tag",
                "-",
                usd(report.untagged_billed),
                usd(report.untagged_amortized),
                "-",
                "-",
            )
        )
    return rows


def _total_row(report: ActualReport) -> tuple[str, ...]:
    drift_share = share(report.drift, report.estimated)
    return (
        "TOTAL",
        "tagged constructs",
        usd(report.estimated),
        usd(report.billed),
        usd(report.amortized),
        signed_usd(report.drift),
        signed_percent(drift_share),
    )


def _title(report: ActualReport) -> str:
    month = report.month
    partial = (
        f", partial: {month.start.isoformat()} to {month.end.isoformat()} exclusive" if month.partial else ""
    )
    return (
        f"inferwise actual vs estimate, {month.label}{partial} "
        f"(USD; Cost Explorer by tag {CONSTRUCT_TAG_KEY}; drift = actual unblended - estimate)"
    )


def render_table(report: ActualReport) -> str:
    """A fixed-width table, then per construct with drift the lines that explain it."""
    rows: Sequence[tuple[str, ...]] = [HEADERS, *_rows(report), _total_row(report)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i >= 2 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    out = [_title(report), fmt(rows[0]), rule, *(fmt(r) for r in rows[1:-1]), rule, fmt(rows[-1])]
    for c in report.constructs:
        explaining = c.explaining_lines()
        if explaining:
            out += ["", f"{c.path}: {signed_usd(c.drift)} ({signed_percent(c.drift_percent)}), explained by:"]
            out += [f"  - {explain(line)}" for line in explaining]
    if report.untagged:
        out += ["", "Untagged spend in the services the estimates price (no inferwise:construct tag):"]
        out += [f"  - {' + '.join(s.services)}: {usd(s.actual.unblended)}" for s in report.untagged]
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------- markdown
def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: ActualReport) -> str:
    """A Markdown report: the summary table, then per construct its services and explaining lines."""
    out = [f"# {_title(report)}", "", "| " + " | ".join(HEADERS) + " |", "|---|---|" + "---:|" * 5]
    out += [
        "| " + " | ".join(_md(cell) for cell in row) + " |" for row in [*_rows(report), _total_row(report)]
    ]
    warnings = report.warnings()
    if warnings:
        out += ["", *(f"> **Warning:** {_md(w)}" for w in warnings)]
    for c in report.constructs:
        out += ["", f"## {_md(c.path)} ({_md(c.stack)})", ""]
        out.append(
            f"Estimate {usd(c.estimated)}, actual {usd(c.billed)} (amortized {usd(c.amortized)}): drift "
            f"{signed_usd(c.drift)} ({signed_percent(c.drift_percent)})."
        )
        out += ["", "| Service | Estimate | Actual | Drift |", "|---|---:|---:|---:|"]
        out += [
            f"| {_md(s.label)} | {usd(s.estimated)} | {usd(s.actual.unblended)} "
            f"| {signed_usd(cents(s.actual.unblended) - cents(s.estimated))} |"
            for s in c.services
        ]
        explaining = c.explaining_lines()
        if explaining:
            out += ["", "What explains the drift:", *(f"- {_md(explain(line))}" for line in explaining)]
    if report.untagged:
        out += ["", "## Untagged spend", "", "In the services the estimates price, without the tag:", ""]
        out += [f"- {_md(' + '.join(s.services))}: {usd(s.actual.unblended)}" for s in report.untagged]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------- JSON
def _money(value: Decimal) -> str:
    return str(cents(value))


def _quantity(value: Decimal | None) -> str | None:
    if value is None:
        return None
    text = f"{value.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _price(value: Decimal | None) -> str | None:
    """A unit price in plain notation; a billed one (a ratio) to ten decimals."""
    if value is None:
        return None
    return f"{value.quantize(PRICE_PLACES, rounding=ROUND_HALF_UP).normalize():f}"


def _percent(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _service_json(s: ServiceDrift, *, untagged: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ServiceName": s.label,
        "x_ServiceCode": s.code,
        "x_CostExplorerServices": list(s.services),
        "BilledCost": _money(s.actual.unblended),
        "EffectiveCost": _money(s.actual.amortized),
    }
    if not untagged:
        data["x_EstimatedCost"] = _money(s.estimated)
        data["x_DriftUSD"] = str(cents(s.actual.unblended) - cents(s.estimated))
    return data


def _line_json(line: LineDrift, explains: bool) -> dict[str, Any]:
    return {
        "x_Component": line.label,
        "x_ServiceCode": line.code,
        "x_CostExplorerServices": list(line.services),
        "x_UsageTypes": list(line.usage_types),
        "x_Cause": line.cause,
        "x_Explains": explains,
        "x_Explanation": explain(line),
        "PricingUnit": line.estimate_unit,
        "x_EstimatedQuantity": _quantity(line.estimated_quantity),
        "x_BilledQuantity": _quantity(line.actual_quantity),
        "ConsumedUnit": line.actual.unit,
        "ConsumedQuantity": _quantity(line.actual.quantity),
        "x_EstimatedUnitPrice": _price(line.estimated_unit_price),
        "x_BilledUnitPrice": _price(line.actual_unit_price),
        "x_EstimatedCost": _money(line.estimated_cost),
        "BilledCost": _money(line.actual.unblended),
        "EffectiveCost": _money(line.actual.amortized),
        "x_DriftUSD": str(cents(line.actual.unblended) - cents(line.estimated_cost)),
        "x_UsageEffectUSD": None if line.usage_effect is None else _money(line.usage_effect),
        "x_PriceEffectUSD": None if line.price_effect is None else _money(line.price_effect),
    }


def _construct_json(c: ConstructDrift) -> dict[str, Any]:
    explaining = c.explaining_lines()
    return {
        "x_StackName": c.stack,
        "x_ConstructPath": c.path,
        "x_TagValue": c.tag_value,
        "x_Pattern": c.estimate.pattern,
        "RegionId": c.estimate.region,
        "x_EstimatedCost": str(c.estimated),
        "BilledCost": str(c.billed),
        "EffectiveCost": str(c.amortized),
        "x_DriftUSD": str(c.drift),
        "x_DriftPercent": _percent(c.drift_percent),
        "x_Services": [_service_json(s) for s in c.services],
        "x_Lines": [_line_json(line, line in explaining) for line in c.lines],
    }


def render_json(report: ActualReport) -> str:
    """The comparison as JSON; docs/actual.md has the schema."""
    data: dict[str, Any] = {
        "x_SchemaVersion": SCHEMA_VERSION,
        "BillingCurrency": "USD",
        "BillingPeriodStart": report.month.start.isoformat(),
        "BillingPeriodEnd": report.month.end.isoformat(),
        "x_Partial": report.month.partial,
        "x_EstimatedByCostExplorer": report.estimated_by_ce,
        "x_CostExplorerRequests": report.requests,
        "x_TagKey": CONSTRUCT_TAG_KEY,
        "x_EstimatedCost": str(report.estimated),
        "BilledCost": str(report.billed),
        "EffectiveCost": str(report.amortized),
        "x_DriftUSD": str(report.drift),
        "x_DriftPercent": _percent(share(report.drift, report.estimated)),
        "x_Constructs": [_construct_json(c) for c in report.constructs],
        "x_Untagged": {
            "BilledCost": str(report.untagged_billed),
            "EffectiveCost": str(report.untagged_amortized),
            "x_Services": [_service_json(s, untagged=True) for s in report.untagged],
        },
        "x_OtherTagValues": list(report.other_tag_values),
        "x_Warnings": report.warnings(),
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
