"""The self-hosted options: a SageMaker endpoint always on, a `ScaleToZeroEndpoint`, and a
`SpotInferenceFleet` on Inferentia2 and on Graviton, each with as many instances as the workload's peak needs.

Both SageMaker options come from the `scale_to_zero` estimator (the always-on endpoint is the baseline it
builds), both fleets from `spot_fleet`. A month is 730 h, so a day is 730/24 h and at 24 active hours a day
every option bills exactly the 730 h an always-on option does.
"""

from __future__ import annotations

from decimal import Decimal

from inferwise.cost.advisor.capacity import Capacity, capacity_for
from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.options import (
    OPTION_NAMES,
    ServingOption,
    estimate_confidence,
    min_confidence,
    unavailable,
    volume_text,
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
from inferwise.cost.model import HOURS_PER_MONTH, Confidence, CostEstimate
from inferwise.cost.specs.ec2 import DEFAULT_ROOT_VOLUME_GIB, EC2_INSTANCE_SPECS

SPOT_ON_DEMAND_BASE = 1
SPOT_PERCENT_ABOVE_BASE = 100
"""The `SpotInferenceFleet` defaults `on_demand_base=1` and `spot_percent_above_base=100`, repeated here so
the advisor imports no CDK; tests check they agree."""

SELF_HOSTED_MODEL_NOTE = (
    "Self-hosted options serve an open-weight model you deploy; they are comparable only if that model does "
    "the job as well as {model}. The throughput defaults are for an 8B-parameter model (Llama 2 7B / Llama 3 "
    "8B class)."
)


def _self_hosted_assumptions(workload: Workload, kind: SelfHostedKind, capacity: Capacity) -> tuple[str, ...]:
    throughput, source, is_default = workload.throughput(kind)
    label = "LOW confidence default" if is_default else "your measurement"
    return (
        volume_text(workload),
        f"{number_text(throughput)} input + output tokens/s per {workload.instance_type(kind)} ({label}: {source})",
        f"peak {rate_text(capacity.peak_tokens_per_second)} tokens/s = {count_text(workload.monthly_tokens)} tokens / "
        f"({number_text(to_decimal(workload.active_hours_per_day))} active h/day x 3,600 s x 730/24 days) x peak-to-average "
        f"{number_text(to_decimal(workload.peak_to_average))}",
        f"{capacity.instances} instance(s) = ceil(peak {rate_text(capacity.peak_tokens_per_second)} / "
        f"{number_text(throughput)} tokens/s per instance), provisioned for the peak through every active hour "
        "(scaling between average and peak is not modelled, so this is an upper bound)",
        SELF_HOSTED_MODEL_NOTE.format(model=workload.model_id),
    )


def _self_hosted_confidence(workload: Workload, kind: SelfHostedKind, estimate: CostEstimate) -> Confidence:
    is_default = workload.throughput(kind)[2]
    return min_confidence(estimate_confidence(estimate), "low" if is_default else "high")


def _endpoint_usage(workload: Workload, instances: int) -> EndpointUsage:
    hours = float(workload.active_hours_per_day)
    return EndpointUsage(
        active_hours_per_day=hours,
        days_per_month=float(DAYS_PER_MONTH),
        instances_while_active=instances,
        cold_starts_per_day=0.0 if hours >= 24 else 1.0,
    )


def _scale_to_zero_estimate(
    workload: Workload, catalog: PriceCatalog
) -> tuple[CostEstimate, Capacity, EndpointUsage]:
    capacity = capacity_for(workload, workload.throughput("sagemaker")[0])
    usage = _endpoint_usage(workload, capacity.instances)
    estimate = estimate_scale_to_zero(
        workload.sagemaker_instance_type,
        1,
        usage,
        catalog,
        workload.region,
        max_instances=capacity.instances,
    )
    return estimate, capacity, usage


def price_always_on(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """A SageMaker real-time endpoint with the peak's instances billed all 730 h of the month."""
    key = "sagemaker-always-on"
    try:
        estimate, capacity, _ = _scale_to_zero_estimate(workload, catalog)
    except UnknownPriceError as missing:
        return unavailable(workload, key, f"not priced: {missing}")
    baseline = estimate.baseline
    assert baseline is not None
    always_on = CostEstimate(
        construct_path="",
        pattern="SageMaker real-time endpoint, always on",
        region=workload.region,
        lines=baseline.lines,
        assumptions=(f"{capacity.instances} x {workload.sagemaker_instance_type} billed 730 h a month",),
        notes=("The always-on baseline of the scale-to-zero estimate: the same instances, never scaled in.",),
    )
    assumptions = _self_hosted_assumptions(workload, "sagemaker", capacity)
    if workload.realtime:
        assumptions += ("always warm: no cold start",)
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=always_on,
        instance_type=workload.sagemaker_instance_type,
        capacity=capacity,
        billed_instance_hours=HOURS_PER_MONTH * capacity.instances,
        assumptions=assumptions,
        confidence=_self_hosted_confidence(workload, "sagemaker", always_on),
    )


def price_scale_to_zero(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """A `ScaleToZeroEndpoint`: the same instances, billed for the active hours plus a wake a day."""
    key = "scale-to-zero"
    try:
        estimate, capacity, usage = _scale_to_zero_estimate(workload, catalog)
    except UnknownPriceError as missing:
        return unavailable(workload, key, f"not priced: {missing}")
    assumptions = _self_hosted_assumptions(workload, "sagemaker", capacity)
    assumptions += (
        f"traffic {number_text(to_decimal(workload.active_hours_per_day))} h every day of a 730-hour month "
        f"({number_text(DAYS_PER_MONTH.quantize(Decimal('0.01')))} days), one wake from zero a day below 24 h",
    )
    if workload.realtime and to_decimal(workload.active_hours_per_day) < 24:
        assumptions += (
            f"real-time callers wait through a cold start (about {usage.cold_start_minutes:g} min) when traffic "
            "resumes after an idle spell",
        )
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=estimate,
        instance_type=workload.sagemaker_instance_type,
        capacity=capacity,
        billed_instance_hours=billed_hours_per_instance(usage) * capacity.instances,
        assumptions=assumptions,
        confidence=_self_hosted_confidence(workload, "sagemaker", estimate),
    )


def price_spot(workload: Workload, catalog: PriceCatalog, kind: SelfHostedKind) -> ServingOption:
    """A `SpotInferenceFleet` of `kind` ("inf2" or "graviton") with its defaults, off outside active hours."""
    key = "spot-inf2" if kind == "inf2" else "spot-graviton"
    instance_type = workload.instance_type(kind)
    accelerator = EC2_INSTANCE_SPECS[instance_type].accelerator
    capacity = capacity_for(workload, workload.throughput(kind)[0])
    hours = float(HOURS_PER_MONTH * to_decimal(workload.active_hours_per_day) / 24)
    usage = FleetUsage(average_instances=float(capacity.instances), hours_per_month=min(hours, 730.0))
    try:
        estimate = estimate_spot_fleet(
            accelerator=accelerator,
            instance_types=[instance_type],
            on_demand_base=SPOT_ON_DEMAND_BASE,
            spot_percent_above_base=SPOT_PERCENT_ABOVE_BASE,
            root_volume_gib=DEFAULT_ROOT_VOLUME_GIB[accelerator],
            usage=usage,
            catalog=catalog,
            region=workload.region,
            max_capacity=capacity.instances,
            off_hours=to_decimal(workload.active_hours_per_day) < 24,
        )
    except UnknownPriceError as missing:
        return unavailable(workload, key, f"not priced: {missing}")
    on_demand, spot = split_capacity(
        Decimal(capacity.instances), SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE
    )
    assumptions = (
        *_self_hosted_assumptions(workload, kind, capacity),
        f"SpotInferenceFleet defaults: On-Demand base {SPOT_ON_DEMAND_BASE}, {SPOT_PERCENT_ABOVE_BASE} % Spot above "
        f"it: {number_text(on_demand)} On-Demand + {number_text(spot)} Spot instance(s)",
        f"the fleet runs {number_text(Decimal(str(usage.hours_per_month)).quantize(Decimal('0.01')))} h a month (off "
        "outside the active hours on a schedule)",
    )
    if workload.realtime and spot > 0:
        assumptions += (
            "a Spot interruption takes an instance away with a 2-minute warning; the On-Demand base keeps serving",
        )
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=estimate,
        instance_type=instance_type,
        capacity=capacity,
        billed_instance_hours=Decimal(capacity.instances) * Decimal(str(usage.hours_per_month)),
        assumptions=assumptions,
        confidence=_self_hosted_confidence(workload, kind, estimate),
    )
