"""How the batch estimate writes its figures into assumptions and notes."""

from __future__ import annotations

from decimal import Decimal


def share_text(share: Decimal) -> str:
    """A share (0-1) as a percentage: 0.25 -> `25 %`."""
    return f"{(share * 100).normalize():f} %"


def count_text(value: Decimal) -> str:
    """A whole count with thousands separators."""
    return f"{value.to_integral_value():,}"


def gb_text(value: Decimal) -> str:
    """Gigabytes to the hundredth."""
    return f"{value.quantize(Decimal('0.01'))}"
