"""Synthesize CDK apps for tests: once per app, into a directory the test session owns."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from inferwise.cost.plugin import enable_cost_report

StackBuilder = Callable[[cdk.App], list[cdk.Stack]]

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
"""The reference app's context (feature flags, validation on), so tests synthesize what `cdk synth` does."""


@dataclass(frozen=True)
class VerifiedAssembly:
    """A cloud assembly synthesized with cdk-nag and the cost report on, and what cdk-nag found."""

    outdir: Path
    stack_names: tuple[str, ...]
    nag_failed: bool

    def template_path(self, stack_name: str) -> Path:
        return self.outdir / f"{stack_name}.template.json"

    def template(self, stack_name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.template_path(stack_name).read_text())
        return data

    def validation_report(self) -> dict[str, Any]:
        path = self.outdir / "validation-report.json"
        return json.loads(path.read_text()) if path.exists() else {"pluginReports": []}

    def unacknowledged_findings(self) -> list[str]:
        """Every violation cdk-nag (or any plugin) reported and nobody acknowledged, one line each."""
        found = []
        for plugin in self.validation_report().get("pluginReports", []):
            for violation in plugin.get("violations", []):
                for where in violation.get("violatingConstructs", []):
                    found.append(
                        f"{plugin.get('pluginName')}: {violation['ruleName']} at {where.get('constructPath')}"
                    )
        return found

    def acknowledged_findings(self) -> list[dict[str, Any]]:
        return [
            suppressed
            for plugin in self.validation_report().get("pluginReports", [])
            for suppressed in plugin.get("suppressedViolations") or []
        ]


def synth_verified(build: StackBuilder, outdir: Path) -> VerifiedAssembly:
    """Synthesize with cdk-nag AwsSolutions and the cost report registered, as the reference app does.

    cdk-nag 3 makes `app.synth()` raise on any unacknowledged finding; that is recorded, not raised, so a
    test can list the findings from validation-report.json.
    """
    app = cdk.App(outdir=str(outdir), context=CONTEXT)
    enable_cost_report(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stacks = build(app)
    try:
        app.synth()
        failed = False
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        failed = True
    return VerifiedAssembly(outdir, tuple(s.artifact_id for s in stacks), failed)


def synth_for_assertions(build: StackBuilder) -> list[cdk.Stack]:
    """A plain app (no validation plugins) whose stacks `assertions.Template.from_stack` can read."""
    app = cdk.App(context=CONTEXT)
    return build(app)
