"""`inferwise diff`: two synthesized versions of an app, the numbers, the PR comment and the exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise import __version__
from inferwise.cli import main
from inferwise.cost.diff import (
    COMMENT_MARKER,
    CommentContext,
    ConstructChange,
    Thresholds,
    diff_reports,
    render_diff_markdown,
)
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.render import usage_driven
from inferwise.cost.report import report_from_cloud_assembly
from tests.fixtures.fixture_stack import FixtureStack, FixtureUsage
from tests.harness.synth import CONTEXT

Builder = Callable[[cdk.App], None]


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every markdown table in `text`: rows of stripped cells, the header row first, the rule left out."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = [cells]
            elif not set("".join(cells)) <= set("-:"):
                current.append(cells)
        elif current is not None:
            tables.append(current)
            current = None
    return tables


def money(cell: str) -> Decimal:
    """`$1,234.50`, `+$3.00`, `-$2.10`, `**$4.00**` as a Decimal; `-` (no side) is $0."""
    text = cell.strip("*")
    if text == "-":
        return Decimal(0)
    sign = -1 if text.startswith("-") else 1
    return sign * Decimal(text.lstrip("+-").lstrip("$").replace(",", ""))


def synth(outdir: Path, build: Builder, context: dict[str, object] | None = None) -> Path:
    app = cdk.App(outdir=str(outdir), context={**CONTEXT, **(context or {})})
    build(app)
    app.synth()
    return outdir


def base_app(app: cdk.App) -> None:
    FixtureStack(app, "Chat", usage=FixtureUsage(100, 300))
    FixtureStack(app, "Batch", usage=FixtureUsage(200, 400))


def head_app(app: cdk.App) -> None:
    FixtureStack(app, "Chat", usage=FixtureUsage(130, 300))  # grew
    FixtureStack(app, "Embeddings", usage=FixtureUsage(20, 40))  # added; Batch removed


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return (
        synth(tmp_path_factory.mktemp("base"), base_app),
        synth(tmp_path_factory.mktemp("head"), head_app),
    )


def test_diff_numbers_per_construct_and_total(assemblies: tuple[Path, Path]) -> None:
    base, head = (report_from_cloud_assembly(p) for p in assemblies)
    diff = diff_reports(base, head)
    by_path = {c.construct_path: c for c in diff.changes}
    assert by_path["Chat/Workload"].status == "changed"
    assert by_path["Chat/Workload"].delta == Decimal(30)
    assert by_path["Batch/Workload"].status == "removed"
    assert by_path["Batch/Workload"].delta == Decimal(-200)
    assert by_path["Embeddings/Workload"].status == "added"
    assert diff.delta == Decimal(-150)
    assert diff.delta_percent == Decimal(-50)
    # savings: base (300-100)+(400-200) = 400; head (300-130)+(40-20) = 190
    assert diff.savings_delta == Decimal(-210)
    assert diff.summary() == "-$150.00/month (-50.0%)"
    assert diff.prices_as_of() == date(2026, 11, 1)


def test_markdown_comment_has_marker_summary_table_and_collapsed_details(
    assemblies: tuple[Path, Path],
) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    text = render_diff_markdown(diff)
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[1] == "### inferwise cost estimate: -$150.00/month (-50.0%)"
    assert "Constructs: 1 changed, 1 added, 1 removed." in lines
    assert markdown_tables(text)[0] == [
        ["Construct", "Status", "Before", "After", "Change"],
        ["Batch/Workload", "removed", "$200.00", "-", "-$200.00"],  # the largest change first
        ["Chat/Workload", "changed", "$100.00", "$130.00", "+$30.00"],
        ["Embeddings/Workload", "added", "-", "$20.00", "+$20.00"],
        ["**Total**", "", "**$300.00**", "**$150.00**", "**-$150.00**"],
    ]
    assert "<details><summary>Chat/Workload (changed, +$30.00)</summary>" in lines
    assert (
        "| tokens † | 2,857.1429 → 3,714.2857 | 1M tokens | $0.035 | $100.00 | $130.00 | +$30.00 |" in lines
    )
    chat = text.split("<summary>Chat/Workload", 1)[1].split("</details>", 1)[0]
    assert "fixture workload" not in chat  # unchanged assumptions are not repeated
    added = text.split("<summary>Embeddings/Workload", 1)[1]
    assert "- assumption now: fixture workload" in added  # an added construct's are all listed
    assert lines[-1] == f"<sub>inferwise {__version__} · prices as of 2026-11-01</sub>"
    assert "```mermaid" not in text  # only with --chart


def test_markdown_fits_the_comment_limit_by_leaving_out_details_then_rows(
    assemblies: tuple[Path, Path],
) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    full = render_diff_markdown(diff)
    limited = render_diff_markdown(diff, limit=len(full) - 10)
    assert len(limited) <= len(full) - 10
    assert limited.splitlines()[:2] == full.splitlines()[:2]
    assert "Details of 1 construct(s) left out to fit the comment size limit" in limited
    tiny = render_diff_markdown(diff, limit=760)
    assert "<details>" not in tiny and len(tiny) <= 760
    table = markdown_tables(tiny)[0]
    assert table[-2][0].endswith("more, left out to fit the comment*")  # folded, so the columns still add up
    assert sum(money(row[4]) for row in table[1:-1]) == money(table[-1][4]) == Decimal(-150)
    assert tiny.splitlines()[1] == "### inferwise cost estimate: -$150.00/month (-50.0%)"


def test_generated_at_refs_and_chart(assemblies: tuple[Path, Path]) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    context = CommentContext(
        generated_at="2026-11-23T10:00:00Z", base_ref="main", head_ref="a" * 40, chart=True
    )
    text = render_diff_markdown(diff, context=context)
    assert text.splitlines()[:2] == [COMMENT_MARKER, "<!-- inferwise-generated-at: 2026-11-23T10:00:00Z -->"]
    assert text.splitlines()[-1].endswith(
        "· base `main` → head `aaaaaaa` · generated 2026-11-23T10:00:00Z</sub>"
    )
    assert '    x-axis ["Batch/Workload before", "Batch/Workload after", "Chat/Workload before"' in text
    assert "    bar [200.00, 0, 100.00, 130.00, 0, 20.00]" in text


def test_thresholds_are_stated_in_the_comment(assemblies: tuple[Path, Path]) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    thresholds = Thresholds(fail_over_usd=Decimal(100), fail_increase_percent=Decimal(10))
    text = render_diff_markdown(diff, context=CommentContext(thresholds=thresholds))
    assert "**Fails:** monthly estimate $150.00 is above `--fail-over-usd 100`.  " in text.splitlines()
    assert "**Passes:** monthly change -50.0% is within `--fail-increase-percent 10`." in text.splitlines()


def test_cli_diff_json(assemblies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["diff", *map(str, assemblies), "--format", "json", "--fail-over-usd", "100", "--head-ref", "h"]
    assert main(argv) == 1
    data = json.loads(capsys.readouterr().out)
    assert (data["x_Delta"], data["x_DeltaPercent"], data["x_HeadRef"]) == ("-150.00", "-50.0", "h")
    assert (data["x_InferwiseVersion"], data["x_PricesAsOf"]) == (__version__, "2026-11-01")
    assert data["x_Thresholds"] == [
        {
            "x_Flag": "--fail-over-usd",
            "x_Limit": "100",
            "x_Crossed": True,
            "x_Message": "monthly estimate $150.00 is above --fail-over-usd 100",
        }
    ]
    assert {c["x_ConstructPath"]: c["x_Status"] for c in data["x_Constructs"]} == {
        "Batch/Workload": "removed",
        "Chat/Workload": "changed",
        "Embeddings/Workload": "added",
    }
    chat = next(c for c in data["x_Constructs"] if c["x_ConstructPath"] == "Chat/Workload")
    assert chat["x_LineChanges"] == [
        {
            "x_Component": "tokens",
            "PricingUnit": "1M tokens",
            "x_Before": "100.00",
            "x_After": "130.00",
            "x_Delta": "30.00",
            "x_UsageDriven": True,
        }
    ]
    assert chat["x_AfterEstimate"]["x_Lines"][0]["PricingQuantity"] == "3714.285714"


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--fail-over-usd", "149"], 1, "monthly estimate $150.00 is above --fail-over-usd 149"),
        (["--fail-over-usd", "150"], 0, None),
        (["--fail-increase-usd", "0"], 0, None),  # the head is cheaper
    ],
)
def test_thresholds_set_the_exit_code(
    assemblies: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    code: int,
    message: str | None,
) -> None:
    assert main(["diff", *map(str, assemblies), *flags]) == code
    err = capsys.readouterr().err
    assert err == (f"inferwise diff: threshold crossed: {message}\n" if message else "")


def test_increase_thresholds(assemblies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base_dir, head_dir = map(str, assemblies)
    reverse = ["diff", head_dir, base_dir]  # $150 -> $300: +$150 (+100%)
    assert main([*reverse, "--fail-increase-usd", "100"]) == 1
    assert "monthly increase +$150.00 is above --fail-increase-usd 100" in capsys.readouterr().err
    assert main([*reverse, "--fail-increase-percent", "99.5"]) == 1
    assert "monthly increase +100.0% is above --fail-increase-percent 99.5" in capsys.readouterr().err
    assert main([*reverse, "--fail-increase-percent", "100"]) == 0


def test_threshold_that_is_not_a_number_exits_2(
    assemblies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", *map(str, assemblies), "--fail-over-usd", "lots"])
    assert exit_info.value.code == 2
    assert "argument --fail-over-usd: must be a non-negative number, got 'lots'" in capsys.readouterr().err


def test_diff_of_a_path_that_is_not_a_cloud_assembly_exits_2(
    assemblies: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", str(tmp_path), str(assemblies[1])]) == 2
    assert f"inferwise diff: {tmp_path} is not a cloud assembly" in capsys.readouterr().err


# --------------------------------------------------------------------------- cost lines, without a synth
def _line(component: str, usage_type: str, cost: str, unit: str = "Requests", amount: str = "1") -> CostLine:
    return CostLine(
        component=component,
        service_code="AWSLambda",
        usage_type=usage_type,
        pricing_unit=unit,
        monthly_quantity=Decimal(amount),
        unit_price=Decimal(cost) / Decimal(amount),
        monthly_cost=Decimal(cost),
        pricing_category="OnDemand",
        price_source="test",
        price_as_of=date(2026, 1, 1),
    )


def test_lines_are_paired_by_their_keys_and_add_up_to_the_construct() -> None:
    before = CostEstimate(
        "S/F", "p", "us-east-1", (_line("3 instances", "A", "0.335"), _line("x", "B", "0.335"))
    )
    after = replace(before, lines=(_line("4 instances", "A", "0.446"), _line("y", "C", "0.001")))
    change = ConstructChange("S", "S/F", before, after)
    pairs = [
        (c.before and c.before.component, c.after and c.after.component, c.before_cost, c.after_cost)
        for c in change.line_changes()
    ]
    assert pairs == [
        ("3 instances", "4 instances", Decimal("0.34"), Decimal("0.45")),  # same keys: renamed, not swapped
        (None, "y", Decimal(0), Decimal("0.00")),
        ("x", None, Decimal("0.33"), Decimal(0)),  # 0.335 + 0.335 = 0.67: one of them rounds down
    ]
    assert (change.before_total, change.after_total) == (Decimal("0.67"), Decimal("0.45"))
    assert sum(c.delta for c in change.line_changes()) == change.delta


@pytest.mark.parametrize(
    ("unit", "amount", "driven"),
    [
        ("Requests", "5", True),
        ("Keys", "1", False),
        ("Alarms", "3", False),
        ("Hrs", "277.5", True),
        ("Hrs", "1460", False),
    ],
)
def test_usage_driven_lines(unit: str, amount: str, driven: bool) -> None:
    assert usage_driven(_line("c", "u", "1", unit=unit, amount=amount)) is driven
