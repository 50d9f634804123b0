"""What `cdk synth` prints and writes, through the real (pinned) CDK CLI.

Two small apps are synthesized once per session, in parallel: one over its `max_monthly_usd` cap (three
contributors, so a violation per contributor would print three times), one with a `BedrockBatchPipeline`
that succeeds. The estimate annotations must not carry a JavaScript stack trace (the CLI prints its first
frame, `.../lib/program.js:1:5591`), the cap must be printed once, and the cloud assembly must hold only
what CDK and inferwise write.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise import CostGuardrails, enable_cost_report
from inferwise.cost.plugin import CAP_ACKNOWLEDGEMENT_ID, CAP_RULE, PLUGIN_NAME
from inferwise.cost.recording import ANNOTATE_CONTEXT_KEY
from tests.harness.processes import CDK_CLI

REPO_ROOT = Path(__file__).resolve().parents[2]
CAP_MESSAGE = "exceeds the cap of $1.00"

CAP_APP = """
import aws_cdk as cdk
from inferwise import CostGuardrails, enable_cost_report

app = cdk.App()
enable_cost_report(app, max_monthly_usd=1)
stack = cdk.Stack(app, "CapExample", env=cdk.Environment(region="us-east-1"))
for name in ("One", "Two", "Three"):
    CostGuardrails(stack, name, monthly_budget_usd=100, emails=["finops@example.com"], anomaly_detection=False)
app.synth()
"""

BATCH_APP = """
import aws_cdk as cdk
from inferwise import BatchUsage, BedrockBatchPipeline, SmallBatch, enable_cost_report

app = cdk.App()
enable_cost_report(app)
stack = cdk.Stack(app, "BatchExample", env=cdk.Environment(region="us-east-1"))
BedrockBatchPipeline(
    stack,
    "Summaries",
    model_id="us.anthropic.claude-haiku-4-5-20251001-v1:0",
    usage=BatchUsage(records_per_month=100_000, input_tokens_per_record=1_000, output_tokens_per_record=200),
    small_batch=SmallBatch.ON_DEMAND,
)
app.synth()
"""

ASSEMBLY_FILES = re.compile(
    r"^(manifest\.json|tree\.json|cdk\.out|validation-report\.json|performance-counters\.json"
    r"|cost-report\.(json|md)|[\w-]+\.(template|assets|metadata)\.json|asset\.[0-9a-f]{64}(\.\w+)?)$"
)
"""What a cloud assembly may hold: CDK's manifest, tree, version marker, templates, asset manifests and
assets, the validation report, the synth timings aws-cdk-lib writes for the CLI (`performance-counters.json`,
at $CDK_PERF_COUNTERS_FILE after a successful synth), and the cost report files."""


@dataclass(frozen=True)
class Synth:
    returncode: int
    output: str
    outdir: Path


def _start(directory: Path, source: str) -> subprocess.Popen[str]:
    directory.mkdir()
    (directory / "app.py").write_text(source)
    cdk_json = {"app": f"{sys.executable} app.py", "notices": False, "context": {"cli-telemetry": False}}
    (directory / "cdk.json").write_text(json.dumps(cdk_json))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "JSII_"))}
    env.update(
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONPATH=str(REPO_ROOT),
    )
    return subprocess.Popen(
        [str(CDK_CLI), "synth", "--quiet"],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture(scope="session")
def cli_synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    """`cdk synth --quiet` of the cap app and the batch app, run side by side with the pinned CLI."""
    if not CDK_CLI.exists():
        pytest.fail(f"{CDK_CLI} is missing: run `make setup` (npm ci installs the pinned CDK CLI)")
    root = tmp_path_factory.mktemp("cli-synth")
    running = {name: _start(root / name, source) for name, source in (("cap", CAP_APP), ("batch", BATCH_APP))}
    done = {}
    for name, process in running.items():
        output, _ = process.communicate(timeout=600)
        done[name] = Synth(process.returncode, output, root / name / "cdk.out")
    return done


def test_the_cap_is_printed_once_with_its_acknowledgement_id(cli_synths: dict[str, Synth]) -> None:
    synth = cli_synths["cap"]
    assert synth.returncode != 0, synth.output
    assert synth.output.count(CAP_MESSAGE) == 1, synth.output
    assert f"Acknowledge with '{CAP_ACKNOWLEDGEMENT_ID}'" in synth.output
    assert CAP_ACKNOWLEDGEMENT_ID == f"{PLUGIN_NAME}::{CAP_RULE}" == "inferwise-cost::monthly-cost-cap"
    for name in ("One", "Two", "Three"):  # the description names the three largest contributors
        assert f"CapExample/{name} $" in synth.output


@pytest.mark.parametrize("app", ["cap", "batch"])
def test_synth_output_has_no_javascript_paths_and_no_traceback(
    cli_synths: dict[str, Synth], app: str
) -> None:
    output = cli_synths[app].output
    assert "program.js" not in output and "Traceback" not in output, output
    assert re.search(r"^INFO inferwise: ~\$[\d,]+\.\d\d/month", output, re.M), output


def test_the_batch_app_synthesizes(cli_synths: dict[str, Synth]) -> None:
    synth = cli_synths["batch"]
    assert synth.returncode == 0, synth.output
    assert (synth.outdir / "cost-report.json").is_file()


def test_the_assembly_holds_only_what_cdk_and_inferwise_write(cli_synths: dict[str, Synth]) -> None:
    outdir = cli_synths["batch"].outdir
    unexpected = sorted(p.name for p in outdir.iterdir() if not ASSEMBLY_FILES.match(p.name))
    assert not unexpected, unexpected


# -------------------------------------------------------------------------------- in-process checks
def _cap_app(outdir: Path, **context: object) -> tuple[cdk.App, cdk.Stack]:
    app = cdk.App(outdir=str(outdir), context=context)
    enable_cost_report(app, max_monthly_usd=1)
    stack = cdk.Stack(app, "CapExample", env=cdk.Environment(region="us-east-1"))
    for name in ("One", "Two"):
        CostGuardrails(
            stack, name, monthly_budget_usd=100, emails=["finops@example.com"], anomaly_detection=False
        )
    return app, stack


def test_an_acknowledged_cap_lets_synth_pass(tmp_path: Path) -> None:
    app, _ = _cap_app(tmp_path)
    cdk.Validations.of(app).acknowledge(
        cdk.Acknowledgment(id=CAP_ACKNOWLEDGEMENT_ID, reason="the pilot runs over budget by design")
    )
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == PLUGIN_NAME]
    (suppressed,) = plugin["suppressedViolations"]
    assert suppressed["ruleName"] == CAP_RULE
    assert suppressed["reason"] == "the pilot runs over budget by design"
    assert len(suppressed["violatingConstructs"]) == 1


def test_an_unacknowledged_cap_fails_with_one_violating_resource(tmp_path: Path) -> None:
    app, _ = _cap_app(tmp_path)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (plugin,) = [p for p in report["pluginReports"] if p["pluginName"] == PLUGIN_NAME]
    (violation,) = plugin["violations"]
    assert len(violation["violatingConstructs"]) == 1
    assert "CapExample/One $" in violation["description"] and "CapExample/Two $" in violation["description"]


def _info_entries(stack: cdk.Stack) -> list[tuple[str, object]]:
    return [
        (construct.node.path, entry.trace)
        for construct in stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == "aws:cdk:info"
    ]


def test_the_estimate_annotation_is_one_line_without_a_stack_trace(tmp_path: Path) -> None:
    _, stack = _cap_app(tmp_path)
    entries = _info_entries(stack)
    assert [path for path, _ in entries] == ["CapExample/One", "CapExample/Two"]
    assert all(not trace for _, trace in entries)
    messages = [e.data for c in stack.node.find_all() for e in c.node.metadata if e.type == "aws:cdk:info"]
    assert all("\n" not in str(m) and str(m).startswith("inferwise: ~$") for m in messages)


def test_context_can_turn_the_annotation_off(tmp_path: Path) -> None:
    _, stack = _cap_app(tmp_path, **{ANNOTATE_CONTEXT_KEY: False})
    assert _info_entries(stack) == []
