"""No NaN or infinity reaches jsii: a float `inf` sent to jsii kills its Node process, and every later construct
call in the same Python process then fails with a JSON error. After each such refusal, jsii still answers."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
from inferwise.constructs.scale_to_zero import InferenceModel
from inferwise.constructs.spot_fleet import ContainerServing, QueueBacklogScaling
from tests.unit.bad_input.support import ECR_IMAGE_URI, HAIKU, NOVA_LITE, stack
from tests.unit.bad_input.test_bedrock_batch_input import pipeline
from tests.unit.bad_input.test_guardrails_input import guardrails
from tests.unit.bad_input.test_scale_to_zero_input import endpoint, model
from tests.unit.bad_input.test_spot_fleet_input import fleet

INF, NAN = float("inf"), float("nan")

NON_FINITE: list[tuple[str, Callable[[], object]]] = [
    ("budget inf", lambda: guardrails(monthly_budget_usd=INF)),
    ("budget nan", lambda: guardrails(monthly_budget_usd=NAN)),
    ("percent inf", lambda: guardrails(actual_alert_percents=(INF,))),
    ("alarm limit inf", lambda: TokenSpendAlarm(HAIKU, INF)),
    ("cap inf", lambda: HardCap(at_percent=INF, deny_roles=["arn:aws:iam::123456789012:role/x"])),
    ("anomaly inf", lambda: guardrails(anomaly_threshold_usd=INF)),
    ("fleet max inf", lambda: fleet(max_capacity=INF)),
    ("fleet cpu inf", lambda: fleet(target_cpu_utilization=INF)),
    ("fleet cpu nan", lambda: fleet(target_cpu_utilization=NAN)),
    ("fleet image nan", lambda: ContainerServing(image=NAN)),  # type: ignore[arg-type]
    (
        "backlog inf",
        lambda: fleet(
            queue_backlog=lambda scope: QueueBacklogScaling(
                queue=sqs.Queue(scope, "Q"), target_backlog_per_instance=INF
            )
        ),
    ),
    ("endpoint max inf", lambda: endpoint(max_instances=INF)),
    ("model target inf", lambda: model(target_invocations_per_copy=INF)),
    ("model image nan", lambda: InferenceModel(name="q", image_uri=NAN, memory_mb=1024)),  # type: ignore[arg-type]
    ("pipeline records inf", lambda: pipeline(records_per_job=INF)),
    ("pipeline model nan", lambda: pipeline(model_id=NAN)),
    ("pipeline Decimal inf", lambda: pipeline(default_max_tokens=Decimal("Infinity"))),
]


def jsii_answers() -> None:
    scope = cdk.Stack(cdk.App(), "Alive")
    queue = sqs.Queue(scope, "Queue")
    assert cdk.Token.is_unresolved(queue.queue_arn)


@pytest.mark.parametrize("build", [b for _, b in NON_FINITE], ids=[i for i, _ in NON_FINITE])
def test_jsii_still_answers_after_a_non_finite_value_is_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()
    jsii_answers()


def test_every_construct_builds_after_all_the_non_finite_refusals() -> None:
    for _, build in NON_FINITE:
        with pytest.raises(ValueError):
            build()
    made = guardrails(token_spend_alarms=[TokenSpendAlarm(HAIKU, 5)])
    Template.from_stack(cdk.Stack.of(made))
    assert fleet().auto_scaling_group_name
    assert endpoint().endpoint_name
    assert pipeline(model_id=NOVA_LITE).state_machine
    CostGuardrails(stack(), "Plain", monthly_budget_usd=Decimal("12.5"), emails=["a@example.com"])
    assert InferenceModel(name="ok", image_uri=ECR_IMAGE_URI, memory_mb=128).name == "ok"
