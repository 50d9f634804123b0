"""A pull request that only edits the usage file: the reference app synthesized twice and diffed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.cli import main
from inferwise.cost.diff import diff_reports
from inferwise.cost.report import report_from_cloud_assembly
from inferwise.stacks import add_reference_stacks
from tests.harness.synth import CONTEXT, VerifiedAssembly

USAGE_FILE = """\
version: 1
constructs:
  "ScaleToZeroEndpointStack/Chat":
    active_hours_per_day: 12
  "BatchInferenceStack/Summaries":
    records_per_month: 2000000
"""


@pytest.fixture(scope="module")
def head_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("usage-head")
    (root / "inferwise-usage.yml").write_text(USAGE_FILE)
    outdir = root / "cdk.out"
    app = cdk.App(
        outdir=str(outdir), context={**CONTEXT, "inferwise:usage-file": str(root / "inferwise-usage.yml")}
    )
    add_reference_stacks(app)
    app.synth()
    return outdir


def test_only_the_constructs_the_file_names_change(
    reference_assembly: VerifiedAssembly, head_assembly: Path
) -> None:
    base = report_from_cloud_assembly(reference_assembly.outdir)
    head = report_from_cloud_assembly(head_assembly)
    diff = diff_reports(base, head)
    changed = {c.construct_path: c for c in diff.changes if c.status != "unchanged"}
    assert set(changed) == {"BatchInferenceStack/Summaries", "ScaleToZeroEndpointStack/Chat"}
    batch = changed["BatchInferenceStack/Summaries"]
    assert batch.before is not None and batch.after is not None
    tokens = [line.monthly_cost for line in batch.after.lines if line.pricing_category == "Batch"]
    tokens_before = [line.monthly_cost for line in batch.before.lines if line.pricing_category == "Batch"]
    assert tokens == [2 * cost for cost in tokens_before]  # twice the records, the same batch prices
    added, _ = batch.assumption_changes()
    assert (
        "records_per_month=2000000 from usage file inferwise-usage.yml (constructs.BatchInferenceStack/Summaries)"
        in added
    )
    endpoint = changed["ScaleToZeroEndpointStack/Chat"]
    assert endpoint.delta > 0
    assert diff.delta == batch.delta + endpoint.delta
    assert diff.delta > Decimal(1000)


def test_the_cli_fails_the_pull_request_on_the_increase(
    reference_assembly: VerifiedAssembly, head_assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "diff",
                str(reference_assembly.outdir),
                str(head_assembly),
                "--format",
                "md",
                "--fail-increase-percent",
                "10",
            ]
        )
        == 1
    )
    out = capsys.readouterr()
    assert out.out.splitlines()[1].startswith("### inferwise cost estimate: +$")
    assert "is over --fail-increase-percent 10" in out.err
