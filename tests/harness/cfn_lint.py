"""cfn-lint over synthesized templates, with Step Functions definitions made visible to it.

CDK writes a state machine whose definition holds tokens as `DefinitionString: {"Fn::Join": ...}`, which
cfn-lint skips. `flatten_state_machines` joins the parts into a literal `Definition`, replacing each
token with an ARN-shaped placeholder, so rule E3601 validates the ASL for real.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint

REPO_ROOT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
IGNORED_CHECKS = ["W3005"]  # CDK's explicit DependsOn next to an implied one is normal
PLACEHOLDER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:placeholder"


def _literal(part: Any) -> str:
    if isinstance(part, str):
        return part
    if isinstance(part, dict) and "Ref" in part and part["Ref"].startswith("AWS::"):
        return {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}.get(
            part["Ref"], "placeholder"
        )
    return PLACEHOLDER_ARN


def flatten_state_machines(template: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """A copy of `template` whose state machines carry literal `Definition`s, and how many were flattened."""
    flat = copy.deepcopy(template)
    count = 0
    for resource in flat.get("Resources", {}).values():
        if resource.get("Type") != "AWS::StepFunctions::StateMachine":
            continue
        props = resource["Properties"]
        definition = props.get("DefinitionString")
        if isinstance(definition, dict) and "Fn::Join" in definition:
            separator, parts = definition["Fn::Join"]
            text = separator.join(_literal(p) for p in parts)
        elif isinstance(definition, str):
            text = definition
        else:
            continue
        del props["DefinitionString"]
        props["Definition"] = json.loads(text)
        count += 1
    return flat, count


def lint_template(template: dict[str, Any], region: str = "us-east-1") -> list[str]:
    """cfn-lint findings for a template (state machines flattened), one line each."""
    flat, _ = flatten_state_machines(template)
    matches = lint(json.dumps(flat), regions=[region], config=ManualArgs(ignore_checks=IGNORED_CHECKS))
    return [f"{m.rule.id} {'/'.join(str(p) for p in m.path)}: {m.message}" for m in matches]


def asl_findings(template: dict[str, Any]) -> list[str]:
    """The npm asl-validator's findings (dangling Next, unreachable or terminal-less graphs) per state machine."""
    flat, _ = flatten_state_machines(template)
    findings = []
    for logical_id, resource in sorted(flat.get("Resources", {}).items()):
        definition = resource.get("Properties", {}).get("Definition")
        if resource.get("Type") != "AWS::StepFunctions::StateMachine" or definition is None:
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
            json.dump(definition, handle)
            handle.flush()
            result = subprocess.run(
                [str(ASL_VALIDATOR), "--json-path", handle.name],
                capture_output=True,
                text=True,
                env={**os.environ, "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"},
                check=False,
            )
        if result.returncode != 0:
            detail = [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]
            findings += [f"{logical_id}: {line}" for line in detail or [result.stderr.strip()]]
    return findings
