"""When prices are missing: one synth error naming every missing price and the command that fills them.

A construct prices itself through `catalog_for(self)`, a `RecordingCatalog`: a missing price is recorded against
the stack and replaced by a marked USD 0 placeholder, so the estimator goes on and finds the others. Synth then
fails once per stack listing them all; `cost_estimate` of a construct with a miss raises; the report plugin
refuses a marked estimate. An override file holding exactly the listed prices makes the same app synthesize.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from inferwise.constructs.bedrock_batch.props import check_batch_price, parse_model_id
from inferwise.constructs.guardrails import CostGuardrails
from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
from inferwise.constructs.spot_fleet import ContainerServing, SpotInferenceFleet
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError, catalog_for
from inferwise.cost.estimators.spot_fleet import FleetUsage
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate
from inferwise.cost.plugin import enable_cost_report
from inferwise.cost.recording import (
    MISSING_PRICE_PREFIX,
    MissingPrice,
    MissingPricesError,
    RecordingCatalog,
    missing_in,
    missing_prices_message,
)
from inferwise.cost.records import PriceFile, PriceRecord, PriceTier, Source
from tests.harness.synth import CONTEXT

REGION = "eu-central-1"
IMAGE = "763104351884.dkr.ecr.eu-central-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.7.0"
SAGEMAKER_KEY = f"AmazonSageMaker/ml.g5.xlarge/{REGION}/Hosting"
SPOT_KEY = f"EC2Spot/inf2/{REGION}/AverageDiscount"
BUNDLED = PriceCatalog.bundled()

EU_CENTRAL_SCALE_TO_ZERO_MESSAGE = (
    "inferwise: 1 price is missing from the price catalogue for eu-central-1 (stack Endpoint); no cost estimate "
    "is made with a missing price. Missing prices (service/sku/Region/dimension) by construct:\n"
    "  Endpoint/Chat:\n"
    "    AmazonSageMaker/ml.g5.xlarge/eu-central-1/Hosting\n"
    "Fetch them from the AWS Price List (needs pricing:GetProducts) into a price override file:\n"
    "  inferwise prices refresh --region eu-central-1 --services AmazonSageMaker --instance-type ml.g5.xlarge "
    "--output inferwise-prices.json\n"
    'Then name the file in cdk.json: {"context": {"inferwise:prices": "inferwise-prices.json"}} (a path relative '
    "to where cdk synth runs) and synthesize again."
)


def app(tmp_path: Path, **context: Any) -> cdk.App:
    return cdk.App(outdir=str(tmp_path / "cdk.out"), context={**CONTEXT, **context})


def endpoint(stack: cdk.Stack, construct_id: str = "Chat") -> ScaleToZeroEndpoint:
    return ScaleToZeroEndpoint(
        stack,
        construct_id,
        instance_type="ml.g5.xlarge",
        models=[InferenceModel(name="chat", image_uri=IMAGE, memory_mb=1024)],
    )


def fleet(stack: cdk.Stack) -> SpotInferenceFleet:
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        nat_gateways=0,
        subnet_configuration=[
            ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
        ],
    )
    return SpotInferenceFleet(
        stack,
        "Fleet",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        accelerator="inferentia2",
        instance_types=["inf2.xlarge"],
        serving=ContainerServing(image=IMAGE, port=8080),
        max_capacity=4,
        usage=FleetUsage(average_instances=3),
    )


def mixed_stack(scope: cdk.App) -> tuple[cdk.Stack, dict[str, Any]]:
    """A stack in eu-central-1 mixing a priced construct with two that miss prices."""
    stack = cdk.Stack(scope, "Mixed", env=cdk.Environment(region=REGION))
    built = {
        "endpoint": endpoint(stack, "Endpoint"),
        "fleet": fleet(stack),
        "guardrails": CostGuardrails(stack, "Guardrails", monthly_budget_usd=500, emails=["a@example.com"]),
    }
    return stack, built


def synth_error(scope: cdk.App) -> str:
    with pytest.raises(RuntimeError) as failed:
        scope.synth()
    return str(failed.value)


# ------------------------------------------------------------------------------ one message, every price
def test_scale_to_zero_in_eu_central_1_fails_synth_with_one_message_naming_the_price_and_the_command(
    tmp_path: Path,
) -> None:
    scope = app(tmp_path)
    plugin = enable_cost_report(scope)
    stack = cdk.Stack(scope, "Endpoint", env=cdk.Environment(region=REGION))
    built = endpoint(stack)

    message = synth_error(scope)

    assert message == (
        "ValidationFailedWithErrors: Validation failed with the following errors:\n  [Endpoint] "
        + EU_CENTRAL_SCALE_TO_ZERO_MESSAGE
    )
    with pytest.raises(MissingPricesError) as read:
        _ = built.cost_estimate
    assert read.value.missing == (
        MissingPrice("Endpoint", "Endpoint/Chat", "AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting"),
    )
    assert (
        str(read.value) == "cost_estimate of Endpoint/Chat is incomplete. " + EU_CENTRAL_SCALE_TO_ZERO_MESSAGE
    )
    assert isinstance(read.value, UnknownPriceError)
    assert plugin.last_report is None
    assert not (tmp_path / "cdk.out" / "cost-report.json").exists()


def test_every_missing_price_of_a_mixed_stack_is_in_the_one_message(tmp_path: Path) -> None:
    scope = app(tmp_path)
    _, built = mixed_stack(scope)

    message = synth_error(scope)

    assert message.count("[Mixed] inferwise:") == 1  # one message for the stack
    with pytest.raises(MissingPricesError) as read:
        _ = built["fleet"].cost_estimate
    missing = read.value.missing
    keys = {miss.key for miss in missing}
    assert {SAGEMAKER_KEY, SPOT_KEY} <= keys
    for miss in missing:
        assert miss.key in message
        with pytest.raises(UnknownPriceError):  # a real miss, not a lookup that failed for another reason
            if miss.service == "EC2Spot":
                BUNDLED.spot_discount(f"{miss.sku}.xlarge", miss.region)
            else:
                BUNDLED.price(miss.service, miss.sku, miss.region, miss.dimension)
    assert {m.construct_path for m in missing} == {"Mixed/Endpoint", "Mixed/Fleet"}
    assert "  Mixed/Endpoint:\n    " + SAGEMAKER_KEY in message
    assert f"inferwise prices refresh --region {REGION} --services " in message
    listed = message.split("--services ", 1)[1].split(" ", 1)[0].split(",")
    assert set(listed) == {m.service for m in missing if m.service != "EC2Spot"}
    assert "--instance-type ml.g5.xlarge" in message
    assert (
        f"add these records to the same file by hand (format and Spot discounts: docs/prices.md): {SPOT_KEY}"
        in (message.replace("\n", " "))
    )
    assert '"inferwise:prices": "inferwise-prices.json"' in message
    # the priced construct is complete and readable; the others are not
    assert isinstance(built["guardrails"].cost_estimate, CostEstimate)
    with pytest.raises(MissingPricesError):
        _ = built["endpoint"].cost_estimate


def test_an_estimate_with_a_missing_price_is_marked_in_the_template_never_zero(tmp_path: Path) -> None:
    scope = app(tmp_path)
    stack = cdk.Stack(scope, "Endpoint", env=cdk.Environment(region=REGION))
    built = endpoint(stack)

    metadata = built.endpoint.cfn_options.metadata[COST_METADATA_KEY]
    estimate = CostEstimate.from_json(metadata)

    assert missing_in(estimate) == [SAGEMAKER_KEY]
    placeholders = [line for line in estimate.lines if line.price_source.startswith(MISSING_PRICE_PREFIX)]
    assert [line.component for line in placeholders] == [
        "ml.g5.xlarge instances (billed only while a copy runs) [MISSING PRICE]"
    ]
    assert placeholders[0].confidence == "low"
    assert any("MISSING PRICE" in a for a in placeholders[0].assumptions)


def test_the_report_plugin_refuses_a_marked_estimate_when_node_validation_is_skipped(tmp_path: Path) -> None:
    scope = app(tmp_path)
    plugin = enable_cost_report(scope)
    endpoint(cdk.Stack(scope, "Endpoint", env=cdk.Environment(region=REGION)))

    with pytest.raises(RuntimeError, match="ValidationFailed"):
        scope.synth(skip_validation=True)

    report = json.loads((tmp_path / "cdk.out" / "validation-report.json").read_text())
    (violation,) = report["pluginReports"][0]["violations"]
    assert violation["ruleName"] == "missing-prices"
    assert SAGEMAKER_KEY in violation["description"]
    assert plugin.last_report is None
    assert not (tmp_path / "cdk.out" / "cost-report.json").exists()


# ------------------------------------------------------------------------------------- the override fixes it
UNITS = {
    ("AmazonSageMaker", "Hosting"): "Hrs",
    ("AmazonEC2", "OnDemand"): "Hrs",
    ("AmazonEC2", "Storage"): "GB-Mo",
    ("EC2Spot", "AverageDiscount"): "fraction",
}
OVERRIDE_SOURCE = Source("acme-prices-2026-11-30", "ACME's own price list", "", date(2026, 11, 30))


def override_file(path: Path, missing: tuple[MissingPrice, ...]) -> Path:
    """A price file holding exactly the missing prices (the figures are test values)."""
    records = {
        miss.key: PriceRecord(
            service=miss.service,
            sku=miss.sku,
            region=miss.region,
            dimension=miss.dimension,
            unit=UNITS[(miss.service, miss.dimension)],
            tiers=(
                PriceTier(Decimal(0), None, Decimal("0.5") if miss.service == "EC2Spot" else Decimal("1.75")),
            ),
            source=OVERRIDE_SOURCE.key,
            as_of=OVERRIDE_SOURCE.as_of,
            confidence="medium",
        )
        for miss in missing
    }
    PriceFile(records=tuple(records.values()), sources={OVERRIDE_SOURCE.key: OVERRIDE_SOURCE}).write(path)
    return path


def test_an_override_holding_exactly_the_listed_prices_makes_the_same_app_synthesize(tmp_path: Path) -> None:
    first = app(tmp_path / "first")
    _, built = mixed_stack(first)
    with pytest.raises(MissingPricesError) as read:
        _ = built["fleet"].cost_estimate
    missing = read.value.missing
    path = override_file(tmp_path / "prices.json", missing)

    scope = app(tmp_path / "second", **{"inferwise:prices": str(path)})
    plugin = enable_cost_report(scope)
    _, again = mixed_stack(scope)
    scope.synth()

    assert plugin.last_report is not None
    priced = {line.price_source: line for c in plugin.last_report.constructs for line in c.estimate.lines}
    assert not [source for source in priced if source.startswith(MISSING_PRICE_PREFIX)]
    hosting = priced[SAGEMAKER_KEY]
    assert (hosting.unit_price, hosting.price_as_of, hosting.confidence) == (
        Decimal("1.75"),
        OVERRIDE_SOURCE.as_of,
        "medium",
    )
    spot = next(line for line in again["fleet"].cost_estimate.lines if line.pricing_category == "Dynamic")
    assert any("50 %" in assumption and OVERRIDE_SOURCE.key in assumption for assumption in spot.assumptions)
    report = json.loads((tmp_path / "second" / "cdk.out" / "cost-report.json").read_text())
    assert SAGEMAKER_KEY in json.dumps(report) and "2026-11-30" in json.dumps(report)


def test_the_message_names_the_override_file_cdk_json_already_points_at(tmp_path: Path) -> None:
    path = override_file(tmp_path / "ours.json", ())
    scope = app(tmp_path, **{"inferwise:prices": str(path)})
    endpoint(cdk.Stack(scope, "Endpoint", env=cdk.Environment(region=REGION)))

    message = synth_error(scope)

    assert f"--output {path}\n" in message
    assert f'cdk.json context "inferwise:prices" already names {path}; synthesize again.' in message


# ------------------------------------------------------------------------------------ the recording catalogue
def recording(tmp_path: Path) -> tuple[cdk.Stack, PriceCatalog]:
    stack = cdk.Stack(app(tmp_path), "S", env=cdk.Environment(region=REGION))
    return stack, catalog_for(stack)


def test_lookups_still_raise_so_prop_checks_refuse_unpriced_choices(tmp_path: Path) -> None:
    _, catalog = recording(tmp_path)
    assert isinstance(catalog, RecordingCatalog)
    with pytest.raises(UnknownPriceError):
        catalog.price("AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting")
    with pytest.raises(UnknownPriceError):
        catalog.bedrock("acme.unknown-model-v1:0", REGION, "input")
    assert missing_in(CostEstimate("", "p", REGION, ())) == []


def test_costs_lines_and_spot_discounts_record_the_miss_and_go_on(tmp_path: Path) -> None:
    stack, catalog = recording(tmp_path)

    line = catalog.line("hosting", "AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting", Decimal(10))
    cost = catalog.cost("AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting", Decimal(10))
    tokens = catalog.bedrock_line("tokens", "acme.unknown-model-v1:0", REGION, "input", Decimal(2_000_000))
    discount = catalog.spot_discount("trn1.2xlarge", REGION)
    priced = catalog.line("alarms", "AmazonCloudWatch", "standard", REGION, "StandardAlarm", Decimal(3))

    assert (line.monthly_cost, cost, line.monthly_quantity) == (Decimal(0), Decimal(0), Decimal(10))
    assert line.price_source == MISSING_PRICE_PREFIX + SAGEMAKER_KEY
    assert (tokens.price_source, tokens.monthly_quantity) == (
        f"{MISSING_PRICE_PREFIX}AmazonBedrock/acme.unknown-model-v1:0/{REGION}/input",
        Decimal(2),
    )
    assert (discount.average, discount.family) == (Decimal(0), "trn1")
    assert not priced.price_source.startswith(MISSING_PRICE_PREFIX)
    with pytest.raises(ValueError, match="non-negative"):
        catalog.line("bad", "AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting", Decimal(-1))
    root = stack.node.root
    assert isinstance(root, cdk.App)
    message = synth_error(root)
    assert message.count("[S] inferwise:") == 1
    for key in (
        SAGEMAKER_KEY,
        f"AmazonBedrock/acme.unknown-model-v1:0/{REGION}/input",
        f"EC2Spot/trn1/{REGION}",
    ):
        assert key in message


def test_a_spot_line_priced_with_a_missing_discount_is_marked(tmp_path: Path) -> None:
    _, catalog = recording(tmp_path)
    discount = catalog.spot_discount("trn1.2xlarge", REGION)
    line = catalog.line(
        "spot", "AmazonEC2", "inf2.xlarge", REGION, "OnDemand", Decimal(730), pricing_category="Dynamic",
        discount=dataclasses.replace(discount, family="inf2"),
    )  # fmt: skip
    assert line.price_source == f"{MISSING_PRICE_PREFIX}EC2Spot/inf2/{REGION}/AverageDiscount"
    assert line.component.endswith("[MISSING PRICE]")


def test_a_message_spanning_regions_gives_one_command_per_region() -> None:
    misses = [
        MissingPrice("A", "A/X", "AmazonSageMaker", "ml.g5.xlarge", "eu-west-3", "Hosting"),
        MissingPrice("B", "B/Y", "AmazonBedrock", "amazon.nova-pro-v1:0", "sa-east-1", "batch-input"),
        MissingPrice("B", "B/Y", "AmazonBedrock", "acme.own-model-v1:0", "sa-east-1", "input"),
        MissingPrice("B", "B/Y", "AmazonEC2", "gp3", "sa-east-1", "Storage"),
    ]
    message = missing_prices_message(misses)
    assert "4 prices are missing from the price catalogue for eu-west-3, sa-east-1 (stacks A, B)" in message
    assert (
        "  inferwise prices refresh --region eu-west-3 --services AmazonSageMaker --instance-type ml.g5.xlarge "
        "--output inferwise-prices.json\n"
        "  inferwise prices refresh --region sa-east-1 --services AmazonBedrock,AmazonEC2 --model "
        "amazon.nova-pro-v1:0 --output inferwise-prices.json\n"
    ) in message
    assert message.replace("\n", " ").endswith(
        "docs/prices.md): AmazonBedrock/acme.own-model-v1:0/sa-east-1/input Then name the file in cdk.json: "
        '{"context": {"inferwise:prices": "inferwise-prices.json"}} (a path relative to where cdk synth runs) and '
        "synthesize again."
    )


# ---------------------------------------------------------------------------------------- Bedrock batch
def batch_regions(model_id: str) -> list[str]:
    return [r for r in BUNDLED.regions() if BUNDLED.has_batch_price(model_id, r)]


def test_batch_error_says_batch_is_offered_and_names_the_batchable_models_of_the_family() -> None:
    model_id = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
    region = next(r for r in BUNDLED.regions() if not BUNDLED.has_batch_price(model_id, r))
    offered = batch_regions(model_id)
    assert offered

    with pytest.raises(ValueError) as refused:
        check_batch_price(BUNDLED, parse_model_id(model_id), region)

    message = str(refused.value)
    assert message.startswith(
        f"model_id {model_id!r} has no batch price in {region}. Batch inference is offered for it: the price "
        f"catalogue has its batch price in {', '.join(offered)}. Batchable anthropic models with a batch price in "
        f"{region} (in-Region or through a geographic profile such as us.<id>): "
    )
    assert "amazon.nova" not in message and "meta.llama" not in message  # the same family only
    assert (
        f"inferwise prices refresh --region {region} --services AmazonBedrock --model "
        "anthropic.claude-haiku-4-5-20251001-v1:0 --output inferwise-prices.json" in message
    )


def test_batch_error_says_no_batch_price_is_known_anywhere() -> None:
    no_batch = [
        m for m in BUNDLED.bedrock_models() if m.startswith("amazon.titan-embed") and not batch_regions(m)
    ]
    assert no_batch, "every Titan embedding model has a batch price now: pick another model without one"
    model_id = no_batch[0]

    with pytest.raises(ValueError) as refused:
        check_batch_price(BUNDLED, parse_model_id(model_id), "us-east-1")

    assert str(refused.value).startswith(
        f"model_id {model_id!r} has no batch price in us-east-1: no Region of the price catalogue has a batch "
        "price for it, so no batch price is known for this model anywhere. Batchable titan-embed models with a "
        "batch price in us-east-1 (in-Region or through a geographic profile such as us.<id>): "
    )
    assert str(refused.value).endswith(
        "If AWS supports batch inference for this model, add batch-input and batch-output prices with a price "
        "override (docs/prices.md)."
    )


def test_batch_error_points_at_the_global_profile_when_only_it_has_a_batch_price() -> None:
    cases = [
        (model, region)
        for model in BUNDLED.bedrock_models()
        for region in BUNDLED.regions()
        if model.startswith("anthropic.")
        and not BUNDLED.has_batch_price(model, region)
        and BUNDLED.has_batch_price(f"global.{model}", region)
    ]
    assert cases, "no model has a global-profile batch price without an in-Region one any more"
    model, region = cases[0]

    with pytest.raises(ValueError) as refused:
        check_batch_price(BUNDLED, parse_model_id(f"us.{model}"), region)

    assert f"Its global cross-Region inference profile has a batch price in {region}: global.{model}." in str(
        refused.value
    )
    check_batch_price(BUNDLED, parse_model_id(f"global.{model}"), region)  # and that one is accepted


def test_batch_error_for_a_model_the_catalogue_does_not_know() -> None:
    with pytest.raises(
        ValueError, match=r"does not know this model in any Region, so no batch price is known"
    ):
        check_batch_price(BUNDLED, parse_model_id("anthropic.claude-unknown-v9:0"), "us-east-1")
