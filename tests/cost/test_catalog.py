"""Behaviour of the PriceCatalog lookup API: tiers, free tiers, lines, Bedrock ids, Spot, overrides, errors."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inferwise.cost.catalog import PriceCatalog, SpotDiscount, UnknownPriceError, catalog_for, tiered_cost
from inferwise.cost.records import PriceFileError, PriceRecord, PriceTier, Source

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS_45 = "anthropic.claude-opus-4-5-20251101-v1:0"


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


def record(**changes: Any) -> PriceRecord:
    fields: dict[str, Any] = {
        "service": "AmazonEC2",
        "sku": "inf2.xlarge",
        "region": "us-east-1",
        "dimension": "OnDemand",
        "unit": "Hrs",
        "tiers": (PriceTier(Decimal(0), None, Decimal("0.5")),),
        "source": "my-quote",
        "as_of": date(2026, 11, 1),
        "confidence": "high",
        "usage_type": "BoxUsage:inf2.xlarge",
        "operation": "RunInstances",
    }
    fields.update(changes)
    return PriceRecord(**fields)


MY_SOURCE = {
    "my-quote": Source(key="my-quote", title="Private pricing agreement", url="", as_of=date(2026, 11, 1))
}


def write_price_file(
    path: Path, records: list[dict[str, Any]], sources: dict[str, Any] | None = None
) -> Path:
    if sources is None:
        sources = {"my-quote": {"title": "Private pricing agreement", "url": "", "as_of": "2026-11-01"}}
    path.write_text(json.dumps({"sources": sources, "records": records}), encoding="utf-8")
    return path


def override_json(**changes: Any) -> dict[str, Any]:
    return {**record().to_json(), **changes}


# ------------------------------------------------------------------------------------------ loading
def test_bundled_is_loaded_once(catalog: PriceCatalog) -> None:
    assert PriceCatalog.bundled() is catalog
    assert len(catalog) > 500


def test_from_files_rejects_a_key_defined_in_two_files(tmp_path: Path) -> None:
    first = write_price_file(tmp_path / "a.json", [override_json()])
    second = write_price_file(tmp_path / "b.json", [override_json()])
    with pytest.raises(
        PriceFileError, match=r"AmazonEC2/inf2.xlarge/us-east-1/OnDemand is in both .*a\.json and .*b\.json"
    ):
        PriceCatalog.from_files([first, second])


def test_from_files_rejects_a_record_citing_an_undefined_source(tmp_path: Path) -> None:
    path = write_price_file(tmp_path / "a.json", [override_json(source="nobody")])
    with pytest.raises(PriceFileError, match=r"a\.json: record .* cites source 'nobody'"):
        PriceCatalog.from_files([path])


# ---------------------------------------------------------------------------------------------- tiers
def test_lambda_duration_spanning_the_first_tier_boundary_is_priced_by_both_tiers(
    catalog: PriceCatalog,
) -> None:
    tier1, tier2 = Decimal("0.0000166667"), Decimal("0.000015")
    at_boundary = catalog.cost("AWSLambda", "x86_64", "us-east-1", "Duration", Decimal(6_000_000_000))
    assert at_boundary == 6_000_000_000 * tier1
    across = catalog.cost("AWSLambda", "x86_64", "us-east-1", "Duration", Decimal(7_000_000_000))
    assert across == 6_000_000_000 * tier1 + 1_000_000_000 * tier2
    assert across < 7_000_000_000 * tier1  # not all at the first-tier rate


def test_lambda_arm_duration_into_the_third_tier(catalog: PriceCatalog) -> None:
    cost = catalog.cost("AWSLambda", "arm64", "us-east-1", "Duration", Decimal(20_000_000_000))
    expected = (
        7_500_000_000 * Decimal("0.0000133334")
        + 11_250_000_000 * Decimal("0.0000120001")
        + 1_250_000_000 * Decimal("0.0000106667")
    )
    assert cost == expected


def test_free_tier_is_applied_only_when_asked(catalog: PriceCatalog) -> None:
    def requests(quantity: int, free: bool) -> Decimal:
        return catalog.cost(
            "AWSLambda", "arm64", "us-east-1", "Requests", Decimal(quantity), apply_free_tier=free
        )

    assert requests(1_000_000, False) == Decimal("0.2")
    assert requests(1_000_000, True) == 0
    assert requests(3_000_000, True) == Decimal("0.4")
    assert requests(500_000, True) == 0
    duration = catalog.cost(
        "AWSLambda", "x86_64", "us-east-1", "Duration", Decimal(1_000_000), apply_free_tier=True
    )
    assert duration == 600_000 * Decimal("0.0000166667")


def test_budgets_first_62_action_enabled_budget_days_are_free(catalog: PriceCatalog) -> None:
    def days(n: int) -> Decimal:
        return catalog.cost("AWSBudgets", "standard", "us-east-1", "ActionEnabledBudgetDays", Decimal(n))

    assert days(62) == 0  # two action-enabled budgets for a 31-day month
    assert days(63) == Decimal("0.1")
    assert days(93) == Decimal("3.1")  # a third budget for 31 days
    assert catalog.cost("AWSBudgets", "standard", "eu-west-1", "BudgetDays", Decimal(310)) == 0


def test_step_functions_express_duration_crosses_gb_hour_tiers(catalog: PriceCatalog) -> None:
    five_thousand_gb_hours = Decimal(5000 * 3600)
    cost = catalog.cost("AmazonStates", "express", "us-east-1", "Duration", five_thousand_gb_hours)
    assert cost == 3_600_000 * Decimal("0.00001667") + 14_400_000 * Decimal("0.00000833")


def test_quantity_must_be_a_non_negative_decimal(catalog: PriceCatalog) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        catalog.cost("AmazonS3", "standard", "us-east-1", "Storage", Decimal(-1))
    with pytest.raises(TypeError, match="Decimal"):
        catalog.cost("AmazonS3", "standard", "us-east-1", "Storage", 1.5)  # type: ignore[arg-type]


TIERED = [r for r in PriceCatalog.bundled().records() if r.is_tiered]
QUANTITIES = st.decimals(
    min_value=0, max_value=40_000_000_000, places=2, allow_nan=False, allow_infinity=False
)


def integral(rec: PriceRecord, low: Decimal, high: Decimal) -> Decimal:
    """Independent reference: each tier's rate times the length of [low, high) inside that tier."""
    total = Decimal(0)
    for tier in rec.tiers:
        end = high if tier.end is None else min(high, tier.end)
        start = max(low, tier.begin)
        if end > start:
            total += (end - start) * tier.usd
    return total


@settings(max_examples=300, deadline=None)
@given(rec=st.sampled_from(TIERED), a=QUANTITIES, b=QUANTITIES, free=st.booleans())
def test_cost_is_monotone_and_additive_across_tier_boundaries(
    rec: PriceRecord, a: Decimal, b: Decimal, free: bool
) -> None:
    low, high = min(a, b), max(a, b)
    assert tiered_cost(rec, low, apply_free_tier=free) <= tiered_cost(rec, high, apply_free_tier=free)
    assert tiered_cost(rec, high) - tiered_cost(rec, low) == integral(rec, low, high)
    for tier in rec.tiers[1:]:  # splitting at any boundary changes nothing
        boundary = tier.begin
        if low < boundary < high:
            assert tiered_cost(rec, high) == tiered_cost(rec, boundary) + integral(rec, boundary, high)
    assert 0 <= tiered_cost(rec, high, apply_free_tier=True) <= tiered_cost(rec, high)


def test_there_are_tiered_records_to_check() -> None:
    assert {r.service for r in TIERED} >= {"AWSLambda", "AmazonStates", "AWSBudgets"}


# ---------------------------------------------------------------------------------------------- lines
def test_line_carries_the_record_provenance(catalog: PriceCatalog) -> None:
    line = catalog.line("endpoint", "AmazonEC2", "inf2.xlarge", "us-west-2", "OnDemand", Decimal(730))
    assert line.monthly_cost == 730 * Decimal("0.7582")
    assert line.unit_price == Decimal("0.7582")
    assert line.service_code == "AmazonEC2"
    assert line.usage_type == "USW2-BoxUsage:inf2.xlarge"
    assert line.operation == "RunInstances"
    assert line.pricing_unit == "Hrs"
    assert line.pricing_category == "OnDemand"
    assert line.price_source == "AmazonEC2/inf2.xlarge/us-west-2/OnDemand"
    assert line.price_as_of == date(2026, 1, 21)
    assert line.confidence == "high"
    assert line.assumptions == ()


def test_line_for_a_tiered_price_uses_the_effective_unit_price(catalog: PriceCatalog) -> None:
    line = catalog.line(
        "fn",
        "AWSLambda",
        "x86_64",
        "us-east-1",
        "Duration",
        Decimal(7_000_000_000),
        assumptions=("1 GB, 2 s",),
    )
    assert line.monthly_cost == catalog.cost(
        "AWSLambda", "x86_64", "us-east-1", "Duration", Decimal(7_000_000_000)
    )
    assert line.unit_price == line.monthly_cost / 7_000_000_000
    assert Decimal("0.000015") < line.unit_price < Decimal("0.0000166667")
    assert line.assumptions == ("1 GB, 2 s",)


def test_line_says_when_the_free_tier_was_applied(catalog: PriceCatalog) -> None:
    line = catalog.line(
        "keys", "awskms", "standard", "us-east-1", "SymmetricRequests", Decimal(30_000), apply_free_tier=True
    )
    assert line.monthly_cost == 10_000 * Decimal("0.000003")
    assert any("free tier" in a and "20000" in a for a in line.assumptions)
    without = catalog.line("keys", "awskms", "standard", "us-east-1", "SymmetricRequests", Decimal(30_000))
    assert without.monthly_cost == 30_000 * Decimal("0.000003")
    assert not any("free tier" in a for a in without.assumptions)


def test_spot_line_is_dynamic_discounted_and_explained(catalog: PriceCatalog) -> None:
    discount = catalog.spot_discount("inf2.xlarge", "us-east-1")
    line = catalog.line(
        "fleet", "AmazonEC2", "inf2.xlarge", "us-east-1", "OnDemand", Decimal(730), discount=discount
    )
    assert line.pricing_category == "Dynamic"
    assert line.unit_price == Decimal("0.7582") * (1 - discount.average)
    assert line.monthly_cost == 730 * Decimal("0.7582") * (1 - discount.average)
    assert line.confidence == "medium"
    (assumption,) = line.assumptions
    assert "77 %" in assumption and "71 %" in assumption and "84.8 %" in assumption
    assert "skypilot-catalog-v8" in assumption and "2026-07-20" in assumption


def test_spot_discount_rejects_misuse(catalog: PriceCatalog) -> None:
    inf2 = catalog.spot_discount("inf2.8xlarge", "us-east-1")
    with pytest.raises(ValueError, match="Dynamic"):
        catalog.line(
            "f",
            "AmazonEC2",
            "inf2.xlarge",
            "us-east-1",
            "OnDemand",
            Decimal(1),
            pricing_category="Batch",
            discount=inf2,
        )
    with pytest.raises(ValueError, match="does not apply"):
        catalog.line("f", "AmazonEC2", "g5.xlarge", "us-east-1", "OnDemand", Decimal(1), discount=inf2)
    with pytest.raises(ValueError, match="does not apply"):
        catalog.line("f", "AmazonEC2", "inf2.xlarge", "us-west-2", "OnDemand", Decimal(1), discount=inf2)
    with pytest.raises(ValueError, match="only to AmazonEC2 OnDemand"):
        catalog.line(
            "f", "AmazonSageMaker", "ml.inf2.xlarge", "us-east-1", "Hosting", Decimal(1), discount=inf2
        )


def test_spot_discount_family_is_the_part_before_the_first_dot(catalog: PriceCatalog) -> None:
    discount = catalog.spot_discount("g6e.12xlarge", "us-east-1")
    assert isinstance(discount, SpotDiscount)
    assert (discount.family, discount.region) == ("g6e", "us-east-1")
    assert discount.factor == 1 - discount.average
    assert catalog.spot_discount("g6e.xlarge", "us-east-1") == discount


def test_unknown_spot_family_names_known_regions_and_the_override(catalog: PriceCatalog) -> None:
    known = sorted(d.region for d in catalog.spot_discounts() if d.family == "g6")
    unpriced = next(r for r in catalog.regions() if r not in known)
    with pytest.raises(UnknownPriceError) as error:
        catalog.spot_discount("g6.xlarge", unpriced)
    message = str(error.value)
    assert f"Known regions for g6: {', '.join(known)}." in message
    assert "inferwise:prices" in message


# --------------------------------------------------------------------------------------------- errors
def test_unknown_sku_message_names_close_matches_regions_and_override(catalog: PriceCatalog) -> None:
    with pytest.raises(UnknownPriceError) as error:
        catalog.price("AmazonEC2", "inf2.xlage", "us-east-1", "OnDemand")
    message = str(error.value)
    assert message.startswith(
        "no AmazonEC2 price for sku 'inf2.xlage' in us-east-1 (dimension OnDemand). Close matches: inf2.xlarge"
    )
    assert "Known regions for AmazonEC2: ap-northeast-1, ap-northeast-2, " in message
    assert ", us-east-1, us-east-2, us-west-2." in message
    assert message.endswith(
        'Add an override record in a price file named by the cdk.json context key "inferwise:prices" '
        "(see docs/prices.md)."
    )
    assert error.value.close_matches[0] == "inf2.xlarge"
    assert isinstance(error.value, LookupError)


def test_unknown_region_and_dimension_messages(catalog: PriceCatalog) -> None:
    with pytest.raises(UnknownPriceError, match="Known regions for AmazonStates express: us-east-1"):
        catalog.price("AmazonStates", "express", "eu-west-1", "Duration")
    with pytest.raises(
        UnknownPriceError, match="Known dimensions for arm64 in us-east-1: Duration, Requests"
    ):
        catalog.price("AWSLambda", "arm64", "us-east-1", "Invocations")
    with pytest.raises(UnknownPriceError, match="Close matches: AmazonEC2"):
        catalog.price("AmazonEc2", "inf2.xlarge", "us-east-1", "OnDemand")


# -------------------------------------------------------------------------------------------- Bedrock
@pytest.mark.parametrize(
    ("model_id", "dimension", "expected_key", "usd"),
    [
        (f"us.{HAIKU}", "input", f"AmazonBedrock/{HAIKU}/us-east-1/input", "1.1"),
        (f"eu.{HAIKU}", "output", f"AmazonBedrock/{HAIKU}/us-east-1/output", "5.5"),
        (HAIKU, "input", f"AmazonBedrock/{HAIKU}/us-east-1/input", "1.1"),
        (f"global.{HAIKU}", "input", f"AmazonBedrock/{HAIKU}/us-east-1/global:input", "1"),
        (f"global.{HAIKU}", "batch-output", f"AmazonBedrock/{HAIKU}/us-east-1/global:batch-output", "2.5"),
        # a global profile of a single-price model falls back to the one price
        (
            "global.anthropic.claude-sonnet-4-20250514-v1:0",
            "input",
            "AmazonBedrock/anthropic.claude-sonnet-4-20250514-v1:0/us-east-1/input",
            "3",
        ),
        (
            "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
            "batch-input",
            "AmazonBedrock/amazon.nova-pro-v1:0/us-east-1/batch-input",
            "0.4",
        ),
        (
            f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU}",
            "cache-read",
            f"AmazonBedrock/{HAIKU}/us-east-1/cache-read",
            "0.11",
        ),
        (
            f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{OPUS_45}",
            "cache-write-1h",
            f"AmazonBedrock/{OPUS_45}/us-east-1/global:cache-write-1h",
            "10",
        ),
        ("anthropic.claude-haiku-4-5", "input", f"AmazonBedrock/{HAIKU}/us-east-1/input", "1.1"),
        ("anthropic.claude-haiku-4-5-20251001", "input", f"AmazonBedrock/{HAIKU}/us-east-1/input", "1.1"),
        (
            "anthropic.claude-3-5-haiku-20241022-v1:0:200k",
            "input",
            "AmazonBedrock/anthropic.claude-3-5-haiku-20241022-v1:0/us-east-1/input",
            "0.8",
        ),
        (
            "anthropic.claude-sonnet-4-6-v1:0",
            "output",
            "AmazonBedrock/anthropic.claude-sonnet-4-6/us-east-1/output",
            "16.5",
        ),
        (
            "amazon.titan-embed-text-v2",
            "input",
            "AmazonBedrock/amazon.titan-embed-text-v2:0/us-east-1/input",
            "0.02",
        ),
        (
            "meta.llama3-1-70b-instruct-v1",
            "input",
            "AmazonBedrock/meta.llama3-1-70b-instruct-v1:0/us-east-1/input",
            "0.72",
        ),
    ],
)
def test_bedrock_resolves_ids_profiles_and_arns(
    catalog: PriceCatalog, model_id: str, dimension: str, expected_key: str, usd: str
) -> None:
    found = catalog.bedrock(model_id, "us-east-1", dimension)
    assert found.key == expected_key
    assert found.unit_price == Decimal(usd)


def test_bedrock_region_comes_from_the_caller(catalog: PriceCatalog) -> None:
    nova = "amazon.nova-pro-v1:0"
    for region in ("us-east-1", "eu-west-1"):
        record = catalog.bedrock(f"eu.{nova}", region, "input")
        assert record is catalog.price("AmazonBedrock", nova, region, "input")
    llama = "meta.llama3-8b-instruct-v1:0"
    priced = sorted({r.region for r in catalog.records("AmazonBedrock") if r.sku == llama})
    unpriced = next(r for r in catalog.regions() if r not in priced)
    with pytest.raises(UnknownPriceError, match=rf"Known regions for AmazonBedrock {re.escape(llama)}: "):
        catalog.bedrock(llama, unpriced, "input")


def test_unknown_bedrock_model_names_close_matches(catalog: PriceCatalog) -> None:
    with pytest.raises(UnknownPriceError) as error:
        catalog.bedrock("us.anthropic.claude-haiku-4-6-20251001-v1:0", "us-east-1", "input")
    message = str(error.value)
    assert "no AmazonBedrock price for model 'us.anthropic.claude-haiku-4-6-20251001-v1:0'" in message
    assert f"Close matches: {HAIKU}" in message
    assert "inferwise:prices" in message


def test_ambiguous_and_unpriceable_bedrock_ids_are_errors(catalog: PriceCatalog) -> None:
    with pytest.raises(
        UnknownPriceError,
        match=r"ambiguous: it matches amazon\.titan-embed-text-v1, amazon\.titan-embed-text-v2:0",
    ):
        catalog.bedrock("amazon.titan-embed-text", "us-east-1", "input")
    with pytest.raises(UnknownPriceError, match="does not name its foundation model"):
        catalog.bedrock(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3",
            "us-east-1",
            "input",
        )


def test_batch_dimension_missing_for_a_model_is_an_error(catalog: PriceCatalog) -> None:
    model = next(
        m for m in catalog.bedrock_models("us-east-1") if not catalog.has_batch_price(m, "us-east-1")
    )
    with pytest.raises(UnknownPriceError, match=rf"Known dimensions for {re.escape(model)} in us-east-1"):
        catalog.bedrock(f"us.{model}", "us-east-1", "batch-input")


def test_has_batch_price_is_profile_aware(catalog: PriceCatalog) -> None:
    assert catalog.has_batch_price(f"us.{HAIKU}", "us-east-1")
    assert catalog.has_batch_price(f"global.{OPUS_45}", "us-east-1")
    assert not catalog.has_batch_price(f"us.{OPUS_45}", "us-east-1")
    assert not catalog.has_batch_price("meta.llama3-70b-instruct-v1:0", "eu-west-1")
    with pytest.raises(UnknownPriceError):
        catalog.has_batch_price("acme.unknown-model-v1:0", "us-east-1")


def test_bedrock_models_lists_canonical_ids(catalog: PriceCatalog) -> None:
    everywhere = catalog.bedrock_models()
    west = catalog.bedrock_models("us-west-2")
    assert set(west) < set(everywhere)
    assert HAIKU in west
    assert all(not m.startswith(("us.", "eu.", "global.")) for m in everywhere)
    assert everywhere == sorted(everywhere)


# ------------------------------------------------------------------------------------------ overrides
def test_overrides_replace_and_add(catalog: PriceCatalog) -> None:
    replaced = record(tiers=(PriceTier(Decimal(0), None, Decimal("0.5")),))
    added = record(sku="inf2.xlarge", region="ap-east-1", usage_type="APE1-BoxUsage:inf2.xlarge")
    overridden = catalog.with_overrides([replaced, added], sources=MY_SOURCE)
    assert overridden.price("AmazonEC2", "inf2.xlarge", "us-east-1", "OnDemand").unit_price == Decimal("0.5")
    assert overridden.price("AmazonEC2", "inf2.xlarge", "ap-east-1", "OnDemand") == added
    assert "ap-east-1" in overridden.regions()
    assert overridden.sources()["my-quote"] == MY_SOURCE["my-quote"]
    assert len(overridden) == len(catalog) + 1
    # the original is untouched
    assert catalog.price("AmazonEC2", "inf2.xlarge", "us-east-1", "OnDemand").unit_price == Decimal("0.7582")


def test_override_can_replace_a_spot_assumption(catalog: PriceCatalog) -> None:
    mine = record(
        service="EC2Spot",
        sku="inf2",
        dimension="AverageDiscount",
        unit="fraction",
        tiers=(PriceTier(Decimal(0), None, Decimal("0.6")),),
        usage_type="",
    )
    discount = catalog.with_overrides([mine], sources=MY_SOURCE).spot_discount("inf2.xlarge", "us-east-1")
    assert (discount.average, discount.source) == (Decimal("0.6"), "my-quote")


def test_overrides_must_cite_a_known_source_and_be_unique(catalog: PriceCatalog) -> None:
    with pytest.raises(PriceFileError, match="cites source 'my-quote'"):
        catalog.with_overrides([record()])
    with pytest.raises(PriceFileError, match="given twice"):
        catalog.with_overrides([record(), record()], sources=MY_SOURCE)


def test_override_file_adds_prices(catalog: PriceCatalog, tmp_path: Path) -> None:
    path = write_price_file(tmp_path / "prices.json", [override_json(region="ap-south-1")])
    overridden = catalog.with_override_file(path)
    assert overridden.price("AmazonEC2", "inf2.xlarge", "ap-south-1", "OnDemand").unit_price == Decimal("0.5")
    assert overridden.as_of == catalog.as_of


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read price file"),
        ('{"records": {}}', "must be a JSON object with a 'records' list"),
        (json.dumps({"records": [{"service": "AmazonEC2"}]}), "is missing field"),
        (
            json.dumps({"records": [override_json(tiers=[{"begin": "5", "end": None, "usd": "1"}])]}),
            "first tier must begin at 0",
        ),
        (json.dumps({"records": [override_json(source="nobody")]}), "cites source 'nobody'"),
    ],
)
def test_bad_override_files_name_the_path(
    catalog: PriceCatalog, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad-prices.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PriceFileError, match=message) as error:
        catalog.with_override_file(path)
    assert str(path) in str(error.value)


def test_missing_override_file_names_the_path(catalog: PriceCatalog, tmp_path: Path) -> None:
    with pytest.raises(PriceFileError, match=r"missing\.json"):
        catalog.with_override_file(tmp_path / "missing.json")


# ------------------------------------------------------------------------------------------ inspection
def test_records_services_regions_and_as_of(catalog: PriceCatalog) -> None:
    records = catalog.records()
    assert [r.key for r in records] == sorted(r.key for r in records)
    assert {r.service for r in catalog.records(region="us-west-2")} >= {"AmazonEC2", "AmazonBedrock"}
    assert all(r.service == "AmazonS3" for r in catalog.records("AmazonS3"))
    assert catalog.services() == sorted(catalog.services())
    assert catalog.as_of == min(r.as_of for r in records)
    newer = catalog.with_overrides([record(as_of=date(2020, 1, 1))], sources=MY_SOURCE)
    assert newer.as_of == date(2020, 1, 1)


# ------------------------------------------------------------------------------------------ catalog_for
def test_catalog_for_uses_the_cdk_context_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import aws_cdk as cdk

    write_price_file(tmp_path / "prices.json", [override_json(region="ap-south-1")])
    monkeypatch.chdir(tmp_path)
    app = cdk.App(context={"inferwise:prices": "prices.json"})
    stack = cdk.Stack(app, "S")
    catalog = catalog_for(stack)
    assert catalog.price("AmazonEC2", "inf2.xlarge", "ap-south-1", "OnDemand").unit_price == Decimal("0.5")
    assert catalog_for(stack).records() == catalog.records()  # the file is loaded once per version
    assert vars(catalog_for(stack))["_prices"] is vars(catalog)["_prices"]
    plain = catalog_for(cdk.Stack(cdk.App(), "Plain"))
    assert vars(plain)["_prices"] is vars(PriceCatalog.bundled())["_prices"]  # the bundled tables, shared

    broken = cdk.Stack(cdk.App(context={"inferwise:prices": "nope.json"}), "Broken")
    with pytest.raises(PriceFileError, match=r"nope\.json.*inferwise:prices"):
        catalog_for(broken)


def test_catalog_for_records_missing_prices_in_a_stack_and_raises_outside_one() -> None:
    import aws_cdk as cdk

    from inferwise.cost.recording import MISSING_PRICE_PREFIX, RecordingCatalog

    app = cdk.App()
    in_stack = catalog_for(cdk.Stack(app, "S", env=cdk.Environment(region="eu-central-1")))
    assert isinstance(in_stack, RecordingCatalog)
    line = in_stack.line("x", "AmazonSageMaker", "ml.g5.xlarge", "eu-central-1", "Hosting", Decimal(1))
    assert line.price_source.startswith(MISSING_PRICE_PREFIX)
    outside = catalog_for(app)  # no stack to record against: the plain catalogue, which raises
    assert not isinstance(outside, RecordingCatalog)
    with pytest.raises(UnknownPriceError):
        outside.line("x", "AmazonSageMaker", "ml.g5.xlarge", "eu-central-1", "Hosting", Decimal(1))
