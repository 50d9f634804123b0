"""The synth-time cost report, the cap, and `inferwise report` rendering from a cloud assembly alone."""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.cx_api import SynthesisMessageLevel

from inferwise.cli import EXIT_BROKEN_PIPE, main
from inferwise.cost.plugin import enable_cost_report
from inferwise.cost.render import allocate_cents, cents
from inferwise.cost.report import (
    ReportError,
    render_json,
    render_markdown,
    render_table,
    report_from_cloud_assembly,
)
from tests.fixtures.fixture_stack import FixtureStack, FixtureUsage
from tests.harness.synth import CONTEXT, VerifiedAssembly


def test_synth_writes_both_report_files(fixture_assembly: VerifiedAssembly) -> None:
    data = json.loads((fixture_assembly.outdir / "cost-report.json").read_text())
    assert data["ListCost"] == "45.50"
    assert data["x_BaselineCost"] == "91.00"
    assert data["x_SavingsUSD"] == "45.50"
    [stack] = data["x_Stacks"]
    assert stack["x_StackName"] == "Fixture"
    assert [c["x_ConstructPath"] for c in stack["x_Constructs"]] == ["Fixture/Workload"]
    markdown = (fixture_assembly.outdir / "cost-report.md").read_text()
    assert "**$45.50/month** against a naive baseline of $91.00/month: saves $45.50 (50.0%)." in markdown


def test_report_is_byte_identical_when_rendered_twice(fixture_assembly: VerifiedAssembly) -> None:
    first = report_from_cloud_assembly(fixture_assembly.outdir)
    second = report_from_cloud_assembly(fixture_assembly.outdir)
    for render in (render_json, render_markdown, render_table):
        assert render(first) == render(second)
    assert render_json(first) == (fixture_assembly.outdir / "cost-report.json").read_text()
    assert render_markdown(first) == (fixture_assembly.outdir / "cost-report.md").read_text()


def test_cli_renders_the_same_report_from_templates_alone(
    fixture_assembly: VerifiedAssembly, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(fixture_assembly.outdir), "--format", "json"]) == 0
    assert capsys.readouterr().out == (fixture_assembly.outdir / "cost-report.json").read_text()
    assert main(["report", str(fixture_assembly.outdir), "--format", "md"]) == 0
    assert capsys.readouterr().out == (fixture_assembly.outdir / "cost-report.md").read_text()
    assert main(["report", str(fixture_assembly.outdir)]) == 0
    table = capsys.readouterr().out
    assert "Fixture/Workload" in table
    assert table.splitlines()[-1].split() == ["TOTAL", "$45.50", "$91.00", "$45.50", "(50.0%)"]


def test_estimate_is_metadata_on_the_main_resource(fixture_assembly: VerifiedAssembly) -> None:
    resources = fixture_assembly.template("Fixture")["Resources"]
    carriers = [r for r in resources.values() if "inferwise:cost" in r.get("Metadata", {})]
    assert [r["Type"] for r in carriers] == ["AWS::S3::Bucket"]


def test_estimate_becomes_an_info_annotation_and_an_attribute() -> None:
    app = cdk.App(context=CONTEXT)
    stack = FixtureStack(app, "Fixture")
    assembly = app.synth()
    messages = [
        m.entry.data
        for m in assembly.get_stack_by_name("Fixture").messages
        if m.level == SynthesisMessageLevel.INFO
    ]
    assert "inferwise: ~$45.50/month, saves 50.0% ($45.50) vs on-demand InvokeModel" in messages
    assert stack.workload.cost_estimate.construct_path == "Fixture/Workload"
    assert stack.workload.cost_estimate.baseline is not None
    assert stack.workload.cost_estimate.baseline.construct_path == "Fixture/Workload"


def _synth_with_cap(outdir: Path, cap: float) -> None:
    app = cdk.App(outdir=str(outdir), context=CONTEXT)
    enable_cost_report(app, max_monthly_usd=cap)
    FixtureStack(app, "Small", usage=FixtureUsage(10, 20))
    FixtureStack(app, "Large", usage=FixtureUsage(300, 400))
    FixtureStack(app, "Medium", usage=FixtureUsage(50, 60))
    FixtureStack(app, "Tiny", usage=FixtureUsage(1, 2))
    app.synth()


def test_cap_fails_synth_naming_the_three_largest_contributors(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        _synth_with_cap(tmp_path, cap=200)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    [violation] = [v for p in report["pluginReports"] for v in p["violations"]]
    assert violation["description"] == (
        "Estimated monthly cost $361.00 exceeds the cap of $200.00. Largest contributors: "
        "Large/Workload $300.00; Medium/Workload $50.00; Small/Workload $10.00."
    )
    assert json.loads((tmp_path / "cost-report.json").read_text())["ListCost"] == "361.00"


def test_total_under_the_cap_synthesizes(tmp_path: Path) -> None:
    _synth_with_cap(tmp_path, cap=361)
    assert (tmp_path / "manifest.json").exists()


@pytest.mark.parametrize("cap", [0, -5, "lots", float("nan"), float("inf"), True, [100]])
def test_cap_must_be_a_positive_number(cap: object) -> None:
    with pytest.raises(ValueError) as error:
        enable_cost_report(cdk.App(), max_monthly_usd=cap)  # type: ignore[arg-type]
    assert str(error.value) == f"max_monthly_usd must be a positive number of US dollars, got {cap!r}"


def test_report_of_a_directory_that_is_not_a_cloud_assembly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"inferwise report: {tmp_path} is not a cloud assembly: it has no manifest.json "
        "(run `cdk synth` first, or pass the directory it wrote, usually cdk.out)\n"
    )


def test_an_entry_that_does_not_parse_names_template_and_resource(
    fixture_assembly: VerifiedAssembly, tmp_path: Path
) -> None:
    broken = tmp_path / "cdk.out"
    shutil.copytree(fixture_assembly.outdir, broken)
    template_path = broken / "Fixture.template.json"
    template = json.loads(template_path.read_text())
    [logical_id] = [k for k, r in template["Resources"].items() if "inferwise:cost" in r.get("Metadata", {})]
    template["Resources"][logical_id]["Metadata"]["inferwise:cost"]["x_Lines"][0]["ListCost"] = "oops"
    template_path.write_text(json.dumps(template))
    with pytest.raises(ReportError) as error:
        report_from_cloud_assembly(broken)
    assert str(error.value) == (
        f"{template_path}: resource {logical_id} has an inferwise:cost entry that does not parse: "
        "ListCost must be a decimal number written as a string, got 'oops'"
    )


def test_nested_stage_assemblies_are_reported(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context=CONTEXT)
    stage = cdk.Stage(app, "Prod")
    FixtureStack(stage, "Batch")
    FixtureStack(app, "Dev")
    app.synth()
    report = report_from_cloud_assembly(tmp_path)
    dev, prod = report.stacks()
    assert dev == "Dev"
    assert prod.startswith("ProdBatch")  # a staged stack's artifact id carries a hash
    assert report.monthly_total == Decimal("91.00")


# ------------------------------------------------------------------------------------------------ rounding
@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        (["0.335", "0.335"], ["0.34", "0.33"]),  # 0.67: the tie goes to the first
        (["0.004", "0.004", "0.004"], ["0.01", "0.00", "0.00"]),
        (["1.00", "0.001"], ["1.00", "0.00"]),  # whole cents are never changed
        (["522.5", "522.5", "0.0149", "2.4"], ["522.50", "522.50", "0.01", "2.40"]),
        ([], []),
    ],
)
def test_line_cents_add_up_to_the_rounded_total(amounts: list[str], expected: list[str]) -> None:
    values = [Decimal(a) for a in amounts]
    total = cents(sum(values, Decimal(0)))
    allocated = allocate_cents(values, total)
    assert allocated == [Decimal(e) for e in expected]
    assert sum(allocated, Decimal(0)) == total


def test_cents_stay_within_a_cent_of_each_amount() -> None:
    rng = random.Random(17)
    for _ in range(300):
        values = [Decimal(rng.randrange(0, 10**6)) / Decimal(10**4) for _ in range(rng.randrange(1, 12))]
        allocated = allocate_cents(values, cents(sum(values, Decimal(0))))
        assert sum(allocated, Decimal(0)) == cents(sum(values, Decimal(0)))
        assert all(abs(a - v) < Decimal("0.01") for a, v in zip(allocated, values, strict=True))


def test_rendered_json_is_in_cents_while_the_metadata_keeps_full_precision(
    reference_assembly: VerifiedAssembly,
) -> None:
    written = json.loads((reference_assembly.outdir / "cost-report.json").read_text())
    report = report_from_cloud_assembly(reference_assembly.outdir)
    assert written == json.loads(render_json(report))  # the plugin writes what `inferwise report` renders
    precise = [
        line["ListCost"]
        for name in reference_assembly.stack_names
        for resource in reference_assembly.template(name)["Resources"].values()
        if "inferwise:cost" in resource.get("Metadata", {})
        for line in resource["Metadata"]["inferwise:cost"]["x_Lines"]
    ]
    assert any(len(cost.partition(".")[2]) > 2 for cost in precise)  # the template round trip stays exact
    shown = [c for stack in written["x_Stacks"] for c in stack["x_Constructs"]]
    assert all(re.fullmatch(r"\d+\.\d\d", c["ListCost"]) for c in shown)
    assert Decimal(written["ListCost"]) == sum(Decimal(c["ListCost"]) for c in shown) == report.monthly_total
    assert re.fullmatch(r"\d+\.\d", written["x_SavingsPercent"])


def test_table_rows_add_up_to_the_total(reference_assembly: VerifiedAssembly) -> None:
    table = render_table(report_from_cloud_assembly(reference_assembly.outdir)).splitlines()
    monthly = [Decimal(re.findall(r"\$([\d,]+\.\d\d)", row)[0].replace(",", "")) for row in table[3:-2]]
    total = Decimal(table[-1].split()[1].lstrip("$").replace(",", ""))
    assert sum(monthly, Decimal(0)) == total


# ------------------------------------------------------------------------------------------- broken pipes
def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'"{sys.executable}" -m inferwise.cli prices show | head -n 1; echo "${{PIPESTATUS[0]}}" >&2',
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == f"{EXIT_BROKEN_PIPE}\n"  # no traceback, no "Exception ignored" line


def test_a_broken_pipe_returns_141(
    fixture_assembly: VerifiedAssembly, monkeypatch: pytest.MonkeyPatch
) -> None:
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["report", str(fixture_assembly.outdir)]) == EXIT_BROKEN_PIPE == 141
