"""Matching a month of the bill to the estimates: tag values to construct paths, drift, and what explains it.

A construct's tag value is `construct_tag_value(path)` (inferwise.cost.tagging), so the bill's groups are
matched by computing that value for every estimate of the cloud assembly. Per construct:

- **estimate**: its monthly total as the report shows it (cents); **actual**: unblended and amortized cost of
  the spend tagged with its value; **drift**: actual unblended - estimate, in dollars and as a share of the
  estimate. The estimate is for a 730-hour month; the bill is for a calendar month (672 to 744 hours).
- **services**: the same comparison per service (estimate lines by Price List service code, spend by Cost
  Explorer service name mapped to it; a service no estimate prices is its own row).
- **lines** (for the services with the largest drift, `EXPLAIN_SERVICES` of them): the estimate's lines and
  the billed usage types, matched by component (`services.estimate_key` / `actual_key`). Where the units
  convert, a line's drift splits exactly into a **usage** effect, (billed quantity - estimated quantity) x
  the estimate's unit price, and a **price** effect, billed quantity x (billed cost / billed quantity - the
  estimate's unit price). The larger of the two is the line's cause.

Untagged spend (the group `inferwise:construct$`) in the services the estimates price is its own row, and tag
values that belong to no construct of the assembly are listed, so no spend hides.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from inferwise.cost.actual.query import (
    UNTAGGED,
    ActualError,
    Amounts,
    Month,
    QueryResult,
    construct_costs,
    usage_type_costs,
)
from inferwise.cost.actual.services import (
    actual_key,
    estimate_key,
    service_code,
    service_label,
    unit_factor,
)
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.render import CENT, cents, estimate_total, share
from inferwise.cost.report import ConstructCost, CostReport
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY, construct_tag_value

EXPLAIN_SERVICES = 3
"""Per construct, the services with the largest drift whose usage types are fetched and compared."""
EXPLAIN_LINES = 5
EXPLAIN_SHARE = Decimal("0.9")
"""The explaining lines: largest drift first, until they cover this share of the lines' drift (at most 5)."""


@dataclass(frozen=True)
class ActualLine:
    """One billed usage type of one construct."""

    service: str
    usage_type: str
    amounts: Amounts


# ----------------------------------------------------------------------------------------- line drift
@dataclass(frozen=True)
class LineDrift:
    """One billed component: the estimate lines that price it and the usage types that bill it."""

    key: str
    code: str | None
    services: tuple[str, ...]
    usage_types: tuple[str, ...]
    estimate_lines: tuple[CostLine, ...]
    actual: Amounts

    @property
    def label(self) -> str:
        if self.estimate_lines:
            return " + ".join(dict.fromkeys(line.component for line in self.estimate_lines))
        return " ".join([*self.services, *self.usage_types])

    @property
    def estimate_unit(self) -> str:
        return self.estimate_lines[0].pricing_unit if self.estimate_lines else ""

    @property
    def estimated_quantity(self) -> Decimal:
        return sum((line.monthly_quantity for line in self.estimate_lines), Decimal(0))

    @property
    def estimated_cost(self) -> Decimal:
        return sum((line.monthly_cost for line in self.estimate_lines), Decimal(0))

    @property
    def drift(self) -> Decimal:
        return self.actual.unblended - self.estimated_cost

    @property
    def factor(self) -> Decimal | None:
        """Estimate units per Cost Explorer unit; None when they do not convert (costs are compared only)."""
        if not self.estimate_lines or not self.services:
            return None
        return unit_factor(self.actual.unit, self.estimate_unit)

    @property
    def actual_quantity(self) -> Decimal | None:
        """The billed quantity in the estimate's unit."""
        factor = self.factor
        return None if factor is None else self.actual.quantity * factor

    @property
    def estimated_unit_price(self) -> Decimal | None:
        quantity = self.estimated_quantity
        return self.estimated_cost / quantity if quantity else None

    @property
    def actual_unit_price(self) -> Decimal | None:
        quantity = self.actual_quantity
        return self.actual.unblended / quantity if quantity else None

    @property
    def usage_effect(self) -> Decimal | None:
        """(billed quantity - estimated quantity) x the estimate's unit price."""
        quantity, price = self.actual_quantity, self.estimated_unit_price
        if quantity is None:
            return None
        if price is None:
            price = self._catalogue_price()
        return None if price is None else (quantity - self.estimated_quantity) * price

    @property
    def price_effect(self) -> Decimal | None:
        """The rest of the drift: billed quantity x (billed unit price - the estimate's unit price)."""
        usage = self.usage_effect
        return None if usage is None else self.drift - usage

    @property
    def cause(self) -> str:
        """`usage above`, `usage below`, `price higher`, `price lower`, `not in the estimate`, `not billed`,
        `within a cent` or `cost only` (units that do not convert)."""
        if not self.estimate_lines:
            return "not in the estimate"
        if not self.services:
            return "not billed"
        if abs(self.drift) < CENT / 2:
            return "within a cent"
        usage, price = self.usage_effect, self.price_effect
        if usage is None or price is None:
            return "cost only"
        if abs(usage) >= abs(price):
            return "usage above" if usage > 0 else "usage below"
        return "price higher" if price > 0 else "price lower"

    def _catalogue_price(self) -> Decimal | None:
        prices = {line.unit_price for line in self.estimate_lines}
        return prices.pop() if len(prices) == 1 else None


# ------------------------------------------------------------------------------------ construct drift
@dataclass(frozen=True)
class ServiceDrift:
    """One service of a construct: what its estimate lines cost and what the bill says."""

    code: str | None
    services: tuple[str, ...]
    estimated: Decimal
    actual: Amounts

    @property
    def label(self) -> str:
        return service_label(self.code) if self.code is not None else " + ".join(self.services)

    @property
    def drift(self) -> Decimal:
        return self.actual.unblended - self.estimated


@dataclass(frozen=True)
class ConstructDrift:
    """One construct's month: estimate, actual, drift, per service, and the lines that explain the drift."""

    construct: ConstructCost
    tag_value: str
    services: tuple[ServiceDrift, ...]
    lines: tuple[LineDrift, ...]

    @property
    def estimate(self) -> CostEstimate:
        return self.construct.estimate

    @property
    def path(self) -> str:
        return self.construct.estimate.construct_path

    @property
    def stack(self) -> str:
        return self.construct.stack

    @property
    def actual(self) -> Amounts:
        return sum((s.actual for s in self.services), Amounts())

    @property
    def estimated(self) -> Decimal:
        """The estimate's total in cents, as the cost report shows it."""
        return estimate_total(self.construct.estimate)

    @property
    def billed(self) -> Decimal:
        return cents(self.actual.unblended)

    @property
    def amortized(self) -> Decimal:
        return cents(self.actual.amortized)

    @property
    def drift(self) -> Decimal:
        return self.billed - self.estimated

    @property
    def drift_percent(self) -> Decimal | None:
        return share(self.drift, self.estimated)

    @property
    def has_spend(self) -> bool:
        return any(s.services for s in self.services)

    def explaining_lines(self) -> tuple[LineDrift, ...]:
        """The lines with the largest drift, until they cover 90 % of the lines' drift (at most 5)."""
        ranked = [line for line in self.lines if abs(line.drift) >= CENT / 2]
        whole = sum((abs(line.drift) for line in ranked), Decimal(0))
        chosen: list[LineDrift] = []
        covered = Decimal(0)
        for line in ranked[:EXPLAIN_LINES]:
            if chosen and covered >= whole * EXPLAIN_SHARE:
                break
            chosen.append(line)
            covered += abs(line.drift)
        return tuple(chosen)

    def over(self, limit: Decimal) -> str | None:
        """Why this construct drifted beyond `limit` percent (either way), or None."""
        if self.estimated == 0:
            if self.billed == 0:
                return None
            return f"{self.path}: estimated $0.00, billed ${self.billed:,.2f}"
        percent = self.drift_percent
        if percent is None or abs(percent) <= limit:
            return None
        sign = "+" if self.drift > 0 else "-"
        return (
            f"{self.path} drifted {sign}{abs(percent)}% ({sign}${abs(self.drift):,.2f}) from its estimate "
            f"${self.estimated:,.2f}, beyond --fail-drift-percent {limit}"
        )


@dataclass(frozen=True)
class ActualReport:
    """A month of the bill against every estimate of a cloud assembly."""

    month: Month
    constructs: tuple[ConstructDrift, ...]
    untagged: tuple[ServiceDrift, ...]
    other_tag_values: tuple[str, ...]
    estimated_by_ce: bool
    requests: int

    @property
    def estimated(self) -> Decimal:
        return sum((c.estimated for c in self.constructs), Decimal(0))

    @property
    def billed(self) -> Decimal:
        return sum((c.billed for c in self.constructs), Decimal(0))

    @property
    def amortized(self) -> Decimal:
        return sum((c.amortized for c in self.constructs), Decimal(0))

    @property
    def drift(self) -> Decimal:
        return self.billed - self.estimated

    @property
    def untagged_billed(self) -> Decimal:
        return sum((cents(s.actual.unblended) for s in self.untagged), Decimal(0))

    @property
    def untagged_amortized(self) -> Decimal:
        return sum((cents(s.actual.amortized) for s in self.untagged), Decimal(0))

    def warnings(self) -> list[str]:
        found = []
        if self.month.partial:
            found.append(
                f"{self.month.label} is the current month: the bill covers {self.month.days} day(s) so far, "
                "so actual figures are partial and drift understates a full month"
            )
        elif self.estimated_by_ce:
            found.append(f"Cost Explorer marks {self.month.label} as estimated: the bill is not final yet")
        for c in self.constructs:
            if not c.has_spend:
                found.append(
                    f"no spend in {self.month.label} carries {CONSTRUCT_TAG_KEY}={c.tag_value}: not deployed "
                    "that month, deployed before the tags, or tagged resources not billed yet"
                )
        if self.other_tag_values:
            found.append(
                f"{len(self.other_tag_values)} {CONSTRUCT_TAG_KEY} value(s) belong to no construct of this "
                f"cloud assembly (other apps or removed constructs): {', '.join(self.other_tag_values[:5])}"
                + (" ..." if len(self.other_tag_values) > 5 else "")
            )
        return found

    def over(self, limit: Decimal) -> list[str]:
        """One reason per construct that drifted beyond `limit` percent."""
        return [reason for c in self.constructs if (reason := c.over(limit)) is not None]


# ------------------------------------------------------------------------------------------- building
def construct_tags(report: CostReport) -> dict[str, ConstructCost]:
    """Tag value -> the construct it belongs to; two constructs with one value are an error."""
    found: dict[str, ConstructCost] = {}
    for construct in report.constructs:
        value = construct_tag_value(construct.estimate.construct_path)
        if value in found:
            raise ActualError(
                f"two estimates share the tag value {value!r}: {found[value].stack} and {construct.stack} "
                f"both have a construct at {construct.estimate.construct_path}"
            )
        found[value] = construct
    return found


def service_drifts(estimate: CostEstimate, spend: Mapping[str, Amounts]) -> tuple[ServiceDrift, ...]:
    """The estimate's lines by service code against the spend by Cost Explorer service, largest drift first."""
    estimated: dict[str, Decimal] = defaultdict(Decimal)
    for line in estimate.lines:
        estimated[line.service_code] += line.monthly_cost
    billed: dict[str, list[str]] = defaultdict(list)
    for name in spend:
        billed[service_code(name) or f"?{name}"].append(name)
    drifts = []
    for key in sorted(set(estimated) | set(billed)):
        names = tuple(sorted(billed.get(key, [])))
        actual = sum((spend[name] for name in names), Amounts())
        code = None if key.startswith("?") else key
        drifts.append(ServiceDrift(code, names, estimated.get(key, Decimal(0)), actual))
    return tuple(sorted(drifts, key=lambda s: (-abs(s.drift), s.label)))


def services_to_explain(services: Sequence[ServiceDrift], needed: Collection[str] = ()) -> list[ServiceDrift]:
    """The services (largest drift first, at most `EXPLAIN_SERVICES`) whose drift is at least a cent, and
    those of the `needed` service codes (what `--suggest-usage` reads), whatever their drift."""
    chosen = [s for s in services if abs(s.drift) >= CENT][:EXPLAIN_SERVICES]
    return chosen + [s for s in services if s.code in needed and s not in chosen]


def line_drifts(
    estimate: CostEstimate, explained: Sequence[ServiceDrift], billed: Sequence[ActualLine]
) -> tuple[LineDrift, ...]:
    """The explained services' estimate lines and billed usage types, matched by component."""
    result: list[LineDrift] = []
    for service in explained:
        if service.code is None:
            result.append(
                LineDrift(f"service:{service.label}", None, service.services, (), (), service.actual)
            )
            continue
        lines: dict[str, list[CostLine]] = defaultdict(list)
        for line in estimate.lines:
            if line.service_code == service.code:
                lines[estimate_key(line)].append(line)
        usage: dict[str, list[ActualLine]] = defaultdict(list)
        for item in billed:
            if item.service in service.services:
                usage[actual_key(service.code, item.usage_type)].append(item)
        for key in sorted(set(lines) | set(usage)):
            items = usage.get(key, [])
            result.append(
                LineDrift(
                    key,
                    service.code,
                    tuple(sorted({i.service for i in items})),
                    tuple(sorted({i.usage_type for i in items})),
                    tuple(lines.get(key, [])),
                    sum((i.amounts for i in items), Amounts()),
                )
            )
    return tuple(sorted(result, key=lambda d: (-abs(d.drift), d.label)))


def _spend_by_tag(result: QueryResult) -> dict[str, dict[str, Amounts]]:
    spend: dict[str, dict[str, Amounts]] = defaultdict(dict)
    for group in result.groups:
        spend[group.tag_value][group.dimension] = group.amounts
    return spend


def check_has_data(result: QueryResult, month: Month) -> None:
    """No spend at all, or no tagged spend in a month with spend: an ActualError that says what to do."""
    total = sum((abs(g.amounts.unblended) for g in result.groups), Decimal(0))
    if not result.groups or total == 0:
        raise ActualError(
            f"Cost Explorer has no cost for {month.label} in this account: check the account (the credentials "
            "in use) and the month; a new account's data takes up to 24 hours to appear"
        )
    if all(g.tag_value == UNTAGGED for g in result.groups):
        raise ActualError(
            f"no spend in {month.label} carries the tag {CONSTRUCT_TAG_KEY}: the tag is not active as a cost "
            "allocation tag yet (run `inferwise tags activate`; it takes up to 24 hours and counts spend "
            "from then on), or the resources were deployed without inferwise's tags"
        )


def compare_month(
    report: CostReport,
    month: Month,
    client: Any,
    *,
    needed: Callable[[CostEstimate], Collection[str]] = lambda estimate: (),
) -> ActualReport:
    """The month's bill against `report`'s estimates: 1 + (services explained) `GetCostAndUsage` requests.

    `needed(estimate)` names service codes whose lines are wanted whatever their drift (`--suggest-usage`).
    """
    if not report.constructs:
        raise ActualError("no cost estimates found in this cloud assembly: nothing to compare with the bill")
    first = construct_costs(client, month)
    check_has_data(first, month)
    tags = construct_tags(report)
    spend = _spend_by_tag(first)
    services = {tag: service_drifts(c.estimate, spend.get(tag, {})) for tag, c in tags.items()}
    explained = {tag: services_to_explain(services[tag], needed(c.estimate)) for tag, c in tags.items()}
    wanted: dict[str, list[str]] = defaultdict(list)
    for tag, chosen in explained.items():
        for service in chosen:
            if service.code is not None:
                for name in service.services:
                    wanted[name].append(tag)
    billed: dict[str, list[ActualLine]] = defaultdict(list)
    requests, estimated = first.requests, first.estimated
    for name, wanted_tags in sorted(wanted.items()):
        result = usage_type_costs(client, month, name, wanted_tags)
        requests, estimated = requests + result.requests, estimated or result.estimated
        for group in result.groups:
            billed[group.tag_value].append(ActualLine(name, group.dimension, group.amounts))
    constructs = tuple(
        ConstructDrift(
            c,
            tag,
            services[tag],
            line_drifts(c.estimate, explained[tag], billed.get(tag, [])),
        )
        for tag, c in sorted(tags.items(), key=lambda item: (item[1].stack, item[1].estimate.construct_path))
    )
    return ActualReport(
        month,
        constructs,
        untagged_spend(spend.get(UNTAGGED, {}), (c.estimate for c in report.constructs)),
        tuple(sorted(tag for tag in spend if tag != UNTAGGED and tag not in tags)),
        estimated,
        requests,
    )


def untagged_spend(
    spend: Mapping[str, Amounts], estimates: Iterable[CostEstimate]
) -> tuple[ServiceDrift, ...]:
    """Untagged spend in the services the estimates price, one row per Cost Explorer service, largest first."""
    codes = {line.service_code for estimate in estimates for line in estimate.lines}
    rows = [
        ServiceDrift(service_code(name), (name,), Decimal(0), amounts)
        for name, amounts in spend.items()
        if service_code(name) in codes and (amounts.unblended or amounts.amortized)
    ]
    return tuple(sorted(rows, key=lambda s: (-abs(s.actual.unblended), s.services)))
