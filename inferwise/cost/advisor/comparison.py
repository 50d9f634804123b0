"""The advisor's answer: `compare_serving_options` prices every option for a workload, finds the break-even
volumes between neighbours in cost order, names the cheapest and why, and says whether it still wins at the
low and high scenario volumes (`Comparison`).

Options that serve a different model (a substitute for a closed model) are priced and listed apart: they are
never ranked against the model the workload names, because their quality is not compared.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inferwise.cost.advisor.break_even import BreakEven, cost_curves, find_break_even, search_range
from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.explain import why_cheapest
from inferwise.cost.advisor.options import OPTION_KEYS, ServingOption
from inferwise.cost.advisor.pricing import check_models, option_cost, price_option
from inferwise.cost.advisor.wording import number_text
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_on_demand import long_context_threshold
from inferwise.cost.render import usd

SCHEMA_VERSION = 3
"""`x_SchemaVersion` of `Comparison.to_json` (2: substitutes, scenarios, served model per option; 3: the
Serverless, Asynchronous, Reserved Instance and Savings Plan options replace `commitments`)."""


@dataclass(frozen=True)
class Scenario:
    """One volume scenario: the workload's requests times `multiplier`, and the cheapest option there."""

    multiplier: Decimal
    requests_per_month: Decimal
    cheapest: str
    costs: dict[str, Decimal]

    def to_json(self) -> dict[str, Any]:
        return {
            "x_Multiplier": str(self.multiplier),
            "x_RequestsPerMonth": str(self.requests_per_month),
            "x_Cheapest": self.cheapest,
            "x_Costs": {key: str(cost) for key, cost in self.costs.items()},
        }


@dataclass(frozen=True)
class Comparison:
    """Every option for one workload: the same model's priced options cheapest first, then the priced options
    of a substitute model, then the unpriced ones; with break-evens, scenarios and a verdict."""

    workload: Workload
    options: tuple[ServingOption, ...]
    break_evens: tuple[BreakEven, ...]
    cheapest: ServingOption
    reason: str
    search_requests: tuple[Decimal, Decimal]
    notes: tuple[str, ...] = ()
    scenarios: tuple[Scenario, ...] = ()

    @property
    def priced(self) -> tuple[ServingOption, ...]:
        """The priced options of the model the workload names, cheapest first."""
        return tuple(option for option in self.options if option.available and not option.different_model)

    @property
    def substitutes(self) -> tuple[ServingOption, ...]:
        """Priced self-hosted options of a different (substitute) model: quality not compared."""
        return tuple(option for option in self.options if option.available and option.different_model)

    @property
    def same_winner(self) -> bool:
        """Whether one option is cheapest in every scenario."""
        return len({scenario.cheapest for scenario in self.scenarios}) <= 1

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
            "x_Scenarios": [scenario.to_json() for scenario in self.scenarios],
            "x_SameWinnerInAllScenarios": self.same_winner,
            "x_SearchedRequestsPerMonth": [str(self.search_requests[0]), str(self.search_requests[1])],
            "x_Notes": list(self.notes),
        }


def scenarios_for(workload: Workload, keys: list[str], catalog: PriceCatalog) -> tuple[Scenario, ...]:
    """Each option's cost at each scenario volume, and the cheapest there."""
    result = []
    for multiplier in (to_decimal(m) for m in workload.scenarios):
        requests = workload.requests * multiplier
        costs = {key: option_cost(workload, key, requests, catalog) for key in keys}
        cheapest = min(keys, key=lambda key: (costs[key], OPTION_KEYS.index(key)))
        result.append(Scenario(multiplier, requests, cheapest, costs))
    return tuple(result)


def scenario_text(scenarios: tuple[Scenario, ...], names: dict[str, str]) -> str:
    """The verdict's sentence on the scenarios: one winner throughout, or which wins where."""
    if not scenarios:
        return ""
    shown = ", ".join(f"{number_text(s.multiplier)}x" for s in scenarios)
    if len({s.cheapest for s in scenarios}) == 1:
        return f" The same option wins at {shown} the volume: {names[scenarios[0].cheapest]}."
    parts = "; ".join(
        f"{number_text(s.multiplier)}x: {names[s.cheapest]} ({usd(s.costs[s.cheapest])})" for s in scenarios
    )
    return f" The winner changes with the volume ({parts}): decide on the volume you expect."


def _notes(workload: Workload, substitutes: list[ServingOption], catalog: PriceCatalog) -> list[str]:
    notes = [
        "Provisioned Throughput is not priced: no source prices a model unit of this model (model units are "
        "bought per hour with a commitment; ask AWS for a quote).",
        "A month is 730 h. Self-hosted options include the people who run them (ops_hours_per_month x "
        "ops_hourly_usd) on a line of their own.",
    ]
    threshold = long_context_threshold(workload.model_id, catalog, workload.region)
    if threshold is not None and workload.input_tokens_per_request > threshold:
        notes.append(
            f"Long context: {workload.input_tokens_per_request:,} input tokens per request is more than {threshold:,}, "
            f"so {workload.model_id} bills every token of each request at its long-context rates (the catalogue's "
            "*-above-200k prices); every Bedrock option here uses them."
        )
    if substitutes:
        model = substitutes[0].served_model
        notes.append(
            f"Self-hosted options serve {model}, a different model from {workload.model_id}: quality not "
            "compared, so they are listed apart and never named cheapest."
        )
    return notes


def compare_serving_options(workload: Workload, catalog: PriceCatalog | None = None) -> Comparison:
    """Price every way to serve `workload`, find break-even volumes, name the cheapest and why."""
    catalog = catalog or PriceCatalog.bundled()
    check_models(workload, catalog)
    options = [price_option(workload, key, catalog) for key in OPTION_KEYS]

    def order(option: ServingOption) -> tuple[Decimal, int]:
        assert option.monthly_cost is not None
        return option.monthly_cost, OPTION_KEYS.index(option.key)

    priced = sorted((o for o in options if o.available and not o.different_model), key=order)
    substitutes = sorted((o for o in options if o.available and o.different_model), key=order)
    unpriced = [option for option in options if not option.available]
    keys = [option.key for option in priced]
    grid, curves = cost_curves(workload, keys, catalog)
    break_evens = tuple(
        find_break_even(workload, a.key, b.key, catalog, grid=grid, costs=curves)
        for a, b in itertools.pairwise(priced)
    )
    scenarios = scenarios_for(workload, keys, catalog)
    names = {option.key: option.name for option in options}
    reason = why_cheapest(workload, priced, break_evens, catalog) + scenario_text(scenarios, names)
    return Comparison(
        workload=workload,
        options=(*priced, *substitutes, *unpriced),
        break_evens=break_evens,
        cheapest=priced[0],
        reason=reason,
        search_requests=search_range(workload),
        notes=tuple(_notes(workload, substitutes, catalog)),
        scenarios=scenarios,
    )
