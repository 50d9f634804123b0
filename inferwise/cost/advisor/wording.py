"""How the advisor writes figures into assumptions and verdicts: counts, rates, shares and token volumes.

Every sentence the advisor produces rounds its numbers here, so an assumption and the verdict that repeats
it always show the same figure.
"""

from __future__ import annotations

from decimal import Decimal


def count_text(value: Decimal) -> str:
    """A whole count with thousands separators: `5,000,000`."""
    return f"{value.to_integral_value():,}"


def number_text(value: Decimal, quantum: str | None = None) -> str:
    """A plain number: rounded to `quantum` (e.g. "0.1") when given, else as exact as the value is."""
    if quantum is not None:
        return format(value.quantize(Decimal(quantum)), "f")
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def rate_text(value: Decimal) -> str:
    """A tokens/s rate to the hundredth, with thousands separators."""
    return f"{value.quantize(Decimal('0.01')):,}"


def share_text(share: Decimal) -> str:
    """A share (0-1) as a percentage: 0.8 -> `80 %`."""
    return f"{number_text((share * 100).normalize())} %"


def tokens_text(value: Decimal) -> str:
    """A token volume for people: 1.2M, 350k, 4.5B."""
    number = float(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= scale:
            return f"{number / scale:.3g}{suffix}"
    return f"{number:.3g}"
