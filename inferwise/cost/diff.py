"""The cost diff between two cloud assemblies: what a change to the infrastructure does to the bill.

Both sides are read from synthesized templates alone (`CostReport`), so a pull request's base and head
can be compared without credentials or importing user code. Constructs are matched by stack and path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from inferwise.cost.model import CostEstimate
from inferwise.cost.render import percent, quantity, usd
from inferwise.cost.report import CostReport

COMMENT_MARKER = "<!-- inferwise-cost-diff -->"
"""Hidden tag a workflow uses to find and update its own pull-request comment."""

GITHUB_COMMENT_LIMIT = 65_536
"""GitHub's maximum comment body, in characters."""

Status = Literal["added", "removed", "changed", "unchanged"]


@dataclass(frozen=True)
class ConstructChange:
    """One construct's estimate before and after; `before` or `after` is None when it was added or removed."""

    stack: str
    construct_path: str
    before: CostEstimate | None
    after: CostEstimate | None

    @property
    def status(self) -> Status:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "unchanged" if self.before == self.after else "changed"

    @property
    def before_total(self) -> Decimal:
        return Decimal(0) if self.before is None else self.before.monthly_total

    @property
    def after_total(self) -> Decimal:
        return Decimal(0) if self.after is None else self.after.monthly_total

    @property
    def delta(self) -> Decimal:
        return self.after_total - self.before_total

    @property
    def pattern(self) -> str:
        estimate = self.after or self.before
        assert estimate is not None
        return estimate.pattern

    def assumption_changes(self) -> tuple[list[str], list[str]]:
        """(assumptions only after, assumptions only before), each in order of appearance."""
        before, after = _assumptions(self.before), _assumptions(self.after)
        return [a for a in after if a not in before], [a for a in before if a not in after]


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
        return self.head.monthly_total - self.base.monthly_total

    @property
    def delta_percent(self) -> Decimal | None:
        base = self.base.monthly_total
        return None if base == 0 else self.delta * 100 / base

    @property
    def savings_delta(self) -> Decimal:
        return self.head.savings_usd - self.base.savings_usd

    def stacks(self) -> list[str]:
        return sorted({c.stack for c in self.changes})

    def summary(self) -> str:
        """`+$312.00/month (+18.0%)`; `no change` when the totals are equal."""
        if self.delta == 0:
            return "no change to the monthly estimate"
        sign = "+" if self.delta > 0 else "-"
        share = self.delta_percent
        text = f"{sign}{usd(abs(self.delta))}/month"
        return text + ("" if share is None else f" ({sign}{percent(abs(share))})")


def diff_reports(base: CostReport, head: CostReport) -> CostDiff:
    before = {(c.stack, c.estimate.construct_path): c.estimate for c in base.constructs}
    after = {(c.stack, c.estimate.construct_path): c.estimate for c in head.constructs}
    keys = sorted(before.keys() | after.keys())
    changes = tuple(
        ConstructChange(stack, path, before.get((stack, path)), after.get((stack, path)))
        for stack, path in keys
    )
    return CostDiff(base, head, changes)


def threshold_failures(
    diff: CostDiff,
    *,
    fail_over_usd: Decimal | None = None,
    fail_increase_usd: Decimal | None = None,
    fail_increase_percent: Decimal | None = None,
) -> list[str]:
    """One message per threshold the head crosses; empty when CI may pass."""
    failures = []
    head_total = diff.head.monthly_total
    if fail_over_usd is not None and head_total > fail_over_usd:
        failures.append(f"monthly estimate {usd(head_total)} is over --fail-over-usd {usd(fail_over_usd)}")
    if fail_increase_usd is not None and diff.delta > fail_increase_usd:
        failures.append(
            f"monthly increase {usd(diff.delta)} is over --fail-increase-usd {usd(fail_increase_usd)}"
        )
    share = diff.delta_percent
    if fail_increase_percent is not None and diff.delta > 0:
        if share is None:
            failures.append(
                f"monthly increase {usd(diff.delta)} from a base of $0.00 is over --fail-increase-percent {fail_increase_percent}"
            )
        elif share > fail_increase_percent:
            failures.append(
                f"monthly increase {percent(share)} is over --fail-increase-percent {fail_increase_percent}"
            )
    return failures


def _signed(amount: Decimal) -> str:
    return ("+" if amount > 0 else "") + usd(amount)


def _row_cells(change: ConstructChange) -> tuple[str, ...]:
    before = "-" if change.before is None else usd(change.before_total)
    after = "-" if change.after is None else usd(change.after_total)
    return (change.stack, change.construct_path, change.status, before, after, _signed(change.delta))


HEADERS = ("Stack", "Construct", "Status", "Before", "After", "Change")


def _total_cells(diff: CostDiff) -> tuple[str, ...]:
    return ("TOTAL", "", "", usd(diff.base.monthly_total), usd(diff.head.monthly_total), _signed(diff.delta))


def render_diff_table(diff: CostDiff) -> str:
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


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _summary_block(diff: CostDiff, generated_at: str | None) -> list[str]:
    marker = (
        COMMENT_MARKER
        if generated_at is None
        else f"{COMMENT_MARKER}\n<!-- inferwise-generated-at: {generated_at} -->"
    )
    base, head = diff.base, diff.head
    return [
        marker,
        f"### inferwise cost estimate: {diff.summary()}",
        "",
        f"Monthly estimate {usd(base.monthly_total)} → {usd(head.monthly_total)}; "
        f"savings against naive baselines {usd(base.savings_usd)} → {usd(head.savings_usd)} ({_signed(diff.savings_delta)}).",
    ]


def _table_block(diff: CostDiff, rows: Sequence[ConstructChange]) -> list[str]:
    lines = ["", "| " + " | ".join(HEADERS) + " |", "|---|---|---|---:|---:|---:|"]
    shown = [c for c in rows if c.status != "unchanged"]
    unchanged = len(rows) - len(shown)
    lines += ["| " + " | ".join(_md(cell) for cell in _row_cells(c)) + " |" for c in shown]
    for stack in diff.stacks():
        before = diff.base.stack_total(stack)
        after = diff.head.stack_total(stack)
        if before != after:
            lines.append(
                f"| {_md(stack)} | *stack total* | | {usd(before)} | {usd(after)} | {_signed(after - before)} |"
            )
    lines.append("| " + " | ".join(f"**{cell}**" if cell else "" for cell in _total_cells(diff)) + " |")
    if unchanged:
        lines += ["", f"{unchanged} construct(s) unchanged."]
    return lines


def _details_blocks(diff: CostDiff) -> list[list[str]]:
    blocks = []
    for change in diff.changes:
        if change.status == "unchanged":
            continue
        added, removed = change.assumption_changes()
        block = [
            "",
            f"<details><summary>{_md(change.construct_path)} ({change.status}, {_signed(change.delta)})</summary>",
            "",
        ]
        block += [f"- assumption now: {_md(a)}" for a in added]
        block += [f"- assumption before: {_md(a)}" for a in removed]
        if change.after is not None:
            block += [
                "",
                "| Component | Quantity | Unit | Unit price | Monthly |",
                "|---|---:|---|---:|---:|",
            ]
            block += [
                f"| {_md(line.component)} | {quantity(line.monthly_quantity)} | {_md(line.pricing_unit)} "
                f"| ${line.unit_price.normalize():f} | {usd(line.monthly_cost)} |"
                for line in change.after.lines
            ]
        block += ["", "</details>"]
        blocks.append(block)
    return blocks


def render_diff_markdown(
    diff: CostDiff, *, limit: int = GITHUB_COMMENT_LIMIT, generated_at: str | None = None
) -> str:
    """A pull-request comment: hidden marker, one-line summary, table, details collapsed.

    Kept within `limit` characters by dropping details first, then table rows from the middle; the
    summary is never cut.
    """
    head = _summary_block(diff, generated_at)
    changed = list(diff.changes)
    table = _table_block(diff, changed)
    details = _details_blocks(diff)
    text = "\n".join([*head, *table, *(line for block in details for line in block)]) + "\n"
    kept = len(details)
    while len(text) > limit and kept > 0:
        kept -= 1
        omitted = [
            "",
            f"*Details of {len(details) - kept} construct(s) omitted to fit the comment size limit; run `inferwise diff` locally for all of them.*",
        ]
        text = (
            "\n".join([*head, *table, *(line for block in details[:kept] for line in block), *omitted]) + "\n"
        )
    while len(text) > limit and len(changed) > 2:
        middle = len(changed) // 2
        del changed[middle]
        table = [
            *_table_block(diff, changed),
            "",
            f"*{len(diff.changes) - len(changed)} table row(s) omitted to fit the comment size limit.*",
        ]
        text = "\n".join([*head, *table]) + "\n"
    return text


def render_diff_json(diff: CostDiff) -> str:
    def side(estimate: CostEstimate | None) -> Any:
        return None if estimate is None else estimate.to_json()

    data = {
        "x_SchemaVersion": 1,
        "BillingCurrency": "USD",
        "x_Summary": diff.summary(),
        "x_Base": {"ListCost": str(diff.base.monthly_total), "x_SavingsUSD": str(diff.base.savings_usd)},
        "x_Head": {"ListCost": str(diff.head.monthly_total), "x_SavingsUSD": str(diff.head.savings_usd)},
        "x_Delta": str(diff.delta),
        "x_DeltaPercent": None if diff.delta_percent is None else str(diff.delta_percent),
        "x_SavingsDelta": str(diff.savings_delta),
        "x_Stacks": [
            {
                "x_StackName": stack,
                "x_Before": str(diff.base.stack_total(stack)),
                "x_After": str(diff.head.stack_total(stack)),
            }
            for stack in diff.stacks()
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
                "x_BeforeEstimate": side(c.before),
                "x_AfterEstimate": side(c.after),
            }
            for c in diff.changes
        ],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
