"""The cost diff between two cloud assemblies: what a change to the infrastructure does to the bill.

Both sides are read from synthesized templates alone (`CostReport`), so a pull request's base and head
can be compared without credentials or importing user code. Constructs are matched by stack and path,
cost lines by their Pricing Calculator keys. Figures are the rounded ones of `inferwise.cost.render`
(construct totals in cents, every total a sum of those), so every rendering adds up.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from itertools import accumulate
from typing import Any, Literal

from inferwise import __version__
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.render import (
    FROM_USAGE_FILE,
    USAGE_DRIVEN,
    before_after,
    estimate_json,
    estimate_total,
    line_costs,
    md_cell,
    mermaid_bars,
    percent,
    quantity,
    short_ref,
    signed_usd,
    usage_driven,
    usage_file_figures,
    usd,
)
from inferwise.cost.report import CostReport

COMMENT_MARKER = "<!-- inferwise-cost-diff -->"
"""Hidden tag a workflow uses to find and update its own pull-request comment."""

GENERATED_AT = "<!-- inferwise-generated-at: {} -->"
"""Hidden timestamp, so a workflow never replaces a newer comment with an older one."""

GITHUB_COMMENT_LIMIT = 65_536
"""GitHub's maximum comment body, in characters."""

Status = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class LineChange:
    """One cost line before and after (None when the construct gained or lost it), with shown costs."""

    before: CostLine | None
    after: CostLine | None
    before_cost: Decimal
    after_cost: Decimal

    @property
    def line(self) -> CostLine:
        line = self.after or self.before
        assert line is not None
        return line

    @property
    def delta(self) -> Decimal:
        return self.after_cost - self.before_cost


def _line_keys(line: CostLine) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(component and Pricing Calculator keys, the keys alone): what pairs two lines, first and second."""
    keys = (line.service_code, line.usage_type, line.operation, line.pricing_category)
    return (line.component, *keys), keys


def _match_lines(before: CostEstimate | None, after: CostEstimate | None) -> list[LineChange]:
    """Pair lines by component and Pricing Calculator keys, then by the keys alone (a renamed component);
    the head's lines in order, then the lines only the base had."""
    old = [] if before is None else list(zip(before.lines, line_costs(before), strict=True))
    new = [] if after is None else list(zip(after.lines, line_costs(after), strict=True))
    pairs: dict[int, int] = {}
    for level in (0, 1):
        for j, (line, _) in enumerate(new):
            if j not in pairs:
                taken = set(pairs.values())
                key = _line_keys(line)[level]
                found = (i for i, (o, _) in enumerate(old) if i not in taken and _line_keys(o)[level] == key)
                i = next(found, None)
                if i is not None:
                    pairs[j] = i
    changes = [
        LineChange(old[pairs[j]][0], line, old[pairs[j]][1], cost)
        if j in pairs
        else LineChange(None, line, Decimal(0), cost)
        for j, (line, cost) in enumerate(new)
    ]
    taken = set(pairs.values())
    return changes + [
        LineChange(o, None, cost, Decimal(0)) for i, (o, cost) in enumerate(old) if i not in taken
    ]


@dataclass(frozen=True)
class ConstructChange:
    """One construct's estimate before and after; `before` or `after` is None when it was added or removed."""

    stack: str
    construct_path: str
    before: CostEstimate | None
    after: CostEstimate | None

    @cached_property
    def status(self) -> Status:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "unchanged" if self.before == self.after else "changed"

    @property
    def before_total(self) -> Decimal:
        """The monthly total before, in cents ($0 when the construct was added)."""
        return Decimal(0) if self.before is None else estimate_total(self.before)

    @property
    def after_total(self) -> Decimal:
        return Decimal(0) if self.after is None else estimate_total(self.after)

    @property
    def delta(self) -> Decimal:
        return self.after_total - self.before_total

    def assumption_changes(self) -> tuple[list[str], list[str]]:
        """(assumptions only after, assumptions only before), each in order of appearance."""
        before, after = _assumptions(self.before), _assumptions(self.after)
        return [a for a in after if a not in before], [a for a in before if a not in after]

    def line_changes(self) -> list[LineChange]:
        """Every cost line of either side, paired; the shown costs add up to the construct totals."""
        return _match_lines(self.before, self.after)

    def usage_file_figures(self) -> list[str]:
        return usage_file_figures(self.after if self.after is not None else self.before)


def _assumptions(estimate: CostEstimate | None) -> list[str]:
    if estimate is None:
        return []
    return list(
        dict.fromkeys([*estimate.assumptions, *(a for line in estimate.lines for a in line.assumptions)])
    )


@dataclass(frozen=True)
class CostDiff:
    base: CostReport
    head: CostReport
    changes: tuple[ConstructChange, ...]

    @property
    def delta(self) -> Decimal:
        """Head total minus base total: the sum of the constructs' changes."""
        return self.head.monthly_total - self.base.monthly_total

    @property
    def delta_percent(self) -> Decimal | None:
        base = self.base.monthly_total
        return None if base == 0 else self.delta * 100 / base

    @property
    def savings_delta(self) -> Decimal:
        return self.head.savings_usd - self.base.savings_usd

    def summary(self) -> str:
        """`+$312.00/month (+18.0%)`; `no change` when the totals are equal."""
        if self.delta == 0:
            return "no change to the monthly estimate"
        sign = "+" if self.delta > 0 else "-"
        share = self.delta_percent
        text = f"{sign}{usd(abs(self.delta))}/month"
        return text + ("" if share is None else f" ({sign}{percent(abs(share))})")

    def prices_as_of(self) -> date | None:
        """The newest as-of date of the prices the head (else the base) was priced with."""
        for report in (self.head, self.base):
            dates = [
                line.price_as_of
                for c in report.constructs
                for estimate in (c.estimate, c.estimate.baseline)
                if estimate is not None
                for line in estimate.lines
            ]
            if dates:
                return max(dates)
        return None


def diff_reports(base: CostReport, head: CostReport) -> CostDiff:
    before = {(c.stack, c.estimate.construct_path): c.estimate for c in base.constructs}
    after = {(c.stack, c.estimate.construct_path): c.estimate for c in head.constructs}
    keys = sorted(before.keys() | after.keys())
    changes = tuple(
        ConstructChange(stack, path, before.get((stack, path)), after.get((stack, path)))
        for stack, path in keys
    )
    return CostDiff(base, head, changes)


# -------------------------------------------------------------------------------------------- thresholds
@dataclass(frozen=True)
class Thresholds:
    """The `--fail-*` limits of `inferwise diff`; None means not checked."""

    fail_over_usd: Decimal | None = None
    fail_increase_usd: Decimal | None = None
    fail_increase_percent: Decimal | None = None


@dataclass(frozen=True)
class ThresholdCheck:
    """One threshold against the diff: `monthly increase +31.2% is above --fail-increase-percent 25`."""

    flag: str
    limit: Decimal
    measured: str
    crossed: bool

    def sentence(self, *, code: bool = False) -> str:
        """The check in words; `code` puts the flag and limit in backticks (markdown)."""
        limit = f"{self.flag} {self.limit.normalize():f}"
        verb = "above" if self.crossed else "within"
        return f"{self.measured} is {verb} " + (f"`{limit}`" if code else limit)


def check_thresholds(diff: CostDiff, thresholds: Thresholds | None) -> list[ThresholdCheck]:
    """Every threshold that was set, crossed or not, in flag order."""
    if thresholds is None:
        return []
    checks = []
    head_total, delta = diff.head.monthly_total, diff.delta
    rise = f"monthly {'increase' if delta > 0 else 'change'}"
    if thresholds.fail_over_usd is not None:
        limit = thresholds.fail_over_usd
        checks.append(
            ThresholdCheck(
                "--fail-over-usd", limit, f"monthly estimate {usd(head_total)}", head_total > limit
            )
        )
    if thresholds.fail_increase_usd is not None:
        limit = thresholds.fail_increase_usd
        checks.append(
            ThresholdCheck("--fail-increase-usd", limit, f"{rise} {signed_usd(delta)}", delta > limit)
        )
    if thresholds.fail_increase_percent is not None:
        limit, share = thresholds.fail_increase_percent, diff.delta_percent
        if share is None:  # from $0 any rise crosses it
            measured, crossed = f"{rise} {signed_usd(delta)} from a base of $0.00", delta > 0
        else:
            measured = f"{rise} {'+' if share > 0 else ''}{percent(share)}"
            crossed = share > limit
        checks.append(ThresholdCheck("--fail-increase-percent", limit, measured, crossed))
    return checks


# ------------------------------------------------------------------------------------------------ table
HEADERS = ("Stack", "Construct", "Status", "Before", "After", "Change")


def _row_cells(change: ConstructChange) -> tuple[str, ...]:
    before = "-" if change.before is None else usd(change.before_total)
    after = "-" if change.after is None else usd(change.after_total)
    return (change.stack, change.construct_path, change.status, before, after, signed_usd(change.delta))


def _total_cells(diff: CostDiff) -> tuple[str, ...]:
    return (
        "TOTAL",
        "",
        "",
        usd(diff.base.monthly_total),
        usd(diff.head.monthly_total),
        signed_usd(diff.delta),
    )


def render_diff_table(diff: CostDiff) -> str:
    """A fixed-width table of every construct for a terminal; the rows add up to the total."""
    rows = [HEADERS, *(_row_cells(c) for c in diff.changes), _total_cells(diff)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i >= 3 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    body = [fmt(rows[0]), rule, *(fmt(r) for r in rows[1:-1]), rule, fmt(rows[-1])]
    return f"inferwise cost diff: {diff.summary()}\n" + "\n".join(body) + "\n"


# ------------------------------------------------------------------------------------------------- JSON
def _line_json(change: LineChange) -> dict[str, Any]:
    return {
        "x_Component": change.line.component,
        "PricingUnit": change.line.pricing_unit,
        "x_Before": None if change.before is None else str(change.before_cost),
        "x_After": None if change.after is None else str(change.after_cost),
        "x_Delta": str(change.delta),
        "x_UsageDriven": usage_driven(change.line),
    }


def render_diff_json(
    diff: CostDiff,
    *,
    thresholds: Thresholds | None = None,
    base_ref: str | None = None,
    head_ref: str | None = None,
) -> str:
    """The diff as JSON, in the cents of the markdown and the table (docs/cost-model.md lists the fields)."""

    def side(estimate: CostEstimate | None) -> Any:
        return None if estimate is None else estimate_json(estimate)

    share = diff.delta_percent
    as_of = diff.prices_as_of()
    data = {
        "x_SchemaVersion": 1,
        "BillingCurrency": "USD",
        "x_InferwiseVersion": __version__,
        "x_PricesAsOf": None if as_of is None else as_of.isoformat(),
        "x_BaseRef": base_ref,
        "x_HeadRef": head_ref,
        "x_Summary": diff.summary(),
        "x_Base": {"ListCost": str(diff.base.monthly_total), "x_SavingsUSD": str(diff.base.savings_usd)},
        "x_Head": {"ListCost": str(diff.head.monthly_total), "x_SavingsUSD": str(diff.head.savings_usd)},
        "x_Delta": str(diff.delta),
        "x_DeltaPercent": None if share is None else f"{percent(share).rstrip('%')}",
        "x_SavingsDelta": str(diff.savings_delta),
        "x_Thresholds": [
            {
                "x_Flag": c.flag,
                "x_Limit": f"{c.limit.normalize():f}",
                "x_Crossed": c.crossed,
                "x_Message": c.sentence(),
            }
            for c in check_thresholds(diff, thresholds)
        ],
        "x_Stacks": [
            {
                "x_StackName": stack,
                "x_Before": str(diff.base.stack_total(stack)),
                "x_After": str(diff.head.stack_total(stack)),
            }
            for stack in sorted({c.stack for c in diff.changes})
        ],
        "x_Constructs": [
            {
                "x_StackName": c.stack,
                "x_ConstructPath": c.construct_path,
                "x_Status": c.status,
                "x_Before": str(c.before_total),
                "x_After": str(c.after_total),
                "x_Delta": str(c.delta),
                "x_AssumptionsAdded": c.assumption_changes()[0],
                "x_AssumptionsRemoved": c.assumption_changes()[1],
                "x_LineChanges": [_line_json(line) for line in c.line_changes()],
                "x_BeforeEstimate": side(c.before),
                "x_AfterEstimate": side(c.after),
            }
            for c in diff.changes
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------------------------- markdown
CHART_CONSTRUCTS = 8
"""At most this many constructs (the largest changes) in the `--chart` bar chart."""


@dataclass(frozen=True)
class CommentContext:
    """What the pull-request comment says besides the figures: thresholds, commits, when, a chart."""

    thresholds: Thresholds | None = None
    generated_at: str | None = None
    base_ref: str | None = None
    head_ref: str | None = None
    chart: bool = False


def _head_block(diff: CostDiff, context: CommentContext) -> list[str]:
    lines = [COMMENT_MARKER]
    if context.generated_at is not None:
        lines.append(GENERATED_AT.format(context.generated_at))
    lines += [f"### inferwise cost estimate: {diff.summary()}", ""]
    checks = check_thresholds(diff, context.thresholds)
    for check in checks:
        verdict = "**Fails:**" if check.crossed else "**Passes:**"
        lines.append(f"{verdict} {check.sentence(code=True)}." + ("  " if check is not checks[-1] else ""))
    lines += [""] if checks else []
    base, head = diff.base, diff.head
    lines.append(
        f"Monthly estimate {usd(base.monthly_total)} → {usd(head.monthly_total)}; savings against naive "
        f"baselines {usd(base.savings_usd)} → {usd(head.savings_usd)} ({signed_usd(diff.savings_delta)})."
    )
    counts = [
        (sum(1 for c in diff.changes if c.status == s), s)
        for s in ("changed", "added", "removed", "unchanged")
    ]
    listed = ", ".join(f"{n} {status}" for n, status in counts if n) or "none has an inferwise estimate"
    return [*lines, "", f"Constructs: {listed}."]


def _group_row(label: str, status: str, before: Decimal, after: Decimal) -> str:
    return f"| {label} | {status} | {usd(before)} | {usd(after)} | {signed_usd(after - before)} |"


def _folded_row(count: int, before: Decimal, after: Decimal) -> str:
    return _group_row(f"*{count} more, left out to fit the comment*", "", before, after)


def _row(change: ConstructChange) -> str:
    before = "-" if change.before is None else usd(change.before_total)
    after = "-" if change.after is None else usd(change.after_total)
    return (
        f"| {_construct_cell(change)} | {change.status} | {before} | {after} | {signed_usd(change.delta)} |"
    )


def _construct_cell(change: ConstructChange) -> str:
    cell = md_cell(change.construct_path)
    if not change.construct_path.startswith(f"{change.stack}/"):
        cell += f" (stack {md_cell(change.stack)})"
    return cell + (f" {FROM_USAGE_FILE}" if change.usage_file_figures() else "")


def _table_block(diff: CostDiff, changed: Sequence[ConstructChange], shown: int) -> list[str]:
    """The first `shown` changed constructs, one row for the other changed ones, one for the unchanged,
    and the total: every column adds up to the total."""
    lines = ["", "| Construct | Status | Before | After | Change |", "|---|---|---:|---:|---:|"]
    lines += [_row(change) for change in changed[:shown]]
    folded = changed[shown:]
    if folded:
        before = sum((c.before_total for c in folded), Decimal(0))
        lines.append(_folded_row(len(folded), before, sum((c.after_total for c in folded), Decimal(0))))
    unchanged = [c.before_total for c in diff.changes if c.status == "unchanged"]
    if unchanged:
        total = sum(unchanged, Decimal(0))
        lines.append(_group_row(f"*{len(unchanged)} unchanged*", "unchanged", total, total))
    base, head = diff.base.monthly_total, diff.head.monthly_total
    lines.append(f"| **Total** | | **{usd(base)}** | **{usd(head)}** | **{signed_usd(head - base)}** |")
    return lines


def _rows_that_fit(diff: CostDiff, changed: Sequence[ConstructChange], room: int) -> int:
    """How many changed constructs keep a row of their own in `room` characters (the rest are folded)."""
    size = _size(_table_block(diff, changed, len(changed)))
    if size <= room:
        return len(changed)
    before = after = Decimal(0)
    for shown in range(len(changed) - 1, -1, -1):
        change = changed[shown]
        before, after = before + change.before_total, after + change.after_total
        size -= len(_row(change)) + 1
        if size + len(_folded_row(len(changed) - shown, before, after)) + 1 <= room:
            return shown
    return 0


def _chart_block(changed: Sequence[ConstructChange]) -> list[str]:
    """A Mermaid bar chart (GitHub renders it): before and after of the largest changes, side by side."""
    bars = [
        (f"{change.construct_path} {side}", total)
        for change in changed[:CHART_CONSTRUCTS]
        for side, total in (("before", change.before_total), ("after", change.after_total))
    ]
    return mermaid_bars("Monthly estimate before and after (USD)", "USD per month", bars) if bars else []


def _line_row(change: LineChange) -> str:
    old, new = change.before, change.after
    mark = f" {USAGE_DRIVEN}" if usage_driven(change.line) else ""
    amount = before_after(
        None if old is None else quantity(old.monthly_quantity),
        None if new is None else quantity(new.monthly_quantity),
    )
    price = before_after(
        None if old is None else f"${old.unit_price.normalize():f}",
        None if new is None else f"${new.unit_price.normalize():f}",
    )
    before = "-" if old is None else usd(change.before_cost)
    after = "-" if new is None else usd(change.after_cost)
    return (
        f"| {md_cell(change.line.component)}{mark} | {amount} | {md_cell(change.line.pricing_unit)} | {price} "
        f"| {before} | {after} | {signed_usd(change.delta)} |"
    )


def _details_block(change: ConstructChange) -> list[str]:
    """Collapsed: usage-file figures, every cost line before and after, the assumptions that changed."""
    block = [
        "",
        f"<details><summary>{md_cell(change.construct_path)} ({change.status}, {signed_usd(change.delta)})</summary>",
        "",
    ]
    figures = change.usage_file_figures()
    if figures:
        block += [f"{FROM_USAGE_FILE} Set by a usage file: {'; '.join(md_cell(f) for f in figures)}.", ""]
    block += [
        "| Cost line | Quantity | Unit | Unit price | Before | After | Change |",
        "|---|---:|---|---:|---:|---:|---:|",
        *(_line_row(line) for line in change.line_changes()),
        f"| **Total** | | | | **{usd(change.before_total)}** | **{usd(change.after_total)}** "
        f"| **{signed_usd(change.delta)}** |",
    ]
    added, removed = change.assumption_changes()
    if added or removed:
        block += [""] + [f"- assumption now: {md_cell(a)}" for a in added]
        block += [f"- assumption before: {md_cell(a)}" for a in removed]
    return [*block, "", "</details>"]


def _footer(diff: CostDiff, context: CommentContext, body: str) -> list[str]:
    """The legend of the marks used in `body`, then version, price date, commits and time."""
    notes = [
        "Monthly USD at list prices; each construct is rounded to the cent and totals add the rounded rows"
    ]
    if f"{USAGE_DRIVEN} |" in body:
        notes.append(
            f"{USAGE_DRIVEN} usage-driven: the quantity follows a usage assumption (requests, tokens, active "
            "hours, storage), not fixed infrastructure"
        )
    if FROM_USAGE_FILE in body:
        notes.append(
            f"{FROM_USAGE_FILE} workload figures set by a usage file (context `inferwise:usage-file`)"
        )
    about = [f"inferwise {__version__}"]
    as_of = diff.prices_as_of()
    if as_of is not None:
        about.append(f"prices as of {as_of.isoformat()}")
    if context.base_ref or context.head_ref:
        about.append(f"base {short_ref(context.base_ref)} → head {short_ref(context.head_ref)}")
    if context.generated_at is not None:
        about.append(f"generated {context.generated_at}")
    return ["", "<sub>" + ". ".join(notes) + ".</sub>", "", "<sub>" + " · ".join(about) + "</sub>"]


def render_diff_markdown(
    diff: CostDiff,
    *,
    limit: int = GITHUB_COMMENT_LIMIT,
    generated_at: str | None = None,
    context: CommentContext | None = None,
) -> str:
    """A pull-request comment: marker, summary, thresholds, table, optional chart, details, legend, footer.

    Kept within `limit` characters by leaving out details (smallest changes first), then the chart, then
    table rows, which are folded into one row so the columns still add up; summary, totals and footer stay.
    """
    if context is None:
        context = CommentContext(generated_at=generated_at)
    changed = sorted(
        (c for c in diff.changes if c.status != "unchanged"),
        key=lambda c: (-abs(c.delta), c.stack, c.construct_path),
    )
    head, details = _head_block(diff, context), [_details_block(c) for c in changed]
    chart = _chart_block(changed) if context.chart else []
    room = limit - _size(head) - _size(_footer(diff, context, f"{USAGE_DRIVEN} |{FROM_USAGE_FILE}"))
    room -= _size(_left_out(len(details)))
    shown, table = len(changed), _table_block(diff, changed, len(changed))
    used = list(accumulate((_size(block) for block in details), initial=_size(table) + _size(chart)))
    if used[0] <= room:  # every row and the chart fit: keep as many details as fit
        kept = max(k for k, size in enumerate(used) if size <= room)
    else:
        chart, kept = [], 0
        shown = _rows_that_fit(diff, changed, room)
        table = _table_block(diff, changed, shown)
    body = [*head, *table, *chart, *(line for block in details[:kept] for line in block)]
    body += _left_out(len(details) - kept)
    return "\n".join([*body, *_footer(diff, context, "\n".join(body))]) + "\n"


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _left_out(count: int) -> list[str]:
    note = f"*Details of {count} construct(s) left out to fit the comment size limit; run `inferwise diff` for all.*"
    return ["", note] if count else []
