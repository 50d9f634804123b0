"""The worked examples of docs/choosing.md, re-derived by hand: each figure from the catalogue's prices, the
sourced throughput rows and the formulas the page shows (docs tests check the printed output separately)."""

from __future__ import annotations

import dataclasses
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


def _reserved(instance_type: str, instances: int) -> Decimal:
    """Every instance on a 1-year, no-upfront Reserved Instance all month, 128 GiB gp3 each, the people."""
    rate = CATALOG.price("AmazonEC2", instance_type, R, "Reserved1yrStandardNoUpfront").unit_price
    return instances * HOURS * rate + instances * 128 * GP3 + PEOPLE


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


def test_2_llama_8b_at_fp8_breaks_even_at_18_billion_tokens_and_reserved_instances_win() -> None:
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
    reserved = _reserved("g6e.xlarge", 2)  # 2 x 730 x $1.17243 + $20.48 + $2,000
    assert _cents(reserved) == Decimal("3732.23") == _cents(_cost(c, "ec2-reserved"))
    assert c.cheapest.key == "ec2-reserved" and _cost(c, "bedrock-on-demand") == 5_280
    first, second = c.break_evens[:2]
    # the Reserved fleet stays cheaper than the Spot fleet up to its fourth instance: 3 x 9,535 tokens/s of peak
    assert (first.cheaper, first.other, first.kind, first.stepping) == (
        "ec2-reserved",
        "spot-gpu",
        "step",
        "ec2-reserved",
    )
    assert first.monthly_tokens is not None and 50.1e9 < first.monthly_tokens < 50.2e9
    assert _reserved("g6e.xlarge", 3) < _fleet("g6e.xlarge", 3, HOURS)
    assert _reserved("g6e.xlarge", 4) > _fleet("g6e.xlarge", 4, HOURS)
    assert second.monthly_tokens is not None and (second.cheaper, second.other) == (
        "spot-gpu",
        "bedrock-on-demand",
    )
    assert abs(second.monthly_tokens - fleet / Decimal("0.22") * M) < 1_000  # 18.2B tokens
    assert [s.cheapest for s in c.scenarios] == ["bedrock-on-demand", "ec2-reserved", "spot-gpu"]
    assert _cents(c.scenarios[2].costs["spot-gpu"]) == _cents(_fleet("g6e.xlarge", 6, HOURS))
    planned = compare_serving_options(dataclasses.replace(c.workload, savings_plan_discount=Decimal("0.3")))
    hosting = CATALOG.price("AmazonSageMaker", "ml.g6e.xlarge", R, "Hosting").unit_price
    assert (
        _cost(planned, "sagemaker-savings-plan")
        == 2 * HOURS * hosting * Decimal("0.7") + PEOPLE
        == Decimal("4667.42")
    )


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
    assert c.break_evens[0].monthly_tokens is None  # Bedrock and the Spot fleet never swap places
    assert _cents(_cost(c, "ec2-reserved")) == _cents(_reserved("inf2.24xlarge", 7)) == Decimal("22966.98")
    reserved = next(item for item in c.break_evens if item.other == "ec2-reserved")
    assert (
        reserved.monthly_tokens is not None and 635e6 < reserved.monthly_tokens < 637e6
    )  # one instance below it
    assert _reserved("inf2.24xlarge", 1) < _fleet("inf2.24xlarge", 1, HOURS)
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
    # SageMaker Asynchronous Inference: 14 x ml.inf2.xlarge work the backlog in 5.68 h a day, + 37 min a day
    rate = Decimal(3_400) / (Decimal(3_000) / 1_462 + Decimal(400) / 174)
    average = Decimal(6_800_000_000) / (6 * 3600 * HOURS / 24)
    assert math.ceil(average / rate) == 14 == c.option("sagemaker-async").instances
    per_day = Decimal(6_800_000_000) / (rate * 3600) / 14 / (HOURS / 24)
    assert round(per_day, 2) == Decimal("5.68")
    hours = c.option("sagemaker-async").billed_instance_hours
    assert hours is not None and abs(hours - (per_day + Decimal(37) / 60) * HOURS / 24 * 14) < Decimal(
        "0.001"
    )
    hosting = CATALOG.price("AmazonSageMaker", "ml.inf2.xlarge", R, "Hosting").unit_price
    storage = CATALOG.price("AmazonSageMaker", "gp2", R, "HostingStorage").unit_price
    by_hand = hours * (hosting + 30 * storage / HOURS) + Decimal("0.3") + PEOPLE
    assert _cents(by_hand) == Decimal("4668.65") == _cents(_cost(c, "sagemaker-async"))
    assert _cost(c, "sagemaker-async") < _cost(c, "scale-to-zero")


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
    spot_crossing = _fleet("g6e.xlarge", 4, HOURS) - PEOPLE + 9_600  # four instances from 57.2B tokens
    assert _cents(spot_crossing) == Decimal("12902.79")
    assert 58.6e9 < spot_crossing / Decimal("0.22") * M < 58.7e9
    crossing = c.break_evens[
        0
    ]  # Bedrock's neighbour in cost order is the Reserved fleet, four instances there
    assert (crossing.cheaper, crossing.other) == ("bedrock-on-demand", "ec2-reserved")
    reserved = _reserved("g6e.xlarge", 4) - PEOPLE + 9_600
    assert crossing.monthly_tokens is not None
    assert abs(crossing.monthly_tokens - reserved / Decimal("0.22") * M) < 1_000  # 59.4B tokens


def test_12_a_300k_token_sonnet_4_5_request_is_billed_at_long_context_rates() -> None:
    c = _compare(
        model_id=SONNET,
        requests_per_month=20_000,
        input_tokens_per_request=300_000,
        output_tokens_per_request=2_000,
    )
    long_input = CATALOG.bedrock(SONNET, R, "input-above-200k").unit_price
    long_output = CATALOG.bedrock(SONNET, R, "output-above-200k").unit_price
    assert (long_input, long_output) == (Decimal("6.6"), Decimal("24.75"))
    assert _cost(c, "bedrock-on-demand") == (6_000 * long_input + 40 * long_output) == 40_590
    base = (
        6_000 * CATALOG.bedrock(SONNET, R, "input").unit_price
        + 40 * CATALOG.bedrock(SONNET, R, "output").unit_price
    )
    assert base == 20_460  # the base rate: half the real figure
    assert _cost(c, "bedrock-global") == 6_000 * 6 + 40 * Decimal("22.5") == 36_900
    assert c.cheapest.key == "bedrock-global" and c.same_winner
    batch = _compare(**{**dict(model_id=SONNET, requests_per_month=20_000, input_tokens_per_request=300_000,
                               output_tokens_per_request=2_000), "realtime": False, "batch_ok": True})  # fmt: skip
    assert batch.option("bedrock-batch").reason.startswith("no long-context batch price in the catalogue")
    with pytest.raises(ValueError, match="200,000-token context window"):
        _compare(
            model_id=HAIKU,
            requests_per_month=20_000,
            input_tokens_per_request=300_000,
            output_tokens_per_request=2_000,
        )


def test_13_serverless_inference_with_your_measurement() -> None:
    c = _compare(
        model_id=LLAMA_8B,
        requests_per_month=20_000,
        input_tokens_per_request=500,
        output_tokens_per_request=150,
        active_hours_per_day=8,
        precision="int4",
        serverless_memory="serverless-5gb",
        serverless_tokens_per_second=40,
    )
    gb_second = CATALOG.price("AmazonSageMaker", "serverless-inference", R, "Duration").unit_price
    assert (
        _cost(c, "sagemaker-serverless")
        == 20_000 * Decimal(650) / 40 * 5 * gb_second + PEOPLE
        == Decimal("2032.5")
    )
    assert _cost(c, "bedrock-on-demand") == Decimal("2.86") and c.cheapest.key == "bedrock-on-demand"
    assert [o.key for o in c.priced] == ["bedrock-on-demand", "sagemaker-serverless"]
