"""A pull request on the reference app: a usage-file change, a stack added, a stack removed, a threshold crossed.

The comment is a golden: it must equal the example in docs/pull-requests.md (regenerate it with
`INFERWISE_UPDATE_DOCS=1 pytest tests/unit/test_reference_diff.py`). Its tables are parsed and added up.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise import __version__
from inferwise.cli import main
from inferwise.cost.diff import diff_reports
from inferwise.cost.report import render_json, report_from_cloud_assembly
from inferwise.stacks import REFERENCE_REGION, REFERENCE_STACKS
from inferwise.stacks.scale_to_zero import ScaleToZeroEndpointStack
from tests.harness.synth import CONTEXT, VerifiedAssembly
from tests.unit.test_cost_diff import markdown_tables, money

DOC = Path(__file__).resolve().parents[2] / "docs" / "pull-requests.md"

USAGE_FILE = """\
version: 1
constructs:
  "ScaleToZeroEndpointStack/Chat":
    active_hours_per_day: 12
  "BatchInferenceStack/Summaries":
    records_per_month: 2000000
"""

BASE_SHA = "3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"
HEAD_SHA = "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a08"
COMMENT_FLAGS = [
    "--format", "md", "--fail-increase-percent", "10", "--generated-at", "2026-11-23T10:00:00Z",
    "--base-ref", BASE_SHA, "--head-ref", HEAD_SHA, "--chart",
]  # fmt: skip
"""The flags of the docs example (the command docs/pull-requests.md shows)."""


@pytest.fixture(scope="module")
def head_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference app after the pull request: the usage file, SpotFleetStack gone, ReviewEndpointStack new."""
    root = tmp_path_factory.mktemp("usage-head")
    (root / "inferwise-usage.yml").write_text(USAGE_FILE)
    outdir = root / "cdk.out"
    app = cdk.App(
        outdir=str(outdir), context={**CONTEXT, "inferwise:usage-file": str(root / "inferwise-usage.yml")}
    )
    env = cdk.Environment(region=REFERENCE_REGION)
    for name, stack_class in REFERENCE_STACKS:
        if name != "SpotFleetStack":
            stack_class(app, name, env=env)
    ScaleToZeroEndpointStack(app, "ReviewEndpointStack", env=env)
    app.synth()
    return outdir


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_cli(argv: list[str]) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="module")
def comment(reference_assembly: VerifiedAssembly, head_assembly: Path) -> Run:
    return run_cli(["diff", str(reference_assembly.outdir), str(head_assembly), *COMMENT_FLAGS])


def test_the_constructs_the_pull_request_touches(
    reference_assembly: VerifiedAssembly, head_assembly: Path
) -> None:
    base = report_from_cloud_assembly(reference_assembly.outdir)
    head = report_from_cloud_assembly(head_assembly)
    diff = diff_reports(base, head)
    status = {c.construct_path: c.status for c in diff.changes if c.status != "unchanged"}
    assert status == {
        "BatchInferenceStack/Summaries": "changed",
        "ScaleToZeroEndpointStack/Chat": "changed",
        "ReviewEndpointStack/Chat": "added",
        "ReviewEndpointStack/CostGuardrails": "added",
        "SpotFleetStack/Chat": "removed",
        "SpotFleetStack/CostGuardrails": "removed",
    }
    batch = next(c for c in diff.changes if c.construct_path == "BatchInferenceStack/Summaries")
    assert batch.before is not None and batch.after is not None
    tokens = [line.monthly_cost for line in batch.after.lines if line.pricing_category == "Batch"]
    tokens_before = [line.monthly_cost for line in batch.before.lines if line.pricing_category == "Batch"]
    assert tokens == [2 * cost for cost in tokens_before]  # twice the records, the same batch prices
    added, _ = batch.assumption_changes()
    assert (
        "records_per_month=2000000 from usage file inferwise-usage.yml (constructs.BatchInferenceStack/Summaries)"
        in added
    )
    assert diff.delta == sum((c.delta for c in diff.changes), Decimal(0))


def _doc_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text.split("````markdown\n", 1)[1].split("\n````", 1)[0] + "\n"


def _unversioned(text: str) -> str:
    return text.replace(f"inferwise {__version__} ·", "inferwise VERSION ·")


def test_the_comment_is_the_example_in_the_docs(comment: Run) -> None:
    if os.environ.get("INFERWISE_UPDATE_DOCS") == "1":
        text = DOC.read_text(encoding="utf-8")
        DOC.write_text(text.replace(_doc_example(), comment.out, 1), encoding="utf-8")
    assert _unversioned(comment.out) == _unversioned(_doc_example()), (
        "docs/pull-requests.md shows another comment; regenerate it with "
        "INFERWISE_UPDATE_DOCS=1 pytest tests/unit/test_reference_diff.py and review the change"
    )
    assert " ".join(
        f"inferwise diff base/cdk.out head/cdk.out {' '.join(COMMENT_FLAGS)}".split()
    ) in " ".join(DOC.read_text(encoding="utf-8").replace("\\\n", " ").split()), (
        "the docs must show the command that renders the example"
    )


def test_every_table_adds_up_to_its_total(comment: Run) -> None:
    summary, *details = markdown_tables(comment.out)
    assert summary[0] == ["Construct", "Status", "Before", "After", "Change"]
    rows, total = summary[1:-1], summary[-1]
    assert total[0] == "**Total**"
    for column in (2, 3, 4):
        assert sum((money(row[column]) for row in rows), Decimal(0)) == money(total[column]), summary[0][
            column
        ]
    row_of = {row[0].split(" ")[0]: row for row in rows}
    summaries = re.findall(r"<details><summary>(\S+) \((\w+), ([^)]+)\)</summary>", comment.out)
    assert len(summaries) == len(details) == 6
    for (path, status, change), table in zip(summaries, details, strict=True):
        assert table[0] == ["Cost line", "Quantity", "Unit", "Unit price", "Before", "After", "Change"]
        lines, line_total = table[1:-1], table[-1]
        for column in (4, 5, 6):
            assert sum((money(line[column]) for line in lines), Decimal(0)) == money(line_total[column]), path
        construct = row_of[path]
        assert construct[1] == status
        assert (
            [money(cell) for cell in construct[2:]]
            == [money(cell) for cell in line_total[4:]]
            == [
                money(construct[2]),
                money(construct[3]),
                money(change),
            ]
        )


def test_added_removed_and_usage_file_rows(comment: Run) -> None:
    rows = {row[0]: row[1:] for row in markdown_tables(comment.out)[0][1:]}
    assert rows["ReviewEndpointStack/Chat"][:2] == ["added", "-"]
    assert rows["SpotFleetStack/Chat"][0] == "removed" and rows["SpotFleetStack/Chat"][2] == "-"
    assert rows["SpotFleetStack/Chat"][3] == "-" + rows["SpotFleetStack/Chat"][1]
    assert rows["BatchInferenceStack/Summaries ‡"][0] == "changed"  # its figures come from the usage file
    assert rows["*5 unchanged*"][3] == "$0.00"
    assert (
        "‡ Set by a usage file: `records_per_month=2000000` (constructs.BatchInferenceStack/Summaries"
        in comment.out
    )
    assert "| batch input tokens † | 950 → 1,900 | 1M tokens | $0.55 |" in comment.out
    assert (
        "| KMS customer-managed key | 1 | Keys | $1 | $1.00 | $1.00 | $0.00 |" in comment.out
    )  # fixed: no †


def test_the_crossed_threshold_is_stated_in_words(comment: Run) -> None:
    assert comment.code == 1
    [fails] = [line for line in comment.out.splitlines() if line.startswith("**Fails:**")]
    assert re.fullmatch(
        r"\*\*Fails:\*\* monthly increase \+\d+\.\d% is above `--fail-increase-percent 10`\.", fails
    )
    sentence = fails.removeprefix("**Fails:** ").rstrip(".").replace("`", "")
    assert comment.err == f"inferwise diff: threshold crossed: {sentence}\n"


def test_footer_names_version_prices_and_commits(comment: Run) -> None:
    footer = comment.out.rstrip("\n").splitlines()[-1]
    assert footer.startswith(f"<sub>inferwise {__version__} · prices as of 20")
    assert "· base `3f2c1a9` → head `9b8a7c6` · generated 2026-11-23T10:00:00Z</sub>" in footer
    assert comment.out.startswith(
        "<!-- inferwise-cost-diff -->\n<!-- inferwise-generated-at: 2026-11-23T10:00:00Z -->\n"
    )


def test_the_chart_shows_before_and_after(comment: Run) -> None:
    chart = comment.out.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert chart.startswith("xychart-beta horizontal\n")
    assert '"BatchInferenceStack/Summaries before", "BatchInferenceStack/Summaries after"' in chart
    values = re.search(r"bar \[(.*)\]", chart)
    assert values is not None and len(values[1].split(", ")) == 12


def test_json_agrees_with_the_comment(
    reference_assembly: VerifiedAssembly, head_assembly: Path, comment: Run
) -> None:
    run = run_cli(["diff", str(reference_assembly.outdir), str(head_assembly), "--format", "json"])
    data = json.loads(run.out)
    total = markdown_tables(comment.out)[0][-1]
    assert [
        Decimal(data["x_Base"]["ListCost"]),
        Decimal(data["x_Head"]["ListCost"]),
        Decimal(data["x_Delta"]),
    ] == [money(cell) for cell in total[2:]]
    assert sum(Decimal(c["x_Delta"]) for c in data["x_Constructs"]) == Decimal(data["x_Delta"])
    for construct in data["x_Constructs"]:
        changes = construct["x_LineChanges"]
        assert sum(Decimal(line["x_Delta"]) for line in changes) == Decimal(construct["x_Delta"])


def test_report_json_is_in_cents_and_adds_up(head_assembly: Path) -> None:
    report = json.loads(render_json(report_from_cloud_assembly(head_assembly)))
    cents = re.compile(r"-?\d+\.\d\d")
    assert cents.fullmatch(report["ListCost"])
    stacks = report["x_Stacks"]
    assert sum(Decimal(s["ListCost"]) for s in stacks) == Decimal(report["ListCost"])
    for stack in stacks:
        constructs = stack["x_Constructs"]
        assert sum(Decimal(c["ListCost"]) for c in constructs) == Decimal(stack["ListCost"])
        for estimate in [c for c in constructs] + [c["x_Baseline"] for c in constructs if c["x_Baseline"]]:
            assert cents.fullmatch(estimate["ListCost"])
            assert sum(Decimal(line["ListCost"]) for line in estimate["x_Lines"]) == Decimal(
                estimate["ListCost"]
            )
            for line in estimate["x_Lines"]:
                assert cents.fullmatch(line["ListCost"])
                assert len(line["PricingQuantity"].partition(".")[2]) <= 6
                assert "E" not in line["ListUnitPrice"]
