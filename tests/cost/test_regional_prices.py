"""Golden tests for the 15 Regions: every regional price against the raw extract it was read from.

The extracts are in inferwise/cost/prices/sources/regional/ (sources/README.md says what each one is). Each test is
parametrized by Region and service/dimension, so a value that drifts from its extract fails with its own id. The
catalogue-consistency tests check that every Region has what the constructs price, in the units, tiers and usage
types of the us-east-1 records.
"""

from __future__ import annotations

import csv
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
    ("AmazonEC2", "gp3", "Storage"),
    ("AmazonEC2", "gp3", "ProvisionedIOPS"),
    ("AmazonEC2", "gp3", "ProvisionedThroughput"),
)
EBS_FILE = "yeo-ec2.shop_ebs.json"
EBS_SOURCE = "yeo-ec2-shop-ebs-2024-07-18"
# gp3 dimension -> (feed key, unit, feed units per catalogue unit): the feed prices throughput per GiBps-month.
GP3: dict[str, tuple[str, str, int]] = {
    "Storage": ("Storage General Purpose gp3 GB Mo", "GB-Mo", 1),
    "ProvisionedIOPS": ("Provisioned EBS IOPS gp3 Volumes per IOPS Mo", "IOPS-Mo", 1),
    "ProvisionedThroughput": ("Provisioned Throughput gp3 per GiBps mo", "MiBps-Mo", 1024),
}
# Spot rules of thumb per family class (docs/prices.md, Spot): used where the snapshot has no observation.
SPOT_RULES = {
    "g5": ("0.45", "0.60"), "g6": ("0.45", "0.60"), "g6e": ("0.45", "0.60"),
    "c7g": ("0.35", "0.60"), "m7g": ("0.35", "0.60"), "c8g": ("0.35", "0.60"), "r7g": ("0.35", "0.60"),
}  # fmt: skip


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


# ------------------------------------------------------------------------------------------------- EBS gp3
@cache
def ebs_feed() -> dict[tuple[str, str], Decimal]:
    region_of = {location: region for region, location in LOCATION.items()}
    data = extract_json(EBS_FILE)
    return {
        (region_of[location], key): Decimal(entry["price"])
        for location, entries in data["regions"].items()
        for key, entry in entries.items()
    }


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("dimension", list(GP3))
def test_gp3_equals_the_ebs_feed(region: str, dimension: str) -> None:
    key, unit, per = GP3[dimension]
    record = catalog().price("AmazonEC2", "gp3", region, dimension)
    assert record.unit == unit
    assert record.unit_price * per == ebs_feed()[(region, key)], record.key
    assert f"location '{LOCATION[region]}', key '{key}' (sources/regional/{EBS_FILE})" in record.notes
    assert not record.is_tiered and record.free_quantity is None
    if (region, dimension) == ("us-east-1", "Storage"):  # keeps its third-party source; the feed agrees
        assert (record.source, record.confidence) == ("third-party-ebs-constants-2024", "medium")
        return
    manifest = extract_json(EBS_FILE)["manifest"]["hawkFilePublicationDate"]
    assert (record.source, record.as_of.isoformat(), record.confidence) == (
        EBS_SOURCE,
        manifest[:10],
        "medium",
    )
    assert record.usage_type == (
        USAGE_PREFIX[region] + "EBS:VolumeUsage.gp3" if dimension == "Storage" else ""
    )


@pytest.mark.parametrize("region", REGIONS)
def test_gp3_throughput_is_stored_per_mibps_below_the_feeds_per_gibps_price(region: str) -> None:
    record = catalog().price("AmazonEC2", "gp3", region, "ProvisionedThroughput")
    per_gibps = ebs_feed()[(region, GP3["ProvisionedThroughput"][0])]
    assert record.unit_price < per_gibps
    assert record.unit_price == per_gibps / 1024  # a unit conversion, exact in every Region
    assert (
        f"{format(per_gibps.normalize(), 'f')} / 1024" in record.notes and "unit conversion" in record.notes
    )
    iops = catalog().price("AmazonEC2", "gp3", region, "ProvisionedIOPS")
    assert "above the 3,000" in iops.notes and "above the 125 MiB/s" in record.notes


# ---------------------------------------------------------------------------------------------------- Spot
@cache
def spot_observed() -> set[tuple[str, str]]:
    lines = (SOURCES / "skypilot_catalog_v8_aws_slice.csv").read_text(encoding="utf-8").splitlines()
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return {(row["InstanceType"].split(".")[0], row["Region"]) for row in rows}


@pytest.mark.parametrize("region", REGIONS)
def test_spot_assumptions_wherever_a_family_rule_covers_a_priced_family(region: str) -> None:
    sold = {r.sku.split(".")[0] for r in catalog().records("AmazonEC2", region) if r.dimension == "OnDemand"}
    for family in (*SPOT_RULES, "inf2"):
        if family not in sold or (family == "inf2" and (family, region) not in spot_observed()):
            with pytest.raises(UnknownPriceError):  # inf2 has no rule of thumb: only observed Regions
                catalog().spot_discount(f"{family}.xlarge", region)
            continue
        discount = catalog().spot_discount(f"{family}.xlarge", region)
        if (family, region) in spot_observed():
            assert region in ("us-east-1", "us-west-2", "eu-west-1"), (family, region)
            continue
        low, high = (Decimal(v) for v in SPOT_RULES[family])
        assert (discount.low, discount.average, discount.high) == (low, (low + high) / 2, high), (
            family,
            region,
        )
        assert f"no Spot observation for {family} in {region}; midpoint of the" in discount.notes
        assert discount.source == "skypilot-catalog-v8"


# ------------------------------------------------------------------------------------------------- Bedrock
ADI_NOTE = re.compile(
    r"'Cost per 1000 (input|output) tokens' for '([^']+)' / '([^']+)' \(sources/regional/"
    + re.escape(ADI_FILE)
    + r" line (\d+)\): \$([\d.]+) per 1K tokens"
)
ADI_AGREES = re.compile(re.escape(ADI_FILE) + r" line (\d+)")
LITELLM_NOTE = re.compile(r"litellm 1\.109\.1 key (\S+) \((\w+) x 1e6\)")
IP_FILE = "inferplane-model-comparision_bedrock.json"
IP_SOURCE = "inferplane-model-comparision-2026-10-08"
IP_NOTE = re.compile(
    r"inferplane/model-comparision '([^']+)' / '([^']+)' / '([^']+)' / '([^']+)' / '([^']+)' "
    r"\(sources/regional/" + re.escape(IP_FILE) + r"\)"
)
NOVA = ("amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0")
HAIKU_35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
HAIKU_45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET_46 = "anthropic.claude-sonnet-4-6"
OPUS_46 = "anthropic.claude-opus-4-6-v1"
IP_MODELS = {
    "nova-micro": NOVA[0], "nova-lite": NOVA[1], "nova-pro": NOVA[2], "claude-3.5-haiku": HAIKU_35,
    "claude-haiku-4.5": HAIKU_45, "claude-sonnet-4": SONNET_4, "claude-sonnet-4.5": SONNET_45,
}  # fmt: skip
# (inferplane tier, kind) -> catalogue dimension; the 'global' scope adds the "global:" prefix.
IP_DIMENSIONS = {
    ("standard", "input"): "input", ("standard", "output"): "output", ("standard", "cacheRead"): "cache-read",
    ("standard", "cacheWrite"): "cache-write-5m", ("standard", "cacheWrite1h"): "cache-write-1h",
    ("batch", "input"): "batch-input", ("batch", "output"): "batch-output",
    ("flex", "input"): "flex-input", ("flex", "output"): "flex-output", ("flex", "cacheRead"): "flex-cache-read",
    ("priority", "input"): "priority-input", ("priority", "output"): "priority-output",
    ("priority", "cacheRead"): "priority-cache-read",
}  # fmt: skip
TIER_FACTOR = {"batch": Decimal("0.5"), "flex": Decimal("0.5"), "priority": Decimal("1.75")}
CARD = "https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-{}.html"
_EU = ("eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1")
_US_CA = ("us-east-1", "us-east-2", "us-west-2", "ca-central-1")
# The source Regions (of the 15) of each cross-Region profile, as the AWS Bedrock model cards list them ("Geo
# inference details", "Global inference details"). AWS bills a cross-Region call at the source Region's price.
GEO_SOURCE_REGIONS: dict[str, dict[str, tuple[str, ...]]] = {
    SONNET_45: {
        "us": _US_CA,
        "eu": _EU,
        "jp": ("ap-northeast-1",),
        "au": ("ap-southeast-2",),
        "global": REGIONS,
    },
    HAIKU_45: {
        "us": _US_CA,
        "eu": _EU,
        "jp": ("ap-northeast-1",),
        "au": ("ap-southeast-2",),
        "global": REGIONS,
    },
    SONNET_4: {
        "us": ("us-east-1", "us-east-2", "us-west-2"),
        "eu": ("eu-west-1", "eu-west-3", "eu-central-1", "eu-north-1"),
        "apac": ("ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1"),
    },
    SONNET_46: {
        "us": _US_CA,
        "eu": _EU,
        "jp": ("ap-northeast-1",),
        "au": ("ap-southeast-2",),
        "global": REGIONS,
    },
    OPUS_46: {"us": _US_CA, "eu": _EU, "au": ("ap-southeast-2",), "global": REGIONS},
}
CARD_SLUG = {SONNET_45: "sonnet-4-5", HAIKU_45: "haiku-4-5", SONNET_4: "sonnet-4", SONNET_46: "sonnet-4-6",
             OPUS_46: "opus-4-6"}  # fmt: skip
# The one geo entry applied where the model card read lists no geo profile: the Price List sells an in-Region /
# geo SKU there at the same price (inferplane); medium confidence.
GEO_EXCEPTIONS = {(HAIKU_45, "ap-south-1"): "apac"}
# The first pass mapped litellm's us. and eu. entries to us-west-2 and eu-west-1 for every model litellm lists there.
FIRST_PASS = {"us-west-2": "us", "eu-west-1": "eu"}


@cache
def inferplane() -> dict[str, Any]:
    data: dict[str, Any] = extract_json(IP_FILE)
    return data


def inferplane_rows() -> list[tuple[str, str, str, str, str, Decimal]]:
    """(model, region, scope, tier, kind, USD per 1M tokens) for every row of the extract."""
    return [
        (
            model,
            region,
            scope,
            tier,
            kind,
            Decimal(repr(value)) if isinstance(value, float) else Decimal(value),
        )
        for model, regions in inferplane().items()
        if not model.startswith("_")
        for region, scopes in regions.items()
        for scope, tiers in scopes.items()
        for tier, kinds in tiers.items()
        for kind, value in kinds.items()
    ]


def inferplane_skip(model: str, scope: str, tier: str, kind: str, value: Decimal) -> str:
    """Why a row of the extract is not a catalogue price ("" if it is one); sources/README.md lists these rules."""
    if value == 0:
        return "zero (Nova has no cache-write charge; nothing is priced at zero)"
    if model == "claude-3.5-haiku" and tier == "standard":
        return "merged row: the standard and latency-optimized SKUs mixed"
    if model == "claude-sonnet-4" and scope == "global":
        return "one-price model: the global rate equals the in-Region one, which the plain dimension carries"
    return ""


def _bedrock_regional() -> list[tuple[str, str, str]]:
    return [
        (r.region, r.sku, r.dimension)
        for r in catalog().records("AmazonBedrock")
        if r.source in (ADI_SOURCE, IP_SOURCE)
        or ADI_FILE in r.notes
        or IP_FILE in r.notes
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
    # every inferplane row a record cites (as its source or as agreeing) is this Region, model and dimension
    rows = IP_NOTE.findall(record.notes)
    for model, ip_region, scope, tier, kind in rows:
        value = inferplane()[model][ip_region][scope][tier][kind]
        expected = ("global:" if scope == "global" else "") + IP_DIMENSIONS[(tier, kind)]
        assert (IP_MODELS[model], ip_region, expected) == (sku, region, dimension), record.key
        assert Decimal(repr(value)) == record.unit_price, record.key
        assert not inferplane_skip(model, scope, tier, kind, record.unit_price), record.key
    agrees = ADI_AGREES.search(record.notes)
    if agrees:
        (adi_region, _, adi_dimension), value = by_line[int(agrees.group(1))]
        assert (adi_region, adi_dimension) == (region, dimension)
        # the one disagreement: Llama 3.1 70B in us-west-2, 0.99 in the table vs 0.72 in litellm
        if value * 1000 != record.unit_price:
            assert (sku, region, value * 1000, record.unit_price) == (
                "meta.llama3-1-70b-instruct-v1:0", "us-west-2", Decimal("0.99"), Decimal("0.72")
            )  # fmt: skip
            assert "keeps litellm 1.109.1" in record.notes
            return
    litellm = LITELLM_NOTE.search(record.notes)
    if region == "us-east-1" and record.source != IP_SOURCE:
        return  # us-east-1 keeps its sources (test_price_data.py); the Price List build is named as agreeing
    if record.source == IP_SOURCE:
        assert rows, record.key
        assert (record.as_of.isoformat(), record.unit) == ("2026-10-08", "1M tokens")
        second = agrees or (litellm and litellm.group(1).split(".", 1)[0] in ("us", "eu", "apac", "jp", "au"))
        assert record.confidence == ("high" if second else "medium"), record.key
        return
    assert record.source == "litellm-1.109.1", record.key
    assert litellm, record.key
    mirror = extract_json("litellm-via-rocry-llm-api-price_bedrock.json")
    # the July 2026 mirror agrees wherever it has the key
    if litellm.group(1) in mirror and litellm.group(2) in mirror[litellm.group(1)]:
        assert Decimal(repr(mirror[litellm.group(1)][litellm.group(2)])) * 1_000_000 == record.unit_price
    if region in ("us-west-2", "eu-west-1") and not rows:
        return  # the first pass's records: litellm's us./eu. entries, medium unless a second source agrees
    if (sku, region) in GEO_EXCEPTIONS:
        assert record.confidence == "medium", record.key
    elif rows or agrees:  # litellm and the Price List build (or the table) agree
        assert record.confidence == "high", record.key
    else:  # litellm only (Mistral in eu-west-3, Sonnet 4.6 / Opus 4.6)
        assert record.confidence == "medium", record.key


@pytest.mark.parametrize("row", inferplane_rows(), ids=lambda row: "-".join(str(part) for part in row[:5]))
def test_every_usable_inferplane_row_is_a_catalogue_price(
    row: tuple[str, str, str, str, str, Decimal],
) -> None:
    """Completeness: each row of the extract is in the catalogue at its value, or is left out by a stated rule."""
    model, region, scope, tier, kind, value = row
    sku = IP_MODELS[model]
    dimension = ("global:" if scope == "global" else "") + IP_DIMENSIONS.get((tier, kind), f"{tier}-{kind}")
    phrase = f"inferplane/model-comparision '{model}' / '{region}' / '{scope}' / '{tier}' / '{kind}'"
    skip = inferplane_skip(model, scope, tier, kind, value)
    try:
        record = catalog().price("AmazonBedrock", sku, region, dimension)
    except UnknownPriceError:
        assert skip, (row, "missing from the catalogue")
        return
    if skip:
        assert phrase not in record.notes or "is not used" in record.notes, row
        return
    assert record.unit_price == value and phrase in record.notes, record.key


@pytest.mark.parametrize("region", REGIONS)
def test_bedrock_batch_flex_and_priority_follow_the_standard_rate_of_the_region(region: str) -> None:
    """Batch and Flex are 50 % and Priority 175 % of the same Region's on-demand rate in the same scope; a row that
    breaks this (the merged rows FINDINGS warns of) is not taken."""
    checked = 0
    for record in catalog().records("AmazonBedrock", region):
        scope = "global:" if record.dimension.startswith("global:") else ""
        tier, _, base = record.dimension.removeprefix(scope).partition("-")
        if tier not in TIER_FACTOR:
            continue
        try:
            standard = catalog().bedrock(("global." if scope else "") + record.sku, region, base)
        except UnknownPriceError:
            # Nova Pro in eu-west-2: Flex / Priority cache reads, but no standard cache-read SKU
            assert (record.sku, region, base) == (NOVA[2], "eu-west-2", "cache-read"), record.key
            continue
        assert record.unit_price == standard.unit_price * TIER_FACTOR[tier], record.key
        checked += 1
    assert checked
    for row in inferplane_rows():  # and in the extract, for every row the catalogue takes
        model, ip_region, scope, tier, kind, value = row
        standard = inferplane()[model][ip_region][scope].get("standard", {}).get(kind)
        if (
            ip_region == region
            and tier in TIER_FACTOR
            and standard is not None
            and model != "claude-3.5-haiku"
        ):
            assert Decimal(repr(standard)) * TIER_FACTOR[tier] == value, row


def test_nova_is_priced_per_region_not_from_litellm_geo_entries() -> None:
    """AWS bills a geo-profile call at the source Region's price. litellm's one eu./apac. value per Nova model is one
    Region's price (eu-central-1, ap-southeast-2), so it prices no other Region; eu-west-1 was corrected."""
    mirror = extract_json("litellm-via-rocry-llm-api-price_bedrock.json")
    for sku in NOVA:
        for profile, home in (("eu", "eu-central-1"), ("apac", "ap-southeast-2")):
            entry_value = Decimal(repr(mirror[f"{profile}.{sku}"]["input_cost_per_token"])) * 1_000_000
            assert catalog().price("AmazonBedrock", sku, home, "input").unit_price == entry_value
        for record in catalog().records("AmazonBedrock"):
            if record.sku == sku and record.region not in ("us-east-1", "us-west-2"):
                assert record.source in (IP_SOURCE, "aditya-poddar-bedrock-pricing-2026-02-06"), record.key
                assert "Nova is priced per Region" in record.notes, record.key
    eu_west_1 = catalog().price("AmazonBedrock", NOVA[2], "eu-west-1", "input")
    assert (
        eu_west_1.unit_price
        == Decimal("0.92")
        != catalog().price("AmazonBedrock", NOVA[2], "eu-central-1", "input").unit_price
    )
    assert "eu.amazon.nova-pro-v1:0 entry (input_cost_per_token x 1e6 = 1.05)" in eu_west_1.notes


def test_geo_profile_entries_price_only_documented_source_regions() -> None:
    for record in catalog().records("AmazonBedrock"):
        match = LITELLM_NOTE.search(record.notes)
        if not match or record.region == "us-east-1" or "." not in match.group(1).split("/")[-1][:8]:
            continue
        profile = match.group(1).split(".", 1)[0]
        if profile not in ("us", "eu", "apac", "jp", "au", "global") or record.sku in NOVA:
            continue
        documented = GEO_SOURCE_REGIONS.get(record.sku, {}).get(profile, ())
        if record.region in documented:
            assert CARD.format(CARD_SLUG[record.sku]) in record.notes or FIRST_PASS.get(record.region), (
                record.key
            )
        elif GEO_EXCEPTIONS.get((record.sku, record.region)) == profile:
            assert "lists no geo profile sourced from" in record.notes, record.key
        else:  # the first pass (us-west-2, eu-west-1) for models whose card was not read
            assert record.sku not in GEO_SOURCE_REGIONS or profile == "global", record.key
            assert FIRST_PASS.get(record.region) == profile or (
                profile == "global" and record.region in FIRST_PASS
            ), record.key
    # Sonnet 4's eu. profile is not sourced from eu-west-2, and no Claude model has a geo profile from sa-east-1
    for sku in (SONNET_4, SONNET_45, HAIKU_45, SONNET_46, OPUS_46):
        with pytest.raises(UnknownPriceError):
            catalog().price("AmazonBedrock", sku, "sa-east-1", "input")
    with pytest.raises(UnknownPriceError):
        catalog().price("AmazonBedrock", SONNET_4, "eu-west-2", "input")


def test_claude_3_5_haiku_batch_is_priced_and_titan_embeddings_v2_has_no_batch_price() -> None:
    for region in ("us-east-1", "us-west-2"):
        batch = (
            catalog().price("AmazonBedrock", HAIKU_35, region, d).unit_price
            for d in ("batch-input", "batch-output")
        )
        assert tuple(batch) == (Decimal("0.4"), Decimal("2"))
        assert catalog().has_batch_price(f"us.{HAIKU_35}", region)
    titan = "amazon.titan-embed-text-v2:0"
    # no source has a Titan batch price (sources/README.md)
    assert "titan" not in json.dumps(inferplane()).lower()
    for region in REGIONS:
        assert not [
            r for r in catalog().records("AmazonBedrock", region) if r.sku == titan and "batch" in r.dimension
        ]
    assert not catalog().has_batch_price(titan, "us-east-1")


def test_litellm_versions_disagree_only_where_the_catalogue_says_so() -> None:
    """The July 2026 mirror of litellm's table against the 1.109.1 (2026-11) figures the catalogue keeps."""
    mirror = extract_json("litellm-via-rocry-llm-api-price_bedrock.json")
    differs = set()
    for record in catalog().records("AmazonBedrock"):
        match = LITELLM_NOTE.search(record.notes)
        if (
            not match
            or match.group(2) not in mirror.get(match.group(1), {})
            or record.source != "litellm-1.109.1"
        ):
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
    taken as in-Region rates. Sonnet 4.5 and Opus 4.5 have no in-Region / geo rate there; Haiku 4.5's (1.1, the
    apac. entry and the Price List build) is not the table's 1.0."""
    table = adi()
    for model, sku in (
        ("Claude Sonnet 4.5", SONNET_45),
        ("Claude Haiku 4.5", HAIKU_45),
        ("Claude Opus 4.5", "anthropic.claude-opus-4-5-20251101-v1:0"),
    ):
        for dimension in ("input", "output"):
            global_rate = catalog().price("AmazonBedrock", sku, "us-east-1", f"global:{dimension}").unit_price
            assert table[("us-east-1", model, dimension)][0] * 1000 == global_rate
            assert table[("ap-south-1", model, dimension)][0] * 1000 == global_rate
            if sku == HAIKU_45:
                record = catalog().price("AmazonBedrock", sku, "ap-south-1", dimension)
                assert record.unit_price == global_rate * Decimal("1.1") and ADI_FILE not in record.notes
            else:
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
    for service, sku, dimension in (*FEED, *(("AmazonEC2", "gp3", d) for d in GP3)):
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
        if not key.startswith((QP, LAM, "aditya-poddar", "yeo-ec2-shop", "inferplane")):
            continue
        source = sources[key]
        stem = re.search(r"In-repo extract: sources/regional/(\S+)", source.title)
        assert stem, key
        path = REGIONAL / stem.group(1)
        assert path.is_file(), key
        meta = json.loads(path.with_suffix(".meta.json").read_text(encoding="utf-8"))
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

    def on_demand(region: str) -> list[PriceRecord]:
        return [r for r in catalog().records("AmazonEC2", region) if r.dimension == "OnDemand"]

    for family in ("inf2", "trn1", "g5", "g6", "g6e", "p4d", "p5", "c8g"):
        expected = [
            count(len([r for r in on_demand(g) if r.sku.split(".")[0] == family]))
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
    hosting = ("Hosting", "Duration")  # instance types and Serverless Inference
    sagemaker = [
        count(len([r for r in catalog().records("AmazonSageMaker", g) if r.dimension in hosting]))
        for g in REGIONS
    ]
    assert rows["SageMaker hosting (instance types)"] == sagemaker
    tiered = ("flex-", "priority-")
    tiers = [
        count(len({r.sku for r in catalog().records("AmazonBedrock", g) if r.dimension.startswith(tiered)}))
        for g in REGIONS
    ]
    assert rows["Bedrock models with Flex / Priority tier prices"] == tiers
    spot = [count(len(catalog().spot_discounts(g))) for g in REGIONS]
    assert rows["Spot discount assumptions (families)"] == spot
    gp3 = ["Y" if {r.dimension for r in catalog().records("AmazonEC2", g) if r.sku == "gp3"} == set(GP3) else "-"
           for g in REGIONS]  # fmt: skip
    assert rows["EBS gp3 storage, IOPS above 3,000, throughput above 125 MiB/s"] == gp3
