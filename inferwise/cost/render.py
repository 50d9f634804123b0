"""How money and savings read: the one place figures are rounded for people."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from inferwise.cost.model import CostEstimate

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def usd(amount: Decimal) -> str:
    """`$1,234.57`; negative amounts as `-$12.00`."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,.2f}"


def quantity(value: Decimal) -> str:
    """A usage quantity for people: thousands separators, at most four decimals, no trailing zeros."""
    rounded = value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize()
    return f"{rounded:,f}"


def percent(value: Decimal) -> str:
    return f"{value.quantize(TENTH, rounding=ROUND_HALF_UP)}%"


def estimate_summary(estimate: CostEstimate) -> str:
    """One line: `~$412.30/month, saves 49.0% ($396.10) vs on-demand InvokeModel`."""
    text = f"~{usd(estimate.monthly_total)}/month"
    baseline = estimate.baseline
    if baseline is None:
        return text
    savings, share = estimate.savings_usd, estimate.savings_percent
    assert savings is not None
    label = baseline.pattern
    if savings >= 0:
        saved = f"saves {percent(share)} ({usd(savings)})" if share is not None else f"saves {usd(savings)}"
        return f"{text}, {saved} vs {label}"
    extra = f"costs {usd(-savings)} more" + (f" ({percent(-share)})" if share is not None else "")
    return f"{text}, {extra} than {label}"
