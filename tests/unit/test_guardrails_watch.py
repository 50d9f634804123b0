"""CostGuardrails given constructs: the budget filters on their `inferwise:construct` tag, and a token-spend
alarm given a construct reads the metrics of that construct's application inference profile."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from inferwise.constructs.bedrock_batch import BedrockBatchPipeline
from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY
from tests.harness.synth import CONTEXT

REGION = "us-east-1"
MODEL = "us.amazon.nova-lite-v1:0"
EMAILS = ["finops@example.com"]


def _app_with_pipeline(**pipeline_props: Any) -> tuple[cdk.Stack, BedrockBatchPipeline]:
    app = cdk.App(context=CONTEXT)
    stack = cdk.Stack(app, "Watched", env=cdk.Environment(region=REGION))
    pipeline = BedrockBatchPipeline(stack, "Pipeline", **{"model_id": MODEL, **pipeline_props})
    return stack, pipeline


def _guard(stack: cdk.Stack, construct_id: str = "Guardrails", **props: Any) -> CostGuardrails:
    props.setdefault("monthly_budget_usd", 100)
    props.setdefault("emails", EMAILS)
    props.setdefault("anomaly_detection", False)
    return CostGuardrails(stack, construct_id, **props)


@pytest.fixture(scope="module")
def watched() -> tuple[cdk.Stack, BedrockBatchPipeline, CostGuardrails, dict[str, Any]]:
    stack, pipeline = _app_with_pipeline()
    guardrails = _guard(
        stack,
        watch=[pipeline],
        token_spend_alarms=[TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=2, construct=pipeline)],
    )
    return stack, pipeline, guardrails, Template.from_stack(stack).to_json()


def _profile_arn(stack: cdk.Stack, pipeline: BedrockBatchPipeline) -> dict[str, Any]:
    assert pipeline.inference_profile is not None
    logical_id = stack.resolve(stack.get_logical_id(pipeline.inference_profile.resource))
    return {"Fn::GetAtt": [logical_id, "InferenceProfileArn"]}


def _only(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    [resource] = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    return resource


def _token_alarm(template: dict[str, Any]) -> dict[str, Any]:
    """The one metric-math alarm (the pipeline's own failed-runs alarm reads a single metric)."""
    [resource] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "Metrics" in r["Properties"]
    ]
    return resource


# ------------------------------------------------------------------------------------------- the budget
def test_the_budget_filters_on_the_watched_constructs_tag(
    watched: tuple[cdk.Stack, BedrockBatchPipeline, CostGuardrails, dict[str, Any]],
) -> None:
    _, _, _, template = watched
    budget = _only(template, "AWS::Budgets::Budget")["Properties"]["Budget"]
    assert budget["FilterExpression"] == {
        "Tags": {"Key": CONSTRUCT_TAG_KEY, "Values": ["Watched/Pipeline"], "MatchOptions": ["EQUALS"]}
    }
    assert budget["Metrics"] == ["UnblendedCost"]


def test_watch_and_cost_filter_tags_are_anded() -> None:
    stack, pipeline = _app_with_pipeline()
    _guard(stack, watch=[pipeline], cost_filter_tags={"team": ["ml"]})
    budget = _only(Template.from_stack(stack).to_json(), "AWS::Budgets::Budget")["Properties"]["Budget"]
    assert budget["FilterExpression"] == {
        "And": [
            {"Tags": {"Key": "team", "Values": ["ml"], "MatchOptions": ["EQUALS"]}},
            {"Tags": {"Key": CONSTRUCT_TAG_KEY, "Values": ["Watched/Pipeline"], "MatchOptions": ["EQUALS"]}},
        ]
    }


# -------------------------------------------------------------------------------------- token alarms
def test_an_alarm_given_a_construct_reads_its_profiles_model_id(
    watched: tuple[cdk.Stack, BedrockBatchPipeline, CostGuardrails, dict[str, Any]],
) -> None:
    """CloudWatch reports calls under the ModelId they named: the pipeline's profile ARN, not the model id."""
    stack, pipeline, guardrails, template = watched
    alarm = _token_alarm(template)["Properties"]
    dimensions = [
        d for m in alarm["Metrics"] if "MetricStat" in m for d in m["MetricStat"]["Metric"]["Dimensions"]
    ]
    assert dimensions and all(
        d == {"Name": "ModelId", "Value": _profile_arn(stack, pipeline)} for d in dimensions
    )
    assert "Watched/Pipeline" in alarm["AlarmDescription"] and alarm["Threshold"] == 2
    assert list(guardrails.token_alarms) == [f"{MODEL} via Watched/Pipeline"]


def test_the_alarm_still_prices_the_model(
    watched: tuple[cdk.Stack, BedrockBatchPipeline, CostGuardrails, dict[str, Any]],
) -> None:
    _, _, guardrails, template = watched
    alarm = _token_alarm(template)["Properties"]
    [expression] = [m["Expression"] for m in alarm["Metrics"] if "Expression" in m]
    catalog = PriceCatalog.bundled()
    for metric_id, dimension in (("tin", "input"), ("tout", "output")):
        per_token = catalog.bedrock(MODEL, REGION, dimension).unit_price / Decimal(1_000_000)
        assert f"FILL({metric_id},0)*{format(per_token.normalize(), 'f')}" in expression
    lines = {line.component: line for line in guardrails.cost_estimate.lines}
    assert any("alarm" in component.lower() for component in lines)


def test_the_spend_metric_is_exposed_by_model_and_construct(
    watched: tuple[cdk.Stack, BedrockBatchPipeline, CostGuardrails, dict[str, Any]],
) -> None:
    stack, pipeline, guardrails, _ = watched
    metric = guardrails.metric_token_spend(MODEL, construct=pipeline)
    [first, *_] = metric.using_metrics.values()
    assert isinstance(first, cdk.aws_cloudwatch.Metric)
    assert stack.resolve(first.dimensions) == {"ModelId": _profile_arn(stack, pipeline)}
    with pytest.raises(ValueError, match="no token_spend_alarms entry"):
        guardrails.metric_token_spend(MODEL)


def test_an_alarm_on_the_model_id_alone_warns_that_it_misses_the_watched_profile() -> None:
    stack, pipeline = _app_with_pipeline()
    _guard(stack, watch=[pipeline], token_spend_alarms=[TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=2)])
    found = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("through its application")
    )
    assert found and "construct=" in str(found[0].entry.data)


def test_a_pipeline_without_attribution_is_watched_under_the_model_id() -> None:
    stack, pipeline = _app_with_pipeline(attribute_token_spend=False)
    _guard(
        stack, token_spend_alarms=[TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=2, construct=pipeline)]
    )
    alarm = _token_alarm(Template.from_stack(stack).to_json())["Properties"]
    values = {
        d["Value"]
        for m in alarm["Metrics"]
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
    }
    assert values == {MODEL}


# -------------------------------------------------------------------------------------- hard-cap warnings
def _hard_cap_warnings(**pipeline_props: Any) -> list[str]:
    stack, pipeline = _app_with_pipeline(**pipeline_props)
    role = iam.Role.from_role_arn(stack, "Role", "arn:aws:iam::123456789012:role/runtime", mutable=False)
    _guard(stack, watch=[pipeline], hard_cap=HardCap(at_percent=120, deny_roles=[role]))
    return [str(w.entry.data) for w in Annotations.from_stack(stack).find_warning("*", Match.any_value())]


def test_a_hard_cap_on_a_watched_attributed_pipeline_raises_no_token_warning() -> None:
    assert not [w for w in _hard_cap_warnings() if "token spend" in w]


def test_a_hard_cap_on_a_pipeline_without_attribution_warns_that_its_tokens_do_not_count() -> None:
    warnings = _hard_cap_warnings(attribute_token_spend=False)
    assert any("Watched/Pipeline" in w and "never counts towards the cap" in w for w in warnings), warnings


# ------------------------------------------------------------------------------------------- bad input
def _refused(build: Any) -> str:
    with pytest.raises(ValueError) as refused:
        build()
    return str(refused.value)


def test_watch_with_services_is_refused() -> None:
    stack, pipeline = _app_with_pipeline()
    message = _refused(lambda: _guard(stack, watch=[pipeline], services=["Amazon Bedrock"]))
    assert message.startswith("pass watch or services, not both")


def test_watch_and_a_construct_tag_filter_are_refused() -> None:
    stack, pipeline = _app_with_pipeline()
    message = _refused(
        lambda: _guard(stack, watch=[pipeline], cost_filter_tags={CONSTRUCT_TAG_KEY: ["Other/Thing"]})
    )
    assert message.startswith(f"cost_filter_tags must not name {CONSTRUCT_TAG_KEY!r} when watch is given")


@pytest.mark.parametrize(
    ("watch", "starts"),
    [
        (lambda stack, pipeline: pipeline, "watch must be a list of inferwise constructs"),
        (lambda stack, pipeline: ["Watched/Pipeline"], "watch[0] must be an inferwise construct"),
        (
            lambda stack, pipeline: [s3.Bucket(stack, "Plain")],
            "watch[0] (Watched/Plain) is not an inferwise construct",
        ),
        (lambda stack, pipeline: [pipeline, pipeline], "watch must not repeat a construct"),
        (
            lambda stack, pipeline: [_guard(stack, "Other")],
            "watch[0] is a CostGuardrails (Watched/Other)",
        ),
    ],
    ids=["not a list", "a path", "not inferwise", "twice", "guardrails"],
)
def test_bad_watch_is_refused_naming_the_prop(watch: Any, starts: str) -> None:
    stack, pipeline = _app_with_pipeline()
    message = _refused(lambda: _guard(stack, watch=watch(stack, pipeline)))
    assert message.startswith(starts), message


def test_an_alarm_construct_that_does_not_call_the_model_is_refused() -> None:
    stack, pipeline = _app_with_pipeline()
    other = "anthropic.claude-haiku-4-5-20251001-v1:0"
    message = _refused(
        lambda: _guard(
            stack,
            token_spend_alarms=[TokenSpendAlarm(model_id=other, max_usd_per_hour=1, construct=pipeline)],
        )
    )
    assert message == (
        f"token_spend_alarms[0].construct (Watched/Pipeline) does not call model {other!r}; it calls "
        f"['{MODEL}']: name one of those as model_id"
    )


def test_an_alarm_construct_that_calls_no_model_is_refused() -> None:
    stack, _ = _app_with_pipeline()
    silent = Construct(stack, "Silent")
    message = _refused(
        lambda: _guard(
            stack, token_spend_alarms=[TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=1, construct=silent)]
        )
    )
    assert message.startswith("token_spend_alarms[0].construct (Watched/Silent) declares no Bedrock calls")


def test_the_same_model_and_construct_twice_is_refused() -> None:
    stack, pipeline = _app_with_pipeline()
    twice = [TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=n, construct=pipeline) for n in (1, 2)]
    message = _refused(lambda: _guard(stack, token_spend_alarms=twice))
    assert message.startswith("token_spend_alarms must name each model once (once per construct")


def test_an_alarm_construct_must_be_a_construct() -> None:
    message = _refused(
        lambda: TokenSpendAlarm(model_id=MODEL, max_usd_per_hour=1, construct="Watched/Pipeline")
    )  # type: ignore[arg-type]
    assert message.startswith("TokenSpendAlarm.construct must be an inferwise construct")
