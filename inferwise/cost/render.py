"""How money and cost lines read: the one place figures are rounded for people and for rendered JSON.

Rounding rule (docs/cost-model.md, "Rounding"): a construct's monthly total is rounded half-up to the cent
once; its cost lines are rounded to cents that add up to that total (largest remainder); every total above
a construct (stack, report, diff) is the sum of rounded construct totals. So every table, comment and
rendered JSON adds up, and all of them show the same figures. Unit prices keep the catalogue's precision.
It also says which lines are usage-driven (`usage_driven`) and which figures a usage file set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
QUANTITY_PLACES = Decimal("0.000001")
"""Rendered JSON writes usage quantities to six decimal places (trailing zeros dropped)."""

USAGE_DRIVEN = "†"
"""Marks a cost line whose quantity follows a usage assumption (requests, tokens, hours, storage)."""

FROM_USAGE_FILE = "‡"
"""Marks a construct whose workload figures were set by a usage file."""

FIXED_UNITS = frozenset({"Alarms", "Budget-days", "Keys", "Metrics", "Monitors", "Subscriptions"})
"""Pricing units that count provisioned things (a key, an alarm, a budget), not use."""

_USAGE_FILE_FIGURE = re.compile(r"^(?P<figure>\w+=\S+) from usage file (?P<file>.+) \((?P<entry>.+)\)$")


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-up to the cent: the figure every rendering shows."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def usd(amount: Decimal) -> str:
    """`$1,234.57`; negative amounts as `-$12.00`."""
    rounded = cents(amount)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def signed_usd(amount: Decimal) -> str:
    """`+$12.00`, `-$3.10`, `$0.00`: a change."""
    return ("+" if cents(amount) > 0 else "") + usd(amount)


def md_cell(text: str) -> str:
    """`text` safe in a markdown table cell: pipes escaped, on one line."""
    return text.replace("|", "\\|").replace("\n", " ")


def before_after(before: str | None, after: str | None) -> str:
    """`211.57 → 277.57`; one figure when they are equal or one side is missing (`-` when both are)."""
    if before is None or before == after:
        return after or "-"
    return before if after is None else f"{before} → {after}"


def short_ref(ref: str | None) -> str:
    """A commit for people: a 40-character SHA as its first 7 characters, in backticks; `?` when unknown."""
    if not ref:
        return "?"
    return f"`{ref[:7]}`" if re.fullmatch(r"[0-9a-f]{40}", ref) else f"`{md_cell(ref)}`"


def mermaid_bars(title: str, axis: str, bars: Sequence[tuple[str, Decimal]]) -> list[str]:
    """A horizontal Mermaid `xychart-beta` bar chart (GitHub renders it in markdown), one bar per label."""
    labels = ", ".join('"' + label.replace('"', "'") + '"' for label, _ in bars)
    return [
        "",
        "```mermaid",
        "xychart-beta horizontal",
        f'    title "{title}"',
        f"    x-axis [{labels}]",
        f'    y-axis "{axis}"',
        f"    bar [{', '.join(str(value) for _, value in bars)}]",
        "```",
    ]


def quantity(value: Decimal) -> str:
    """A usage quantity for people: thousands separators, at most four decimals, no trailing zeros."""
    rounded = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"


def percent(value: Decimal) -> str:
    return f"{value.quantize(TENTH, rounding=ROUND_HALF_UP)}%"


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal; None when `whole` is zero."""
    return None if whole == 0 else (part * 100 / whole).quantize(TENTH, rounding=ROUND_HALF_UP)


def allocate_cents(amounts: Sequence[Decimal], total: Decimal) -> list[Decimal]:
    """Non-negative `amounts` rounded to cents that add up to `total` (itself in cents).

    Largest remainder: each amount is rounded down, then the cents still missing go one each to the
    amounts with the largest remainders (earlier ones first on a tie). Every result is within a cent of
    its amount, and an amount that is already whole cents is never changed.
    """
    floors = [amount.quantize(CENT, rounding=ROUND_FLOOR) for amount in amounts]
    missing = int((total - sum(floors, Decimal(0))) / CENT)
    order = sorted(range(len(amounts)), key=lambda i: (-(amounts[i] - floors[i]), i))
    for index in order[: max(missing, 0)]:
        floors[index] += CENT
    return floors


def estimate_total(estimate: CostEstimate) -> Decimal:
    """The estimate's monthly total as shown: rounded half-up to the cent."""
    return cents(estimate.monthly_total)


def line_costs(estimate: CostEstimate) -> list[Decimal]:
    """The estimate's line costs as shown: cents that add up to `estimate_total(estimate)`."""
    return allocate_cents([line.monthly_cost for line in estimate.lines], estimate_total(estimate))


def estimate_json(estimate: CostEstimate) -> dict[str, Any]:
    """`estimate.to_json()` with the rounding of rendered JSON: money in cents, quantities to 6 places,
    unit prices at full catalogue precision in plain notation (`0.0000005`, never `5E-7`).

    The template metadata keeps `to_json()` at full precision (it is read back exactly); this is for the
    report and diff JSON that people and tools read.
    """
    data = estimate.to_json()
    total = estimate_total(estimate)
    data["ListCost"] = str(total)
    for line_data, line, cost in zip(data["x_Lines"], estimate.lines, line_costs(estimate), strict=True):
        line_data["ListCost"] = str(cost)
        line_data["PricingQuantity"] = _quantity_text(line.monthly_quantity)
        line_data["ListUnitPrice"] = f"{line.unit_price.normalize():f}"
    if estimate.baseline is not None:
        baseline = estimate_total(estimate.baseline)
        saving = share(baseline - total, baseline)
        data["x_Baseline"] = estimate_json(estimate.baseline)
        data["x_SavingsUSD"] = str(baseline - total)
        data["x_SavingsPercent"] = None if saving is None else str(saving)
    return data


def _quantity_text(value: Decimal) -> str:
    rounded = value.quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def estimate_summary(estimate: CostEstimate) -> str:
    """One line: `~$412.30/month, saves 49.0% ($396.10) vs on-demand InvokeModel`."""
    text = f"~{usd(estimate.monthly_total)}/month"
    baseline = estimate.baseline
    if baseline is None:
        return text
    savings, share_ = estimate.savings_usd, estimate.savings_percent
    assert savings is not None
    label = baseline.pattern
    if savings >= 0:
        saved = f"saves {percent(share_)} ({usd(savings)})" if share_ is not None else f"saves {usd(savings)}"
        return f"{text}, {saved} vs {label}"
    extra = f"costs {usd(-savings)} more" + (f" ({percent(-share_)})" if share_ is not None else "")
    return f"{text}, {extra} than {label}"


def usage_driven(line: CostLine) -> bool:
    """True when the line's quantity follows a usage assumption rather than fixed infrastructure.

    Fixed: units that count provisioned things (`FIXED_UNITS`) and hours that are whole, non-zero 730-hour
    months (something always on). Everything else (requests, tokens, GB, GB-months, GB-seconds, state
    transitions, hours below always-on) scales with the workload the estimate assumes.
    """
    if line.pricing_unit in FIXED_UNITS:
        return False
    hours = line.monthly_quantity
    return not (line.pricing_unit == "Hrs" and hours > 0 and hours % HOURS_PER_MONTH == 0)


def usage_file_figures(estimate: CostEstimate | None) -> list[str]:
    """`records_per_month=2000000 (constructs.X in inferwise-usage.yml)` for each figure a usage file set."""
    if estimate is None:
        return []
    found = (_USAGE_FILE_FIGURE.match(a) for a in estimate.assumptions)
    return [f"`{m['figure']}` ({m['entry']} in {m['file']})" for m in found if m]
