"""The break-even advisor: every option priced by the one cost model, capacity, break-evens, and bad input."""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwise.cost.advisor import (
    BREAK_EVEN_TOLERANCE_USD,
    DAYS_PER_MONTH,
    OPTION_KEYS,
    PROVISIONED_REASON,
    SPOT_ON_DEMAND_BASE,
    SPOT_PERCENT_ABOVE_BASE,
    BreakEven,
    Comparison,
    Workload,
    batch_family,
    capacity_for,
    compare_serving_options,
    find_break_even,
    option_cost,
    price_option,
    workload_from_mapping,
)
from inferwise.cost.estimators.bedrock_batch import token_lines
from inferwise.cost.estimators.bedrock_on_demand import TokenUsage, estimate_bedrock_on_demand
from inferwise.cost.model import HOURS_PER_MONTH
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS
from tests.cost.advisor_support import (
    CATALOG,
    HAIKU,
    LLAMA_8B,
    MILLION,
    NOVA_MICRO,
    NOVA_PRO,
    REGION,
)
from tests.cost.advisor_support import (
    price as _price,
)
from tests.cost.advisor_support import (
    workload as _workload,
)


def _cost(workload: Workload, key: str) -> Decimal:
    cost = price_option(workload, key, CATALOG).monthly_cost
    assert cost is not None, key
    return cost


# ------------------------------------------------------------------------------------------------ batch
def _batch_models() -> list[str]:
    models = []
    for sku in CATALOG.bedrock_models(REGION):
        for model in (sku, f"global.{sku}"):
            if CATALOG.has_batch_price(model, REGION) and batch_family(model) is not None:
                models.append(model)
    return models


@pytest.mark.parametrize("model", _batch_models())
def test_batch_tokens_cost_half_of_on_demand_where_the_catalogue_says_so(model: str) -> None:
    workload = _workload(model_id=model, realtime=False, batch_ok=True)
    batch = price_option(workload, "bedrock-batch", CATALOG)
    on_demand = price_option(workload, "bedrock-on-demand", CATALOG)
    assert batch.estimate is not None and on_demand.estimate is not None
    batch_tokens = sum((line.monthly_cost for line in token_lines(batch.estimate)), Decimal(0))
    catalogue_ratio = _price(model, "batch-input") / _price(model, "input")
    assert catalogue_ratio == Decimal("0.5")
    assert batch_tokens == on_demand.estimate.monthly_total * catalogue_ratio
    assert {line.pricing_category for line in token_lines(batch.estimate)} == {"Batch"}


def test_on_demand_option_equals_the_batch_estimators_on_demand_baseline() -> None:
    workload = _workload(model_id=NOVA_PRO, realtime=False, batch_ok=True, requests_per_month=123_457)
    batch = price_option(workload, "bedrock-batch", CATALOG).estimate
    assert batch is not None and batch.baseline is not None
    assert _cost(workload, "bedrock-on-demand") == batch.baseline.monthly_total


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {},
            "real-time workload: a batch job returns within 24 h, not while a caller waits",
        ),
        (
            {"realtime": False},
            "batch not requested: set batch_ok (--batch-ok) if the work can wait up to 24 h",
        ),
        (
            {"realtime": False, "batch_ok": True, "model_id": "anthropic.claude-3-7-sonnet-20250219-v1:0"},
            "no batch price in the catalogue for anthropic.claude-3-7-sonnet-20250219-v1:0 in us-east-1",
        ),
        (
            {"realtime": False, "batch_ok": True, "model_id": "mistral.mistral-small-2402-v1:0"},
            "BedrockBatchPipeline builds batch requests for Anthropic, Amazon Nova, Meta Llama and Titan embedding "
            "models, not mistral.mistral-small-2402-v1:0",
        ),
    ],
)
def test_batch_is_listed_as_unavailable_with_the_reason(changes: dict[str, object], reason: str) -> None:
    option = price_option(_workload(**changes), "bedrock-batch", CATALOG)
    assert (option.available, option.reason, option.monthly_cost) == (False, reason, None)


def test_batch_family_agrees_with_the_pipelines_model_parser() -> None:
    from inferwise.constructs.bedrock_batch import parse_model_id

    for sku in CATALOG.bedrock_models():
        for model in (sku, f"us.{sku}", f"arn:aws:bedrock:us-east-1::foundation-model/{sku}"):
            try:
                expected = parse_model_id(model).family
            except ValueError:
                expected = None
            assert batch_family(model) == expected, model


# ----------------------------------------------------------------------------------------------- caching
@pytest.mark.parametrize("model", [HAIKU, NOVA_PRO])
def test_caching_changes_only_the_cached_input_share(model: str) -> None:
    workload = _workload(
        model_id=model, input_tokens_per_request=4_000, cache_prefix_tokens=3_000, cache_hit_rate=0.9
    )
    cached = price_option(workload, "bedrock-prompt-cache", CATALOG).estimate
    plain = price_option(workload, "bedrock-on-demand", CATALOG).estimate
    assert cached is not None and plain is not None
    by_component = {line.component: line for line in cached.lines}
    plain_lines = {line.component: line for line in plain.lines}
    assert by_component["output tokens"] == plain_lines["output tokens"]
    uncached = by_component["input tokens"]
    assert uncached.monthly_quantity == Decimal(1_000_000 * 1_000) / MILLION
    assert uncached.unit_price == plain_lines["input tokens"].unit_price
    requests, prefix, hits = Decimal(1_000_000), Decimal(3_000), Decimal("0.9")
    write_dimension = "cache-write-5m" if model == HAIKU else "input"
    prefix_cost = (
        requests
        * prefix
        / MILLION
        * (hits * _price(model, "cache-read") + (1 - hits) * _price(model, write_dimension))
    )
    assert cached.monthly_total - plain.monthly_total == prefix_cost - requests * prefix / MILLION * _price(
        model, "input"
    )
    assert cached.baseline is not None and cached.baseline.monthly_total == plain.monthly_total


def test_a_model_without_a_cache_write_price_writes_at_the_input_rate_and_says_so() -> None:
    workload = _workload(model_id=NOVA_PRO, cache_prefix_tokens=300, cache_hit_rate=0.5)
    estimate = price_option(workload, "bedrock-prompt-cache", CATALOG).estimate
    assert estimate is not None
    writes = next(line for line in estimate.lines if line.component.startswith("cache writes"))
    assert writes.price_source == f"AmazonBedrock/{NOVA_PRO}/{REGION}/input"
    assert any("no cache-write-5m price" in text for text in writes.assumptions)


@settings(max_examples=60, deadline=None)
@given(
    requests=st.integers(min_value=1, max_value=10**8),
    input_tokens=st.integers(min_value=1, max_value=20_000),
    output_tokens=st.integers(min_value=0, max_value=4_000),
    prefix_share=st.fractions(min_value=0, max_value=1),
    hit_rate=st.decimals(min_value=0, max_value=1, places=3),
)
def test_caching_saving_is_the_prefix_share_priced_at_read_and_write_instead_of_input(
    requests: int, input_tokens: int, output_tokens: int, prefix_share: object, hit_rate: Decimal
) -> None:
    prefix = max(1, math.floor(input_tokens * float(prefix_share)))  # type: ignore[arg-type]
    usage = TokenUsage(
        requests, input_tokens, output_tokens, cached_prefix_tokens=prefix, cache_hit_rate=hit_rate
    )
    cached = estimate_bedrock_on_demand(HAIKU, usage, CATALOG, REGION)
    assert cached.baseline is not None
    read, write, plain_input = (_price(HAIKU, d) for d in ("cache-read", "cache-write-5m", "input"))
    prefix_tokens = Decimal(requests) * prefix / MILLION
    expected = prefix_tokens * (hit_rate * read + (1 - hit_rate) * write - plain_input)
    assert cached.monthly_total - cached.baseline.monthly_total == expected


# ----------------------------------------------------------------------------------------------- routing
@pytest.mark.parametrize("share", [Decimal(0), Decimal("0.6"), Decimal(1)])
def test_routed_cascade_pays_the_small_model_for_every_request_and_the_large_one_for_escalations(
    share: Decimal,
) -> None:
    workload = _workload(model_id=HAIKU, small_model_id=NOVA_MICRO, routed_share=share)
    small_all = _cost(_workload(model_id=NOVA_MICRO), "bedrock-on-demand")
    large_all = _cost(_workload(model_id=HAIKU), "bedrock-on-demand")
    assert _cost(workload, "bedrock-routed") == small_all + (1 - share) * large_all
    estimate = price_option(workload, "bedrock-routed", CATALOG).estimate
    assert estimate is not None and estimate.baseline is not None
    assert estimate.baseline.monthly_total == large_all


def test_routing_and_caching_are_unavailable_until_described() -> None:
    workload = _workload()
    assert price_option(workload, "bedrock-routed", CATALOG).reason == (
        "no routing described: pass small_model_id and routed_share"
    )
    assert price_option(workload, "bedrock-prompt-cache", CATALOG).reason == (
        "no prompt cache described: pass cache_prefix_tokens and cache_hit_rate"
    )
    no_cache_price = _workload(cache_prefix_tokens=100, cache_hit_rate=0.5)
    assert price_option(no_cache_price, "bedrock-prompt-cache", CATALOG).reason == (
        f"no cache-read price in the catalogue for {LLAMA_8B} in us-east-1"
    )


def test_provisioned_throughput_is_listed_as_not_priced_never_zero() -> None:
    comparison = compare_serving_options(_workload())
    option = comparison.option("bedrock-provisioned")
    assert (option.available, option.monthly_cost, option.estimate) == (False, None, None)
    assert option.reason == PROVISIONED_REASON
    assert option.reason.startswith("not priced: no sourced Provisioned Throughput rate for this model (the only")
    assert option not in comparison.priced


# ------------------------------------------------------------------------------------------ self-hosting
def test_scale_to_zero_equals_always_on_at_24_active_hours_apart_from_its_alarms() -> None:
    workload = _workload(
        active_hours_per_day=24,
        sagemaker_instance_type="ml.g5.xlarge",
        sagemaker_tokens_per_second=300,
        ops_hours_per_month=0,
    )
    always_on = price_option(workload, "sagemaker-always-on", CATALOG)
    scale_to_zero = price_option(workload, "scale-to-zero", CATALOG)
    assert always_on.estimate is not None and scale_to_zero.estimate is not None
    instances = always_on.instances
    assert instances is not None and instances == scale_to_zero.instances
    assert (
        always_on.billed_instance_hours == scale_to_zero.billed_instance_hours == HOURS_PER_MONTH * instances
    )
    (on_line,) = always_on.estimate.lines
    compute, alarms = scale_to_zero.estimate.lines
    assert (compute.monthly_quantity, compute.monthly_cost) == (
        on_line.monthly_quantity,
        on_line.monthly_cost,
    )
    assert compute.price_source == on_line.price_source == f"AmazonSageMaker/ml.g5.xlarge/{REGION}/Hosting"
    assert alarms.service_code == "AmazonCloudWatch"
    assert scale_to_zero.monthly_cost == always_on.monthly_cost + alarms.monthly_cost  # type: ignore[operator]


def test_scale_to_zero_bills_the_active_hours_of_a_730_hour_month_plus_one_wake_a_day() -> None:
    workload = _workload(active_hours_per_day=8)
    option = price_option(workload, "scale-to-zero", CATALOG)
    assert option.instances is not None and option.billed_instance_hours is not None
    per_day = Decimal(8) + Decimal(10 + 27) / 60  # cold start + scale-in tail of the estimator's defaults
    expected = per_day * DAYS_PER_MONTH * option.instances
    assert abs(option.billed_instance_hours - expected) < Decimal("0.000001")


def test_capacity_is_the_peak_over_the_throughput_rounded_up() -> None:
    workload = _workload(
        requests_per_month=2_628_000,
        input_tokens_per_request=90,
        output_tokens_per_request=10,
        active_hours_per_day=12,
        peak_to_average=3,
    )
    # 262.8M tokens / (12 h x 3,600 s x 730/24 days = 1,314,000 s) = 200 tokens/s average, 600 at peak
    assert workload.average_tokens_per_second == 200
    assert workload.peak_tokens_per_second == 600
    assert capacity_for(workload, Decimal(120)).instances == 5
    assert capacity_for(workload, Decimal(600)).instances == 1
    assert capacity_for(workload, Decimal(599)).instances == 2


def test_a_spot_fleet_below_capacity_gets_more_instances_not_fewer_tokens() -> None:
    fast = _workload(inf2_tokens_per_second=1_000)
    slow = _workload(inf2_tokens_per_second=100)
    fast_option = price_option(fast, "spot-inf2", CATALOG)
    slow_option = price_option(slow, "spot-inf2", CATALOG)
    assert fast_option.instances == math.ceil(fast.peak_tokens_per_second / 1_000) == 1
    assert slow_option.instances == math.ceil(slow.peak_tokens_per_second / 100) == 3
    assert slow_option.monthly_tokens == fast_option.monthly_tokens == fast.monthly_tokens
    assert slow_option.monthly_cost > fast_option.monthly_cost  # type: ignore[operator]
    assert slow_option.utilisation is not None and 0 < slow_option.utilisation <= 1
    assert slow_option.estimate is not None
    on_demand, spot = (
        line
        for line in slow_option.estimate.lines
        if line.service_code == "AmazonEC2" and line.pricing_unit == "Hrs"
    )
    assert on_demand.monthly_quantity == HOURS_PER_MONTH * SPOT_ON_DEMAND_BASE
    assert (spot.pricing_category, spot.monthly_quantity) == ("Dynamic", HOURS_PER_MONTH * 2)


def test_utilisation_is_average_load_over_provisioned_capacity() -> None:
    workload = _workload(sagemaker_tokens_per_second=500)
    option = price_option(workload, "sagemaker-always-on", CATALOG)
    assert option.instances == 1
    assert option.utilisation == workload.monthly_tokens / (HOURS_PER_MONTH * 3600 * 500)
    assert option.unit_cost_per_million_tokens == option.monthly_cost * MILLION / workload.monthly_tokens  # type: ignore[operator]


def test_self_hosted_options_carry_the_throughput_source_and_its_confidence() -> None:
    scaled = price_option(_workload(ops_hours_per_month=0), "spot-inf2", CATALOG)
    assert (scaled.instance_type, scaled.confidence) == ("inf2.xlarge", "low")
    assert any(
        "scaled from the 24 to the 2 AWS Inferentia2 NeuronCore-v2(s)" in t for t in scaled.assumptions
    )
    assert any("github.com/huggingface/optimum-neuron@7092ed57" in t for t in scaled.assumptions)
    measured = price_option(
        _workload(inf2_tokens_per_second=300, ops_hours_per_month=0), "spot-inf2", CATALOG
    )
    assert any(
        "300 input + output tokens/s per instance (your measurement)" in t for t in measured.assumptions
    )
    assert measured.confidence == "medium"  # the Spot line's own confidence, not the throughput's


def test_spot_fleet_settings_match_the_construct_defaults() -> None:
    from inferwise.constructs.spot_fleet import SpotInferenceFleet

    parameters = inspect.signature(SpotInferenceFleet.__init__).parameters
    assert parameters["on_demand_base"].default == SPOT_ON_DEMAND_BASE
    assert parameters["spot_percent_above_base"].default == SPOT_PERCENT_ABOVE_BASE


def test_an_unpriced_region_makes_self_hosting_unavailable_not_zero() -> None:
    workload = _workload(
        model_id=NOVA_PRO, region="eu-west-1", substitute_model="meta-llama/Llama-3.1-8B-Instruct"
    )
    comparison = compare_serving_options(workload)
    for key in ("sagemaker-always-on", "scale-to-zero"):
        option = comparison.option(key)
        assert not option.available and option.monthly_cost is None
        assert option.reason.startswith(
            "not priced: no AmazonSageMaker price for sku 'ml.inf2.xlarge' in eu-west-1"
        )


# ------------------------------------------------------------------------------------------- comparison
@pytest.fixture(scope="module")
def busy() -> Comparison:
    return compare_serving_options(
        Workload(
            model_id=HAIKU,
            requests_per_month=300_000,
            input_tokens_per_request=1_000,
            output_tokens_per_request=300,
            active_hours_per_day=10,
            peak_to_average=3,
            realtime=False,
            batch_ok=True,
            cache_prefix_tokens=600,
            cache_hit_rate=0.8,
            small_model_id=NOVA_MICRO,
            routed_share=0.6,
        )
    )


def test_options_are_cheapest_first_with_every_line_traced_to_a_catalogue_key(busy: Comparison) -> None:
    assert {option.key for option in busy.options} == set(OPTION_KEYS)
    costs = [option.monthly_cost for option in busy.priced]
    assert costs == sorted(costs)  # type: ignore[type-var]
    assert busy.cheapest == busy.priced[0]
    known = {record.key for record in CATALOG.records()}
    for option in busy.priced:
        assert option.estimate is not None and option.estimate.lines and option.monthly_cost is not None
        assert {line.price_source for line in option.estimate.lines} <= known, option.key
        assert (
            option.unit_cost_per_million_tokens
            == option.monthly_cost * MILLION / busy.workload.monthly_tokens
        )
    json.dumps(busy.to_json())


@pytest.fixture(scope="module")
def open_busy() -> Comparison:
    """An open model, so self-hosted options (step costs) rank with the per-token ones."""
    return compare_serving_options(
        Workload(
            model_id=LLAMA_8B,
            requests_per_month=300_000,
            input_tokens_per_request=1_000,
            output_tokens_per_request=300,
            active_hours_per_day=10,
            peak_to_average=3,
            realtime=False,
            batch_ok=True,
            small_model_id=NOVA_MICRO,
            routed_share=0.6,
            sagemaker_tokens_per_second=5_000,
            graviton_instance_type="c7g.4xlarge",
            graviton_tokens_per_second=40,
        )
    )


def test_break_evens_are_where_the_costs_cross(open_busy: Comparison) -> None:
    busy = open_busy
    crossings = [item for item in busy.break_evens if item.kind == "cross"]
    assert crossings
    for item in crossings:
        assert item.requests_per_month is not None and item.monthly_tokens is not None
        at = item.requests_per_month
        a, b = (option_cost(busy.workload, key, at, CATALOG) for key in (item.cheaper, item.other))
        assert abs(a - b) <= BREAK_EVEN_TOLERANCE_USD
        below, above = at * Decimal("0.999"), at * Decimal("1.001")
        sign_below = option_cost(busy.workload, item.cheaper, below, CATALOG) - option_cost(
            busy.workload, item.other, below, CATALOG
        )
        sign_above = option_cost(busy.workload, item.cheaper, above, CATALOG) - option_cost(
            busy.workload, item.other, above, CATALOG
        )
        assert sign_below * sign_above < 0, item
        cheaper_above = item.cheaper if sign_above < 0 else item.other
        assert item.cheaper_above == cheaper_above
        assert item.monthly_tokens == at * busy.workload.tokens_per_request


def test_a_break_even_at_a_step_says_which_option_jumps_and_the_order_still_flips(
    open_busy: Comparison,
) -> None:
    busy = open_busy
    steps = [item for item in busy.break_evens if item.kind == "step"]
    assert steps
    for item in steps:
        assert item.requests_per_month is not None and item.stepping in (item.cheaper, item.other)
        at = item.requests_per_month
        assert item.cost_cheaper is not None and item.cost_other is not None
        assert abs(item.cost_cheaper - item.cost_other) > BREAK_EVEN_TOLERANCE_USD
        below, above = at * Decimal("0.999"), at * Decimal("1.001")

        def diff(requests: Decimal, item: BreakEven = item) -> Decimal:
            return option_cost(busy.workload, item.cheaper, requests, CATALOG) - option_cost(
                busy.workload, item.other, requests, CATALOG
            )

        assert diff(below) * diff(above) < 0
        jump = option_cost(busy.workload, item.stepping, above, CATALOG) - option_cost(
            busy.workload, item.stepping, below, CATALOG
        )
        assert abs(jump) > abs(diff(below)) / 2


def test_break_even_of_per_token_pricing_and_an_always_on_endpoint_is_the_endpoint_cost_over_the_token_price() -> (
    None
):
    model = "meta.llama3-70b-instruct-v1:0"  # 2.65 / 3.50 per 1M tokens
    workload = _workload(
        model_id=model,
        input_tokens_per_request=600,
        output_tokens_per_request=400,
        requests_per_month=100_000,
        sagemaker_tokens_per_second=1_000_000,
    )
    endpoint = _cost(workload, "sagemaker-always-on")  # one instance anywhere in the range
    per_request = (600 * _price(model, "input") + 400 * _price(model, "output")) / MILLION
    item = find_break_even(workload, "bedrock-on-demand", "sagemaker-always-on", CATALOG)
    assert item.kind == "cross" and item.requests_per_month is not None
    assert abs(item.requests_per_month - endpoint / per_request) < Decimal("0.001")
    assert item.cheaper_above == "sagemaker-always-on"


def test_no_break_even_when_the_order_never_changes_in_the_searched_range() -> None:
    comparison = compare_serving_options(_workload(model_id=NOVA_PRO, realtime=False))
    first = comparison.break_evens[0]
    assert (first.cheaper, first.other) == ("bedrock-flex", "bedrock-on-demand")
    assert first.monthly_tokens is None and first.kind is None
    low, high = first.searched_tokens
    assert (low, high) == (
        comparison.workload.monthly_tokens / 1000,
        comparison.workload.monthly_tokens * 1000,
    )
    assert "do not swap places" in comparison.reason


def test_the_reason_names_the_cheapest_and_why(busy: Comparison) -> None:
    assert busy.cheapest.key == "bedrock-routed"
    assert busy.reason.startswith(
        f"The Bedrock routed cascade is cheapest: {NOVA_MICRO} answers 60 % of requests"
    )
    nightly = compare_serving_options(_workload(realtime=False, batch_ok=True, active_hours_per_day=6))
    assert nightly.cheapest.key == "bedrock-batch"
    assert nightly.reason.startswith(
        "Bedrock batch is cheapest: its tokens cost 50.0 % of on-demand (the catalogue's batch prices for "
        f"{LLAMA_8B}), and the work can wait up to 24 h"
    )


# ------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"requests_per_month": -5}, "Workload.requests_per_month must be > 0, got -5"),
        ({"requests_per_month": 0}, "Workload.requests_per_month must be > 0, got 0"),
        ({"input_tokens_per_request": -1}, "Workload.input_tokens_per_request must be >= 1, got -1"),
        ({"output_tokens_per_request": -3}, "Workload.output_tokens_per_request must be >= 0, got -3"),
        ({"active_hours_per_day": 0}, "Workload.active_hours_per_day must be > 0 and <= 24, got 0"),
        ({"active_hours_per_day": 25}, "Workload.active_hours_per_day must be > 0 and <= 24, got 25"),
        ({"peak_to_average": 0.5}, "Workload.peak_to_average must be >= 1, got 0.5"),
        (
            {"cache_prefix_tokens": 100, "cache_hit_rate": 1.5},
            "Workload.cache_hit_rate must be between 0 and 1, got 1.5",
        ),
        (
            {"cache_prefix_tokens": 100, "cache_hit_rate": -0.1},
            "Workload.cache_hit_rate must be between 0 and 1, got -0.1",
        ),
        (
            {"cache_prefix_tokens": 501, "cache_hit_rate": 0.5},
            "Workload.cache_prefix_tokens must be <= input_tokens_per_request (500), got 501",
        ),
        (
            {"cache_prefix_tokens": 100},
            "Workload.cache_prefix_tokens and Workload.cache_hit_rate go together: give both or neither, got "
            "cache_prefix_tokens=100, cache_hit_rate=None",
        ),
        (
            {"small_model_id": NOVA_MICRO, "routed_share": 1.2},
            "Workload.routed_share must be between 0 and 1, got 1.2",
        ),
        (
            {"batch_ok": True},
            "batch requested for a real-time workload: batch_ok=True needs realtime=False (a batch job returns "
            "within 24 h, not while a caller waits)",
        ),
        (
            {"sagemaker_instance_type": "ml.g5.huge"},
            "Workload.sagemaker_instance_type must be a SageMaker instance type inferwise knows ("
            + ", ".join(list(INSTANCE_SPECS)[:8])
            + ", ...), got 'ml.g5.huge'",
        ),
        (
            {"inf2_instance_type": "c7g.xlarge"},
            "Workload.inf2_instance_type must be an Inferentia2 instance type SpotInferenceFleet knows (inf2.24xlarge, "
            "inf2.48xlarge, inf2.8xlarge, inf2.xlarge), got 'c7g.xlarge'",
        ),
        (
            {"gpu_instance_type": "p5.48xlarge"},
            "Workload.gpu_instance_type must be an EC2 GPU instance type (g5, g6, g6e) the advisor knows (g5.xlarge, "
            "g5.2xlarge, g5.4xlarge, g5.8xlarge, g5.16xlarge, g5.12xlarge, g5.24xlarge, g5.48xlarge, ...), got "
            "'p5.48xlarge'",
        ),
        ({"inf2_tokens_per_second": 0}, "Workload.inf2_tokens_per_second must be > 0, got 0"),
        ({"gpu_tokens_per_second": -1}, "Workload.gpu_tokens_per_second must be > 0, got -1"),
        ({"precision": "fp4"}, "Workload.precision must be one of bf16, fp16, fp8, int8, int4, got 'fp4'"),
        ({"service_tier": "turbo"}, "Workload.service_tier must be one of flex, priority, got 'turbo'"),
        ({"cache_ttl": "2h"}, "Workload.cache_ttl must be one of 5m, 1h, got '2h'"),
        ({"scenarios": (0.5, 0, 2)}, "Workload.scenarios must be > 0 and <= 1000, got 0"),
        ({"ops_hours_per_month": -2}, "Workload.ops_hours_per_month must be >= 0, got -2"),
        (
            {"substitute_model": "acme/Giant-1T"},
            "Workload.substitute_model must be an open model the catalogue sizes (meta-llama/Meta-Llama-3-8B-Instruct, "
            "meta-llama/Llama-3.1-8B-Instruct, meta-llama/Meta-Llama-3-70B-Instruct, meta-llama/Llama-3.1-70B-Instruct, "
            "meta-llama/Llama-3.3-70B-Instruct, mistralai/Mistral-7B-Instruct-v0.2, "
            "mistralai/Mixtral-8x7B-Instruct-v0.1, Qwen/Qwen2.5-7B-Instruct, Qwen/Qwen2.5-72B-Instruct), got "
            "'acme/Giant-1T'",
        ),
    ],
)
def test_bad_input_is_a_value_error_naming_field_value_and_range(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError) as raised:
        _workload(**changes)
    assert str(raised.value) == message


@pytest.mark.parametrize("field", ["model_id", "small_model_id"])
def test_an_unknown_model_is_an_error_naming_the_field(field: str) -> None:
    changes: dict[str, object] = {field: "amazon.nova-mega-v9:0"}
    if field == "small_model_id":
        changes["routed_share"] = 0.5
    with pytest.raises(ValueError) as raised:
        compare_serving_options(_workload(**changes))
    assert str(raised.value).startswith(
        f"Workload.{field} 'amazon.nova-mega-v9:0' has no Bedrock price in the catalogue for us-east-1: no "
        "AmazonBedrock price for model 'amazon.nova-mega-v9:0'"
    )


def test_workload_from_mapping_rejects_unknown_fields_and_needs_the_volume() -> None:
    with pytest.raises(ValueError, match=r"^unknown workload field\(s\) requests; allowed: model_id, "):
        workload_from_mapping({"requests": 5})
    with pytest.raises(ValueError) as raised:
        workload_from_mapping({"model_id": LLAMA_8B})
    assert str(raised.value) == (
        "the workload needs requests_per_month, input_tokens_per_request, output_tokens_per_request"
    )
    workload = workload_from_mapping(
        {
            "model_id": LLAMA_8B,
            "requests_per_month": 10,
            "input_tokens_per_request": 5,
            "output_tokens_per_request": 1,
        }
    )
    assert workload == dataclasses.replace(
        _workload(), requests_per_month=10, input_tokens_per_request=5, output_tokens_per_request=1
    )
