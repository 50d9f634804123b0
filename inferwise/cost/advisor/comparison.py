"""The advisor's answer: `compare_serving_options` prices every option for a workload, finds the break-even
volumes between neighbours in cost order, and names the cheapest and why (`Comparison`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inferwise.cost.advisor.break_even import BreakEven, cost_curves, find_break_even, search_range
from inferwise.cost.advisor.explain import why_cheapest
from inferwise.cost.advisor.options import OPTION_KEYS, ServingOption
from inferwise.cost.advisor.pricing import check_models, price_option
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog

SCHEMA_VERSION = 1
"""`x_SchemaVersion` of `Comparison.to_json`."""


@dataclass(frozen=True)
class Comparison:
    """Every option for one workload, cheapest first (then the unpriced ones), with break-evens and a verdict."""

    workload: Workload
    options: tuple[ServingOption, ...]
    break_evens: tuple[BreakEven, ...]
    cheapest: ServingOption
    reason: str
    search_requests: tuple[Decimal, Decimal]
    notes: tuple[str, ...] = ()

    @property
    def priced(self) -> tuple[ServingOption, ...]:
        return tuple(option for option in self.options if option.available)

    def option(self, key: str) -> ServingOption:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(f"no option {key!r}; options: {', '.join(o.key for o in self.options)}")

    def to_json(self) -> dict[str, Any]:
        workload = self.workload
        return {
            "x_SchemaVersion": SCHEMA_VERSION,
            "RegionId": workload.region,
            "BillingCurrency": "USD",
            "x_Workload": workload.to_json(),
            "x_MonthlyTokens": str(workload.monthly_tokens),
            "x_PeakTokensPerSecond": str(workload.peak_tokens_per_second),
            "x_Cheapest": self.cheapest.key,
            "x_Reason": self.reason,
            "x_Options": [option.to_json() for option in self.options],
            "x_BreakEvens": [item.to_json() for item in self.break_evens],
            "x_SearchedRequestsPerMonth": [str(self.search_requests[0]), str(self.search_requests[1])],
            "x_Notes": list(self.notes),
        }


def compare_serving_options(workload: Workload, catalog: PriceCatalog | None = None) -> Comparison:
    """Price every way to serve `workload`, find break-even volumes, name the cheapest and why."""
    catalog = catalog or PriceCatalog.bundled()
    check_models(workload, catalog)
    options = [price_option(workload, key, catalog) for key in OPTION_KEYS]
    priced = sorted(
        (option for option in options if option.available),
        key=lambda option: (option.monthly_cost, OPTION_KEYS.index(option.key)),
    )
    unpriced = [option for option in options if not option.available]
    grid, curves = cost_curves(workload, [option.key for option in priced], catalog)
    break_evens = tuple(
        find_break_even(workload, a.key, b.key, catalog, grid=grid, costs=curves)
        for a, b in itertools.pairwise(priced)
    )
    cheapest = priced[0]
    notes = [
        "Provisioned Throughput is not priced: the catalogue has no Provisioned Throughput price (model units are "
        "bought per hour with a commitment; ask AWS for a quote).",
        "A month is 730 h. Self-hosted options need an open-weight model that does the job; Bedrock options use "
        f"{workload.model_id}.",
    ]
    return Comparison(
        workload=workload,
        options=(*priced, *unpriced),
        break_evens=break_evens,
        cheapest=cheapest,
        reason=why_cheapest(workload, priced, break_evens, catalog),
        search_requests=search_range(workload),
        notes=tuple(notes),
    )
