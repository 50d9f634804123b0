"""The scale-to-zero estimate: what idle hours save, when always-on wins, and that every figure is a catalogue price."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Annotations, Match

from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
from inferwise.cost.advisor import Workload, price_option
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.scale_to_zero import (
    BASELINE_PATTERN,
    PATTERN,
    EndpointUsage,
    billed_hours_per_instance,
    estimate_scale_to_zero,
)
from inferwise.cost.model import COST_METADATA_KEY, HOURS_PER_MONTH, CostEstimate
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS
from inferwise.stacks.scale_to_zero import TGI_IMAGE
from tests.harness.synth import CONTEXT

REGION = "us-east-1"
ALWAYS_ON_NOTE = "consider an always-on endpoint"


@pytest.fixture(scope="module")
def catalog() -> PriceCatalog:
    return PriceCatalog.bundled()


def _estimate(
    catalog: PriceCatalog, usage: EndpointUsage, instance_type: str = "ml.g5.xlarge"
) -> CostEstimate:
    return estimate_scale_to_zero(instance_type, 1, usage, catalog, REGION, max_instances=2)


def test_working_hours_cost_under_35_percent_of_the_same_instance_always_on(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22))
    assert estimate.baseline is not None
    assert estimate.pattern == PATTERN and estimate.baseline.pattern == BASELINE_PATTERN
    assert estimate.monthly_total < Decimal("0.35") * estimate.baseline.monthly_total
    assert not any(ALWAYS_ON_NOTE in note for note in estimate.notes)


def test_round_the_clock_traffic_is_not_cheaper_than_always_on_and_the_estimate_says_so(
    catalog: PriceCatalog,
) -> None:
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=24, days_per_month=31))
    assert estimate.baseline is not None
    assert estimate.monthly_total >= estimate.baseline.monthly_total
    [note] = [n for n in estimate.notes if ALWAYS_ON_NOTE in n]
    assert note.startswith("At 24 active h/day on 31 days the endpoint is almost never idle")


def test_the_construct_warns_at_synth_when_always_on_is_cheaper() -> None:
    stack = cdk.Stack(cdk.App(context=CONTEXT), "Busy", env=cdk.Environment(region=REGION))
    ScaleToZeroEndpoint(
        stack,
        "Chat",
        instance_type="ml.g5.xlarge",
        models=[InferenceModel(name="qwen", image_uri=TGI_IMAGE, memory_mb=1024)],
        usage=EndpointUsage(active_hours_per_day=24, days_per_month=31),
    )
    Annotations.from_stack(stack).has_warning(
        "/Busy/Chat",
        Match.string_like_regexp(
            r"^At 24 active h/day on 31 days/month, scaling ml\.g5\.xlarge to zero saves nothing"
        ),
    )


def test_a_usage_file_changes_the_usage_and_is_named_in_the_assumptions(tmp_path: Path) -> None:
    usage_file = tmp_path / "inferwise-usage.yml"
    usage_file.write_text('version: 1\nconstructs:\n  "FromFile/Chat":\n    active_hours_per_day: 4\n')
    app = cdk.App(context={**CONTEXT, "inferwise:usage-file": str(usage_file)})
    stack = cdk.Stack(app, "FromFile", env=cdk.Environment(region=REGION))
    endpoint = ScaleToZeroEndpoint(
        stack,
        "Chat",
        instance_type="ml.g5.xlarge",
        models=[InferenceModel(name="qwen", image_uri=TGI_IMAGE, memory_mb=1024)],
        usage=EndpointUsage(active_hours_per_day=9, days_per_month=22),
    )
    assert endpoint.usage.active_hours_per_day == 4
    assert "active_hours_per_day=4 from usage file inferwise-usage.yml (constructs.FromFile/Chat)" in (
        endpoint.cost_estimate.assumptions
    )


def test_the_reference_stack_does_not_warn(reference_stacks: dict[str, cdk.Stack]) -> None:
    Annotations.from_stack(reference_stacks["ScaleToZeroEndpointStack"]).has_no_warning(
        "*", Match.string_like_regexp("always-on")
    )


@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "ml.inf2.xlarge"])  # without and with ML storage
def test_every_figure_is_a_catalogue_price(catalog: PriceCatalog, instance_type: str) -> None:
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22), instance_type)
    assert estimate.baseline is not None
    lines = [*estimate.lines, *estimate.baseline.lines]
    assert {line.service_code for line in lines} == {"AmazonSageMaker", "AmazonCloudWatch"}
    for line in lines:
        service, sku, region, dimension = line.price_source.split("/")
        record = catalog.price(service, sku, region, dimension)
        assert line.price_source == record.key
        assert line.unit_price == record.unit_price
        assert line.price_as_of == record.as_of
        assert line.monthly_cost == catalog.cost(service, sku, region, dimension, line.monthly_quantity)


def test_instance_hours_are_active_hours_plus_one_cold_start_and_scale_in_tail_per_day(
    catalog: PriceCatalog,
) -> None:
    usage = EndpointUsage(
        active_hours_per_day=9, days_per_month=22, cold_start_minutes=10, scale_in_tail_minutes=27
    )
    expected = (Decimal(9) + Decimal(37) / 60) * 22
    assert billed_hours_per_instance(usage) == expected
    compute, alarms = _estimate(catalog, usage).lines
    assert compute.monthly_quantity == expected
    assert compute.price_source == "AmazonSageMaker/ml.g5.xlarge/us-east-1/Hosting"
    assert alarms.monthly_quantity == 3  # wake alarm + target tracking's high and low alarms
    assert alarms.price_source == "AmazonCloudWatch/standard/us-east-1/StandardAlarm"


def test_instances_while_active_multiply_both_the_estimate_and_the_baseline(catalog: PriceCatalog) -> None:
    one = _estimate(catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22))
    two = _estimate(
        catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22, instances_while_active=2)
    )
    assert two.lines[0].monthly_quantity == 2 * one.lines[0].monthly_quantity
    assert two.baseline is not None and one.baseline is not None
    assert two.baseline.monthly_total == 2 * one.baseline.monthly_total


def test_a_day_bills_at_most_24_hours_and_a_month_at_most_730(catalog: PriceCatalog) -> None:
    assert billed_hours_per_instance(EndpointUsage(active_hours_per_day=23.9, days_per_month=10)) == 240
    assert billed_hours_per_instance(EndpointUsage(active_hours_per_day=24, days_per_month=31)) == 730


def test_no_traffic_bills_only_the_alarms(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=0))
    compute, alarms = estimate.lines
    assert compute.monthly_cost == 0
    assert estimate.monthly_total == alarms.monthly_cost > 0


def test_notes_carry_the_cold_start_the_first_deployment_and_the_ceiling(catalog: PriceCatalog) -> None:
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22))
    first_deploy = catalog.cost("AmazonSageMaker", "ml.g5.xlarge", REGION, "Hosting", Decimal(27) / 60)
    assert any("HTTP 400 'no capacity'" in note for note in estimate.notes)
    assert any(
        note.startswith("Each deployment that (re)creates the inference components")
        and f"about ${first_deploy.quantize(Decimal('0.01'))} each time" in note
        for note in estimate.notes
    )
    assert any(
        note.startswith("Ceiling if traffic never stops: 2 instance(s) x 730 h") for note in estimate.notes
    )


def test_golden_ml_inf2_xlarge_pays_its_ml_storage_volume_only_while_it_runs(catalog: PriceCatalog) -> None:
    """Hand-computed figures, us-east-1 catalogue: ml.inf2.xlarge $0.99/h, ML storage $0.14/GB-month, alarm $0.10.

    Billed hours: (9 h active + 10 min cold start + 27 min scale-in tail) x 22 days
                  = (9 + 37/60) h x 22 = 211.566667 h (6347/30 h)
    Instance:     211.566667 h x $0.99                                  = $209.451000
    ML storage:   30 GB x 211.566667 h / 730 h = 8.694521 GB-month x $0.14 = $1.217233
    Alarms:       3 x $0.10                                              = $0.300000
    Total:        209.451 + 1.217233 + 0.30                              = $210.968233
    Always on:    730 h x $0.99 = $722.70, + 30 GB x 730/730 x $0.14 = $4.20 -> $726.90
    Ceiling note: 2 instances x 730 h x $0.99 = $1,445.40 + 2 x 30 GB x $0.14 = $8.40 -> $1,453.80
    """
    estimate = _estimate(catalog, EndpointUsage(active_hours_per_day=9, days_per_month=22), "ml.inf2.xlarge")
    compute, storage, alarms = estimate.lines
    six = Decimal("0.000001")
    assert compute.monthly_quantity.quantize(six) == Decimal("211.566667")
    assert compute.monthly_cost.quantize(six) == Decimal("209.451000")
    assert (
        storage.component == "ML storage volume (30 GB gp2 per ml.inf2.xlarge instance, billed while it runs)"
    )
    assert storage.price_source == "AmazonSageMaker/gp2/us-east-1/HostingStorage"
    assert (storage.pricing_unit, storage.unit_price) == ("GB-Mo", Decimal("0.14"))
    assert storage.usage_type == "USE1-Host:VolumeUsage.gp2"
    assert storage.monthly_quantity.quantize(six) == Decimal("8.694521")
    assert storage.monthly_cost.quantize(six) == Decimal("1.217233")
    assert storage.assumptions == (
        "30 GB x 1 instance(s) x 211.57 h / 730 h: ml.inf2.xlarge has no local NVMe storage, so SageMaker "
        "attaches an EBS gp2 ML storage volume to each instance (30 GB, its default: the construct sets no "
        "VolumeSizeInGB), billed per GB-month while the instance runs",
    )
    assert alarms.monthly_cost == Decimal("0.30")
    assert estimate.monthly_total.quantize(six) == Decimal("210.968233")
    assert estimate.baseline is not None
    on, on_storage = estimate.baseline.lines
    assert (on.monthly_cost, on_storage.monthly_quantity, on_storage.monthly_cost) == (
        Decimal("722.70"),
        Decimal(30),
        Decimal("4.20"),
    )
    assert on_storage.component == "ML storage volume (30 GB gp2 per ml.inf2.xlarge instance, always on)"
    assert estimate.baseline.monthly_total == Decimal("726.90")
    assert (
        "Ceiling if traffic never stops: 2 instance(s) (with 30 GB of ML storage each) x 730 h = $1,453.80/month "
        "plus alarms."
    ) in estimate.notes
    assert not any("leaves it out" in note for note in estimate.notes)


@pytest.mark.parametrize("instance_type", sorted(INSTANCE_SPECS))
def test_only_instances_without_local_nvme_get_a_storage_line(
    catalog: PriceCatalog, instance_type: str
) -> None:
    estimate = _estimate(catalog, EndpointUsage(), instance_type)
    assert estimate.baseline is not None
    storage = [
        line
        for line in (*estimate.lines, *estimate.baseline.lines)
        if line.price_source.endswith("HostingStorage")
    ]
    assert len(storage) == (0 if INSTANCE_SPECS[instance_type].local_nvme else 2), instance_type


def test_the_construct_and_the_advisor_price_the_storage_through_the_same_estimator(
    catalog: PriceCatalog,
) -> None:
    usage = EndpointUsage(active_hours_per_day=9, days_per_month=22)
    stack = cdk.Stack(cdk.App(context=CONTEXT), "Neuron", env=cdk.Environment(region=REGION))
    endpoint = ScaleToZeroEndpoint(
        stack,
        "Chat",
        instance_type="ml.inf2.xlarge",
        models=[InferenceModel(name="qwen", image_uri=TGI_IMAGE, memory_mb=1024)],
        max_instances=2,
        usage=usage,
    )
    direct = _estimate(catalog, usage, "ml.inf2.xlarge")
    assert endpoint.cost_estimate.lines == direct.lines
    assert endpoint.cost_estimate.baseline is not None and direct.baseline is not None
    assert endpoint.cost_estimate.baseline.lines == direct.baseline.lines

    workload = Workload(
        model_id="meta.llama3-1-8b-instruct-v1:0",
        requests_per_month=1_000_000,
        input_tokens_per_request=500,
        output_tokens_per_request=200,
        sagemaker_instance_type="ml.inf2.xlarge",
    )
    for key in ("scale-to-zero", "sagemaker-always-on"):
        option = price_option(workload, key, catalog)
        assert option.estimate is not None and option.instances is not None, key
        storage = [line for line in option.estimate.lines if line.price_source.endswith("HostingStorage")]
        assert len(storage) == 1, key
        hours = option.billed_instance_hours
        assert hours is not None
        expected = Decimal(30) * hours / HOURS_PER_MONTH * Decimal("0.14")
        assert abs(storage[0].monthly_cost - expected) < Decimal("0.000001"), key


def test_reference_stack_records_its_estimate_on_the_endpoint(reference_stacks: dict[str, cdk.Stack]) -> None:
    stack = reference_stacks["ScaleToZeroEndpointStack"]
    endpoint = stack.endpoint  # type: ignore[attr-defined]
    estimate = endpoint.cost_estimate
    assert estimate.construct_path == "ScaleToZeroEndpointStack/Chat"
    template = stack.resolve(endpoint.endpoint.get_metadata(COST_METADATA_KEY))
    assert CostEstimate.from_json(template) == estimate


@pytest.mark.parametrize("instance_type", sorted(INSTANCE_SPECS))
def test_every_accepted_instance_type_has_a_sagemaker_hosting_price(
    catalog: PriceCatalog, instance_type: str
) -> None:
    record = catalog.price("AmazonSageMaker", instance_type, REGION, "Hosting")
    assert record.unit == "Hrs" and record.unit_price > 0
