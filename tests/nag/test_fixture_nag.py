"""The harness's cdk-nag and cfn-lint checks, proven on the fixture stack."""

from __future__ import annotations

import json

from tests.harness.cfn_lint import asl_findings, flatten_state_machines, lint_template
from tests.harness.synth import VerifiedAssembly


def test_fixture_is_cdk_nag_clean(fixture_assembly: VerifiedAssembly) -> None:
    assert fixture_assembly.unacknowledged_findings() == []
    assert not fixture_assembly.nag_failed


def test_every_acknowledgement_has_a_written_reason(fixture_assembly: VerifiedAssembly) -> None:
    acknowledged = fixture_assembly.acknowledged_findings()
    assert {a["acknowledgedId"] for a in acknowledged} >= {"AwsSolutions::AwsSolutions-SF1"}
    assert all(len(a.get("reason", "")) >= 20 for a in acknowledged), acknowledged


def test_fixture_is_cfn_lint_clean(fixture_assembly: VerifiedAssembly) -> None:
    assert lint_template(fixture_assembly.template("Fixture")) == []


def test_state_machine_definitions_are_flattened_for_cfn_lint(fixture_assembly: VerifiedAssembly) -> None:
    template = fixture_assembly.template("Fixture")
    flat, count = flatten_state_machines(template)
    assert count == 1
    [machine] = [r for r in flat["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    assert machine["Properties"]["Definition"]["StartAt"] == "Start"


def test_cfn_lint_sees_a_broken_state_machine_once_flattened(fixture_assembly: VerifiedAssembly) -> None:
    """Without flattening cfn-lint skips tokenized definitions; with it, a malformed state is an E3601."""
    template = fixture_assembly.template("Fixture")
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    separator, parts = machine["Properties"]["DefinitionString"]["Fn::Join"]
    parts[0] = parts[0].replace('"Type":"Pass"', '"Type":"Pass","Nowhere":true')
    broken = json.loads(json.dumps(template))
    [broken_machine] = [
        r for r in broken["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    broken_machine["Properties"]["DefinitionString"]["Fn::Join"] = [separator, parts]
    findings = lint_template(broken)
    assert any(f.startswith("E3601") and "Nowhere" in f for f in findings), findings


def test_fixture_state_machine_graph_is_valid(fixture_assembly: VerifiedAssembly) -> None:
    assert asl_findings(fixture_assembly.template("Fixture")) == []


def test_asl_validator_catches_a_dangling_next(fixture_assembly: VerifiedAssembly) -> None:
    template = json.loads(json.dumps(fixture_assembly.template("Fixture")))
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    parts[0] = parts[0].replace('"Next":"ListInputs"', '"Next":"Nowhere"')
    findings = asl_findings(template)
    assert any("MISSING_TRANSITION_TARGET" in f and "Nowhere" in f for f in findings), findings
