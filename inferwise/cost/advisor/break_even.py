"""Break-even volumes: where two options next to each other in cost order at the workload's volume swap places.

The search scans a log grid of request volumes (the workload scaled, everything else unchanged) from 1/1000
to 1000 times the workload's, and bisects the bracket nearest the workload's volume. Self-hosted costs are
step functions (a whole instance more); where the order flips at a step, the costs never meet and the
break-even says so (`kind="step"`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from inferwise.cost.advisor.pricing import option_cost
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog

SEARCH_DECADES = 3
"""Break-even volumes are searched from 10^-3 to 10^3 times the workload's requests per month."""
GRID_POINTS_PER_DECADE = 20
BREAK_EVEN_TOLERANCE_USD = Decimal("0.01")
"""Two costs "cross" at a volume when they differ there by at most a cent (or 1 part in a million)."""
BREAK_EVEN_TOLERANCE_RELATIVE = Decimal("0.000001")


@dataclass(frozen=True)
class BreakEven:
    """Where two options adjacent in cost order at the workload's volume swap places.

    `cheaper` is cheaper at the workload's volume, `other` the next. `monthly_tokens` (and the requests per
    month behind it) is the crossing nearest the workload's volume, or None when the order does not change
    between `searched_tokens`. `kind` is "cross" where the costs are equal (within a cent or 1 ppm), "step"
    where one option's cost steps over the other's (a self-hosted option adding an instance, or a batch run
    reaching the pipeline's minimum job size); `stepping` names that option. `cheaper_above` is the option that
    is cheaper just above the break-even volume.
    """

    cheaper: str
    other: str
    searched_tokens: tuple[Decimal, Decimal]
    requests_per_month: Decimal | None = None
    monthly_tokens: Decimal | None = None
    cost_cheaper: Decimal | None = None
    cost_other: Decimal | None = None
    kind: Literal["cross", "step"] | None = None
    cheaper_above: str | None = None
    stepping: str | None = None

    def to_json(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "x_Cheaper": self.cheaper,
            "x_Other": self.other,
            "x_MonthlyTokens": text(self.monthly_tokens),
            "x_RequestsPerMonth": text(self.requests_per_month),
            "x_CostCheaper": text(self.cost_cheaper),
            "x_CostOther": text(self.cost_other),
            "x_Kind": self.kind,
            "x_CheaperAbove": self.cheaper_above,
            "x_Stepping": self.stepping,
            "x_SearchedTokens": [str(self.searched_tokens[0]), str(self.searched_tokens[1])],
        }


def search_range(workload: Workload) -> tuple[Decimal, Decimal]:
    """Requests per month searched for break-evens: 10^-3 to 10^3 times the workload's."""
    scale = Decimal(10) ** SEARCH_DECADES
    return workload.requests / scale, workload.requests * scale


def volume_grid(workload: Workload, points_per_decade: int = GRID_POINTS_PER_DECADE) -> list[Decimal]:
    """Requests per month on a log grid over `search_range`, including the workload's own volume."""
    steps = 2 * SEARCH_DECADES * points_per_decade
    return [
        _scale(workload.requests, -SEARCH_DECADES + 2 * SEARCH_DECADES * i / steps) for i in range(steps + 1)
    ]


def _scale(requests: Decimal, log10_factor: float) -> Decimal:
    return requests * Decimal(repr(10.0**log10_factor)) if log10_factor else requests


def _within_tolerance(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(BREAK_EVEN_TOLERANCE_USD, BREAK_EVEN_TOLERANCE_RELATIVE * max(a, b))


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def find_break_even(
    workload: Workload,
    cheaper: str,
    other: str,
    catalog: PriceCatalog,
    *,
    grid: Sequence[Decimal] | None = None,
    costs: Mapping[str, Sequence[Decimal]] | None = None,
) -> BreakEven:
    """The volume nearest the workload's where `cheaper` and `other` change order (see `BreakEven`).

    `grid` and `costs` (the two options' costs on it) may be passed in when already computed.
    """
    low, high = search_range(workload)
    tokens = workload.tokens_per_request
    searched = (low * tokens, high * tokens)
    points = list(grid) if grid is not None else volume_grid(workload)

    def cost(key: str, requests: Decimal) -> Decimal:
        return option_cost(workload, key, requests, catalog)

    a_costs = list(costs[cheaper]) if costs else [cost(cheaper, r) for r in points]
    b_costs = list(costs[other]) if costs else [cost(other, r) for r in points]
    signed = [
        (i, _sign(a - b))
        for i, (a, b) in enumerate(zip(a_costs, b_costs, strict=True))
        if a.is_finite() and b.is_finite() and _sign(a - b) != 0
    ]
    brackets = [
        (signed[k][0], signed[k + 1][0]) for k in range(len(signed) - 1) if signed[k][1] != signed[k + 1][1]
    ]
    if not brackets:
        return BreakEven(cheaper, other, searched)
    home = min(range(len(points)), key=lambda i: abs(points[i] - workload.requests))
    lo_i, hi_i = min(brackets, key=lambda pair: min(abs(pair[0] - home), abs(pair[1] - home)))
    lo, hi = points[lo_i], points[hi_i]
    lo_sign = _sign(a_costs[lo_i] - b_costs[lo_i])
    for _ in range(200):
        mid = (lo * hi).sqrt()
        if hi / lo - 1 < Decimal("1e-15") or mid in (lo, hi):
            break
        diff = _sign(cost(cheaper, mid) - cost(other, mid))
        if diff == 0:
            lo = hi = mid
            break
        if diff == lo_sign:
            lo = mid
        else:
            hi = mid
    at = (lo * hi).sqrt()
    cost_a, cost_b = cost(cheaper, at), cost(other, at)
    above = cheaper if _sign(cost(cheaper, hi) - cost(other, hi)) < 0 else other
    crossed = _within_tolerance(cost_a, cost_b)
    stepping = None
    if not crossed:
        jump_a = abs(cost(cheaper, hi) - cost(cheaper, lo))
        jump_b = abs(cost(other, hi) - cost(other, lo))
        stepping = cheaper if jump_a >= jump_b else other
    return BreakEven(
        cheaper,
        other,
        searched,
        requests_per_month=at,
        monthly_tokens=at * tokens,
        cost_cheaper=cost_a,
        cost_other=cost_b,
        kind="cross" if crossed else "step",
        cheaper_above=above,
        stepping=stepping,
    )


def cost_curves(
    workload: Workload,
    keys: Sequence[str],
    catalog: PriceCatalog | None = None,
    *,
    points_per_decade: int = GRID_POINTS_PER_DECADE,
) -> tuple[list[Decimal], dict[str, list[Decimal]]]:
    """(requests per month on the search grid, each option's monthly cost at those volumes)."""
    catalog = catalog or PriceCatalog.bundled()
    grid = volume_grid(workload, points_per_decade)
    return grid, {key: [option_cost(workload, key, r, catalog) for r in grid] for key in keys}
