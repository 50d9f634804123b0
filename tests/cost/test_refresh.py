"""`inferwise prices refresh` against recorded Price List documents, through botocore's Stubber.

The Stubber checks every GetProducts request against the real `pricing` service model, and `expected_params`
pins the exact filters; no test touches the network.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from inferwise.cli import prices as prices_cli
from inferwise.cost import refresh
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.records import PriceFile, PriceRecord, PriceTier, Source
from inferwise.cost.refresh import (
    BEDROCK_MODELS,
    SERVICES,
    USAGE_QUERIES,
    NoProductsError,
    PriceListError,
    UsageQuery,
    bedrock_filters,
    ec2_filters,
    fetch_bedrock_model,
    fetch_ec2_on_demand,
    fetch_lambda,
    fetch_sagemaker_hosting,
    fetch_usage_prices,
    lambda_filters,
    merge_price_files,
    sagemaker_filters,
    service_name,
    usage_type_matches,
    write_bundled,
    write_override_file,
)

FIXTURES = Path(__file__).parent / "pricelist_fixtures"
PUBLISHED = date(2026, 11, 20)
REGION = "us-east-1"


def documents(name: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text())["documents"]
    return docs


def document(name: str, sku: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in documents(name) if d["product"]["sku"] == sku))


def response(*docs: dict[str, Any], next_token: str | None = None) -> dict[str, Any]:
    """A GetProducts response: each PriceList element is a JSON string, as the API sends it."""
    page: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(d) for d in docs]}
    if next_token is not None:
        page["NextToken"] = next_token
    return page


def request(
    service_code: str, filters: list[dict[str, str]], next_token: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ServiceCode": service_code,
        "Filters": filters,
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if next_token is not None:
        params["NextToken"] = next_token
    return params


def pricing_client() -> Any:
    return botocore.session.get_session().create_client(
        "pricing", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def client() -> Any:
    return pricing_client()


@pytest.fixture
def stub(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def tiers(record: PriceRecord) -> list[tuple[str, str | None, str]]:
    return [(f"{t.begin:f}", None if t.end is None else f"{t.end:f}", f"{t.usd:f}") for t in record.tiers]


def by_key(price_file: PriceFile) -> dict[str, PriceRecord]:
    return {record.key: record for record in price_file.records}


# --- EC2 -------------------------------------------------------------------------------------------------

INF2 = "G2N9RA4TXFPK3DJS"
INF2_RESERVATION = "V8MC3BQ9Y2KTZ6EH"
P5 = "QX7T2D4JW9HNB5RA"
P5_CAPACITY_BLOCK = "M3KZ8P6RQ2WYC9TF"


def test_ec2_query_uses_the_exact_karpenter_filters() -> None:
    filters = {(f["Type"], f["Field"], f["Value"]) for f in ec2_filters(REGION, "p5.48xlarge")}
    assert filters == {
        ("TERM_MATCH", "regionCode", "us-east-1"),
        ("TERM_MATCH", "instanceType", "p5.48xlarge"),
        ("TERM_MATCH", "operatingSystem", "Linux"),
        ("TERM_MATCH", "tenancy", "Shared"),
        ("TERM_MATCH", "preInstalledSw", "NA"),
        ("TERM_MATCH", "licenseModel", "No License required"),
        ("TERM_MATCH", "capacitystatus", "Used"),
        ("TERM_MATCH", "marketoption", "OnDemand"),
    }


def test_ec2_on_demand_record_carries_price_sku_usage_type_and_publication_date(
    client: Any, stub: Stubber
) -> None:
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", INF2)),
        request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")),
    )

    result = fetch_ec2_on_demand(client, REGION, "inf2.xlarge")

    (record,) = result.records
    assert record.key == "AmazonEC2/inf2.xlarge/us-east-1/OnDemand"
    assert (record.unit, tiers(record)) == ("Hrs", [("0", None, "0.7582")])
    assert (record.usage_type, record.operation, record.price_list_sku) == (
        "BoxUsage:inf2.xlarge",
        "RunInstances",
        INF2,
    )
    assert (record.as_of, record.confidence) == (PUBLISHED, "high")
    assert record.source == "aws-price-list-AmazonEC2-2026-11-20"
    assert result.sources == {
        record.source: Source(
            key=record.source,
            title="AWS Price List Query API (AmazonEC2)",
            url="https://pricing.us-east-1.amazonaws.com",
            as_of=PUBLISHED,
        )
    }


def test_ec2_capacity_block_row_is_excluded_by_marketoption_and_fails_when_returned(
    client: Any, stub: Stubber
) -> None:
    filters = ec2_filters(REGION, "p5.48xlarge")
    assert {"Type": "TERM_MATCH", "Field": "marketoption", "Value": "OnDemand"} in filters
    # If the Price List ever returned the Capacity Block row as well, the refresh must stop, not pick one.
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", P5), document("ec2_us-east-1.json", P5_CAPACITY_BLOCK)),
        request("AmazonEC2", filters),
    )

    with pytest.raises(PriceListError, match="2 products match ServiceCode=AmazonEC2") as error:
        fetch_ec2_on_demand(client, REGION, "p5.48xlarge")

    assert P5 in str(error.value) and P5_CAPACITY_BLOCK in str(error.value)


def test_ec2_zero_priced_reservation_row_is_never_taken_as_the_price(client: Any, stub: Stubber) -> None:
    # capacitystatus=Used leaves this row out; if the Price List returned it anyway, it is refused.
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", INF2_RESERVATION)),
        request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")),
    )

    with pytest.raises(
        PriceListError, match=f"{INF2_RESERVATION}: capacitystatus is 'AllocatedCapacityReservation'"
    ):
        fetch_ec2_on_demand(client, REGION, "inf2.xlarge")


def test_product_priced_only_at_usd_0_is_not_a_price(client: Any, stub: Stubber) -> None:
    doc = document("ec2_us-east-1.json", INF2)
    (dimension,) = doc["terms"]["OnDemand"][f"{INF2}.JRTCKXETXF"]["priceDimensions"].values()
    dimension["pricePerUnit"]["USD"] = "0.0000000000"
    stub.add_response("get_products", response(doc), request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")))

    with pytest.raises(PriceListError, match=rf"{INF2} \(BoxUsage:inf2\.xlarge\) .* is priced only at USD 0"):
        fetch_ec2_on_demand(client, REGION, "inf2.xlarge")


def test_zero_products_is_an_error_naming_the_filters(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "get_products", response(), request("AmazonEC2", ec2_filters("eu-west-1", "trn1.2xlarge"))
    )

    with pytest.raises(PriceListError) as error:
        fetch_ec2_on_demand(client, "eu-west-1", "trn1.2xlarge")

    message = str(error.value)
    assert message.startswith("no product matches ServiceCode=AmazonEC2")
    for shown in ("regionCode='eu-west-1'", "instanceType='trn1.2xlarge'", "marketoption='OnDemand'"):
        assert shown in message


def test_wrong_unit_is_an_error(client: Any, stub: Stubber) -> None:
    doc = document("ec2_us-east-1.json", INF2)
    (dimension,) = doc["terms"]["OnDemand"][f"{INF2}.JRTCKXETXF"]["priceDimensions"].values()
    dimension["unit"] = "Quantity"
    stub.add_response("get_products", response(doc), request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")))

    with pytest.raises(PriceListError, match=f"{INF2} .* is priced per 'Quantity', expected 'Hrs'"):
        fetch_ec2_on_demand(client, REGION, "inf2.xlarge")


def test_usage_type_other_than_box_usage_is_an_error(client: Any, stub: Stubber) -> None:
    doc = document("ec2_us-east-1.json", INF2)
    doc["product"]["attributes"]["usagetype"] = "DedicatedUsage:inf2.xlarge"
    stub.add_response("get_products", response(doc), request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")))

    with pytest.raises(
        PriceListError, match=r"usagetype 'DedicatedUsage:inf2\.xlarge' is not .*BoxUsage:inf2\.xlarge"
    ):
        fetch_ec2_on_demand(client, REGION, "inf2.xlarge")


def test_two_on_demand_terms_are_an_error(client: Any, stub: Stubber) -> None:
    doc = document("ec2_us-east-1.json", INF2)
    terms = doc["terms"]["OnDemand"]
    terms[f"{INF2}.XXXXXXXXXX"] = copy.deepcopy(terms[f"{INF2}.JRTCKXETXF"])
    stub.add_response("get_products", response(doc), request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")))

    with pytest.raises(PriceListError, match=f"{INF2} has 2 OnDemand terms, expected exactly one"):
        fetch_ec2_on_demand(client, REGION, "inf2.xlarge")


# --- SageMaker -------------------------------------------------------------------------------------------


def test_sagemaker_hosting_record_from_the_hosting_component(client: Any, stub: Stubber) -> None:
    filters = sagemaker_filters(REGION, "ml.g5.xlarge")
    assert {"Type": "TERM_MATCH", "Field": "component", "Value": "Hosting"} in filters
    stub.add_response(
        "get_products",
        response(document("sagemaker_us-east-1.json", "B7DHQ3TM5XK2ZW9C")),
        request("AmazonSageMaker", filters),
    )

    (record,) = fetch_sagemaker_hosting(client, REGION, "ml.g5.xlarge").records

    assert record.key == "AmazonSageMaker/ml.g5.xlarge/us-east-1/Hosting"
    assert (record.unit, tiers(record)) == ("Hrs", [("0", None, "1.408")])
    assert (record.usage_type, record.operation) == ("USE1-Host:ml.g5.xlarge", "RunInstance")
    assert record.source == "aws-price-list-AmazonSageMaker-2026-11-20"


def test_sagemaker_studio_row_with_the_same_instance_name_is_refused(client: Any, stub: Stubber) -> None:
    stub.add_response(
        "get_products",
        response(*documents("sagemaker_us-east-1.json")),
        request("AmazonSageMaker", sagemaker_filters(REGION, "ml.g5.xlarge")),
    )

    with pytest.raises(PriceListError, match=r"2 products match .*B7DHQ3TM5XK2ZW9C.*R9TC6WZ2PQ4JH8MK"):
        fetch_sagemaker_hosting(client, REGION, "ml.g5.xlarge")


# --- Bedrock ---------------------------------------------------------------------------------------------

NOVA_PRO = "amazon.nova-pro-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_bedrock_batch_rows_fill_batch_dimensions_and_never_overwrite_on_demand(
    client: Any, stub: Stubber
) -> None:
    filters = bedrock_filters(REGION, BEDROCK_MODELS[NOVA_PRO])
    assert filters == [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        {"Type": "TERM_MATCH", "Field": "model", "Value": "Nova Pro"},
    ]
    stub.add_response(
        "get_products",
        response(*documents("bedrock_nova-pro_us-east-1.json")),
        request("AmazonBedrock", filters),
    )

    records = by_key(fetch_bedrock_model(client, REGION, NOVA_PRO))

    prices = {key.rsplit("/", 1)[1]: record.unit_price for key, record in records.items()}
    # per 1M tokens = Price List per-1K price x 1000; custom-model, flex and provisioned rows are left out
    assert prices == {
        "input": Decimal("0.8"),
        "output": Decimal("3.2"),
        "batch-input": Decimal("0.4"),
        "batch-output": Decimal("1.6"),
        "cache-read": Decimal("0.2"),
    }
    base = f"AmazonBedrock/{NOVA_PRO}/us-east-1"
    assert records[f"{base}/input"].price_list_sku == "D8JW2QT6ZR4MX3KB"
    assert records[f"{base}/batch-input"].usage_type == "USE1-NovaPro-input-tokens-batch"
    assert {record.unit for record in records.values()} == {"1M tokens"}
    assert {record.source for record in records.values()} == {"aws-price-list-AmazonBedrock-2026-11-20"}


def test_bedrock_two_rows_for_one_dimension_is_an_error_naming_both_skus(client: Any, stub: Stubber) -> None:
    on_demand = document("bedrock_nova-pro_us-east-1.json", "D8JW2QT6ZR4MX3KB")
    twin = copy.deepcopy(on_demand)
    twin["product"]["sku"] = "Y2KD8QW4TZ7XM3RC"
    stub.add_response(
        "get_products",
        response(on_demand, twin),
        request("AmazonBedrock", bedrock_filters(REGION, BEDROCK_MODELS[NOVA_PRO])),
    )

    with pytest.raises(
        PriceListError, match=r"D8JW2QT6ZR4MX3KB .* and Y2KD8QW4TZ7XM3RC .* both price input$"
    ):
        fetch_bedrock_model(client, REGION, NOVA_PRO)


def test_anthropic_prices_come_from_foundation_models_by_servicename_per_1m(
    client: Any, stub: Stubber
) -> None:
    filters = bedrock_filters(REGION, BEDROCK_MODELS[SONNET_45])
    assert filters[1] == {
        "Type": "TERM_MATCH",
        "Field": "servicename",
        "Value": "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
    }
    stub.add_response(
        "get_products",
        response(*documents("bedrock_claude-sonnet-4-5_us-east-1.json")),
        request("AmazonBedrockFoundationModels", filters),
    )

    result = fetch_bedrock_model(client, REGION, SONNET_45)

    assert {r.sku for r in result.records} == {SONNET_45}
    prices = {r.dimension: f"{r.unit_price:f}" for r in result.records}
    regional = {dim: usd for dim, usd in prices.items() if not dim.startswith("global:")}
    global_ = {dim.removeprefix("global:"): usd for dim, usd in prices.items() if dim.startswith("global:")}
    assert regional == {
        "input": "3.3",
        "output": "16.5",
        "batch-input": "1.65",
        "batch-output": "8.25",
        "cache-read": "0.33",
        "cache-write-5m": "4.125",
        "cache-write-1h": "6.6",
    }
    assert global_ == {
        "input": "3",
        "output": "15",
        "batch-input": "1.5",
        "batch-output": "7.5",
        "cache-read": "0.3",
        "cache-write-5m": "3.75",
        "cache-write-1h": "6",
    }
    assert {r.service for r in result.records} == {"AmazonBedrock"}
    source_key = "aws-price-list-AmazonBedrockFoundationModels-2026-11-20"
    assert {r.source for r in result.records} == {source_key}
    assert result.sources[source_key].title == "AWS Price List Query API (AmazonBedrockFoundationModels)"


def test_foundation_models_row_priced_per_1k_tokens_is_an_error(client: Any, stub: Stubber) -> None:
    doc = document("bedrock_claude-sonnet-4-5_us-east-1.json", "A2SN45IN0000REGL")
    (dimension,) = doc["terms"]["OnDemand"]["A2SN45IN0000REGL.JRTCKXETXF"]["priceDimensions"].values()
    dimension["unit"] = "1K tokens"
    stub.add_response(
        "get_products",
        response(doc),
        request("AmazonBedrockFoundationModels", bedrock_filters(REGION, BEDROCK_MODELS[SONNET_45])),
    )

    with pytest.raises(PriceListError, match="priced per '1K tokens', expected 'Units' or '1M tokens'"):
        fetch_bedrock_model(client, REGION, SONNET_45)


def test_bedrock_pagination_follows_next_token(client: Any, stub: Stubber) -> None:
    pages = [
        json.loads((FIXTURES / f"get_products_nova-micro_us-east-1_page{n}.json").read_text()) for n in (1, 2)
    ]
    filters = bedrock_filters(REGION, BEDROCK_MODELS["amazon.nova-micro-v1:0"])
    stub.add_response("get_products", pages[0], request("AmazonBedrock", filters))
    stub.add_response(
        "get_products", pages[1], request("AmazonBedrock", filters, next_token=pages[0]["NextToken"])
    )

    records = fetch_bedrock_model(client, REGION, "amazon.nova-micro-v1:0").records

    prices = {r.dimension: f"{r.unit_price:f}" for r in records}
    assert prices == {"input": "0.035", "output": "0.14", "batch-input": "0.0175", "batch-output": "0.07"}


def test_unknown_bedrock_model_lists_the_supported_ids(client: Any) -> None:
    with pytest.raises(
        PriceListError, match=r"unknown Bedrock model 'amazon\.nova-ultra'; supported: .*nova-pro"
    ):
        fetch_bedrock_model(client, REGION, "amazon.nova-ultra")


# --- Lambda ----------------------------------------------------------------------------------------------


def stub_lambda(stub: Stubber, architecture: str, docs: dict[str, dict[str, Any]]) -> None:
    groups = {
        "x86_64": ("AWS-Lambda-Requests", "AWS-Lambda-Duration"),
        "arm64": ("AWS-Lambda-Requests-ARM", "AWS-Lambda-Duration-ARM"),
    }[architecture]
    for group in groups:
        stub.add_response(
            "get_products", response(docs[group]), request("AWSLambda", lambda_filters(REGION, group))
        )


def lambda_documents() -> dict[str, dict[str, Any]]:
    return {d["product"]["attributes"]["group"]: d for d in documents("lambda_us-east-1.json")}


def test_lambda_duration_tiers_are_read_in_order_with_open_last_tier(client: Any, stub: Stubber) -> None:
    stub_lambda(stub, "x86_64", lambda_documents())

    records = by_key(fetch_lambda(client, REGION, "x86_64"))

    duration = records["AWSLambda/x86_64/us-east-1/Duration"]
    assert tiers(duration) == [
        ("0", "6000000000", "0.0000166667"),
        ("6000000000", "15000000000", "0.000015"),
        ("15000000000", None, "0.0000133334"),
    ]
    assert (duration.unit, duration.usage_type, duration.price_list_sku) == (
        "GB-Seconds",
        "Lambda-GB-Second",
        "TG3M4CAGBA3NYQBH",
    )
    assert duration.free_quantity == Decimal(400_000)
    requests = records["AWSLambda/x86_64/us-east-1/Requests"]
    assert (requests.unit, tiers(requests)) == ("Requests", [("0", None, "0.0000002")])


def test_lambda_arm64_uses_the_arm_groups(client: Any, stub: Stubber) -> None:
    stub_lambda(stub, "arm64", lambda_documents())

    duration = by_key(fetch_lambda(client, REGION, "arm64"))["AWSLambda/arm64/us-east-1/Duration"]

    assert tiers(duration)[0] == ("0", "7500000000", "0.0000133334")
    assert tiers(duration)[-1] == ("18750000000", None, "0.0000106667")


def test_leading_zero_tier_is_kept_as_a_free_tier(client: Any, stub: Stubber) -> None:
    docs = lambda_documents()
    duration = docs["AWS-Lambda-Duration"]
    dims = duration["terms"]["OnDemand"]["TG3M4CAGBA3NYQBH.JRTCKXETXF"]["priceDimensions"]
    first = next(d for d in dims.values() if d["beginRange"] == "0")
    first["pricePerUnit"]["USD"] = "0.0000000000"
    stub_lambda(stub, "x86_64", docs)

    record = by_key(fetch_lambda(client, REGION, "x86_64"))["AWSLambda/x86_64/us-east-1/Duration"]

    assert tiers(record)[0] == ("0", "6000000000", "0")
    assert tiers(record)[1][2] == "0.000015"


def test_zero_tier_after_a_paid_tier_is_refused(client: Any, stub: Stubber) -> None:
    docs = lambda_documents()
    dims = docs["AWS-Lambda-Duration"]["terms"]["OnDemand"]["TG3M4CAGBA3NYQBH.JRTCKXETXF"]["priceDimensions"]
    last = next(d for d in dims.values() if d["endRange"] == "Inf")
    last["pricePerUnit"]["USD"] = "0"
    stub.add_response(
        "get_products",
        response(docs["AWS-Lambda-Requests"]),
        request("AWSLambda", lambda_filters(REGION, "AWS-Lambda-Requests")),
    )
    stub.add_response(
        "get_products",
        response(docs["AWS-Lambda-Duration"]),
        request("AWSLambda", lambda_filters(REGION, "AWS-Lambda-Duration")),
    )

    with pytest.raises(PriceListError, match="USD 0 tier from 15000000000 is not a leading free tier"):
        fetch_lambda(client, REGION, "x86_64")


# --- The whole refresh -----------------------------------------------------------------------------------


def test_refresh_rejects_a_bad_region_before_any_call(client: Any, stub: Stubber) -> None:
    with pytest.raises(PriceListError, match="bad region 'us-east'"):
        refresh.refresh(regions=["us-east"], client=client)
    with pytest.raises(PriceListError, match="unknown region 'xx-nowhere-1'"):
        refresh.refresh(regions=["xx-nowhere-1"], client=client)


def test_refresh_skips_a_default_instance_type_not_sold_in_the_region(
    client: Any, stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(refresh, "DEFAULT_EC2_INSTANCE_TYPES", ("inf2.xlarge", "trn1.2xlarge"))
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", INF2)),
        request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")),
    )
    stub.add_response("get_products", response(), request("AmazonEC2", ec2_filters(REGION, "trn1.2xlarge")))
    stub_usage(stub, "AmazonEC2")
    warnings: list[str] = []

    result = refresh.refresh(regions=[REGION], services=["ec2"], client=client, warn=warnings.append)

    assert sorted(r.key for r in result.records) == [
        "AmazonEC2/gp3/us-east-1/Storage",
        "AmazonEC2/inf2.xlarge/us-east-1/OnDemand",
    ]
    assert len(warnings) == 1 and warnings[0].startswith(
        "EC2 trn1.2xlarge in us-east-1: not in the Price List"
    )


def test_refresh_fails_for_an_instance_type_asked_for_by_name(client: Any, stub: Stubber) -> None:
    stub.add_response("get_products", response(), request("AmazonEC2", ec2_filters(REGION, "trn1.2xlarge")))

    with pytest.raises(PriceListError, match="no product matches"):
        refresh.refresh(regions=[REGION], services=["ec2"], instance_types=["trn1.2xlarge"], client=client)


def record(sku: str, usd: str, source: str = "karpenter-2026-07-20") -> PriceRecord:
    return PriceRecord(
        service="AmazonEC2",
        sku=sku,
        region=REGION,
        dimension="OnDemand",
        unit="Hrs",
        tiers=(PriceTier(begin=Decimal(0), end=None, usd=Decimal(usd)),),
        source=source,
        as_of=date(2026, 7, 20),
    )


KARPENTER = Source(
    "karpenter-2026-07-20", "Karpenter", "https://github.com/aws/karpenter-provider-aws", date(2026, 7, 20)
)
OLD_REFRESH = Source(
    "aws-price-list-AmazonEC2-2026-01-01", "old", "https://pricing.us-east-1.amazonaws.com", date(2026, 1, 1)
)


def test_merge_replaces_refreshed_keys_keeps_the_rest_and_drops_stale_price_list_sources() -> None:
    base = PriceFile(
        records=(record("inf2.xlarge", "0.75", OLD_REFRESH.key), record("g5.xlarge", "1.006")),
        sources={KARPENTER.key: KARPENTER, OLD_REFRESH.key: OLD_REFRESH},
    )
    new = record("inf2.xlarge", "0.7582", "aws-price-list-AmazonEC2-2026-11-20")
    new_source = Source(new.source, "AWS Price List Query API (AmazonEC2)", "u", PUBLISHED)

    merged = merge_price_files(base, PriceFile(records=(new,), sources={new.source: new_source}))

    prices = {r.sku: f"{r.unit_price:f}" for r in merged.records}
    assert prices == {"inf2.xlarge": "0.7582", "g5.xlarge": "1.006"}
    assert set(merged.sources) == {KARPENTER.key, new.source}


def test_write_bundled_updates_the_file_holding_the_key(tmp_path: Path) -> None:
    bundled = tmp_path / "ec2.json"
    PriceFile(
        records=(record("inf2.xlarge", "0.75"), record("g5.xlarge", "1.006")),
        sources={KARPENTER.key: KARPENTER},
    ).write(bundled)
    other = tmp_path / "lambda.json"
    other.write_text('{"sources": {}, "records": []}\n')
    new = record("inf2.xlarge", "0.7582", "aws-price-list-AmazonEC2-2026-11-20")
    source = Source(new.source, "AWS Price List Query API (AmazonEC2)", "u", PUBLISHED)

    written = write_bundled(PriceFile(records=(new,), sources={new.source: source}), tmp_path)

    assert written == [bundled]
    after = PriceFile.read(bundled)
    assert {r.sku: f"{r.unit_price:f}" for r in after.records} == {
        "inf2.xlarge": "0.7582",
        "g5.xlarge": "1.006",
    }
    assert set(after.sources) == {KARPENTER.key, new.source}
    assert other.read_text() == '{"sources": {}, "records": []}\n'


# --- CLI -------------------------------------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="inferwise prices")
    prices_cli.add_refresh_command(parser.add_subparsers(dest="prices_command", required=True))
    return parser.parse_args(["refresh", *argv])


def test_cli_refresh_writes_an_override_file_that_reads_back(
    client: Any,
    stub: Stubber,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", INF2)),
        request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")),
    )
    stub_usage(stub, "AmazonEC2")
    stub_lambda(stub, "x86_64", lambda_documents())
    stub_lambda(stub, "arm64", lambda_documents())
    output = tmp_path / "prices.json"
    args = parse(
        "--region", REGION, "--service", "ec2", "--service", "lambda", "--instance-type", "inf2.xlarge",
        "--output", str(output),
    )  # fmt: skip

    code = args.func(args)

    assert code == 0
    written = PriceFile.read(output)
    assert sorted(r.key for r in written.records) == [
        "AWSLambda/arm64/us-east-1/Duration",
        "AWSLambda/arm64/us-east-1/Requests",
        "AWSLambda/x86_64/us-east-1/Duration",
        "AWSLambda/x86_64/us-east-1/Requests",
        "AmazonEC2/gp3/us-east-1/Storage",
        "AmazonEC2/inf2.xlarge/us-east-1/OnDemand",
    ]
    assert set(written.sources) == {
        "aws-price-list-AmazonEC2-2026-11-20",
        "aws-price-list-AWSLambda-2026-11-20",
    }
    out = capsys.readouterr().out
    assert "AmazonEC2/inf2.xlarge/us-east-1/OnDemand\t0.7582 USD per Hrs" in out
    assert f"6 prices written to {output}" in out


def test_cli_without_output_prints_and_writes_nothing(
    client: Any,
    stub: Stubber,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    monkeypatch.chdir(tmp_path)
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", INF2)),
        request("AmazonEC2", ec2_filters(REGION, "inf2.xlarge")),
    )
    stub_usage(stub, "AmazonEC2")
    args = parse("--region", REGION, "--service", "ec2", "--instance-type", "inf2.xlarge")

    assert args.func(args) == 0
    assert "nothing written" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_region_is_a_one_line_error_with_exit_2(
    client: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    args = parse("--region", "us-east")

    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("inferwise prices refresh: bad region 'us-east'")


def test_cli_aws_error_is_a_one_line_error_with_exit_2(
    client: Any, stub: Stubber, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    stub.add_client_error(
        "get_products",
        service_error_code="AccessDeniedException",
        service_message="User is not authorized to perform: pricing:GetProducts",
        http_status_code=400,
    )
    args = parse("--region", REGION, "--service", "ec2", "--instance-type", "inf2.xlarge")

    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "AWS Price List request failed (AccessDeniedException)" in err and "pricing:GetProducts" in err


def test_cli_price_list_error_exits_2(
    client: Any, stub: Stubber, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    stub.add_response(
        "get_products",
        response(document("ec2_us-east-1.json", P5), document("ec2_us-east-1.json", P5_CAPACITY_BLOCK)),
        request("AmazonEC2", ec2_filters(REGION, "p5.48xlarge")),
    )
    args = parse("--region", REGION, "--service", "ec2", "--instance-type", "p5.48xlarge")

    assert args.func(args) == 2
    assert "2 products match" in capsys.readouterr().err


def test_write_override_file_keeps_records_it_did_not_refresh(tmp_path: Path) -> None:
    path = tmp_path / "override.json"
    PriceFile(records=(record("g5.xlarge", "1.1"),), sources={KARPENTER.key: KARPENTER}).write(path)
    new = record("inf2.xlarge", "0.7582", "aws-price-list-AmazonEC2-2026-11-20")

    write_override_file(
        PriceFile(records=(new,), sources={new.source: Source(new.source, "t", "u", PUBLISHED)}), path
    )

    assert sorted(r.sku for r in PriceFile.read(path).records) == ["g5.xlarge", "inf2.xlarge"]


# --- Usage-priced services: S3, CloudWatch, SNS, SQS, KMS, DynamoDB, Step Functions, EventBridge, gp3, IPv4,
# Budgets ---------------------------------------------------------------------------------------------------

USAGE = "usage_us-east-1.json"


def answer(query: UsageQuery, region: str, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What GetProducts returns for the query: the documents whose product matches every filter exactly."""

    def value(doc: dict[str, Any], field: str) -> str:
        product = doc["product"]
        return str(
            product["productFamily"] if field == "productFamily" else product["attributes"].get(field, "")
        )

    return [
        doc
        for doc in docs
        if doc["serviceCode"] == query.service_code
        and all(value(doc, f["Field"]) == f["Value"] for f in query.query_filters(region))
    ]


def stub_usage(
    stub: Stubber,
    service: str,
    region: str = REGION,
    docs: list[dict[str, Any]] | None = None,
    queries: int | None = None,
) -> None:
    """Answer the service's queries (the first `queries` of them) from the usage documents."""
    for query in USAGE_QUERIES[service][:queries]:
        stub.add_response(
            "get_products",
            response(*answer(query, region, documents(USAGE) if docs is None else docs)),
            request(query.service_code, query.query_filters(region)),
        )


def test_every_refresh_service_is_a_name_prices_show_knows() -> None:
    assert set(SERVICES) <= set(PriceCatalog.bundled().services())
    assert set(USAGE_QUERIES) <= set(SERVICES)
    assert service_name("amazonsagemaker") == "AmazonSageMaker"
    assert service_name("lambda") == "AWSLambda"  # the older short words still work
    with pytest.raises(
        ValueError, match="unknown service 'AmazonEC3'; choose from AmazonEC2, AmazonSageMaker"
    ):
        service_name("AmazonEC3")


def test_usage_queries_are_exact_term_matches_on_the_region() -> None:
    for service, queries in USAGE_QUERIES.items():
        for query in queries:
            filters = query.query_filters("eu-central-1")
            assert {f["Type"] for f in filters} <= {"TERM_MATCH"}, service
            if query.regional:
                assert filters[0] == {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "eu-central-1"}
            else:
                assert not any(f["Field"] == "regionCode" for f in filters)
    (s3_storage, _, _) = USAGE_QUERIES["AmazonS3"]
    assert s3_storage.query_filters(REGION) == [
        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        {"Type": "TERM_MATCH", "Field": "productFamily", "Value": "Storage"},
        {"Type": "TERM_MATCH", "Field": "storageClass", "Value": "General Purpose"},
        {"Type": "TERM_MATCH", "Field": "volumeType", "Value": "Standard"},
    ]


@pytest.mark.parametrize("service", list(USAGE_QUERIES))
def test_usage_prices_refresh_to_the_bundled_us_east_1_records(
    client: Any, stub: Stubber, service: str
) -> None:
    stub_usage(stub, service)

    result = fetch_usage_prices(client, REGION, service)

    bundled = PriceCatalog.bundled()
    expected = {(p.sku, p.dimension) for q in USAGE_QUERIES[service] for p in q.prices}
    assert {(r.sku, r.dimension) for r in result.records} == expected
    for record in result.records:
        old = bundled.price(record.service, record.sku, record.region, record.dimension)
        assert (record.unit, tiers(record), record.free_quantity) == (old.unit, tiers(old), old.free_quantity)
        assert (record.confidence, record.as_of, record.source) == (
            "high",
            PUBLISHED,
            f"aws-price-list-{'AWSEvents' if service == 'AmazonEventBridge' else service}-2026-11-20",
        )
        assert record.price_list_sku and record.usage_type


def test_a_leading_free_tier_becomes_the_free_quantity(client: Any, stub: Stubber) -> None:
    stub_usage(stub, "AmazonSNS")

    (record,) = fetch_usage_prices(client, REGION, "AmazonSNS").records

    assert (tiers(record), record.free_quantity) == ([("0", None, "0.0000005")], Decimal(1_000_000))


def test_budgets_keep_the_free_action_enabled_days_as_a_tier_and_take_usd_0_standard_budgets(
    client: Any, stub: Stubber
) -> None:
    stub_usage(stub, "AWSBudgets", region="eu-central-1")

    records = by_key(fetch_usage_prices(client, "eu-central-1", "AWSBudgets"))

    action = records["AWSBudgets/standard/eu-central-1/ActionEnabledBudgetDays"]
    assert tiers(action) == [("0", "62", "0"), ("62", None, "0.1")]
    assert tiers(records["AWSBudgets/standard/eu-central-1/BudgetDays"]) == [("0", None, "0")]
    assert action.notes.startswith("global service (Price List location Any)")


def regional(docs: list[dict[str, Any]], region: str, code: str) -> list[dict[str, Any]]:
    """The us-east-1 documents as another Region's: regionCode and the usagetype's billing-code prefix."""
    moved = copy.deepcopy(docs)
    for doc in moved:
        attributes = doc["product"]["attributes"]
        if "regionCode" in attributes:
            attributes["regionCode"] = region
            usage = attributes["usagetype"].removeprefix("USE1-").removeprefix("us-east-1-")
            attributes["usagetype"] = f"{code}-{usage}"
    return moved


def test_other_regions_are_matched_on_their_billing_code_prefix(client: Any, stub: Stubber) -> None:
    docs = regional(documents(USAGE), "eu-central-1", "EUC1")
    stub_usage(stub, "AmazonDynamoDB", "eu-central-1", docs)

    records = by_key(fetch_usage_prices(client, "eu-central-1", "AmazonDynamoDB"))

    storage = records["AmazonDynamoDB/on-demand/eu-central-1/Storage"]
    assert storage.usage_type == "EUC1-TimedStorage-ByteHrs"  # not EUC1-IA-TimedStorage-ByteHrs
    assert usage_type_matches("eu-central-1-KMS-Keys", ("KMS-Keys",), "eu-central-1")
    assert not usage_type_matches("IA-TimedStorage-ByteHrs", ("TimedStorage-ByteHrs",), "eu-central-1")
    assert not usage_type_matches("EUW2-TimedStorage-ByteHrs", ("TimedStorage-ByteHrs",), "eu-central-1")


def test_two_products_with_the_record_usagetype_are_an_error_naming_both(client: Any, stub: Stubber) -> None:
    docs = documents(USAGE)
    twin = copy.deepcopy(
        next(d for d in docs if d["product"]["attributes"]["usagetype"] == "DataProcessing-Bytes")
    )
    twin["product"]["sku"] = "TWINTWINTWINTWIN"
    twin["product"]["attributes"]["usagetype"] = "USE1-DataProcessing-Bytes"
    stub_usage(stub, "AmazonCloudWatch", docs=[*docs, twin], queries=3)  # the third query is the Logs one

    with pytest.raises(
        PriceListError, match=r"2 products with usagetype DataProcessing-Bytes among .*TWINTWINTWINTWIN"
    ):
        fetch_usage_prices(client, REGION, "AmazonCloudWatch")


def test_no_product_with_the_usagetype_names_what_came_back(client: Any, stub: Stubber) -> None:
    docs = [d for d in documents(USAGE) if d["product"]["attributes"]["usagetype"] != "StateTransition"]
    stub_usage(stub, "AmazonStates", docs=docs)

    with pytest.raises(NoProductsError) as error:
        fetch_usage_prices(client, REGION, "AmazonStates")

    assert "no product with usagetype [<Region prefix>-]StateTransition among the 1 products matching" in str(
        error.value
    )
    assert "usagetypes: StepFunctions-Request" in str(error.value)


def test_an_unexpected_usage_unit_is_an_error(client: Any, stub: Stubber) -> None:
    docs = documents(USAGE)
    doc = next(d for d in docs if d["product"]["attributes"]["usagetype"] == "us-east-1-KMS-Keys")
    (dimension,) = next(iter(doc["terms"]["OnDemand"].values()))["priceDimensions"].values()
    dimension["unit"] = "Months"
    stub_usage(stub, "awskms", docs=docs, queries=1)

    with pytest.raises(PriceListError, match="is priced per 'Months', expected 'Keys'"):
        fetch_usage_prices(client, REGION, "awskms")


def test_a_product_of_another_region_is_refused(client: Any, stub: Stubber) -> None:
    docs = documents(USAGE)
    (query,) = USAGE_QUERIES["AmazonSNS"]
    stray = copy.deepcopy(answer(query, REGION, docs)[0])
    stray["product"]["attributes"]["regionCode"] = "us-west-2"
    stub.add_response(
        "get_products",
        response(*answer(query, REGION, docs), stray),
        request(query.service_code, query.query_filters(REGION)),
    )

    with pytest.raises(PriceListError, match="are not in us-east-1"):
        fetch_usage_prices(client, REGION, "AmazonSNS")


def test_cli_services_take_the_catalogue_names_comma_separated(
    client: Any, stub: Stubber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    stub_usage(stub, "AmazonS3")
    stub_usage(stub, "AmazonVPC")
    output = tmp_path / "prices.json"

    args = parse("--region", REGION, "--services", "AmazonS3,amazonvpc", "--output", str(output))

    assert args.services == ["AmazonS3", "AmazonVPC"]
    assert args.func(args) == 0
    assert {r.service for r in PriceFile.read(output).records} == {"AmazonS3", "AmazonVPC"}
    with pytest.raises(SystemExit):
        parse("--region", REGION, "--services", "AmazonS3,AmazonEC3")


def test_the_missing_price_command_writes_an_override_the_constructs_pick_up(
    client: Any, stub: Stubber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command the missing-prices message names, run against the Price List, fills the gap at synth."""
    import aws_cdk as cdk

    from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
    from inferwise.cost.recording import MissingPricesError

    def endpoint(context: dict[str, Any]) -> ScaleToZeroEndpoint:
        stack = cdk.Stack(cdk.App(context=context), "S", env=cdk.Environment(region="eu-central-1"))
        image = "763104351884.dkr.ecr.eu-central-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.7.0"
        return ScaleToZeroEndpoint(
            stack, "Chat", instance_type="ml.g5.xlarge",
            models=[InferenceModel(name="chat", image_uri=image, memory_mb=1024)],
        )  # fmt: skip

    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingPricesError) as missing:
        _ = endpoint({}).cost_estimate
    command = next(line.strip() for line in str(missing.value).splitlines() if "prices refresh" in line)
    assert command == (
        "inferwise prices refresh --region eu-central-1 --services AmazonSageMaker --instance-type ml.g5.xlarge "
        "--output inferwise-prices.json"
    )
    (hosting,) = regional([document("sagemaker_us-east-1.json", "B7DHQ3TM5XK2ZW9C")], "eu-central-1", "EUC1")
    stub.add_response(
        "get_products",
        response(hosting),
        request("AmazonSageMaker", sagemaker_filters("eu-central-1", "ml.g5.xlarge")),
    )
    monkeypatch.setattr(prices_cli, "client_factory", lambda: client)
    args = parse(*command.split()[3:])
    assert args.func(args) == 0

    estimate = endpoint({"inferwise:prices": "inferwise-prices.json"}).cost_estimate

    line = next(line for line in estimate.lines if line.service_code == "AmazonSageMaker")
    assert (line.price_source, line.unit_price, line.price_as_of) == (
        "AmazonSageMaker/ml.g5.xlarge/eu-central-1/Hosting",
        Decimal("1.408"),
        PUBLISHED,
    )
