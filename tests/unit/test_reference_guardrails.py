"""Every reference stack ends with guardrails sized from its own estimate."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from inferwise.constructs.guardrails import CostGuardrails
from inferwise.stacks.guardrails import recorded_monthly_total

PRICED_STACKS = ["BatchInferenceStack", "ScaleToZeroEndpointStack", "SpotFleetStack"]


@pytest.mark.parametrize("stack_name", PRICED_STACKS)
def test_budget_is_the_stacks_estimate_times_one_and_a_half(
    reference_stacks: dict[str, cdk.Stack], stack_name: str
) -> None:
    stack = reference_stacks[stack_name]
    guardrails = [c for c in stack.node.find_all() if isinstance(c, CostGuardrails)]
    assert len(guardrails) == 1
    expected = (recorded_monthly_total(stack) * Decimal("1.5")).to_integral_value(rounding=ROUND_CEILING)
    assert expected > 10
    [budget] = Template.from_stack(stack).find_resources("AWS::Budgets::Budget").values()
    assert Decimal(str(budget["Properties"]["Budget"]["BudgetLimit"]["Amount"])) == expected
    assert Template.from_stack(stack).find_resources("AWS::CE::AnomalyMonitor") == {}
