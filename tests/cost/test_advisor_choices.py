"""The options that change the answer: tiers, the global profile, the 1-hour cache, the people who run a fleet,
the GPU Spot fleet, closed models and their substitutes, and the low / expected / high scenarios (commitments,
long context, Serverless and Asynchronous Inference: test_advisor_modes.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inferwise.cost.advisor import (
    DEFAULT_OPS_HOURLY_USD,
    DEFAULT_OPS_HOURS_PER_MONTH,
    SELF_HOSTED_KEYS,
    compare_serving_options,
    price_option,
)
from tests.cost.advisor_support import (
    CATALOG,
    HAIKU,
    LLAMA_8B,
    MILLION,
    NOVA_LITE,
    NOVA_PRO,
    REGION,
    SONNET,
)
from tests.cost.advisor_support import (
    price as _price,
)
from tests.cost.advisor_support import (
    workload as _workload,
)


# ------------------------------------------------------------------------------------------- Bedrock tiers
@pytest.mark.parametrize(("tier", "share"), [("flex", Decimal("0.5")), ("priority", Decimal("1.75"))])
def test_flex_and_priority_price_every_token_at_the_tier_rate(tier: str, share: Decimal) -> None:
    workload = _workload(model_id=NOVA_PRO, realtime=False)
    option = price_option(workload, f"bedrock-{tier}", CATALOG)
    on_demand = price_option(workload, "bedrock-on-demand", CATALOG)
    assert option.monthly_cost == on_demand.monthly_cost * share  # type: ignore[operator]
    expected = (
        500 * _price(NOVA_PRO, f"{tier}-input") + 200 * _price(NOVA_PRO, f"{tier}-output")
    ) * 1_000_000
    assert option.monthly_cost == expected / MILLION


def test_flex_is_offered_only_to_deferrable_work_and_only_where_priced() -> None:
    realtime = price_option(_workload(model_id=NOVA_PRO), "bedrock-flex", CATALOG)
    assert not realtime.available and realtime.reason.startswith("real-time workload: Flex requests may wait")
    asked = price_option(_workload(model_id=NOVA_PRO, service_tier="flex"), "bedrock-flex", CATALOG)
    assert asked.available
    lite = price_option(_workload(model_id=NOVA_LITE, realtime=False), "bedrock-flex", CATALOG)
    assert lite.reason == f"no Flex price in the catalogue for {NOVA_LITE} in us-east-1"


def test_a_deferrable_nova_pro_workload_goes_to_flex_ahead_of_batch() -> None:
    comparison = compare_serving_options(_workload(model_id=NOVA_PRO, realtime=False, batch_ok=True))
    assert [o.key for o in comparison.priced[:2]] == ["bedrock-flex", "bedrock-batch"]
    assert comparison.reason.startswith("Bedrock Flex tier is cheapest: every token at the Flex tier's rates")


@pytest.mark.parametrize(("tier", "model"), [("flex", NOVA_LITE), ("priority", LLAMA_8B)])
def test_asking_for_a_tier_the_model_does_not_offer_is_an_error(tier: str, model: str) -> None:
    with pytest.raises(ValueError) as raised:
        compare_serving_options(_workload(model_id=model, service_tier=tier))
    assert str(raised.value) == (
        f"Workload.service_tier={tier}: the catalogue has no {tier.capitalize()} price for {model} in us-east-1 "
        f"(models with one there: {NOVA_PRO})"
    )


def test_the_global_profile_is_suggested_where_it_is_cheaper() -> None:
    option = price_option(_workload(model_id=SONNET), "bedrock-global", CATALOG)
    on_demand = price_option(_workload(model_id=SONNET), "bedrock-on-demand", CATALOG)
    assert option.available and option.monthly_cost is not None and on_demand.monthly_cost is not None
    assert option.monthly_cost == on_demand.monthly_cost / Decimal("1.1")
    assert any("data-residency" in text for text in option.assumptions)
    assert not price_option(_workload(), "bedrock-global", CATALOG).available


def test_a_one_hour_cache_writes_at_the_one_hour_price() -> None:
    workload = _workload(model_id=HAIKU, cache_prefix_tokens=400, cache_hit_rate=0.5, cache_ttl="1h")
    estimate = price_option(workload, "bedrock-prompt-cache", CATALOG).estimate
    assert estimate is not None
    writes = next(line for line in estimate.lines if line.component.startswith("cache writes"))
    assert writes.price_source == f"AmazonBedrock/{HAIKU}/{REGION}/cache-write-1h"
    assert writes.monthly_cost == Decimal(1_000_000 * 400) / 2 / MILLION * _price(HAIKU, "cache-write-1h")


def test_a_one_hour_cache_on_a_model_without_that_price_is_an_error() -> None:
    with pytest.raises(
        ValueError, match=r"^Workload.cache_ttl=1h: the catalogue has no 1-hour cache-write price"
    ):
        compare_serving_options(
            _workload(model_id=NOVA_PRO, cache_prefix_tokens=100, cache_hit_rate=0.5, cache_ttl="1h")
        )


# -------------------------------------------------------------------------------------------- people
def test_people_are_a_line_of_their_own_on_every_self_hosted_option() -> None:
    comparison = compare_serving_options(_workload(precision="bf16"))
    for option in comparison.priced:
        assert option.estimate is not None
        ops = [line for line in option.estimate.lines if line.service_code == "Operations"]
        if option.key in SELF_HOSTED_KEYS:
            (line,) = ops
            assert line.monthly_cost == DEFAULT_OPS_HOURS_PER_MONTH * DEFAULT_OPS_HOURLY_USD == 2_000
            assert line.confidence == "low" and "an assumption with no source" in line.assumptions[0]
        else:
            assert not ops
    own = price_option(_workload(ops_hours_per_month=5, ops_hourly_usd=80), "spot-inf2", CATALOG)
    assert own.estimate is not None
    (line,) = [line for line in own.estimate.lines if line.service_code == "Operations"]
    assert (line.monthly_cost, line.confidence) == (400, "high")
    none = price_option(_workload(ops_hours_per_month=0), "spot-inf2", CATALOG)
    assert none.estimate is not None and all(
        line.service_code != "Operations" for line in none.estimate.lines
    )


# ------------------------------------------------------------------------------------------ GPU fleet
def test_the_gpu_spot_fleet_prices_one_on_demand_instance_and_the_rest_on_spot() -> None:
    workload = _workload(requests_per_month=60_000_000, precision="fp8", ops_hours_per_month=0)
    option = price_option(workload, "spot-gpu", CATALOG)
    assert option.estimate is not None and option.instances == 3
    on_demand, spot, volumes = option.estimate.lines
    hourly = CATALOG.price("AmazonEC2", "g6e.xlarge", REGION, "OnDemand").unit_price
    discount = CATALOG.spot_discount("g6e.xlarge", REGION).average
    assert on_demand.monthly_cost == hourly * 730
    assert spot.monthly_cost == hourly * 730 * 2 * (1 - discount) and spot.pricing_category == "Dynamic"
    assert volumes.monthly_quantity == 3 * 128
    assert option.estimate.baseline is not None


# -------------------------------------------------------------------------------- closed models, substitutes
def test_a_closed_model_has_no_self_hosted_option_without_a_substitute() -> None:
    comparison = compare_serving_options(_workload(model_id=SONNET))
    for key in SELF_HOSTED_KEYS:
        option = comparison.option(key)
        assert not option.available
        assert option.reason.startswith(
            f"closed weights: {SONNET} cannot be self-hosted; pass substitute_model"
        )
    assert comparison.substitutes == ()


def test_a_substitute_is_priced_apart_and_never_named_cheapest() -> None:
    comparison = compare_serving_options(
        _workload(
            model_id=SONNET, requests_per_month=3_000_000, substitute_model="meta-llama/Llama-3.1-8B-Instruct"
        )
    )
    assert comparison.substitutes
    assert all(option.different_model for option in comparison.substitutes)
    assert all(not option.different_model for option in comparison.priced)
    assert comparison.cheapest.key.startswith("bedrock-")
    cheapest_substitute = min(o.monthly_cost for o in comparison.substitutes)  # type: ignore[type-var]
    assert cheapest_substitute < comparison.cheapest.monthly_cost  # cheaper, but a different model
    assert any("quality not compared" in note for note in comparison.notes)


@pytest.mark.parametrize(
    "changes",
    [{"sagemaker_instance_type": "ml.g5.xlarge"}, {"inf2_tokens_per_second": 100}],
)
def test_forcing_self_hosting_of_a_closed_model_is_an_error(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError) as raised:
        compare_serving_options(_workload(model_id=SONNET, **changes))
    field = next(iter(changes))
    assert str(raised.value).startswith(
        f"Workload.{field} asks for self-hosting, but closed weights: {SONNET}"
    )


def test_an_open_model_the_catalogue_does_not_size_asks_for_a_substitute() -> None:
    option = price_option(_workload(model_id="mistral.mistral-large-2407-v1:0"), "spot-inf2", CATALOG)
    assert "no config figures for it: not sized for self-hosting" in option.reason


# -------------------------------------------------------------------------------------------- scenarios
def test_scenarios_price_low_expected_and_high_volume_and_say_whether_the_winner_holds() -> None:
    steady = compare_serving_options(_workload())
    assert [s.multiplier for s in steady.scenarios] == [Decimal("0.5"), 1, 2]
    assert steady.same_winner and "The same option wins at 0.5x, 1x, 2x the volume" in steady.reason
    middle = steady.scenarios[1]
    assert middle.costs[steady.cheapest.key] == steady.cheapest.monthly_cost
    changing = compare_serving_options(
        _workload(
            requests_per_month=20_000_000, input_tokens_per_request=1_000, precision="fp8", scenarios=(0.1, 1)
        )
    )
    assert not changing.same_winner
    assert [s.cheapest for s in changing.scenarios] == ["bedrock-on-demand", "ec2-reserved"]
    assert "The winner changes with the volume" in changing.reason
