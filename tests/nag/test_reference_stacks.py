"""Every reference stack passes every template check: cdk-nag, cfn-lint, the ASL graph, a parsable estimate."""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from inferwise.cost.report import estimates_in_template
from inferwise.stacks import REFERENCE_STACKS
from tests.harness.cfn_lint import asl_findings, lint_template
from tests.harness.snapshot import normalized
from tests.harness.synth import VerifiedAssembly

STACK_NAMES = [name for name, _ in REFERENCE_STACKS]


def test_reference_app_is_cdk_nag_clean(reference_assembly: VerifiedAssembly) -> None:
    assert reference_assembly.unacknowledged_findings() == []
    assert all(len(a.get("reason", "")) >= 20 for a in reference_assembly.acknowledged_findings())


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_reference_stack_is_cfn_lint_clean(reference_assembly: VerifiedAssembly, stack_name: str) -> None:
    template = reference_assembly.template(stack_name)
    assert lint_template(template) == []
    assert asl_findings(template) == []


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_reference_stack_records_a_cost_estimate(
    reference_assembly: VerifiedAssembly, stack_name: str
) -> None:
    found = estimates_in_template(reference_assembly.template_path(stack_name))
    assert found, f"{stack_name} records no inferwise:cost estimate"
    assert all(c.estimate.monthly_total > 0 for c in found)


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_reference_stack_snapshot(
    reference_assembly: VerifiedAssembly, stack_name: str, snapshot: SnapshotAssertion
) -> None:
    assert normalized(reference_assembly.template(stack_name)) == snapshot
