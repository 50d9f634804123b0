"""How long `inferwise diff` takes on two cloud assemblies of 1,000 priced constructs each (target < 1 s).

The assemblies are written directly (manifest.json plus templates carrying `inferwise:cost` metadata in
the format the constructs record), 10 stacks of 100 constructs, with a third of the head's estimates
changed, some added and some removed. Prints medians; asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from inferwise.cost.diff import diff_reports, render_diff_json, render_diff_markdown
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate, CostLine
from inferwise.cost.report import report_from_cloud_assembly

STACKS, PER_STACK, RUNS = 10, 100, 5


def estimate(index: int, scale: Decimal) -> CostEstimate:
    line = CostLine(
        component="instance hours",
        service_code="AmazonEC2",
        usage_type="BoxUsage:inf2.xlarge",
        pricing_unit="Hrs",
        monthly_quantity=Decimal(730),
        unit_price=Decimal("0.7582"),
        monthly_cost=Decimal("0.7582") * 730 * scale,
        pricing_category="OnDemand",
        price_source="AmazonEC2/inf2.xlarge/us-east-1/OnDemand",
        price_as_of=date(2026, 7, 20),
        assumptions=(f"average_instances={scale}",),
    )
    baseline = CostEstimate(
        "", "all On-Demand", "us-east-1", (replace(line, monthly_cost=line.monthly_cost * 2),)
    )
    return CostEstimate("", "spot fleet", "us-east-1", (line, line), baseline=baseline)


def write_assembly(root: Path, head: bool) -> None:
    artifacts = {}
    for s in range(STACKS):
        name = f"Stack{s}"
        resources = {}
        for c in range(PER_STACK):
            index = s * PER_STACK + c
            if head and index % 50 == 0:
                continue  # removed in the head
            scale = Decimal(2 if head and index % 3 == 0 else 1)
            entry = replace(estimate(index, scale), construct_path=f"{name}/Construct{c}")
            resources[f"Resource{c}"] = {
                "Type": "AWS::S3::Bucket",
                "Metadata": {COST_METADATA_KEY: entry.to_json()},
            }
        if head:
            added = replace(estimate(0, Decimal(3)), construct_path=f"{name}/Added")
            resources["Added"] = {"Type": "AWS::S3::Bucket", "Metadata": {COST_METADATA_KEY: added.to_json()}}
        (root / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (root / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, head = Path(tmp, "base"), Path(tmp, "head")
        base.mkdir()
        head.mkdir()
        write_assembly(base, head=False)
        write_assembly(head, head=True)
        timings = []
        for _ in range(RUNS):
            start = time.perf_counter()
            diff = diff_reports(report_from_cloud_assembly(base), report_from_cloud_assembly(head))
            render_diff_markdown(diff)
            render_diff_json(diff)
            timings.append(time.perf_counter() - start)
        cli = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "inferwise.cli", "diff", str(base), str(head), "--format", "md"],
                check=True,
                capture_output=True,
            )
            cli.append(time.perf_counter() - start)
        constructs = len(diff.changes)
        print(f"diff of two assemblies, {constructs} constructs matched, {STACKS} stacks each")
        print(
            f"  in-process (read both, diff, render md + json): median {statistics.median(timings):.3f} s over {RUNS} runs"
        )
        print(
            f"  CLI `inferwise diff --format md` (process start included): median {statistics.median(cli):.3f} s"
        )
        print(f"  summary: {diff.summary()}")


if __name__ == "__main__":
    main()
