"""The Bedrock batch estimator against the bundled catalogue: token lines, baseline, price sources, structure."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwise.constructs.bedrock_batch import parse_model_id
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_batch import (
    TRANSITIONS_PER_RUN,
    TRANSITIONS_PER_SHARD,
    BatchPlan,
    BatchUsage,
    batch_shape,
    estimate_bedrock_batch,
    orchestration_lines,
    overhead_ratio,
    state_transitions,
    token_lines,
)
from inferwise.cost.model import CostEstimate
from inferwise.stacks.bedrock_batch import REFERENCE_MODEL_ID, REFERENCE_USAGE

REGION = "us-east-1"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "bedrock-batch.md"
CATALOG = PriceCatalog.bundled()
MODEL_ID = re.compile(
    r"\b(?:(?:us|eu|apac|jp|au|global)\.)?(?:anthropic|amazon|meta)\.[a-z0-9][a-z0-9.:-]*[a-z0-9]"
)


def _batch_models() -> list[str]:
    """Every model the catalogue prices for batch in the Region, in a family the pipeline supports."""
    models = set()
    for record in CATALOG.records(service="AmazonBedrock", region=REGION):
        if record.dimension in ("batch-input", "global:batch-input"):
            try:
                parse_model_id(record.sku)
            except ValueError:
                continue
            models.add(("global." if record.dimension.startswith("global:") else "") + record.sku)
    return sorted(models)


def _plan(model_id: str, **changes: object) -> BatchPlan:
    return BatchPlan(model_id=model_id, family=parse_model_id(model_id).family, **changes)  # type: ignore[arg-type]


def _estimate(
    model_id: str = REFERENCE_MODEL_ID, usage: BatchUsage = REFERENCE_USAGE, **plan: object
) -> CostEstimate:
    return estimate_bedrock_batch(_plan(model_id, **plan), usage, CATALOG, REGION)


def _by_dimension(estimate: CostEstimate) -> dict[str, Decimal]:
    return {line.price_source.rsplit("/", 1)[-1]: line.monthly_cost for line in token_lines(estimate)}


@pytest.mark.parametrize("model_id", _batch_models())
def test_batch_tokens_cost_what_the_catalogue_says_against_on_demand(model_id: str) -> None:
    usage = BatchUsage(records_per_month=1_000_000, duplicate_share=0.0)
    estimate = _estimate(model_id, usage)
    assert estimate.baseline is not None
    batch, on_demand = _by_dimension(estimate), _by_dimension(estimate.baseline)
    prefix = "global:" if model_id.startswith("global.") else ""
    for direction in ("input", "output"):
        ratio = (
            CATALOG.bedrock(model_id, REGION, f"batch-{direction}").unit_price
            / CATALOG.bedrock(model_id, REGION, direction).unit_price
        )
        assert batch[f"{prefix}batch-{direction}"] == on_demand[f"{prefix}{direction}"] * ratio


@pytest.mark.parametrize("model_id", _batch_models())
def test_every_batch_price_in_the_catalogue_is_half_of_on_demand(model_id: str) -> None:
    for direction in ("input", "output"):
        batch = CATALOG.bedrock(model_id, REGION, f"batch-{direction}").unit_price
        assert batch * 2 == CATALOG.bedrock(model_id, REGION, direction).unit_price


def test_reference_batch_token_lines_are_half_of_the_baselines() -> None:
    estimate = _estimate(usage=BatchUsage(**{**REFERENCE_USAGE.__dict__, "duplicate_share": 0.0}))
    assert estimate.baseline is not None
    batch = sorted(line.monthly_cost for line in token_lines(estimate))
    on_demand = sorted(line.monthly_cost for line in token_lines(estimate.baseline))
    assert [cost * 2 for cost in batch] == on_demand
    assert {line.pricing_category for line in token_lines(estimate)} == {"Batch"}
    assert {line.pricing_category for line in estimate.baseline.lines} == {"OnDemand"}


def test_baseline_ignores_de_duplication_and_the_batch_side_applies_it() -> None:
    usage = BatchUsage(
        records_per_month=1_000_000,
        input_tokens_per_record=1_000,
        output_tokens_per_record=200,
        duplicate_share=0.3,
    )
    estimate = _estimate(usage=usage)
    assert estimate.baseline is not None
    baseline = {line.component: line.monthly_quantity for line in estimate.baseline.lines}
    assert baseline == {"on-demand input tokens": Decimal(1_000), "on-demand output tokens": Decimal(200)}
    batch = {line.component: line.monthly_quantity for line in token_lines(estimate)}
    assert batch == {"batch input tokens": Decimal(700), "batch output tokens": Decimal(140)}


def test_every_line_cites_a_catalogue_key() -> None:
    keys = {record.key for record in CATALOG.records()}
    estimate = _estimate()
    assert estimate.baseline is not None
    for line in (*estimate.lines, *estimate.baseline.lines):
        assert line.price_source in keys, line


def test_eventbridge_is_free_and_says_so() -> None:
    estimate = _estimate()
    assert not [line for line in estimate.lines if "Events" in line.service_code]
    assert any("EventBridge" in note and "free" in note for note in estimate.notes)


def test_orchestration_costs_at_most_one_percent_of_tokens_for_a_million_records() -> None:
    usage = BatchUsage(
        records_per_month=1_000_000, input_tokens_per_record=1_000, output_tokens_per_record=200
    )
    assert overhead_ratio(_estimate(usage=usage)) <= Decimal("0.01")


def test_orchestration_covers_every_service_the_pipeline_bills() -> None:
    services = {line.service_code for line in orchestration_lines(_estimate())}
    assert services == {
        "AmazonStates", "AWSLambda", "AmazonS3", "AmazonDynamoDB", "AmazonCloudWatch", "awskms", "AmazonSNS",
    }  # fmt: skip


def test_a_run_below_the_minimum_is_priced_on_demand() -> None:
    usage = BatchUsage(records_per_month=1_500, runs_per_month=30)  # 50 records a run, minimum 100
    estimate = _estimate(usage=usage)
    assert {line.pricing_category for line in token_lines(estimate)} == {"OnDemand"}
    assert any("below min_records_per_job" in note for note in estimate.notes)
    assert batch_shape(_plan(REFERENCE_MODEL_ID), usage).shards == 0


def test_a_run_below_the_minimum_with_fail_infers_nothing() -> None:
    usage = BatchUsage(records_per_month=1_500, runs_per_month=30)
    estimate = _estimate(usage=usage, small_batch="fail")
    assert all(line.monthly_cost == 0 for line in token_lines(estimate))


def test_embedding_models_bill_input_tokens_only() -> None:
    """The family decides (the catalogue has no Titan batch price, so a Nova id stands in for the price)."""
    plan = BatchPlan(model_id="amazon.nova-lite-v1:0", family="titan-embed")
    estimate = estimate_bedrock_batch(plan, REFERENCE_USAGE, CATALOG, REGION)
    assert [line.component for line in token_lines(estimate)] == ["batch input tokens"]


# ------------------------------------------------------------------------- transitions: shards, not records
def test_transitions_do_not_grow_with_records_inside_a_shard() -> None:
    small = BatchUsage(records_per_month=30 * 1_000, runs_per_month=30)
    large = BatchUsage(records_per_month=30 * 50_000, runs_per_month=30)
    plan = _plan(REFERENCE_MODEL_ID)
    assert batch_shape(plan, small).shards == batch_shape(plan, large).shards == 30
    assert state_transitions(batch_shape(plan, small)) == state_transitions(batch_shape(plan, large))


@settings(max_examples=200, deadline=None)
@given(
    records=st.integers(min_value=0, max_value=50_000_000),
    runs=st.integers(min_value=1, max_value=31),
    per_job=st.integers(min_value=100, max_value=50_000),
)
def test_transitions_are_a_fixed_number_per_run_plus_a_few_per_shard(
    records: int, runs: int, per_job: int
) -> None:
    plan = _plan(REFERENCE_MODEL_ID, records_per_job=per_job)
    shape = batch_shape(plan, BatchUsage(records_per_month=records, runs_per_month=runs))
    assert state_transitions(shape) == runs * TRANSITIONS_PER_RUN + shape.shards * TRANSITIONS_PER_SHARD
    assert shape.shards <= runs * (records // runs // per_job + 1)


# ------------------------------------------------------------------------------ catalogue consistency
def test_the_reference_model_has_a_batch_price() -> None:
    assert CATALOG.has_batch_price(REFERENCE_MODEL_ID, REGION)


def test_every_model_id_the_docs_show_has_a_batch_price() -> None:
    shown = sorted(set(MODEL_ID.findall(DOCS.read_text())))
    assert REFERENCE_MODEL_ID in shown
    missing = [model for model in shown if not CATALOG.has_batch_price(model, REGION)]
    assert missing == []
