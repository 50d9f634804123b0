"""How a refresh reports trouble: the errors that stop it, and the callback for what it skips."""

from __future__ import annotations

from collections.abc import Callable

Warn = Callable[[str], None]
"""Told, one line each, what a refresh skipped (a default item not sold in a region, a USD 0 row)."""


class PriceListError(ValueError):
    """The Price List did not answer the way a price needs: no product, several, a wrong unit, ..."""


class NoProductsError(PriceListError):
    """A query matched no product (the thing is not sold in that region, or a filter value is wrong)."""
