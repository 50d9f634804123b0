"""`inferwise diff`: two synthesized versions of an app, the numbers, the PR comment and the exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.cli import main
from inferwise.cost.diff import COMMENT_MARKER, diff_reports, render_diff_markdown
from inferwise.cost.report import report_from_cloud_assembly
from tests.fixtures.fixture_stack import FixtureStack, FixtureUsage
from tests.harness.synth import CONTEXT

Builder = Callable[[cdk.App], None]


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


def test_markdown_comment_has_marker_summary_and_collapsed_details(assemblies: tuple[Path, Path]) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    text = render_diff_markdown(diff)
    lines = text.splitlines()
    assert lines[0] == COMMENT_MARKER
    assert lines[1] == "### inferwise cost estimate: -$150.00/month (-50.0%)"
    assert "| Chat | Chat/Workload | changed | $100.00 | $130.00 | +$30.00 |" in lines
    assert "| Batch | Batch/Workload | removed | $200.00 | - | -$200.00 |" in lines
    assert "<details><summary>Chat/Workload (changed, +$30.00)</summary>" in lines


def test_markdown_fits_the_comment_limit_by_truncating_details_never_the_summary(
    tmp_path: Path, assemblies: tuple[Path, Path]
) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    full = render_diff_markdown(diff)
    limited = render_diff_markdown(diff, limit=len(full) - 10)
    assert len(limited) <= len(full) - 10
    assert limited.splitlines()[:2] == full.splitlines()[:2]
    assert "omitted to fit the comment size limit" in limited
    tiny = render_diff_markdown(diff, limit=200)
    assert tiny.splitlines()[1] == "### inferwise cost estimate: -$150.00/month (-50.0%)"


def test_generated_at_is_written_into_the_marker(assemblies: tuple[Path, Path]) -> None:
    diff = diff_reports(*(report_from_cloud_assembly(p) for p in assemblies))
    text = render_diff_markdown(diff, generated_at="2026-11-23T10:00:00Z")
    assert text.splitlines()[:2] == [COMMENT_MARKER, "<!-- inferwise-generated-at: 2026-11-23T10:00:00Z -->"]


def test_cli_diff_json(assemblies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", *map(str, assemblies), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["x_Delta"] == "-150.00"
    assert {c["x_ConstructPath"]: c["x_Status"] for c in data["x_Constructs"]} == {
        "Batch/Workload": "removed",
        "Chat/Workload": "changed",
        "Embeddings/Workload": "added",
    }


@pytest.mark.parametrize(
    ("flags", "code", "message"),
    [
        (["--fail-over-usd", "149"], 1, "monthly estimate $150.00 is over --fail-over-usd $149.00"),
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
    assert (message in err) if message else err == ""


def test_increase_thresholds(assemblies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base_dir, head_dir = map(str, assemblies)
    reverse = ["diff", head_dir, base_dir]  # $150 -> $300: +$150 (+100%)
    assert main([*reverse, "--fail-increase-usd", "100"]) == 1
    assert "monthly increase $150.00 is over --fail-increase-usd $100.00" in capsys.readouterr().err
    assert main([*reverse, "--fail-increase-percent", "99.5"]) == 1
    assert "monthly increase 100.0% is over --fail-increase-percent 99.5" in capsys.readouterr().err
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
