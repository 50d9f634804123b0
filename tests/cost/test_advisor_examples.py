"""The worked examples of docs/choosing.md, re-derived by hand: each figure from the catalogue's prices, the
sourced throughput rows and the formulas the page shows (docs tests check the printed output separately)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from inferwise.cost.advisor import Comparison, Workload, compare_serving_options
from inferwise.cost.catalog import PriceCatalog

CATALOG = PriceCatalog.bundled()
R = "us-east-1"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0"
LLAMA_70B = "meta.llama3-1-70b-instruct-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
M = Decimal(1_000_000)
HOURS = Decimal(730)
GP3 = Decimal("0.08")
PEOPLE = Decimal(2_000)


def _compare(**fields: object) -> Comparison:
    return compare_serving_options(Workload(**fields))  # type: ignore[arg-type]


def _cost(comparison: Comparison, key: str) -> Decimal:
    cost = comparison.option(key).monthly_cost
    assert cost is not None, key
    return cost


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _ec2(instance_type: str) -> Decimal:
    return CATALOG.price("AmazonEC2", instance_type, R, "OnDemand").unit_price


def _spot_factor(instance_type: str) -> Decimal:
    return 1 - CATALOG.spot_discount(instance_type, R).average


def _fleet(instance_type: str, instances: int, hours: Decimal) -> Decimal:
    """One On-Demand, the rest Spot, 128 GiB gp3 each, the people."""
    compute = hours * _ec2(instance_type) * (1 + (instances - 1) * _spot_factor(instance_type))
    return compute + instances * 128 * GP3 * hours / HOURS + PEOPLE


def _instances(
    tokens_a_month: int, hours_a_day: int, peak: Decimal, seconds_per_request: Decimal, tokens: int
) -> int:
    peak_rate = Decimal(tokens_a_month) / (Decimal(hours_a_day) * 3600 * HOURS / 24) * peak
    return math.ceil(peak_rate / (tokens / seconds_per_request))


def test_1_llama_8b_help_desk_stays_on_bedrock() -> None:
    c = _compare(
        model_id=LLAMA_8B,
        requests_per_month=300_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=300,
        active_hours_per_day=9,
        peak_to_average=3,
    )
    assert _cost(c, "bedrock-on-demand") == Decimal("85.80")  # 390M x $0.22/1M
    seconds = Decimal(1_000) / 1_462 + Decimal(300) / 174  # inf2.48xlarge row / 12
    assert _instances(390_000_000, 9, Decimal(3), seconds, 1_300) == 3
    spot = c.option("spot-inf2")
    assert (spot.instance_type, spot.instances) == ("inf2.xlarge", 3)
    assert (
        _cents(_cost(c, "spot-inf2"))
        == _cents(_fleet("inf2.xlarge", 3, Decimal("273.75")))
        == Decimal("2314.55")
    )
    assert c.cheapest.key == "bedrock-on-demand" and c.same_winner
    assert c.option("spot-gpu").reason.startswith("throughput unknown")


def test_2_llama_8b_at_fp8_breaks_even_at_18_billion_tokens_on_g6e_spot() -> None:
    c = _compare(
        model_id=LLAMA_8B,
        requests_per_month=20_000_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=200,
        peak_to_average=Decimal("1.5"),
        precision="fp8",
        scenarios=(Decimal("0.25"), 1, 4),
    )
    seconds = Decimal(1_000) / 28_187 + Decimal(200) / 2_213
    assert _instances(24_000_000_000, 24, Decimal("1.5"), seconds, 1_200) == 2
    fleet = _fleet("g6e.xlarge", 2, HOURS)
    assert _cents(fleet) == Decimal("4013.44") == _cents(_cost(c, "spot-gpu"))
    assert c.cheapest.key == "spot-gpu" and _cost(c, "bedrock-on-demand") == 5_280
    first = c.break_evens[0]
    assert first.monthly_tokens is not None
    assert abs(first.monthly_tokens - fleet / Decimal("0.22") * M) < 1_000  # 18.2B tokens
    assert [s.cheapest for s in c.scenarios] == ["bedrock-on-demand", "spot-gpu", "spot-gpu"]
    assert _cents(c.scenarios[2].costs["spot-gpu"]) == _cents(_fleet("g6e.xlarge", 6, HOURS))


def test_3_llama_70b_needs_six_inferentia2_chips_and_never_beats_bedrock() -> None:
    c = _compare(
        model_id=LLAMA_70B,
        requests_per_month=3_000_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=300,
        scenarios=(Decimal("0.1"), 1, 10),
    )
    seconds = Decimal(1_000) / 482 + Decimal(300) / 91
    assert _instances(3_900_000_000, 24, Decimal(1), seconds, 1_300) == 7
    assert _cents(_cost(c, "spot-inf2")) == _cents(_fleet("inf2.24xlarge", 7, HOURS)) == Decimal("13348.50")
    assert _cost(c, "bedrock-on-demand") == 2_808
    spot_per_million = _ec2("inf2.24xlarge") * _spot_factor("inf2.24xlarge") / (1_300 / seconds * 3600) * M
    assert spot_per_million > Decimal("0.72")  # $1.71: the fleet never catches up
    assert all(item.monthly_tokens is None for item in c.break_evens)
    assert c.same_winner and c.cheapest.key == "bedrock-on-demand"


def test_4_llama_70b_at_fp8_fits_g6e_12xlarge_and_still_loses() -> None:
    c = _compare(
        model_id=LLAMA_70B,
        requests_per_month=3_000_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=300,
        precision="fp8",
    )
    gpu = c.option("spot-gpu")
    assert (gpu.instance_type, gpu.instances) == ("g6e.12xlarge", 2)
    assert _cents(_cost(c, "spot-gpu")) == _cents(_fleet("g6e.12xlarge", 2, HOURS)) == Decimal("13257.15")
    endpoint = c.option("sagemaker-always-on")
    assert endpoint.instance_type == "ml.p5.48xlarge"
    hosting = CATALOG.price("AmazonSageMaker", "ml.p5.48xlarge", R, "Hosting").unit_price
    assert _cost(c, "sagemaker-always-on") == hosting * HOURS + PEOPLE
    assert c.cheapest.key == "bedrock-on-demand"


@pytest.mark.parametrize("substitute", [None, "meta-llama/Llama-3.1-70B-Instruct"])
def test_5_and_6_claude_sonnet_has_no_self_hosted_winner(substitute: str | None) -> None:
    c = _compare(
        model_id=SONNET,
        requests_per_month=500_000,
        input_tokens_per_request=2_000,
        output_tokens_per_request=400,
        substitute_model=substitute,
    )
    assert _cost(c, "bedrock-on-demand") == 6_600  # 500k x (2,000 x $3.30 + 400 x $16.50) / 1M
    assert _cost(c, "bedrock-global") == 6_000  # 500k x (2,000 x $3 + 400 x $15) / 1M
    assert c.cheapest.key == "bedrock-global"
    assert all(option.key.startswith("bedrock-") for option in c.priced)
    if substitute is None:
        assert c.substitutes == ()
    else:
        spot = c.option("spot-inf2")
        assert spot.different_model and spot.instances == 2
        assert (
            _cents(_cost(c, "spot-inf2")) == _cents(_fleet("inf2.24xlarge", 2, HOURS)) == Decimal("7848.42")
        )


def test_7_nova_pro_deferrable_work_goes_to_flex() -> None:
    c = _compare(
        model_id=NOVA_PRO,
        requests_per_month=200_000,
        input_tokens_per_request=2_000,
        output_tokens_per_request=500,
        realtime=False,
        batch_ok=True,
    )
    assert _cost(c, "bedrock-flex") == 320  # 200k x (2,000 x $0.40 + 500 x $1.60) / 1M
    assert _cost(c, "bedrock-priority") == 1_120
    assert _cost(c, "bedrock-batch") > 320
    assert [o.key for o in c.priced] == [
        "bedrock-flex",
        "bedrock-batch",
        "bedrock-on-demand",
        "bedrock-priority",
    ]


def test_8_haiku_with_a_one_hour_cache() -> None:
    c = _compare(
        model_id=HAIKU,
        requests_per_month=200_000,
        input_tokens_per_request=6_000,
        output_tokens_per_request=350,
        active_hours_per_day=12,
        peak_to_average=3,
        cache_prefix_tokens=4_500,
        cache_hit_rate=Decimal("0.95"),
        cache_ttl="1h",
    )
    by_hand = (
        Decimal(1_500 * 200_000) * Decimal("1.10")
        + Decimal(350 * 200_000) * Decimal("5.50")
        + Decimal(4_500 * 200_000) * Decimal("0.95") * Decimal("0.11")
        + Decimal(4_500 * 200_000) * Decimal("0.05") * Decimal("2.20")
    ) / M
    assert by_hand == Decimal("908.05") == _cost(c, "bedrock-prompt-cache")
    assert _cost(c, "bedrock-on-demand") == 1_705 and c.cheapest.key == "bedrock-prompt-cache"


def test_9_routing_to_nova_micro_is_4_8_times_cheaper() -> None:
    c = _compare(
        model_id=SONNET,
        requests_per_month=500_000,
        input_tokens_per_request=2_000,
        output_tokens_per_request=400,
        small_model_id="amazon.nova-micro-v1:0",
        routed_share=Decimal("0.8"),
    )
    assert _cost(c, "bedrock-routed") == Decimal(63) + Decimal("0.2") * 6_600 == 1_383
    assert round(Decimal(6_600) / 1_383, 1) == Decimal("4.8")


def test_10_nightly_batch_is_half_price_plus_orchestration() -> None:
    c = _compare(
        model_id=LLAMA_8B,
        requests_per_month=2_000_000,
        input_tokens_per_request=3_000,
        output_tokens_per_request=400,
        active_hours_per_day=6,
        realtime=False,
        batch_ok=True,
    )
    assert _cost(c, "bedrock-on-demand") == 1_496
    batch = _cost(c, "bedrock-batch")
    assert 748 < batch < 748 + 5 and c.cheapest.key == "bedrock-batch"


def test_11_people_cost_moves_the_break_even() -> None:
    c = _compare(
        model_id=LLAMA_8B,
        requests_per_month=20_000_000,
        input_tokens_per_request=1_000,
        output_tokens_per_request=200,
        peak_to_average=Decimal("1.5"),
        precision="fp8",
        scenarios=(Decimal("0.25"), 1, 4),
        ops_hours_per_month=80,
        ops_hourly_usd=120,
    )
    assert c.cheapest.key == "bedrock-on-demand"
    fleet = _cost(c, "spot-gpu")
    assert fleet == _fleet("g6e.xlarge", 2, HOURS) - PEOPLE + 9_600
    crossing = next(item for item in c.break_evens if item.other == "spot-gpu")
    assert crossing.monthly_tokens is not None and 58e9 < crossing.monthly_tokens < 59e9
