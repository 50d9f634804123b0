"""Golden tests: the bundled catalogue against the raw price extracts it was built from.

The raw extracts live in the repository, in inferwise/cost/prices/sources/ (its README.md says what each one is and
where it came from). Every EC2, Bedrock and Spot record is checked, not a sample: a value that does not trace to a
source fails here. The records read from the regional extracts are checked region by region in
test_regional_prices.py.
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest

from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.records import PriceFile, PriceRecord

PRICES_DIR = Path(__file__).resolve().parents[2] / "inferwise" / "cost" / "prices"
RAW = PRICES_DIR / "sources"
MILLION = Decimal(1_000_000)
FAMILIES = {"inf2", "trn1", "g5", "g6", "g6e", "p4d", "p5", "c7g", "m7g", "c8g", "r7g", "c7i", "m7i"}
REGIONS = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "ca-central-1", "sa-east-1",
)  # fmt: skip
# Price List usage-type prefix per Region (AWS "Region billing codes"; EC2 bills us-east-1 without one).
USAGE_PREFIX = {
    "us-east-1": "", "us-east-2": "USE2-", "us-west-2": "USW2-", "eu-west-1": "EU-", "eu-west-2": "EUW2-",
    "eu-west-3": "EUW3-", "eu-central-1": "EUC1-", "eu-north-1": "EUN1-", "ap-northeast-1": "APN1-",
    "ap-northeast-2": "APN2-", "ap-southeast-1": "APS1-", "ap-southeast-2": "APS2-", "ap-south-1": "APS3-",
    "ca-central-1": "CAN1-", "sa-east-1": "SAE1-",
}  # fmt: skip


def raw_json(name: str) -> Any:
    path = RAW / name
    assert path.is_file(), f"raw price extract {path} is missing from the repository"
    return json.loads(path.read_text(encoding="utf-8"))


def num(value: float | int | str) -> Decimal:
    """A JSON number as the exact decimal it was written as."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


@pytest.fixture(scope="module")
def karpenter() -> dict[str, Any]:
    data: dict[str, Any] = raw_json("ec2_ondemand_us-east-1_karpenter_2026-07-20.json")["prices"]
    return data


@pytest.fixture(scope="module")
def tsaol() -> dict[str, Any]:
    data: dict[str, Any] = raw_json("ec2_vantage_derived_tsaol_aws-gpu_2026-01-21.json")["prices"]
    return data


@pytest.fixture(scope="module")
def skypilot() -> list[dict[str, str]]:
    path = RAW / "skypilot_catalog_v8_aws_slice.csv"
    assert path.is_file(), f"raw price extract {path} is missing"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@pytest.fixture(scope="module")
def litellm() -> dict[str, Any]:
    data: dict[str, Any] = raw_json("bedrock_litellm_1.109.1.json")["models"]
    return data


@pytest.fixture(scope="module")
def genai() -> dict[str, Any]:
    return {m["id"]: m for m in raw_json("bedrock_genai-prices_0.2.3_aws_provider.json")["models"]}


@pytest.fixture(scope="module")
def aws_samples() -> dict[tuple[str, str], Decimal]:
    rows = raw_json("bedrock_aws-samples_agent-skills_fallback_2026-03-03.json")["us-east-1"]
    return {(r["model"], r["inferenceType"]): num(r["price"]) for r in rows if r["unit"] == "1K tokens"}


@pytest.fixture(scope="module")
def supporting() -> dict[str, Any]:
    data: dict[str, Any] = raw_json("supporting_services_us-east-1.json")
    return data


def usd(catalog: PriceCatalog, service: str, sku: str, region: str, dimension: str) -> Decimal:
    return catalog.price(service, sku, region, dimension).unit_price


def spot_records() -> list[PriceRecord]:
    return list(PriceFile.read(PRICES_DIR / "spot.json").records)


# ------------------------------------------------------------------------------------------ provenance
def test_every_catalogue_record_has_a_known_source(catalog: PriceCatalog) -> None:
    sources = catalog.sources()
    records = [*catalog.records(), *spot_records()]
    assert len(records) > 500
    unknown = [r.key for r in records if r.source not in sources]
    assert unknown == []
    # and each record is dated by its source
    assert [r.key for r in records if r.as_of != sources[r.source].as_of] == []


def test_each_bundled_file_defines_the_sources_its_records_cite() -> None:
    for path in sorted(PRICES_DIR.glob("*.json")):
        price_file = PriceFile.read(path)
        assert price_file.records, path
        assert {r.source for r in price_file.records} == set(price_file.sources), path


def test_catalogue_is_as_old_as_its_stalest_source(catalog: PriceCatalog) -> None:
    oldest = min(s.as_of for s in catalog.sources().values())
    assert catalog.as_of == oldest == date(2024, 1, 1)  # the third-party EBS gp3 constant


def test_covers_the_fifteen_regions(catalog: PriceCatalog) -> None:
    assert set(catalog.regions()) == set(REGIONS)
    for region in REGIONS:
        assert catalog.records("AmazonEC2", region), region
        assert catalog.bedrock_models(region), region  # every Region has at least one Bedrock model priced


# ------------------------------------------------------------------------------------------------- EC2
def test_ec2_us_east_1_equals_the_karpenter_file(catalog: PriceCatalog, karpenter: dict[str, Any]) -> None:
    expected = {sku: num(v) for sku, v in karpenter.items() if sku.split(".")[0] in FAMILIES}
    actual = {
        r.sku: r.unit_price for r in catalog.records("AmazonEC2", "us-east-1") if r.dimension == "OnDemand"
    }
    assert actual == expected
    assert actual["inf2.xlarge"] == Decimal("0.7582")
    assert actual["p5.48xlarge"] == Decimal("55.04")
    assert actual["p4d.24xlarge"] == Decimal("21.957642")
    assert actual["g6e.12xlarge"] == Decimal("10.49264")
    assert actual["c8g.xlarge"] == Decimal("0.15952")


def test_ec2_records_are_linux_on_demand_hours_with_price_list_keys(catalog: PriceCatalog) -> None:
    for record in catalog.records("AmazonEC2"):
        if record.sku == "gp3" or record.dimension == RESERVED:
            continue  # EBS volumes, checked below and in test_regional_prices.py; Reserved Instances below
        assert (record.dimension, record.unit, record.operation) == ("OnDemand", "Hrs", "RunInstances")
        assert record.usage_type == f"{USAGE_PREFIX[record.region]}BoxUsage:{record.sku}"
        assert not record.is_tiered


RESERVED = "Reserved1yrStandardNoUpfront"


def test_ec2_reserved_instances_are_tsaols_one_year_no_upfront_rates(
    catalog: PriceCatalog, tsaol: dict[str, Any]
) -> None:
    """1-year Standard, no-upfront Reserved Instance rates (instances.vantage.sh `yrTerm1Standard.noUpfront`),
    wherever tsaol/aws-gpu gives one for a type and Region the catalogue prices On-Demand, and nowhere else."""
    reserved = [r for r in catalog.records("AmazonEC2") if r.dimension == RESERVED]
    expected = {
        (sku, region)
        for sku, regions in tsaol.items()
        for region, prices in regions.items()
        if prices and "reserved" in prices
    }
    assert {(r.sku, r.region) for r in reserved} == expected
    for record in reserved:
        assert record.unit_price == num(tsaol[record.sku][record.region]["reserved"]), record.key
        assert (record.unit, record.confidence, record.source) == (
            "Hrs",
            "medium",
            "tsaol-aws-gpu-2026-01-21-reserved",
        )
        on_demand = usd(catalog, "AmazonEC2", record.sku, record.region, "OnDemand")
        assert Decimal("0.6") < record.unit_price / on_demand < Decimal("0.67"), record.key  # 33-40 % off
    assert usd(catalog, "AmazonEC2", "g6e.xlarge", "us-east-1", RESERVED) == Decimal("1.17243")
    assert len(reserved) == 32


def test_ec2_other_regions_trace_to_tsaol_skypilot_or_the_aws_feed(
    catalog: PriceCatalog, tsaol: dict[str, Any], skypilot: list[dict[str, str]]
) -> None:
    """Outside us-east-1 an EC2 price is read from a source, never derived by scaling another size."""
    sky = {(r["InstanceType"], r["Region"]): Decimal(r["Price"]) for r in skypilot}
    checked = 0
    for region in REGIONS[1:]:
        for record in catalog.records("AmazonEC2", region):
            if record.dimension != "OnDemand":
                continue
            assert "Derived:" not in record.notes, record.key
            if record.source == "tsaol-aws-gpu-2026-01-21":
                assert record.unit_price == num(tsaol[record.sku][region]["onDemand"]), record.key
            elif record.source == "skypilot-catalog-v8":
                assert record.unit_price == sky[(record.sku, region)], record.key
            else:  # the AWS pricing-page feed, checked value by value in test_regional_prices.py
                assert record.source.startswith("lamngockhuong-aws-price-ec2-"), record.key
            checked += 1
    assert checked > 600


def test_ec2_sample_values(catalog: PriceCatalog) -> None:
    table = {
        ("inf2.xlarge", "eu-west-1"): "0.94775",
        ("inf2.48xlarge", "eu-west-1"): "16.22658",
        ("g5.xlarge", "eu-west-1"): "1.123",
        ("p4d.24xlarge", "eu-west-1"): "23.71569",
        ("trn1.2xlarge", "us-west-2"): "1.34375",
        ("c7g.xlarge", "eu-west-1"): "0.155",
        ("c7g.4xlarge", "eu-west-1"): "0.6202",  # read from the AWS feed; linear scaling of xlarge gave 0.62
        ("c7g.4xlarge", "ap-south-1"): "0.3926",
        ("inf2.xlarge", "eu-central-1"): "1.1373",
        ("g6e.xlarge", "ap-northeast-1"): "2.699",
        ("p5.48xlarge", "sa-east-1"): "92.4672",
        ("m7g.xlarge", "us-west-2"): "0.1632",
        ("m7g.2xlarge", "eu-west-1"): "0.3638",
    }
    for (sku, region), value in table.items():
        assert usd(catalog, "AmazonEC2", sku, region, "OnDemand") == Decimal(value), (sku, region)


@pytest.mark.parametrize(
    ("sku", "region"),
    [
        ("g6.xlarge", "eu-west-1"),
        ("g6e.xlarge", "eu-west-1"),
        ("trn1.2xlarge", "eu-west-1"),
        ("p5.48xlarge", "eu-west-1"),
        ("c8g.metal-24xl", "us-west-2"),  # only the feed's processed capture has it, with the 24xlarge price
        ("g6.xlarge", "ap-southeast-1"),
        ("inf2.xlarge", "ca-central-1"),
        ("r7g.xlarge", "eu-west-1"),
        ("c7i.xlarge", "us-west-2"),
        ("m7i.xlarge", "eu-west-1"),
        ("p4d.24xlarge", "eu-north-1"),
    ],
)
def test_ec2_prices_no_source_gives_are_unknown(catalog: PriceCatalog, sku: str, region: str) -> None:
    with pytest.raises(UnknownPriceError, match=f"Known regions for AmazonEC2 {re.escape(sku)}: .*us-east-1"):
        catalog.price("AmazonEC2", sku, region, "OnDemand")


def test_ebs_dynamodb_and_eventbridge_come_from_third_party_pages_at_medium_confidence(
    catalog: PriceCatalog,
) -> None:
    """In us-east-1 these come from third-party pages the catalogue cites (docs/prices.md); the AWS feed agrees."""
    gp3 = catalog.price("AmazonEC2", "gp3", "us-east-1", "Storage")
    assert (gp3.unit, gp3.unit_price, gp3.confidence) == ("GB-Mo", Decimal("0.08"), "medium")
    writes = catalog.price("AmazonDynamoDB", "on-demand", "us-east-1", "WriteRequestUnits")
    reads = catalog.price("AmazonDynamoDB", "on-demand", "us-east-1", "ReadRequestUnits")
    assert writes.unit_price * MILLION == Decimal("0.625")  # after the November 2024 cut
    assert reads.unit_price * MILLION == Decimal("0.125")
    assert catalog.price("AmazonEventBridge", "aws-service-events", "us-east-1", "Events").unit_price == 0
    # outside us-east-1 gp3 is read from the AWS EBS feed (checked Region by Region in test_regional_prices.py)
    eu_west_1 = catalog.price("AmazonEC2", "gp3", "eu-west-1", "Storage")
    assert (eu_west_1.unit_price, eu_west_1.source) == (Decimal("0.088"), "yeo-ec2-shop-ebs-2024-07-18")


# --------------------------------------------------------------------------------------------- Bedrock
LITELLM_NOTE = re.compile(r"litellm 1\.109\.1 key (\S+) \((\w+) x 1e6\)")
AWSS_NOTE = re.compile(r"aws-samples fallback 2026-03-03 '([^']+)' / '([^']+)' \(per 1K x 1000\)")


def test_every_litellm_bedrock_record_equals_litellm_per_token_times_a_million(
    catalog: PriceCatalog, litellm: dict[str, Any]
) -> None:
    checked = 0
    for record in catalog.records("AmazonBedrock"):
        assert record.unit == "1M tokens", record.key
        if record.source != "litellm-1.109.1":
            continue
        match = LITELLM_NOTE.search(record.notes)
        assert match, record.key
        key, field = match.groups()
        assert record.unit_price == num(litellm[key][field]) * MILLION, record.key
        # the litellm entry used is the global profile's exactly when the record is the global rate
        assert key.startswith("global.") == record.dimension.startswith("global:"), record.key
        checked += 1
    assert checked > 300


def test_aws_samples_bedrock_records_convert_per_1k_to_per_1m(
    catalog: PriceCatalog, aws_samples: dict[tuple[str, str], Decimal]
) -> None:
    records = catalog.records("AmazonBedrock")
    from_awss = [r for r in records if r.source == "aws-samples-bedrock-fallback-2026-03-03"]
    assert from_awss
    for record in from_awss:
        match = AWSS_NOTE.search(record.notes)
        assert match, record.key
        assert record.unit_price == aws_samples[(match.group(1), match.group(2))] * 1000, record.key
    # a worked example: Opus 4.5 global batch input is $0.0025 per 1K tokens = $2.5 per 1M
    opus = "anthropic.claude-opus-4-5-20251101-v1:0"
    assert usd(catalog, "AmazonBedrock", opus, "us-east-1", "global:batch-input") == Decimal("2.5")
    # the per-1K figure of the fallback table: Nova Micro input $0.000035 per 1K tokens
    assert usd(catalog, "AmazonBedrock", "amazon.nova-micro-v1:0", "us-east-1", "input") / 1000 == Decimal(
        "0.000035"
    )


@pytest.mark.parametrize(
    ("sku", "dimension", "genai_id", "field"),
    [
        ("amazon.nova-pro-v1:0", "input", "amazon.nova-pro-v1:0", "input_mtok"),
        ("amazon.nova-pro-v1:0", "cache-read", "amazon.nova-pro-v1:0", "cache_read_mtok"),
        ("meta.llama3-1-70b-instruct-v1:0", "output", "meta.llama3-1-70b-instruct-v1:0", "output_mtok"),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "input",
            "regional.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "input_mtok",
        ),
        (
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global:cache-write-1h",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "cache_write_1h_mtok",
        ),
        (
            "anthropic.claude-opus-4-5-20251101-v1:0",
            "output",
            "regional.anthropic.claude-opus-4-5-v1:0",
            "output_mtok",
        ),
        ("amazon.titan-embed-text-v2:0", "input", "amazon.titan-embed-text-v2:0", "input_mtok"),
    ],
)
def test_bedrock_us_east_1_agrees_with_genai_prices(
    catalog: PriceCatalog, genai: dict[str, Any], sku: str, dimension: str, genai_id: str, field: str
) -> None:
    assert usd(catalog, "AmazonBedrock", sku, "us-east-1", dimension) == Decimal(
        genai[genai_id]["prices"][field]
    )


def test_bedrock_covers_every_model_of_the_prices_md_table(catalog: PriceCatalog) -> None:
    table = [
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-sonnet-4-6",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-premier-v1:0",
        "meta.llama3-8b-instruct-v1:0",
        "meta.llama3-70b-instruct-v1:0",
        "meta.llama3-1-8b-instruct-v1:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.mistral-large-2402-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "mistral.mistral-small-2402-v1:0",
        "mistral.pixtral-large-2502-v1:0",
        "mistral.mistral-large-3-675b-instruct",
        "amazon.titan-embed-text-v1",
        "amazon.titan-embed-text-v2:0",
        "cohere.embed-english-v3",
        "cohere.embed-multilingual-v3",
        "cohere.embed-v4:0",
    ]
    models = catalog.bedrock_models("us-east-1")
    assert [m for m in table if m not in models] == []
    for model in table:
        catalog.price("AmazonBedrock", model, "us-east-1", "input")


def test_bedrock_global_and_regional_rates_follow_the_documented_rules(catalog: PriceCatalog) -> None:
    split = [
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "anthropic.claude-sonnet-4-6",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",
    ]
    compared = 0
    for model in split:
        prices = {
            r.dimension: r.unit_price for r in catalog.records("AmazonBedrock", "us-east-1") if r.sku == model
        }
        for dimension, price in prices.items():
            regional = prices.get(dimension.removeprefix("global:"))
            if dimension.startswith("global:") and regional is not None:
                assert regional == price * Decimal("1.1"), (model, dimension)
                compared += 1
        assert {"global:input", "input", "global:output", "output"} <= set(prices), model
    assert compared >= 4 * 5
    # single-price models have no global: records at all
    for model in ("anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0"):
        assert not [r for r in catalog.records("AmazonBedrock") if r.sku == model and ":" in r.dimension]


def test_claude_cache_prices_are_multiples_of_input(catalog: PriceCatalog) -> None:
    for record in catalog.records("AmazonBedrock"):
        if (
            not record.sku.startswith("anthropic.")
            or "input" in record.dimension
            or "output" in record.dimension
        ):
            continue
        scope = "global:" if record.dimension.startswith("global:") else ""
        kind, _, long_context = record.dimension.removeprefix(scope).partition("-above-")
        suffix = f"-above-{long_context}" if long_context else ""
        base = catalog.price("AmazonBedrock", record.sku, record.region, scope + "input" + suffix).unit_price
        factor = {"cache-write-5m": "1.25", "cache-write-1h": "2", "cache-read": "0.1"}[kind]
        assert record.unit_price == base * Decimal(factor), record.key


LONG_CONTEXT_MODELS = ("anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0")


def test_long_context_rates_equal_litellm_and_cover_every_region_of_the_base_rate(
    catalog: PriceCatalog, litellm: dict[str, Any]
) -> None:
    """Sonnet 4 / 4.5 bill every token of a request above 200,000 input tokens at a long-context rate: input and
    cache prices x 2, output x 1.5 (litellm's `_above_200k_tokens` fields), wherever the base rate is catalogued."""
    dimensions = ("input", "output", "cache-read", "cache-write-5m", "cache-write-1h")
    factor = {"input": 2, "output": Decimal("1.5"), "cache-read": 2, "cache-write-5m": 2, "cache-write-1h": 2}
    checked = 0
    for record in catalog.records("AmazonBedrock"):
        scope = "global:" if record.dimension.startswith("global:") else ""
        base = record.dimension.removeprefix(scope)
        if record.sku not in LONG_CONTEXT_MODELS or base not in dimensions:
            continue
        long = catalog.price("AmazonBedrock", record.sku, record.region, f"{scope}{base}-above-200k")
        assert long.unit_price == record.unit_price * factor[base], long.key
        match = LITELLM_NOTE.search(long.notes)
        assert match and match.group(2).endswith("_above_200k_tokens"), long.key
        assert long.unit_price == num(litellm[match.group(1)][match.group(2)]) * MILLION, long.key
        assert long.confidence in ("high", "medium") and long.region == record.region
        checked += 1
    assert checked == 178  # the 48 + 130 input, output and cache records of Sonnet 4 and 4.5
    # a 300,000-token Sonnet 4.5 request in us-east-1: $6.60 / $24.75 per 1M in-Region, $6 / $22.50 global
    sonnet = LONG_CONTEXT_MODELS[1]
    assert usd(catalog, "AmazonBedrock", sonnet, "us-east-1", "input-above-200k") == Decimal("6.6")
    assert usd(catalog, "AmazonBedrock", sonnet, "us-east-1", "output-above-200k") == Decimal("24.75")
    assert usd(catalog, "AmazonBedrock", sonnet, "us-east-1", "global:input-above-200k") == Decimal("6")
    assert usd(catalog, "AmazonBedrock", sonnet, "us-east-1", "global:batch-output-above-200k") == Decimal(
        "11.25"
    )
    # no other model has a long-context record (Sonnet 4.6 and Opus 4.6 are priced flat by genai-prices 0.2.3)
    assert {r.sku for r in catalog.records("AmazonBedrock") if "-above-" in r.dimension} == set(
        LONG_CONTEXT_MODELS
    )


def test_bedrock_regional_differences(catalog: PriceCatalog) -> None:
    def price(model: str, region: str, dimension: str) -> Decimal:
        return usd(catalog, "AmazonBedrock", model, region, dimension)

    assert price("meta.llama3-8b-instruct-v1:0", "eu-west-1", "input") == Decimal("0.32")
    assert price("meta.llama3-8b-instruct-v1:0", "eu-west-1", "output") == Decimal("0.65")
    assert price("meta.llama3-70b-instruct-v1:0", "eu-west-1", "input") == Decimal("2.86")
    assert price("meta.llama3-70b-instruct-v1:0", "eu-west-1", "output") == Decimal("3.78")
    # Nova is priced per Region (inferplane's Price List build); litellm's eu. value is the eu-central-1 price
    assert price("amazon.nova-pro-v1:0", "eu-west-1", "input") == Decimal("0.92")
    assert price("amazon.nova-pro-v1:0", "eu-central-1", "input") == Decimal("1.05")
    assert price("amazon.nova-micro-v1:0", "eu-west-1", "output") == Decimal("0.16")
    assert price("anthropic.claude-sonnet-4-5-20250929-v1:0", "eu-west-1", "input") == Decimal("3.3")
    assert price("meta.llama3-70b-instruct-v1:0", "sa-east-1", "output") == Decimal("5.88")
    assert price("amazon.nova-pro-v1:0", "ap-south-1", "input") == Decimal("0.94")
    # us-west-2 = us-east-1 is an observation, never extrapolated to models no source lists there
    for model in (
        "amazon.titan-embed-text-v2:0",
        "cohere.embed-english-v3",
        "mistral.mistral-large-2407-v1:0",
    ):
        assert model not in catalog.bedrock_models("us-west-2")
    # Llama 3 and Nova Premier in us-west-2 come from the one regional table that lists them, at low confidence
    for model in ("meta.llama3-8b-instruct-v1:0", "amazon.nova-premier-v1:0"):
        record = catalog.price("AmazonBedrock", model, "us-west-2", "input")
        assert (record.source, record.confidence) == ("aditya-poddar-bedrock-pricing-2026-02-06", "low")
        assert record.unit_price == catalog.price("AmazonBedrock", model, "us-east-1", "input").unit_price
    # no price in a Region no source lists
    for region in ("us-east-2", "eu-central-1", "ap-northeast-1"):
        for model in (
            "meta.llama3-8b-instruct-v1:0",
            "amazon.titan-embed-text-v2:0",
            "cohere.embed-english-v3",
        ):
            assert model not in catalog.bedrock_models(region), (model, region)


def test_deprecation_dates_are_carried_into_notes(catalog: PriceCatalog) -> None:
    expected = {
        ("anthropic.claude-sonnet-4-20250514-v1:0", "us-east-1"): "2026-10-14",
        ("anthropic.claude-opus-4-1-20250805-v1:0", "us-east-1"): "2027-01-08",
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1"): "2027-04-08",
        ("meta.llama3-1-70b-instruct-v1:0", "us-east-1"): "2027-03-30",
        ("mistral.mixtral-8x7b-instruct-v0:1", "us-west-2"): "2027-03-30",
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "eu-west-1"): "2026-10-15",
    }
    for (model, region), when in expected.items():
        notes = catalog.price("AmazonBedrock", model, region, "input").notes
        assert f"Deprecation date (litellm): {when}" in notes, (model, region)


def test_bedrock_records_name_their_price_list_service_code(catalog: PriceCatalog) -> None:
    for record in catalog.records("AmazonBedrock"):
        vendor = record.sku.split(".", 1)[0]
        code = "AmazonBedrockFoundationModels" if vendor in ("anthropic", "cohere") else "AmazonBedrock"
        assert f"Price List service code: {code}." in record.notes, record.key


def test_no_bedrock_model_without_a_batch_source_has_a_batch_record(
    catalog: PriceCatalog, litellm: dict[str, Any], aws_samples: dict[tuple[str, str], Decimal]
) -> None:
    batch = [r for r in catalog.records("AmazonBedrock") if "batch-" in r.dimension]
    assert batch
    for record in batch:
        if record.source == "litellm-1.109.1":
            match = LITELLM_NOTE.search(record.notes)
            assert match and match.group(2).endswith("_batches"), record.key
            assert match.group(2) in litellm[match.group(1)], record.key
        elif record.source == "aws-samples-bedrock-fallback-2026-03-03":
            match = AWSS_NOTE.search(record.notes)
            assert match and match.group(2).endswith("batch"), record.key
            assert (match.group(1), match.group(2)) in aws_samples
        elif record.source == "inferplane-model-comparision-2026-10-08":
            # the Price List build, checked row by row in test_regional_prices.py
            assert "/ 'batch' / " in record.notes, record.key
        else:  # aws-samples cost-estimator references (sources/README.md): "Sonnet 4 batch 1.5 / 7.5" and
            # Sonnet 4.5's global long-context batch rate "3 / 11.25"
            assert record.source == "aws-samples-cost-estimator-references-2026-03-03", record.key
            assert record.sku == "anthropic.claude-sonnet-4-20250514-v1:0" or (
                record.sku == "anthropic.claude-sonnet-4-5-20250929-v1:0"
                and record.dimension.startswith("global:batch-")
                and record.dimension.endswith("-above-200k")
            ), record.key
        # every batch price is half the on-demand price of the same scope
        on_demand = catalog.price(
            "AmazonBedrock", record.sku, record.region, record.dimension.replace("batch-", "")
        )
        assert record.unit_price * 2 == on_demand.unit_price, record.key
    # no source has a batch price for these (docs/prices.md, Bedrock details)
    for model in (
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "anthropic.claude-opus-4-5-20251101-v1:0",  # in-Region rate: only the global batch rate is sourced
        "amazon.titan-embed-text-v1",
        "amazon.titan-embed-text-v2:0",
        "cohere.embed-english-v3",
        "cohere.embed-v4:0",
        "meta.llama3-8b-instruct-v1:0",
        "meta.llama3-70b-instruct-v1:0",
        "mistral.mistral-7b-instruct-v0:2",
        "mistral.mixtral-8x7b-instruct-v0:1",
    ):
        assert not catalog.has_batch_price(model, "us-east-1"), model
    assert catalog.has_batch_price("global.anthropic.claude-opus-4-5-20251101-v1:0", "us-east-1")
    assert catalog.has_batch_price("amazon.nova-pro-v1:0", "us-east-1")
    # Claude 3.5 Haiku batch: only the Price List build has it (us-east-1 and us-west-2, 50 % of 0.8 / 4)
    assert catalog.has_batch_price("anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1")
    # Titan Text Embeddings V2: no source has a batch price, in any Region
    assert not [r for r in batch if r.sku.startswith("amazon.titan-embed")]


# ------------------------------------------------------------------------------------------- SageMaker
def test_sagemaker_hosting_uses_the_best_sourced_values(catalog: PriceCatalog) -> None:
    raw = raw_json("sagemaker_hosting_us-east-1_sources.json")["prices"]
    hosting = [r for r in catalog.records("AmazonSageMaker") if r.dimension == "Hosting"]
    assert len(hosting) >= 15
    for record in hosting:
        assert (record.region, record.unit, record.usage_type) == (
            "us-east-1",
            "Hrs",
            f"USE1-Host:{record.sku}",
        )
        assert record.confidence in ("low", "medium"), record.key
        if record.sku == "ml.g6.12xlarge":  # FMBench only, kept in the regional FMBench extract
            line = "21:     ml.g6.12xlarge: 5.752"
            assert (
                line in (RAW / "regional" / "fmbench_sagemaker.txt").read_text(encoding="utf-8").splitlines()
            )
            assert record.unit_price == Decimal("5.752")
            continue
        entry = raw[record.sku]
        figures = {num(entry[k]) for k in ("fmbench", "capture_2026_08_17") if k in entry}
        figures |= {num(v) for v in entry.get("thirdparty_misc", [])}
        assert record.unit_price in figures, record.key
        assert record.unit_price not in {num(v) for v in entry.get("conflicting_thirdparty", [])}
    assert usd(catalog, "AmazonSageMaker", "ml.g5.xlarge", "us-east-1", "Hosting") == Decimal("1.408")
    assert usd(catalog, "AmazonSageMaker", "ml.inf2.xlarge", "us-east-1", "Hosting") == Decimal("0.99")


def test_sagemaker_serverless_is_per_gb_second(catalog: PriceCatalog) -> None:
    raw = raw_json("sagemaker_hosting_us-east-1_sources.json")["serverless_inference"]
    record = catalog.price("AmazonSageMaker", "serverless-inference", "us-east-1", "Duration")
    assert record.unit == "GB-Seconds"
    assert record.unit_price == num(raw["derived_usd_per_GB_second"])
    assert record.unit_price * 3 == num(raw["on_demand_usd_per_second_3GB"])  # Mem-3GB per second


# ------------------------------------------------------------------------------- serverless, supporting
def test_lambda_prices_and_tiers(catalog: PriceCatalog, supporting: dict[str, Any]) -> None:
    raw = supporting["lambda"]
    for arch in ("x86_64", "arm64"):
        requests = catalog.price("AWSLambda", arch, "us-east-1", "Requests")
        assert (requests.unit, requests.free_quantity) == ("Requests", Decimal(1_000_000))
        assert requests.unit_price * 1_000_000 == num(raw["requests_per_1M"]["value"])
    x86 = catalog.price("AWSLambda", "x86_64", "us-east-1", "Duration")
    arm = catalog.price("AWSLambda", "arm64", "us-east-1", "Duration")
    assert x86.unit == arm.unit == "GB-Seconds"
    assert x86.free_quantity == arm.free_quantity == Decimal(400_000)
    assert [(t.begin, t.end, t.usd) for t in x86.tiers] == [
        (Decimal(0), Decimal(6_000_000_000), num(raw["x86_per_GB_second_tier1_first_6B_GBs"]["value"])),
        (
            Decimal(6_000_000_000),
            Decimal(15_000_000_000),
            num(raw["x86_per_GB_second_tier2_next_9B"]["value"]),
        ),
        (Decimal(15_000_000_000), None, num(raw["x86_per_GB_second_tier3_over_15B"]["value"])),
    ]
    assert [(t.begin, t.end, t.usd) for t in arm.tiers] == [
        (Decimal(0), Decimal(7_500_000_000), num(raw["arm64_per_GB_second_tier1_first_7.5B"]["value"])),
        (
            Decimal(7_500_000_000),
            Decimal(18_750_000_000),
            num(raw["arm64_per_GB_second_tier2_next_11.25B"]["value"]),
        ),
        (Decimal(18_750_000_000), None, num(raw["arm64_per_GB_second_tier3_over_18.75B"]["value"])),
    ]


def test_step_functions_prices_and_units(catalog: PriceCatalog, supporting: dict[str, Any]) -> None:
    raw = supporting["step_functions"]
    per_1k = num(raw["standard_per_1k_state_transitions"]["value"])
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        standard = catalog.price("AmazonStates", "standard", region, "StateTransitions")
        assert standard.unit_price * 1000 == per_1k
        assert standard.free_quantity == 4000
    express = catalog.price("AmazonStates", "express", "us-east-1", "Requests")
    assert express.unit_price * 1_000_000 == num(raw["express_per_1M_requests"]["value"])
    duration = catalog.price("AmazonStates", "express", "us-east-1", "Duration")
    assert duration.unit == "GB-Seconds"
    # GB-hour boundaries (1,000 and 5,000 GB-h) converted to GB-seconds
    assert [t.begin for t in duration.tiers] == [0, 1000 * 3600, 5000 * 3600]
    first, second, third = (t.usd for t in duration.tiers)
    assert first * 3600 == num(raw["express_duration_per_GB_hour_first_1k_GBh"]["value"])
    assert third * 3600 == num(raw["express_duration_per_GB_hour_over_5k_GBh"]["value"])
    # the source's 0.0299875/GB-h is derived from a total rounded to cents
    assert abs(second * 3600 - num(raw["express_duration_per_GB_hour_next_4k_GBh"]["value"])) < Decimal(
        "0.00001"
    )
    with pytest.raises(UnknownPriceError):  # only the Standard regional table covers other regions
        catalog.price("AmazonStates", "express", "eu-west-1", "Duration")


def test_storage_messaging_and_monitoring_prices(catalog: PriceCatalog, supporting: dict[str, Any]) -> None:
    def price(service: str, sku: str, dimension: str) -> Decimal:
        return usd(catalog, service, sku, "us-east-1", dimension)

    s3, cw, sns, sqs, kms = (
        supporting[k] for k in ("s3_standard", "cloudwatch", "sns_standard", "sqs", "kms")
    )
    assert price("AmazonS3", "standard", "Storage") == num(s3["storage_per_GB_month_first_50TB"]["value"])
    assert price("AmazonS3", "standard", "Tier1Requests") * 1000 == num(
        s3["put_copy_post_list_per_1k"]["value"]
    )
    assert price("AmazonS3", "standard", "Tier2Requests") * 1000 == num(
        s3["get_select_other_per_1k"]["value"]
    )
    assert price("AmazonCloudWatch", "standard", "StandardAlarm") == num(
        cw["standard_resolution_alarm_per_alarm_metric_month"]["value"]
    )
    assert price("AmazonCloudWatch", "standard", "HighResAlarm") == Decimal("0.3")
    assert price("AmazonCloudWatch", "standard", "CustomMetric") == Decimal("0.3")
    assert price("AmazonCloudWatch", "standard", "LogsIngestion") == num(
        cw["logs_ingestion_per_GB_standard"]["value"]
    )
    assert price("AmazonCloudWatch", "standard", "LogsStorage") == Decimal("0.03")
    assert price("AmazonSNS", "standard", "Requests") * 1_000_000 == num(
        sns["api_requests_per_1M_after_first_1M"]["value"]
    )
    assert price("AWSQueueService", "standard", "Requests") * 1_000_000 == num(
        sqs["standard_per_1M_requests"]["value"]
    )
    assert price("AWSQueueService", "fifo", "Requests") * 1_000_000 == num(
        sqs["fifo_per_1M_requests"]["value"]
    )
    assert price("awskms", "standard", "CustomerManagedKey") == num(
        kms["customer_managed_key_per_month"]["value"]
    )
    symmetric = catalog.price("awskms", "standard", "us-east-1", "SymmetricRequests")
    assert symmetric.unit_price * 10_000 == num(kms["symmetric_requests_per_10k"]["value"])
    assert symmetric.free_quantity == 20_000


def test_budgets_and_cost_anomaly_detection(catalog: PriceCatalog, supporting: dict[str, Any]) -> None:
    raw = supporting["budgets"]
    for region in REGIONS:  # global service: Price List location "Any"
        standard = catalog.price("AWSBudgets", "standard", region, "BudgetDays")
        assert (standard.unit, standard.unit_price) == (
            "Budget-days",
            num(raw["standard_budget_per_budget_day"]),
        )
        action = catalog.price("AWSBudgets", "standard", region, "ActionEnabledBudgetDays")
        assert action.unit == "Budget-days"
        assert [(t.begin, t.end, t.usd) for t in action.tiers] == [
            (Decimal(0), Decimal(62), Decimal(0)),
            (Decimal(62), None, num(raw["action_enabled_budget_per_budget_day_after_first_62_budget_days"])),
        ]
        monitor = catalog.price("AWSCostExplorer", "anomaly-detection", region, "Monitor")
        assert monitor.unit_price == 0
        assert "free" in monitor.notes


# ------------------------------------------------------------------------------------------------ Spot
def test_spot_is_never_a_list_price(catalog: PriceCatalog) -> None:
    assert "EC2Spot" not in catalog.services()
    assert not [r for r in catalog.records() if r.unit == "fraction"]
    with pytest.raises(UnknownPriceError):
        catalog.price("EC2Spot", "inf2", "us-east-1", "AverageDiscount")


def test_spot_discounts_recompute_from_the_skypilot_snapshot(
    catalog: PriceCatalog, skypilot: list[dict[str, str]]
) -> None:
    observed: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for row in skypilot:
        observed[(row["InstanceType"].split(".")[0], row["Region"])].append(
            1 - Decimal(row["SpotPrice"]) / Decimal(row["Price"])
        )
    rules = {
        "inf2": ("0.70", "0.85"),
        "g5": ("0.45", "0.60"),
        "g6": ("0.45", "0.60"),
        "g6e": ("0.45", "0.60"),
        "c7g": ("0.35", "0.60"),
        "m7g": ("0.35", "0.60"),
        "c8g": ("0.35", "0.60"),
        "r7g": ("0.35", "0.60"),
    }
    q = Decimal("0.001")
    discounts = catalog.spot_discounts()
    assert {d.family for d in discounts} == set(rules)
    for discount in discounts:
        # a discount only where the family has an on-demand price in that region
        assert catalog.records("AmazonEC2", discount.region), discount
        assert any(
            r.sku.startswith(discount.family + ".") for r in catalog.records("AmazonEC2", discount.region)
        )
        values = observed.get((discount.family, discount.region))
        if values:
            assert discount.average == (sum(values, Decimal(0)) / len(values)).quantize(q, ROUND_HALF_EVEN)
            assert discount.low == min(values).quantize(q, ROUND_HALF_EVEN)
            assert discount.high == max(values).quantize(q, ROUND_HALF_EVEN)
        else:
            low, high = (Decimal(v) for v in rules[discount.family])
            assert (discount.low, discount.high) == (low, high)
            assert discount.average == (low + high) / 2
        assert discount.low <= discount.average <= discount.high
        assert discount.source == "skypilot-catalog-v8"
    inf2 = catalog.spot_discount("inf2.xlarge", "us-east-1")
    assert (inf2.low, inf2.high) == (Decimal("0.710"), Decimal("0.848"))  # the snapshot's 71.0-84.8 %


@pytest.mark.parametrize("instance_type", ["p5.48xlarge", "p4d.24xlarge", "trn1.2xlarge", "c7i.xlarge"])
def test_spot_has_no_assumption_where_no_source_or_rule_covers_the_family(
    catalog: PriceCatalog, instance_type: str
) -> None:
    with pytest.raises(UnknownPriceError, match="Spot is not in the AWS Price List"):
        catalog.spot_discount(instance_type, "us-east-1")
