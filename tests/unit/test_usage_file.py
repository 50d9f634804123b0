"""Usage files change workload assumptions per construct path without code, and say so in the report."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.cli import main
from inferwise.cost.report import report_from_cloud_assembly
from tests.fixtures.fixture_stack import FixtureStack
from tests.harness.synth import CONTEXT


def synth_with_usage_file(outdir: Path, usage_yaml: str) -> Path:
    usage_path = outdir.parent / f"{outdir.name}-usage.yml"
    usage_path.write_text(usage_yaml)
    app = cdk.App(outdir=str(outdir), context={**CONTEXT, "inferwise:usage-file": str(usage_path)})
    FixtureStack(app, "Chat")
    FixtureStack(app, "Batch")
    app.synth()
    return outdir


def test_globs_and_defaults_apply_and_are_listed_as_assumptions(tmp_path: Path) -> None:
    out = synth_with_usage_file(
        tmp_path / "out",
        "version: 1\n"
        "defaults:\n  FixtureUsage:\n    baseline_usd: 500\n"
        "constructs:\n  'Chat/*':\n    monthly_usd: 120\n",
    )
    report = report_from_cloud_assembly(out)
    estimates = {c.estimate.construct_path: c.estimate for c in report.constructs}
    chat, batch = estimates["Chat/Workload"], estimates["Batch/Workload"]
    assert chat.monthly_total == Decimal("120.00")
    assert batch.monthly_total == Decimal("45.50")
    assert batch.baseline is not None
    assert batch.baseline.monthly_total == Decimal("500.00")
    assert "monthly_usd=120 from usage file out-usage.yml (constructs.Chat/*)" in chat.assumptions
    assert "baseline_usd=500 from usage file out-usage.yml (defaults.FixtureUsage)" in batch.assumptions


def test_a_changed_usage_file_shows_in_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = synth_with_usage_file(
        tmp_path / "base", "version: 1\nconstructs:\n  Chat/Workload:\n    monthly_usd: 100\n"
    )
    head = synth_with_usage_file(
        tmp_path / "head", "version: 1\nconstructs:\n  Chat/Workload:\n    monthly_usd: 150\n"
    )
    assert main(["diff", str(base), str(head), "--format", "md", "--fail-increase-usd", "40"]) == 1
    out = capsys.readouterr()
    assert "### inferwise cost estimate: +$50.00/month (+34.4%)" in out.out
    assert (
        "- assumption now: monthly_usd=150 from usage file head-usage.yml (constructs.Chat/Workload)"
        in out.out
    )
    assert "monthly increase +$50.00 is above --fail-increase-usd 40" in out.err


@pytest.mark.parametrize(
    ("usage_yaml", "message"),
    [
        (
            "version: 1\nconstructs:\n  Nowhere/*:\n    monthly_usd: 1\n",
            "usage file {path}, line 3: constructs.Nowhere/* matches no construct",
        ),
        (
            "version: 1\nconstructs:\n  Chat/Workload:\n    tokens: 1\n",
            "usage file {path}, line 4: constructs.Chat/Workload sets tokens, which FixtureUsage of Chat/Workload does not have; "
            "allowed: baseline_usd, monthly_usd",
        ),
        (
            "version: 1\nconstructs:\n  Chat/Workload:\n    monthly_usd: -3\n",
            "usage file {path}, line 4: constructs.Chat/Workload.monthly_usd must be a non-negative number, got -3",
        ),
        ("constructs: {}\n", "usage file {path} must be a mapping with 'version: 1'"),
        ("version: 1\nresources: {}\n", "usage file {path} has unknown top-level keys ['resources']"),
    ],
)
def test_bad_usage_files_fail_synth_with_a_clear_message(
    tmp_path: Path, usage_yaml: str, message: str
) -> None:
    with pytest.raises(Exception) as error:
        synth_with_usage_file(tmp_path / "out", usage_yaml)
    assert message.format(path=tmp_path / "out-usage.yml") in str(error.value)
