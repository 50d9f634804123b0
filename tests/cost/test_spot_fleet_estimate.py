"""The Spot fleet estimate: the On-Demand floor, the Spot share at the catalogue's discount, volumes, and the
comparisons it is judged against; every figure traced to a catalogue key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from inferwise.constructs.spot_fleet import ContainerServing, SpotInferenceFleet
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.spot_fleet import (
    BASELINE_PATTERN,
    GPU_COMPARISON_TYPE,
    GPU_PATTERN,
    PATTERN,
    FleetUsage,
    estimate_gpu_comparison,
    estimate_spot_fleet,
    split_capacity,
)
from inferwise.cost.model import COST_METADATA_KEY, HOURS_PER_MONTH, CostEstimate
from inferwise.cost.specs.ec2 import DEFAULT_INSTANCE_TYPES, EC2_INSTANCE_SPECS
from tests.harness.synth import CONTEXT

REGION = "us-east-1"
INF2 = ["inf2.xlarge", "inf2.8xlarge"]


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


def _estimate(catalog: PriceCatalog, **overrides: Any) -> CostEstimate:
    props: dict[str, Any] = {
        "accelerator": "inferentia2",
        "instance_types": INF2,
        "on_demand_base": 1,
        "spot_percent_above_base": 100,
        "root_volume_gib": 128,
        "usage": FleetUsage(average_instances=3),
        "catalog": catalog,
        "region": REGION,
        "max_capacity": 6,
    }
    props.update(overrides)
    return estimate_spot_fleet(**props)


@pytest.mark.parametrize("instances", [3, 4, 6])
def test_one_on_demand_base_and_the_rest_spot_is_at_least_half_off_all_on_demand_for_inf2(
    catalog: PriceCatalog, instances: int
) -> None:
    estimate = _estimate(catalog, usage=FleetUsage(average_instances=instances))
    assert estimate.pattern == PATTERN
    assert estimate.baseline is not None and estimate.baseline.pattern == BASELINE_PATTERN
    assert estimate.savings_percent is not None and estimate.savings_percent >= 50


def test_spot_line_is_dynamic_at_the_catalogue_discount_and_names_its_source(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog)
    discount = catalog.spot_discount("inf2.xlarge", REGION)
    [spot] = [line for line in estimate.lines if line.pricing_category == "Dynamic"]
    on_demand_price = catalog.price("AmazonEC2", "inf2.xlarge", REGION, "OnDemand").unit_price
    assert spot.unit_price == on_demand_price * (1 - discount.average)
    assert spot.monthly_quantity == 2 * HOURS_PER_MONTH
    assert spot.confidence == "medium"
    [assumption] = [a for a in spot.assumptions if a.startswith("Spot:")]
    assert f"source: {discount.source}" in assumption
    assert "77 %" in assumption


def test_every_line_traces_to_a_catalogue_key(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, usage=FleetUsage(average_instances=3, hours_per_month=286))
    gpu = estimate_gpu_comparison(
        instance_type="inf2.xlarge",
        root_volume_gib=128,
        usage=FleetUsage(average_instances=3, hours_per_month=286),
        catalog=catalog,
        region=REGION,
    )
    assert estimate.baseline is not None
    for line in (*estimate.lines, *estimate.baseline.lines, *gpu.lines):
        service, sku, region, dimension = line.price_source.split("/")
        record = catalog.price(service, sku, region, dimension)
        factor = 1 - catalog.spot_discount(sku, region).average if line.pricing_category == "Dynamic" else 1
        assert line.unit_price == record.unit_price * factor
        assert line.monthly_cost == line.monthly_quantity * line.unit_price
        assert line.price_as_of == record.as_of
    sources = {line.price_source for line in estimate.lines}
    assert sources == {"AmazonEC2/inf2.xlarge/us-east-1/OnDemand", "AmazonEC2/gp3/us-east-1/Storage"}


def test_the_preferred_type_prices_the_fleet_and_an_assumption_says_so(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog)
    for line in estimate.lines[:2]:
        assert (
            "priced on the preferred (first) instance type inf2.xlarge; Spot may also launch inf2.8xlarge, "
            "which the estimate does not price"
        ) in line.assumptions


@pytest.mark.parametrize(
    ("instances", "base", "spot_percent", "expected"),
    [
        ("3", 1, 100, ("1", "2")),
        ("0.5", 1, 100, ("0.5", "0")),
        ("5", 1, 50, ("3", "2")),
        ("4", 0, 100, ("0", "4")),
        ("4", 2, 0, ("4", "0")),
    ],
)
def test_capacity_splits_as_the_group_does(
    instances: str, base: int, spot_percent: int, expected: tuple[str, str]
) -> None:
    on_demand, spot = split_capacity(Decimal(instances), base, spot_percent)
    assert (on_demand, spot) == (Decimal(expected[0]), Decimal(expected[1]))


def test_volumes_bill_for_the_hours_the_instances_run(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, usage=FleetUsage(average_instances=3, hours_per_month=365))
    [volumes] = [line for line in estimate.lines if line.price_source.endswith("gp3/us-east-1/Storage")]
    assert volumes.monthly_quantity == Decimal(3 * 128) / 2
    assert volumes.monthly_cost == Decimal(3 * 128) / 2 * Decimal("0.08")


def test_baseline_is_the_same_instance_hours_all_on_demand(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, usage=FleetUsage(average_instances=3, hours_per_month=286))
    assert estimate.baseline is not None
    [instances, volumes] = estimate.baseline.lines
    assert instances.pricing_category == "OnDemand" and instances.monthly_quantity == 3 * 286
    assert volumes.monthly_cost == estimate.lines[-1].monthly_cost


def test_an_all_on_demand_fleet_saves_nothing_and_has_no_spot_line(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, spot_percent_above_base=0)
    assert all(line.pricing_category == "OnDemand" for line in estimate.lines)
    assert estimate.savings_usd == 0


def test_inf2_is_compared_with_one_g5_xlarge_per_inferentia2_chip(catalog: PriceCatalog) -> None:
    usage = FleetUsage(average_instances=2, hours_per_month=286)
    gpu = estimate_gpu_comparison(
        instance_type="inf2.24xlarge", root_volume_gib=128, usage=usage, catalog=catalog, region=REGION
    )
    assert gpu.pattern == GPU_PATTERN
    [instances, _volumes] = gpu.lines
    assert instances.price_source == f"AmazonEC2/{GPU_COMPARISON_TYPE}/us-east-1/OnDemand"
    assert instances.monthly_quantity == 2 * 6 * 286  # 6 chips per inf2.24xlarge


def test_the_gpu_comparison_total_is_in_the_notes_for_inf2_only(catalog: PriceCatalog) -> None:
    inf2 = _estimate(catalog, usage=FleetUsage(average_instances=3, hours_per_month=286))
    [note] = [n for n in inf2.notes if GPU_COMPARISON_TYPE in n]
    assert "3 x g5.xlarge" in note and "$875.18/month" in note and "saves $546.55 (62 %)" in note
    graviton = _estimate(
        catalog,
        accelerator="graviton",
        instance_types=list(DEFAULT_INSTANCE_TYPES["graviton"]),
        root_volume_gib=32,
    )
    assert not any(GPU_COMPARISON_TYPE in n for n in graviton.notes)


def test_graviton_spot_uses_its_own_familys_discount(catalog: PriceCatalog) -> None:
    estimate = _estimate(
        catalog, accelerator="graviton", instance_types=["m7g.xlarge", "c7g.2xlarge"], root_volume_gib=32
    )
    [spot] = [line for line in estimate.lines if line.pricing_category == "Dynamic"]
    assert any("for m7g in us-east-1" in a for a in spot.assumptions)


def test_warm_pool_volumes_are_priced_for_the_stopped_instances(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, spot_percent_above_base=0, warm_pool=True)
    [warm] = [line for line in estimate.lines if "warm-pool" in line.component]
    assert warm.monthly_quantity == (6 - 3) * 128


def test_off_hours_with_730_hours_is_flagged_in_the_notes(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, off_hours=True)
    assert any("counts no off-hours saving" in note for note in estimate.notes)
    assert not any(
        "counts no off-hours saving" in n
        for n in _estimate(catalog, off_hours=True, usage=FleetUsage(hours_per_month=286)).notes
    )


def test_public_addresses_are_named_not_silently_priced_at_zero(catalog: PriceCatalog) -> None:
    estimate = _estimate(
        catalog, public_ipv4=True, usage=FleetUsage(average_instances=3, hours_per_month=286)
    )
    [note] = [n for n in estimate.notes if "public IPv4" in n]
    assert "about $4.29/month" in note


def test_a_family_without_a_spot_assumption_fails_with_the_override_hint(catalog: PriceCatalog) -> None:
    with pytest.raises(UnknownPriceError) as raised:
        _estimate(catalog, region="eu-central-1")
    message = str(raised.value)
    assert "no Spot discount assumption for instance family 'inf2' (inf2.xlarge) in eu-central-1" in message
    assert '"inferwise:prices"' in message


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("average_instances", -1, "FleetUsage.average_instances must be >= 0, got -1"),
        ("hours_per_month", 731, "FleetUsage.hours_per_month must be between 0 and 730, got 731"),
        ("average_instances", True, "FleetUsage.average_instances must be a number >= 0, got True"),
    ],
)
def test_bad_usage_is_refused_with_a_clear_message(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        FleetUsage(**{field: value})  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_every_accepted_instance_type_has_an_us_east_1_price(catalog: PriceCatalog) -> None:
    for instance_type in EC2_INSTANCE_SPECS:
        assert catalog.price("AmazonEC2", instance_type, REGION, "OnDemand").unit_price > 0


def test_default_instance_types_are_priced_with_spot_in_every_catalogue_region(catalog: PriceCatalog) -> None:
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        for types in DEFAULT_INSTANCE_TYPES.values():
            for instance_type in types:
                assert catalog.price("AmazonEC2", instance_type, region, "OnDemand")
            assert catalog.spot_discount(types[0], region).average > 0


def test_a_usage_file_changes_the_usage_and_is_named_in_the_assumptions(tmp_path: Path) -> None:
    usage_file = tmp_path / "inferwise-usage.yml"
    usage_file.write_text(
        "version: 1\nconstructs:\n  'Fleet/Chat':\n    average_instances: 5\n    hours_per_month: 100\n"
    )
    app = cdk.App(context={**CONTEXT, "inferwise:usage-file": str(usage_file)})
    stack = cdk.Stack(app, "Fleet", env=cdk.Environment(region=REGION))
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
    )
    fleet = SpotInferenceFleet(
        stack,
        "Chat",
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        accelerator="inferentia2",
        max_capacity=6,
        serving=ContainerServing(image="public.ecr.aws/example/server:1"),
    )
    assert fleet.usage == FleetUsage(average_instances=5, hours_per_month=100)
    assert "average_instances=5 from usage file inferwise-usage.yml (constructs.Fleet/Chat)" in (
        fleet.cost_estimate.assumptions
    )


def test_reference_stack_records_its_estimate_on_the_group(reference_stacks: dict[str, cdk.Stack]) -> None:
    stack = reference_stacks["SpotFleetStack"]
    fleet = stack.node.find_child("Chat")
    assert isinstance(fleet, SpotInferenceFleet)
    group = fleet.auto_scaling_group.node.default_child
    assert isinstance(group, cdk.CfnResource)
    recorded = CostEstimate.from_json(stack.resolve(group.get_metadata(COST_METADATA_KEY)))
    assert recorded == fleet.cost_estimate
    assert recorded.construct_path == "SpotFleetStack/Chat"
    assert fleet.gpu_comparison is not None and fleet.gpu_comparison.pattern == GPU_PATTERN
