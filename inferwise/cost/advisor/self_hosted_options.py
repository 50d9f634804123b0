"""The self-hosted options: a SageMaker endpoint always on, a `ScaleToZeroEndpoint`, `SpotInferenceFleet` on
Inferentia2 and on Graviton, and an EC2 GPU Spot fleet, each with as many instances as the workload's peak needs.

Each runs an open model (`serving.served_model`) on the smallest instance type that holds it
(`serving.select_instance`), sized from the sourced throughput (prefill and decode apart) or your
measurement, plus the people who run it (`fleet_lines.operations_line`, a line of its own). Both SageMaker
options come from the `scale_to_zero` estimator (the always-on endpoint is the baseline it builds), the
Inferentia2 and Graviton fleets from `spot_fleet`. A month is 730 h, so a day is 730/24 h.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from inferwise.cost.advisor.capacity import Capacity, capacity_for
from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.fleet_lines import estimate_gpu_spot_fleet, with_operations
from inferwise.cost.advisor.options import (
    OPTION_NAMES,
    ServingOption,
    estimate_confidence,
    min_confidence,
    unavailable,
    volume_text,
)
from inferwise.cost.advisor.serving import (
    DIFFERENT_MODEL,
    Selection,
    ServedModel,
    select_instance,
    served_model,
)
from inferwise.cost.advisor.throughput import SelfHostedKind
from inferwise.cost.advisor.wording import count_text, number_text, rate_text
from inferwise.cost.advisor.workload import DAYS_PER_MONTH, Workload
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.scale_to_zero import (
    EndpointUsage,
    billed_hours_per_instance,
    estimate_scale_to_zero,
)
from inferwise.cost.estimators.spot_fleet import FleetUsage, estimate_spot_fleet, split_capacity
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate
from inferwise.cost.specs.ec2 import DEFAULT_ROOT_VOLUME_GIB, EC2_INSTANCE_SPECS
from inferwise.cost.validation import InvalidValueError

SPOT_ON_DEMAND_BASE = 1
SPOT_PERCENT_ABOVE_BASE = 100
"""The `SpotInferenceFleet` defaults `on_demand_base=1` and `spot_percent_above_base=100`, repeated here so
the advisor imports no CDK; tests check they agree."""

SELF_HOSTED_MODEL_NOTE = f"Self-hosted options serve an open-weight model you deploy; a substitute for a closed model is {DIFFERENT_MODEL}."


@dataclass(frozen=True)
class Plan:
    """What a self-hosted option runs: the model, the instance, and how many for the peak."""

    served: ServedModel
    selection: Selection
    capacity: Capacity

    @property
    def instance_type(self) -> str:
        return self.selection.instance_type


def plan_for(workload: Workload, catalog: PriceCatalog, kind: SelfHostedKind) -> Plan | str:
    """The model, instance and capacity of a kind of self-hosting, or why it cannot be priced."""
    served = served_model(workload, catalog)
    if isinstance(served, str):
        return served
    selection = select_instance(workload, kind, served.model)
    if isinstance(selection, str):
        return selection
    assert selection.throughput is not None
    rate = selection.throughput.tokens_per_second(
        workload.input_tokens_per_request, workload.output_tokens_per_request
    )
    return Plan(served, selection, capacity_for(workload, rate))


def peak_sizing(workload: Workload, capacity: Capacity) -> tuple[str, ...]:
    """How a fleet provisioned for the peak is sized: the peak, and the instances it needs."""
    return (
        f"peak {rate_text(capacity.peak_tokens_per_second)} tokens/s = {count_text(workload.monthly_tokens)} tokens / "
        f"({number_text(to_decimal(workload.active_hours_per_day))} active h/day x 3,600 s x 730/24 days) x "
        f"peak-to-average {number_text(to_decimal(workload.peak_to_average))}",
        f"{capacity.instances} instance(s) = ceil(peak {rate_text(capacity.peak_tokens_per_second)} / "
        f"{rate_text(capacity.tokens_per_second_per_instance)} tokens/s per instance), provisioned for the peak "
        "through every active hour (scaling between average and peak is not modelled: an upper bound)",
    )


def plan_assumptions(
    workload: Workload, plan: Plan, sizing: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """What a self-hosted option rests on: the volume, the model, the fit, the throughput and how it is sized
    (`sizing`, by default provisioned for the peak)."""
    model, selection = plan.served.model, plan.selection
    throughput = selection.throughput
    assert throughput is not None
    served = (
        f"serves {model.name} at {workload.precision}, {DIFFERENT_MODEL} with {workload.model_id}"
        if plan.served.different
        else f"serves {model.name} at {workload.precision}, the open weights of {workload.model_id}"
    )
    texts = [volume_text(workload), served, selection.fit.text]
    if selection.passed_over:
        texts.append(f"smaller types passed over: {selection.why_not_smaller}")
    texts += [
        f"throughput ({throughput.confidence} confidence): {throughput.source}",
        throughput.arithmetic(workload.input_tokens_per_request, workload.output_tokens_per_request),
    ]
    return (*texts, *(peak_sizing(workload, plan.capacity) if sizing is None else sizing))


def plan_option(
    workload: Workload,
    key: str,
    plan: Plan,
    estimate: CostEstimate,
    hours: Decimal | None,
    extra: tuple[str, ...],
    *,
    sizing: tuple[str, ...] | None = None,
) -> ServingOption:
    """A priced self-hosted option: its plan (model, instance, capacity), estimate, billed instance-hours (None
    where nothing is billed by the hour) and assumptions (`sizing` replaces the peak sizing)."""
    throughput = plan.selection.throughput
    assert throughput is not None
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=estimate,
        instance_type=plan.instance_type,
        capacity=plan.capacity if hours is not None else None,
        billed_instance_hours=hours,
        assumptions=(*plan_assumptions(workload, plan, sizing), *extra),
        confidence=min_confidence(estimate_confidence(estimate), throughput.confidence),
        served_model=plan.served.model.name,
        different_model=plan.served.different,
        throughput_confidence=throughput.confidence,
    )


def endpoint_usage(workload: Workload, instances: int) -> EndpointUsage:
    hours = float(workload.active_hours_per_day)
    return EndpointUsage(
        active_hours_per_day=hours,
        days_per_month=float(DAYS_PER_MONTH),
        instances_while_active=instances,
        cold_starts_per_day=0.0 if hours >= 24 else 1.0,
    )


def _sagemaker(workload: Workload, catalog: PriceCatalog, key: str) -> ServingOption:
    plan = plan_for(workload, catalog, "sagemaker")
    if isinstance(plan, str):
        return unavailable(workload, key, plan)
    try:
        usage = endpoint_usage(workload, plan.capacity.instances)
        estimate = estimate_scale_to_zero(
            plan.instance_type, 1, usage, catalog, workload.region, max_instances=plan.capacity.instances
        )
    except (UnknownPriceError, InvalidValueError) as refused:
        return unavailable(workload, key, f"not priced: {refused}")
    if key == "scale-to-zero":
        extra: tuple[str, ...] = (
            f"traffic {number_text(to_decimal(workload.active_hours_per_day))} h every day of a 730-hour month "
            f"({number_text(DAYS_PER_MONTH.quantize(Decimal('0.01')))} days), one wake from zero a day below 24 h",
        )
        if workload.realtime and to_decimal(workload.active_hours_per_day) < 24:
            extra += (
                f"real-time callers wait through a cold start (about {usage.cold_start_minutes:g} min) when "
                "traffic resumes after an idle spell",
            )
        hours = billed_hours_per_instance(usage) * plan.capacity.instances
        return plan_option(workload, key, plan, with_operations(estimate, workload, catalog), hours, extra)
    baseline = estimate.baseline
    assert baseline is not None
    always_on = CostEstimate(
        construct_path="",
        pattern="SageMaker real-time endpoint, always on",
        region=workload.region,
        lines=baseline.lines,
        assumptions=(f"{plan.capacity.instances} x {plan.instance_type} billed 730 h a month",),
        notes=("The always-on baseline of the scale-to-zero estimate: the same instances, never scaled in.",),
    )
    extra = ("always warm: no cold start",) if workload.realtime else ()
    hours = HOURS_PER_MONTH * plan.capacity.instances
    return plan_option(workload, key, plan, with_operations(always_on, workload, catalog), hours, extra)


def price_always_on(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """A SageMaker real-time endpoint with the peak's instances billed all 730 h of the month."""
    return _sagemaker(workload, catalog, "sagemaker-always-on")


def price_scale_to_zero(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """A `ScaleToZeroEndpoint`: the same instances, billed for the active hours plus a wake a day."""
    return _sagemaker(workload, catalog, "scale-to-zero")


SPOT_KEYS: dict[SelfHostedKind, str] = {"inf2": "spot-inf2", "gpu": "spot-gpu", "graviton": "spot-graviton"}


def price_spot(workload: Workload, catalog: PriceCatalog, kind: SelfHostedKind) -> ServingOption:
    """A Spot fleet of `kind` ("inf2", "gpu" or "graviton") with SpotInferenceFleet's defaults."""
    key = SPOT_KEYS[kind]
    plan = plan_for(workload, catalog, kind)
    if isinstance(plan, str):
        return unavailable(workload, key, plan)
    instances = plan.capacity.instances
    hours = min(HOURS_PER_MONTH * to_decimal(workload.active_hours_per_day) / 24, HOURS_PER_MONTH)
    try:
        if kind == "gpu":
            estimate = estimate_gpu_spot_fleet(plan.instance_type, instances, hours, catalog, workload.region)
        else:
            accelerator = EC2_INSTANCE_SPECS[plan.instance_type].accelerator
            estimate = estimate_spot_fleet(
                accelerator=accelerator,
                instance_types=[plan.instance_type],
                on_demand_base=SPOT_ON_DEMAND_BASE,
                spot_percent_above_base=SPOT_PERCENT_ABOVE_BASE,
                root_volume_gib=DEFAULT_ROOT_VOLUME_GIB[accelerator],
                usage=FleetUsage(average_instances=float(instances), hours_per_month=float(hours)),
                catalog=catalog,
                region=workload.region,
                max_capacity=instances,
                off_hours=to_decimal(workload.active_hours_per_day) < 24,
            )
    except (UnknownPriceError, InvalidValueError) as refused:
        return unavailable(workload, key, f"not priced: {refused}")
    on_demand, spot = split_capacity(Decimal(instances), SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE)
    extra: tuple[str, ...] = (
        f"On-Demand base {SPOT_ON_DEMAND_BASE}, {SPOT_PERCENT_ABOVE_BASE} % Spot above it: {number_text(on_demand)} "
        f"On-Demand + {number_text(spot)} Spot instance(s)",
        f"the fleet runs {number_text(hours.quantize(Decimal('0.01')))} h a month (off outside the active hours "
        "on a schedule)",
    )
    if workload.realtime and spot > 0:
        extra += (
            "a Spot interruption takes an instance away with a 2-minute warning; the On-Demand base keeps serving",
        )
    estimate = with_operations(estimate, workload, catalog)
    return plan_option(workload, key, plan, estimate, Decimal(instances) * hours, extra)
