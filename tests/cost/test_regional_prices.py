"""Golden tests for the 15 Regions: every regional price against the raw extract it was read from.

The extracts are in inferwise/cost/prices/sources/regional/ (sources/README.md says what each one is). Each test is
parametrized by Region and service/dimension, so a value that drifts from its extract fails with its own id. The
catalogue-consistency tests check that every Region has what the constructs price, in the units, tiers and usage
types of the us-east-1 records.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.records import PriceRecord

PRICES_DIR = Path(__file__).resolve().parents[2] / "inferwise" / "cost" / "prices"
SOURCES = PRICES_DIR / "sources"
REGIONAL = SOURCES / "regional"

REGIONS = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "ca-central-1", "sa-east-1",
)  # fmt: skip
# Price List usage-type prefix (AWS "Region billing codes"); us-east-1 records carry none, as the Price List has it.
USAGE_PREFIX = {
    "us-east-1": "", "us-east-2": "USE2-", "us-west-2": "USW2-", "eu-west-1": "EU-", "eu-west-2": "EUW2-",
    "eu-west-3": "EUW3-", "eu-central-1": "EUC1-", "eu-north-1": "EUN1-", "ap-northeast-1": "APN1-",
    "ap-northeast-2": "APN2-", "ap-southeast-1": "APS1-", "ap-southeast-2": "APS2-", "ap-south-1": "APS3-",
    "ca-central-1": "CAN1-", "sa-east-1": "SAE1-",
}  # fmt: skip
# AWS location names, as the pricing-page feed keys its Regions.
LOCATION = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
    "eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-northeast-2": "Asia Pacific (Seoul)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)",
    "ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
}  # fmt: skip
# lamngockhuong/aws-price's EC2 transform names six Regions by lower-cased location (its lib/data/locations.json).
LAM_EC2_REGION = {
    "asia-pacific-(mumbai)": "ap-south-1", "asia-pacific-(seoul)": "ap-northeast-2",
    "canada-(central)": "ca-central-1", "eu-(paris)": "eu-west-3", "eu-(stockholm)": "eu-north-1",
    "south-america-(sao-paulo)": "sa-east-1",
}  # fmt: skip
QP = "quinnypig-aws-price-watcher"
LAM = "lamngockhuong-aws-price"

# (service, sku, dimension) -> (extract service name, feed key). LAM has no sqs/stepfunctions/eventbridge file.
FEED: dict[tuple[str, str, str], tuple[str, str]] = {
    ("AWSLambda", "x86_64", "Requests"): ("lambda", "Lambda Requests"),
    ("AWSLambda", "arm64", "Requests"): ("lambda", "Lambda Requests-ARM"),
    ("AWSLambda", "x86_64", "Duration"): ("lambda", "Lambda Duration"),
    ("AWSLambda", "arm64", "Duration"): ("lambda", "Lambda Duration-ARM"),
    ("AmazonS3", "standard", "Storage"): ("s3", "Standard Storage First 50 TB per GB Mo"),
    ("AmazonS3", "standard", "Tier1Requests"): ("s3", "PUT COPY/POST or LIST requests per Requests"),
    ("AmazonS3", "standard", "Tier2Requests"): ("s3", "GET and all other requests per Requests"),
    ("AmazonCloudWatch", "standard", "CustomMetric"): ("cloudwatch", "Metric for the first 10000"),
    ("AmazonCloudWatch", "standard", "StandardAlarm"): ("cloudwatch", "Alarm Standard"),
    ("AmazonCloudWatch", "standard", "LogsIngestion"): ("cloudwatch", "Logs Collected Data Ingestion"),
    ("AmazonCloudWatch", "standard", "LogsStorage"): ("cloudwatch", "Stored Data"),
    ("AmazonSNS", "standard", "Requests"): ("sns", "Amazon SNS API Requests"),
    ("AWSQueueService", "standard", "Requests"): ("sqs", "Standard per Requests"),
    ("awskms", "standard", "CustomerManagedKey"): ("kms", "Encryption Key"),
    ("awskms", "standard", "SymmetricRequests"): ("kms", "API request - Non Free Tier"),
    ("AmazonDynamoDB", "on-demand", "WriteRequestUnits"): ("dynamodb", "PayPerRequest Write Request Units"),
    ("AmazonDynamoDB", "on-demand", "ReadRequestUnits"): ("dynamodb", "PayPerRequest Read Request Units"),
    ("AmazonDynamoDB", "on-demand", "Storage"): ("dynamodb", "Data Storage Indexed GB-Mo"),
    ("AmazonStates", "standard", "StateTransitions"): ("stepfunctions", "AWS Step Functions"),
    ("AmazonEventBridge", "custom-events", "Events"): ("eventbridge", "CloudWatch Events Custom Event"),
    ("AmazonVPC", "public-ipv4", "InUseAddress"): (
        "public-ipv4", "Hourly charge for In use Public IPv4 Addresses per Hrs"
    ),
    ("AmazonVPC", "public-ipv4", "IdleAddress"): ("public-ipv4", "Hourly charge for Idle Public IPv4 Addresses per Hrs"),
}  # fmt: skip
EC2_FAMILIES = ("inf2", "g5", "g6", "g6e", "c7g", "m7g", "c8g", "p4d", "p5")
ADI_FILE = "aditya-poddar-bedrock-pricing_bedrock.txt"
ADI_SOURCE = "aditya-poddar-bedrock-pricing-2026-02-06"
ADI_REGIONS = {
    "US East 1 (N. Virginia)": "us-east-1", "US West 2 (Oregon)": "us-west-2", "Asia Pacific (Mumbai)": "ap-south-1",
    "Canada (Central)": "ca-central-1", "Europe (Frankfurt)": "eu-central-1", "Europe (London)": "eu-west-2",
    "Europe (Paris)": "eu-west-3", "South America (Sao Paolo)": "sa-east-1",  # sic
    "Asia Pacific (Sydney)": "ap-southeast-2", "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Asia Pacific (Singapore)": "ap-southeast-1",
}  # fmt: skip

# What the constructs price, per Region (BedrockBatchPipeline's supporting services, CostGuardrails), plus the
# regional dimensions this catalogue carries for every Region.
EVERY_REGION: tuple[tuple[str, str, str], ...] = (
    *FEED,
    ("AWSBudgets", "standard", "BudgetDays"),
    ("AWSBudgets", "standard", "ActionEnabledBudgetDays"),
    ("AWSBudgets", "standard", "ReportDeliveries"),
    ("AWSCostExplorer", "anomaly-detection", "Monitor"),
    ("AWSCostExplorer", "anomaly-detection", "Subscription"),
    ("AWSCostExplorer", "api", "Requests"),
)


@cache
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


def extract_json(name: str) -> Any:
    path = REGIONAL / name
    assert path.is_file(), f"regional price extract {path} is missing from the repository"
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def feed(stem: str) -> dict[tuple[str, str], Decimal]:
    """(region, feed key) -> price, from one service extract of the AWS pricing-page feed."""
    region_of = {location: region for region, location in LOCATION.items()}
    data = extract_json(f"{stem}.json")
    return {
        (region_of[location], key): Decimal(entry["price"])
        for location, entries in data["regions"].items()
        for key, entry in entries.items()
    }


def feed_prices(service_name: str) -> dict[str, dict[tuple[str, str], Decimal]]:
    """Both captures of the feed for a service: {"qp": ..., "lam": ...} (LAM only where the extract exists)."""
    out = {"qp": feed(f"{QP}_{service_name}")}
    if (REGIONAL / f"{LAM}_{service_name}.json").is_file():
        out["lam"] = feed(f"{LAM}_{service_name}")
    return out


@cache
def ec2_feed() -> dict[str, dict[tuple[str, str], Decimal]]:
    region_of = {location: region for region, location in LOCATION.items()}
    qp: dict[tuple[str, str], Decimal] = {}
    for key, per_location in extract_json(f"{QP}_ec2.json").items():
        instance_type = key.split("instancetype-", 1)[1]
        for location, price in per_location.items():
            qp[(instance_type, region_of[location])] = Decimal(price)
    lam: dict[tuple[str, str], Decimal] = {}
    for entry in extract_json(f"{LAM}_ec2.json"):
        assert entry["unit"] == "USD per hour"
        assert entry["attributes"]["operatingSystem"] == "Linux"
        region = LAM_EC2_REGION.get(entry["region"], entry["region"])
        lam[(entry["attributes"]["instanceType"], region)] = Decimal(entry["pricePerUnit"])
    return {"qp": qp, "lam": lam}


@cache
def adi() -> dict[tuple[str, str, str], tuple[Decimal, int]]:
    """(region, model, input|output) -> (USD per 1K tokens, line number) from the Aditya-Poddar extract.

    The extract keeps the file's lines with their numbers ("N: <line>"): a Region header is indented at most 18
    columns, a model name deeper, then its two "Cost per 1000 ... tokens" lines.
    """
    region = model = ""
    out: dict[tuple[str, str, str], tuple[Decimal, int]] = {}
    for line in (REGIONAL / ADI_FILE).read_text(encoding="utf-8").splitlines():
        number, text = line.split(":", 1)
        header = re.match(r"(\s*)\"([^\"]+)\":\s*\{", text)
        if header:
            if len(header.group(1)) <= 18:
                region = ADI_REGIONS[header.group(2)]
            else:
                model = header.group(2)
        cost = re.match(r"\s*\"Cost per 1000 (input|output) tokens\":\s*\"\$([\d.]+)\"", text)
        if cost:
            out[(region, model, cost.group(1))] = (Decimal(cost.group(2)), int(number))
    return out


def ids(value: object) -> str:
    return "-".join(value) if isinstance(value, tuple) else str(value)


def _us_east_1(record: PriceRecord) -> PriceRecord:
    return catalog().price(record.service, record.sku, "us-east-1", record.dimension)


# ------------------------------------------------------------------------------------- the AWS pricing feed
@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("key", list(FEED), ids=ids)
def test_every_region_prices_each_feed_dimension_at_the_extract_value(
    region: str, key: tuple[str, str, str]
) -> None:
    """The record equals the feed's value, whatever its source (elsewhere this is a cross-check)."""
    service, sku, dimension = key
    service_name, feed_key = FEED[key]
    captures = feed_prices(service_name)
    record = catalog().price(service, sku, region, dimension)
    assert record.unit_price == captures["qp"][(region, feed_key)], record.key
    if "lam" in captures:
        assert captures["lam"][(region, feed_key)] == captures["qp"][(region, feed_key)], record.key
    if record.source.startswith((QP, LAM)):
        # read from the feed: cite the newer capture, name the file, location and key, date by the manifest
        stem = f"{LAM}_{service_name}" if "lam" in captures else f"{QP}_{service_name}"
        assert record.source.startswith(stem.replace("_", "-") + "-"), record.key
        manifest = extract_json(f"{stem}.json")["manifest"]["hawkFilePublicationDate"]
        assert record.as_of.isoformat() == manifest[:10], record.key
        assert (
            f"sources/regional/{stem}.json: location '{LOCATION[region]}', key '{feed_key}'" in record.notes
        )
        assert record.confidence == ("high" if "lam" in captures else "medium"), record.key
        assert not record.is_tiered, record.key
    else:  # us-east-1's older records, and Step Functions in us-west-2 / eu-west-1 from the pricing page
        assert region in ("us-east-1", "us-west-2", "eu-west-1"), record.key


def test_the_two_captures_of_the_feed_agree_everywhere() -> None:
    compared = 0
    for service_name in {name for name, _ in FEED.values()}:
        captures = feed_prices(service_name)
        if "lam" not in captures:
            continue
        assert captures["lam"] == captures["qp"], service_name
        compared += len(captures["qp"])
    ec2 = ec2_feed()
    shared = set(ec2["lam"]) & set(ec2["qp"])
    assert [k for k in shared if ec2["lam"][k] != ec2["qp"][k]] == []
    assert compared + len(shared) > 900


# ----------------------------------------------------------------------------------------------------- EC2
@pytest.mark.parametrize("family", EC2_FAMILIES)
@pytest.mark.parametrize("region", REGIONS[1:])
def test_ec2_on_demand_equals_the_feed(region: str, family: str) -> None:
    """Every type of the family the feed sells in the Region is priced, at the feed's price; nothing else is."""
    ec2 = ec2_feed()
    expected = {
        t: price
        for capture in (ec2["qp"], ec2["lam"])  # LAM (newer) wins; the two agree where both have a type
        for (t, r), price in capture.items()
        if r == region and t.split(".")[0] == family and not t.startswith("c8g.metal")
    }
    actual = {
        r.sku: r
        for r in catalog().records("AmazonEC2", region)
        if r.dimension == "OnDemand" and r.sku.split(".")[0] == family
    }
    assert set(actual) == set(expected), (region, family)
    for instance_type, record in actual.items():
        assert record.unit_price == expected[instance_type], record.key
        assert record.usage_type == f"{USAGE_PREFIX[region]}BoxUsage:{instance_type}"
        in_lam, in_qp = (instance_type, region) in ec2["lam"], (instance_type, region) in ec2["qp"]
        if record.source.startswith("lamngockhuong-aws-price-ec2-"):
            assert in_lam, record.key
            assert "sources/regional/lamngockhuong-aws-price_ec2.json" in record.notes
            assert record.confidence == ("high" if in_qp else "medium"), record.key
        else:  # kept from tsaol/skypilot (newer), and raised to high: the feed agrees
            assert region in ("us-west-2", "eu-west-1"), record.key
            assert record.confidence == "high", record.key
            assert "The AWS pricing-page feed gives the same value" in record.notes


@pytest.mark.parametrize("family", EC2_FAMILIES)
def test_ec2_us_east_1_karpenter_agrees_with_the_feed(family: str) -> None:
    ec2 = ec2_feed()
    for record in catalog().records("AmazonEC2", "us-east-1"):
        if record.sku.split(".")[0] != family or record.dimension != "OnDemand":
            continue
        assert record.source == "karpenter-2026-07-20"
        fed = ec2["lam"].get((record.sku, "us-east-1"), ec2["qp"].get((record.sku, "us-east-1")))
        if record.sku == "c8g.metal-24xl":
            # the one disagreement: the feed's processed capture repeats its c8g.24xlarge price for the metal size
            assert (record.unit_price, fed) == (Decimal("4.21133"), Decimal("3.82848"))
            assert fed == ec2["qp"][("c8g.24xlarge", "us-east-1")]
        elif record.sku == "p5.4xlarge":
            assert fed is None  # only Karpenter has it
        else:
            assert record.unit_price == fed, record.key


def test_c8g_metal_is_only_priced_where_karpenter_gives_it() -> None:
    ec2 = ec2_feed()
    for (instance_type, region), price in ec2["qp"].items():
        if instance_type.startswith("c8g.metal-"):
            size = instance_type.rsplit("-", 1)[1].replace("xl", "xlarge")
            assert price == ec2["qp"][(f"c8g.{size}", region)]  # why the feed's metal figure is not used
            if region != "us-east-1":
                with pytest.raises(UnknownPriceError):
                    catalog().price("AmazonEC2", instance_type, region, "OnDemand")


# ------------------------------------------------------------------------------------------------- Bedrock
ADI_NOTE = re.compile(
    r"'Cost per 1000 (input|output) tokens' for '([^']+)' / '([^']+)' \(sources/regional/"
    + re.escape(ADI_FILE)
    + r" line (\d+)\): \$([\d.]+) per 1K tokens"
)
ADI_AGREES = re.compile(re.escape(ADI_FILE) + r" line (\d+)")


def _bedrock_regional() -> list[tuple[str, str, str]]:
    return [
        (r.region, r.sku, r.dimension)
        for r in catalog().records("AmazonBedrock")
        if r.source == ADI_SOURCE
        or ADI_FILE in r.notes
        or r.region not in ("us-east-1", "us-west-2", "eu-west-1")
    ]


@pytest.mark.parametrize("key", _bedrock_regional(), ids=ids)
def test_bedrock_regional_rows_equal_their_extracts(key: tuple[str, str, str]) -> None:
    region, sku, dimension = key
    record = catalog().price("AmazonBedrock", sku, region, dimension)
    by_line = {line: (k, value) for k, (value, line) in adi().items()}
    if record.source == ADI_SOURCE:
        match = ADI_NOTE.search(record.notes)
        assert match, record.key
        (adi_region, model, adi_dimension), value = by_line[int(match.group(4))]
        assert (adi_region, adi_dimension, model) == (region, dimension, match.group(3)), record.key
        assert ADI_REGIONS[match.group(2)] == region
        assert record.unit_price == value * 1000 == Decimal(match.group(5)) * 1000, record.key
        assert record.confidence == "low", record.key
        assert dimension in ("input", "output")
        return
    assert record.source == "litellm-1.109.1", record.key
    match = re.search(r"litellm 1\.109\.1 key (\S+) \((\w+) x 1e6\)", record.notes)
    assert match, record.key
    mirror = extract_json("litellm-via-rocry-llm-api-price_bedrock.json")
    if region not in ("us-east-1", "us-west-2", "eu-west-1"):  # the July 2026 mirror of litellm agrees
        assert match.group(1) in mirror or sku.startswith("mistral."), record.key  # the mirror has no Mistral
        if match.group(1) in mirror:
            assert Decimal(repr(mirror[match.group(1)][match.group(2)])) * 1_000_000 == record.unit_price
    agrees = ADI_AGREES.search(record.notes)
    if agrees:
        (adi_region, _, adi_dimension), value = by_line[int(agrees.group(1))]
        assert (adi_region, adi_dimension) == (region, dimension)
        if value * 1000 == record.unit_price:
            assert record.confidence == "high", record.key
        else:  # the one disagreement: Llama 3.1 70B in us-west-2, 0.99 in the table vs 0.72 in litellm
            assert (sku, region, value * 1000) == (
                "meta.llama3-1-70b-instruct-v1:0",
                "us-west-2",
                Decimal("0.99"),
            )
            assert record.unit_price == Decimal("0.72")
            assert "keeps litellm 1.109.1" in record.notes
    elif region not in ("us-west-2", "eu-west-1"):
        assert record.confidence == "medium", record.key  # litellm only (Mistral in eu-west-3)


def test_litellm_versions_disagree_only_where_the_catalogue_says_so() -> None:
    """The July 2026 mirror of litellm's table against the 1.109.1 (2026-11) figures the catalogue keeps."""
    mirror = extract_json("litellm-via-rocry-llm-api-price_bedrock.json")
    differs = set()
    for record in catalog().records("AmazonBedrock"):
        match = re.search(r"litellm 1\.109\.1 key (\S+) \((\w+) x 1e6\)", record.notes)
        if not match or match.group(2) not in mirror.get(match.group(1), {}):
            continue
        if Decimal(repr(mirror[match.group(1)][match.group(2)])) * 1_000_000 != record.unit_price:
            differs.add((record.sku, record.region))
    # Llama 3.1 70B was cut from 0.99 to 0.72 (genai-prices 0.2.3 agrees with 0.72); the eu. Opus 4.5 entry
    # moved from the global 5 / 25 to the in-Region 5.5 / 27.5 (genai-prices' regional rate)
    assert differs == {
        ("meta.llama3-1-70b-instruct-v1:0", "us-east-1"),
        ("meta.llama3-1-70b-instruct-v1:0", "us-west-2"),
        ("anthropic.claude-opus-4-5-20251101-v1:0", "eu-west-1"),
    }


def test_bedrock_two_rate_claude_models_are_not_priced_from_the_hand_kept_table() -> None:
    """Its us-east-1 Sonnet/Haiku/Opus 4.5+ figures are the global-profile rates, so its ap-south-1 ones are not
    taken as in-Region rates."""
    table = adi()
    for model, sku in (
        ("Claude Sonnet 4.5", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("Claude Haiku 4.5", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("Claude Opus 4.5", "anthropic.claude-opus-4-5-20251101-v1:0"),
    ):
        for dimension in ("input", "output"):
            global_rate = catalog().price("AmazonBedrock", sku, "us-east-1", f"global:{dimension}").unit_price
            assert table[("us-east-1", model, dimension)][0] * 1000 == global_rate
            assert table[("ap-south-1", model, dimension)][0] * 1000 == global_rate
            with pytest.raises(UnknownPriceError):
                catalog().price("AmazonBedrock", sku, "ap-south-1", dimension)


# -------------------------------------------------------------------------------- catalogue consistency
@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("key", EVERY_REGION, ids=ids)
def test_every_region_has_the_dimension_in_the_units_of_us_east_1(
    region: str, key: tuple[str, str, str]
) -> None:
    service, sku, dimension = key
    record = catalog().price(service, sku, region, dimension)
    reference = catalog().price(service, sku, "us-east-1", dimension)
    assert record.unit == reference.unit
    assert record.free_quantity == reference.free_quantity  # every free tier here is account-wide
    if service in ("AWSBudgets", "AWSCostExplorer"):  # global services: one usage type everywhere
        assert record.usage_type == reference.usage_type
    elif reference.usage_type:
        assert record.usage_type == USAGE_PREFIX[region] + reference.usage_type
    else:  # no source states one: none is invented
        assert record.usage_type == ""
    if region != "us-east-1" and not (service == "AWSLambda" and dimension == "Duration"):
        assert [(t.begin, t.end) for t in record.tiers] == [(t.begin, t.end) for t in reference.tiers]


@pytest.mark.parametrize("region", REGIONS)
def test_lambda_arm64_is_cheaper_than_x86_and_tiers_are_only_where_sourced(region: str) -> None:
    x86 = catalog().price("AWSLambda", "x86_64", region, "Duration")
    arm = catalog().price("AWSLambda", "arm64", region, "Duration")
    assert arm.unit_price < x86.unit_price
    assert arm.unit_price / x86.unit_price == pytest.approx(Decimal("0.8"), abs=Decimal("0.0001"))
    requests = {catalog().price("AWSLambda", a, region, "Requests").unit_price for a in ("x86_64", "arm64")}
    assert len(requests) == 1
    if region == "us-east-1":
        assert x86.is_tiered and arm.is_tiered
    else:  # the regional extracts give only the first-tier price: one open tier, said so in the notes
        assert not x86.is_tiered and not arm.is_tiered
        assert "First tier only" in x86.notes and "First tier only" in arm.notes


@pytest.mark.parametrize("region", REGIONS)
def test_regional_records_match_us_east_1_in_unit_and_service_code(region: str) -> None:
    for record in catalog().records(region=region):
        try:
            reference = _us_east_1(record)
        except UnknownPriceError:
            pytest.fail(f"{record.key} has no us-east-1 counterpart")
        assert record.unit == reference.unit, record.key
        if record.service == "AmazonBedrock":
            code = reference.notes.split("Price List service code: ", 1)[1].split(".", 1)[0]
            assert f"Price List service code: {code}." in record.notes, record.key


@pytest.mark.parametrize("region", REGIONS)
def test_regional_prices_are_positive_and_never_above_sa_east_1(region: str) -> None:
    """An observation of the feed that catches a price filed under the wrong Region: Sao Paulo is the dearest."""
    for service, sku, dimension in FEED:
        price = catalog().price(service, sku, region, dimension).unit_price
        assert 0 < price <= catalog().price(service, sku, "sa-east-1", dimension).unit_price, (sku, dimension)


# ---------------------------------------------------------------------------------------- self-contained
def test_every_extract_has_its_provenance_and_is_described_in_the_readme() -> None:
    readme = (SOURCES / "README.md").read_text(encoding="utf-8")
    extracts = [
        p for p in SOURCES.rglob("*") if p.is_file() and p.name != "README.md" and ".meta." not in p.name
    ]
    assert len(extracts) > 25
    for path in extracts:
        assert path.name in readme, path.name
        if path.parent == REGIONAL:
            meta = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
            assert {"repository", "commit", "path", "data_date", "url"} <= set(meta), path.name
            assert meta["commit"][:12] in readme, path.name


def test_feed_sources_name_their_repository_commit_path_and_extract() -> None:
    sources = catalog().sources()
    cited = {r.source for r in catalog().records()}
    for key in cited:
        if not key.startswith((QP, LAM, "aditya-poddar")):
            continue
        source = sources[key]
        stem = re.search(r"In-repo extract: sources/regional/(\S+)", source.title)
        assert stem, key
        path = REGIONAL / stem.group(1)
        assert path.is_file(), key
        meta = json.loads(path.with_name(path.name.split(".")[0] + ".meta.json").read_text(encoding="utf-8"))
        assert meta["repository"] in source.title and meta["commit"][:12] in source.title, key
        assert meta["path"] in source.title and source.url == meta["url"], key
        assert source.as_of.isoformat() == meta["data_date"][:10], key


def test_nothing_points_outside_the_repository() -> None:
    forbidden = re.compile(
        "|".join(re.escape(s) for s in ("PRICES" + ".md", "AWS-" + "FACTS", "shared" + "/"))
    )
    paths = [*PRICES_DIR.glob("*.json"), *SOURCES.rglob("*"), PRICES_DIR.parents[2] / "docs" / "prices.md"]
    for path in paths:
        if path.is_file():
            assert not forbidden.search(path.read_text(encoding="utf-8")), path


def test_the_region_coverage_table_in_the_docs_matches_the_catalogue() -> None:
    text = (PRICES_DIR.parents[2] / "docs" / "prices.md").read_text(encoding="utf-8")
    rows = {
        cells[0]: cells[1:]
        for line in text.splitlines()
        if line.startswith("| ") and len(cells := [c.strip() for c in line.strip("|").split("|")]) == 16
    }

    def count(n: int) -> str:
        return str(n) if n else "-"

    for family in ("inf2", "trn1", "g5", "g6", "g6e", "p4d", "p5", "c8g"):
        expected = [
            count(len([r for r in catalog().records("AmazonEC2", g) if r.sku.split(".")[0] == family]))
            for g in REGIONS
        ]
        assert rows[f"EC2 {family}" + (" (sizes)" if family == "inf2" else "")] == expected, family
    models = [count(len(catalog().bedrock_models(g))) for g in REGIONS]
    assert rows["Bedrock models, on-demand"] == models
    batch = [  # a batch price in any scope (in-Region or the global profile)
        count(len({r.sku for r in catalog().records("AmazonBedrock", g) if "batch-" in r.dimension}))
        for g in REGIONS
    ]
    assert rows["Bedrock models with a batch price"] == batch
    sagemaker = [count(len(catalog().records("AmazonSageMaker", g))) for g in REGIONS]
    assert rows["SageMaker hosting (instance types)"] == sagemaker
