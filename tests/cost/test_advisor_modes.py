"""Long-context prices, SageMaker Serverless and Asynchronous Inference, and commitments (Reserved Instances,
a Savings Plan at your rate, Provisioned Throughput): each figure re-derived from the catalogue's records."""

from __future__ import annotations

import dataclasses
import math
from decimal import Decimal

import pytest

from inferwise.cost.advisor import (
    DAYS_PER_MONTH,
    PROVISIONED_REASON,
    RESERVED_DIMENSION,
    SAVINGS_PLAN_REASON,
    compare_serving_options,
    price_option,
)
from inferwise.cost.estimators.bedrock_batch import BatchPlan, BatchUsage, estimate_bedrock_batch, token_lines
from inferwise.cost.estimators.bedrock_on_demand import (
    TokenUsage,
    estimate_bedrock_on_demand,
    long_context_suffix,
    on_demand_token_lines,
)
from inferwise.cost.specs.models import BEDROCK_MODELS
from tests.cost.advisor_support import CATALOG, HAIKU, MILLION, REGION, SONNET
from tests.cost.advisor_support import workload as _workload

SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
LONG = 300_000
HOURS = Decimal(730)
PEOPLE = Decimal(2_000)


def _unit(sku: str, dimension: str) -> Decimal:
    return CATALOG.bedrock(sku, REGION, dimension).unit_price


def _cost(workload: object, key: str) -> Decimal:
    option = price_option(workload, key, CATALOG)  # type: ignore[arg-type]
    assert option.monthly_cost is not None, option.reason
    return option.monthly_cost


# ------------------------------------------------------------------------------------------- long context
def test_a_300k_token_sonnet_4_5_request_is_billed_at_the_long_context_rate_not_the_base_one() -> None:
    workload = _workload(
        model_id=SONNET,
        requests_per_month=20_000,
        input_tokens_per_request=LONG,
        output_tokens_per_request=2_000,
    )
    on_demand = price_option(workload, "bedrock-on-demand", CATALOG)
    assert on_demand.estimate is not None
    sources = [line.price_source for line in on_demand.estimate.lines]
    assert sources == [
        f"AmazonBedrock/{SONNET}/{REGION}/input-above-200k",
        f"AmazonBedrock/{SONNET}/{REGION}/output-above-200k",
    ]
    # 20,000 x 300,000 = 6B input tokens at $6.60, 40M output tokens at $24.75
    assert on_demand.monthly_cost == Decimal("39600") + Decimal("990") == Decimal("40590")
    base = (6_000 * _unit(SONNET, "input") + 40 * _unit(SONNET, "output")) * 1_000_000 / MILLION
    assert base == Decimal("20460")  # what the base rate would say: about half the real figure
    assert on_demand.monthly_cost / base > Decimal("1.98")
    assert _cost(workload, "bedrock-global") == 6_000 * 6 + 40 * Decimal("22.5") == 36_900
    assert any(
        "long context: 300,000 input tokens per request" in a for a in on_demand.estimate.lines[0].assumptions
    )
    comparison = compare_serving_options(workload)
    assert comparison.cheapest.key == "bedrock-global"
    assert any(note.startswith("Long context: 300,000 input tokens per request") for note in comparison.notes)


def test_long_context_starts_above_200000_input_tokens() -> None:
    assert long_context_suffix(SONNET, 200_000, CATALOG, REGION) == ""
    assert long_context_suffix(SONNET, 200_001, CATALOG, REGION) == "-above-200k"
    assert long_context_suffix(HAIKU, 200_000, CATALOG, REGION) == ""  # one rate: its window is 200,000
    at = estimate_bedrock_on_demand(SONNET, TokenUsage(1, 200_000, 0), CATALOG, REGION)
    assert at.lines[0].price_source.endswith("/input")


def test_cache_reads_and_writes_of_a_long_request_are_long_context_prices_too() -> None:
    usage = TokenUsage(
        10_000, LONG, 1_000, cached_prefix_tokens=250_000, cache_hit_rate=Decimal("0.9"), cache_ttl="1h"
    )
    lines = on_demand_token_lines(f"global.{SONNET}", usage, CATALOG, REGION)
    assert [line.price_source.rsplit("/", 1)[1] for line in lines] == [
        "global:input-above-200k",
        "global:output-above-200k",
        "global:cache-read-above-200k",
        "global:cache-write-1h-above-200k",
    ]
    by_hand = (
        Decimal(10_000 * 50_000) * 6
        + Decimal(10_000 * 1_000) * Decimal("22.5")
        + Decimal(10_000 * 250_000) * Decimal("0.9") * Decimal("0.6")
        + Decimal(10_000 * 250_000) * Decimal("0.1") * 12
    ) / MILLION
    assert sum(line.monthly_cost for line in lines) == by_hand == Decimal("7575")


def test_long_context_batch_is_priced_where_sourced_and_not_priced_elsewhere() -> None:
    usage = BatchUsage(records_per_month=30_000, input_tokens_per_record=LONG, output_tokens_per_record=1_000)
    estimate = estimate_bedrock_batch(
        BatchPlan(model_id=f"global.{SONNET}", family="anthropic"), usage, CATALOG, REGION
    )
    tokens = token_lines(estimate)
    assert [line.price_source.rsplit("/", 1)[1] for line in tokens] == [
        "global:batch-input-above-200k",
        "global:batch-output-above-200k",
    ]
    assert sum(line.monthly_cost for line in tokens) == (Decimal(9_000) * 3 + Decimal(30) * Decimal("11.25"))
    assert estimate.baseline is not None
    assert estimate.baseline.lines[0].price_source.endswith("global:input-above-200k")
    deferrable = _workload(
        model_id=SONNET,
        input_tokens_per_request=LONG,
        requests_per_month=30_000,
        realtime=False,
        batch_ok=True,
    )
    option = price_option(deferrable, "bedrock-batch", CATALOG)
    assert not option.available
    assert option.reason.startswith(f"no long-context batch price in the catalogue for {SONNET} in us-east-1")
    assert price_option(
        dataclasses.replace(deferrable, model_id=f"global.{SONNET}"), "bedrock-batch", CATALOG
    ).available


def test_sonnet_4_has_one_long_context_rate_in_region() -> None:
    workload = _workload(model_id=SONNET_4, input_tokens_per_request=250_000, requests_per_month=1_000)
    assert _cost(workload, "bedrock-on-demand") == (Decimal(250) * 6 + 200 * Decimal("22.5") / 1_000)
    assert not price_option(workload, "bedrock-global", CATALOG).available


def test_a_request_longer_than_the_context_window_is_an_error_naming_the_input_tokens() -> None:
    with pytest.raises(ValueError) as raised:
        compare_serving_options(_workload(model_id=HAIKU, input_tokens_per_request=LONG))
    assert str(raised.value) == (
        f"Workload.input_tokens_per_request=300000 is more than the 200,000-token context window of {HAIKU} "
        "(Workload.model_id): no request that long can be sent to it"
    )
    with pytest.raises(ValueError, match=r"200,000-token context window .* \(Workload.small_model_id\)"):
        compare_serving_options(
            _workload(model_id=SONNET, input_tokens_per_request=LONG, small_model_id=HAIKU, routed_share=0.5)
        )
    with pytest.raises(ValueError, match=r"1,000,000-token context window"):
        compare_serving_options(_workload(model_id=SONNET, input_tokens_per_request=1_200_000))


def test_a_long_context_rate_the_catalogue_lacks_is_an_error_not_the_base_price(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        BEDROCK_MODELS, HAIKU, dataclasses.replace(BEDROCK_MODELS[HAIKU], long_context_above=100_000)
    )
    with pytest.raises(ValueError) as raised:
        compare_serving_options(_workload(model_id=HAIKU, input_tokens_per_request=150_000))
    assert str(raised.value).startswith(
        f"Workload.input_tokens_per_request=150000: {HAIKU} bills every token of a request above 100,000 input tokens "
        "at its long-context rates, and the catalogue has none"
    )
    assert "not priced at the base rate" in str(raised.value)


def test_every_bedrock_model_has_a_context_window() -> None:
    assert all(entry.context_tokens for entry in BEDROCK_MODELS.values())
    assert {sku for sku, entry in BEDROCK_MODELS.items() if entry.long_context_above} == {SONNET, SONNET_4}


# ------------------------------------------------------------------------------------ Serverless Inference
def test_serverless_holds_only_small_quantised_models_and_asks_for_a_measurement() -> None:
    at_bf16 = price_option(_workload(), "sagemaker-serverless", CATALOG)
    assert at_bf16.reason.startswith(
        "no Serverless Inference memory size (1-6 GB, no GPU) holds meta-llama/Llama-3.1-8B-Instruct at bf16"
    )
    at_int4 = price_option(_workload(precision="int4"), "sagemaker-serverless", CATALOG)
    assert at_int4.reason.startswith(
        "throughput unknown: no sourced prefill and decode figures for meta-llama/Llama-3.1-8B-Instruct (int4) on "
        "serverless-5gb; pass serverless_memory=serverless-5gb and serverless_tokens_per_second=N"
    )


def test_serverless_bills_gigabyte_seconds_of_processing_plus_the_people() -> None:
    workload = _workload(
        requests_per_month=20_000,
        output_tokens_per_request=150,
        precision="int4",
        serverless_memory="serverless-5gb",
        serverless_tokens_per_second=40,
    )
    option = price_option(workload, "sagemaker-serverless", CATALOG)
    seconds = Decimal(650) / 40  # 16.25 s a request
    price = CATALOG.price("AmazonSageMaker", "serverless-inference", REGION, "Duration").unit_price
    assert option.monthly_cost == 20_000 * seconds * 5 * price + PEOPLE == Decimal("2032.5")
    assert (option.instance_type, option.instances, option.utilisation) == ("serverless-5gb", None, None)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"serverless_tokens_per_second": 10},
            "a request takes 70.0 s of one invocation, above Serverless Inference's 60-second",
        ),
        (
            {"requests_per_month": 500_000_000},
            "the peak needs 3,329.5 concurrent invocations, above Serverless Inference's 200 per endpoint",
        ),
    ],
)
def test_serverless_limits_are_not_priced(changes: dict[str, object], reason: str) -> None:
    fields: dict[str, object] = {
        "output_tokens_per_request": 200,
        "precision": "int4",
        "serverless_memory": "serverless-6gb",
        "serverless_tokens_per_second": 40,
    }
    option = price_option(_workload(**{**fields, **changes}), "sagemaker-serverless", CATALOG)
    assert not option.available and option.reason.startswith("not priced: ")
    assert reason in option.reason


# ---------------------------------------------------------------------------------- Asynchronous Inference
def test_async_is_for_deferrable_work_only() -> None:
    option = price_option(_workload(), "sagemaker-async", CATALOG)
    assert option.reason.startswith("real-time workload: asynchronous requests wait in a queue")


def test_async_bills_the_hours_the_backlog_takes_plus_a_wake_a_day() -> None:
    workload = _workload(
        requests_per_month=2_000_000,
        input_tokens_per_request=3_000,
        output_tokens_per_request=400,
        active_hours_per_day=6,
        realtime=False,
        batch_ok=True,
    )
    option = price_option(workload, "sagemaker-async", CATALOG)
    rate = Decimal(3_400) / (
        Decimal(3_000) / 1_462 + Decimal(400) / 174
    )  # ml.inf2.xlarge: 2 of 24 NeuronCores
    average = Decimal(6_800_000_000) / (6 * 3600 * HOURS / 24)
    instances = math.ceil(average / rate)
    assert (option.instance_type, option.instances) == ("ml.inf2.xlarge", instances) == ("ml.inf2.xlarge", 14)
    work_per_day = Decimal(6_800_000_000) / (rate * 3600) / instances / DAYS_PER_MONTH
    billed = (Decimal(str(float(work_per_day))) + Decimal(37) / 60) * Decimal(str(float(DAYS_PER_MONTH)))
    assert option.billed_instance_hours is not None
    assert abs(option.billed_instance_hours - billed * instances) < Decimal("0.0001")
    hosting = CATALOG.price("AmazonSageMaker", "ml.inf2.xlarge", REGION, "Hosting").unit_price
    storage = CATALOG.price("AmazonSageMaker", "gp2", REGION, "HostingStorage").unit_price
    expected = billed * instances * (hosting + 30 * storage / HOURS) + 3 * Decimal("0.1") + PEOPLE
    assert option.monthly_cost is not None and abs(option.monthly_cost - expected) < Decimal("0.01")
    assert option.estimate is not None and option.estimate.lines[0].confidence == "low"
    scale_to_zero = price_option(workload, "scale-to-zero", CATALOG)
    assert scale_to_zero.monthly_cost is not None and option.monthly_cost < scale_to_zero.monthly_cost


# -------------------------------------------------------------------------------------------- commitments
def test_reserved_instances_bill_every_hour_of_the_month_at_the_sourced_rate() -> None:
    workload = _workload(
        requests_per_month=20_000_000,
        input_tokens_per_request=1_000,
        peak_to_average=Decimal("1.5"),
        precision="fp8",
    )
    option = price_option(workload, "ec2-reserved", CATALOG)
    rate = CATALOG.price("AmazonEC2", "g6e.xlarge", REGION, RESERVED_DIMENSION).unit_price
    assert rate == Decimal("1.17243")
    assert (option.instance_type, option.instances) == ("g6e.xlarge", 2)
    assert (
        option.monthly_cost == 2 * HOURS * rate + 2 * 128 * Decimal("0.08") + PEOPLE == Decimal("3732.2278")
    )
    assert option.estimate is not None and option.estimate.lines[0].pricing_category == "Committed"
    assert option.estimate.baseline is not None
    on_demand = 2 * HOURS * CATALOG.price("AmazonEC2", "g6e.xlarge", REGION, "OnDemand").unit_price
    assert option.estimate.baseline.monthly_total == on_demand + Decimal("20.48") + PEOPLE
    spot = price_option(workload, "spot-gpu", CATALOG)
    assert spot.monthly_cost is not None and option.monthly_cost < spot.monthly_cost


def test_reserved_instances_are_not_priced_without_a_sourced_rate_or_open_weights() -> None:
    big = _workload(requests_per_month=3_000_000, input_tokens_per_request=1_000, output_tokens_per_request=300,
                    model_id="meta.llama3-1-70b-instruct-v1:0", precision="fp8")  # fmt: skip
    option = price_option(big, "ec2-reserved", CATALOG)
    assert not option.available
    assert (
        "GPU (g5, g6, g6e): no sourced 1-year Reserved Instance rate for g6e.12xlarge in us-east-1"
        in option.reason
    )
    closed = price_option(_workload(model_id=SONNET), "ec2-reserved", CATALOG)
    assert closed.reason.startswith(f"closed weights: {SONNET} cannot be self-hosted")


def test_a_savings_plan_is_priced_only_at_your_rate() -> None:
    workload = _workload(
        requests_per_month=20_000_000,
        input_tokens_per_request=1_000,
        peak_to_average=Decimal("1.5"),
        precision="fp8",
    )
    assert price_option(workload, "sagemaker-savings-plan", CATALOG).reason == SAVINGS_PLAN_REASON
    planned = dataclasses.replace(workload, savings_plan_discount=Decimal("0.3"), savings_plan_term="3yr")
    option = price_option(planned, "sagemaker-savings-plan", CATALOG)
    hosting = CATALOG.price("AmazonSageMaker", "ml.g6e.xlarge", REGION, "Hosting").unit_price
    assert option.monthly_cost == 2 * HOURS * hosting * Decimal("0.7") + PEOPLE == Decimal("4667.42")
    assert option.estimate is not None
    (committed,) = [line for line in option.estimate.lines if line.pricing_category == "Committed"]
    assert committed.component.endswith(", 3-year Savings Plan")
    assert "your figures, not a sourced rate" in committed.assumptions[-1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"savings_plan_discount": 0}, "Workload.savings_plan_discount must be > 0, got 0"),
        (
            {"savings_plan_discount": 1},
            "Workload.savings_plan_discount must be > 0 and < 1 (a share off), got 1",
        ),
        ({"savings_plan_term": "5yr"}, "Workload.savings_plan_term must be one of 1yr, 3yr, got '5yr'"),
        (
            {"serverless_memory": "serverless-8gb"},
            "Workload.serverless_memory must be a SageMaker Serverless",
        ),
    ],
)
def test_bad_commitment_and_serverless_fields(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        _workload(**changes)
    assert str(raised.value).startswith(message)


def test_provisioned_throughput_says_why_no_rate_applies() -> None:
    option = price_option(_workload(), "bedrock-provisioned", CATALOG)
    assert option.reason == PROVISIONED_REASON
    assert "Claude Instant, Claude v1 / v2.1 and Cohere Command" in option.reason
