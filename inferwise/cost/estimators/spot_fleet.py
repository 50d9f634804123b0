"""Cost of a Spot inference fleet (EC2 Auto Scaling, Inferentia2 or Graviton) with an On-Demand base.

Pure: (fleet shape, usage, price catalogue, Region) -> CostEstimate; no CDK.

What is billed, per month, while the fleet runs (`FleetUsage.hours_per_month`):
- the On-Demand part: the first `on_demand_base` running instances, plus `100 - spot_percent_above_base`
  percent of those above the base, at the catalogue's On-Demand price;
- the Spot part: the rest, at the On-Demand price less the catalogue's average Spot discount for the
  family in the Region (an assumption, not a price: the line is `Dynamic` and names its source);
- the encrypted gp3 root volume of every running instance (deleted with the instance), and of the stopped
  instances a warm pool keeps.
Everything is priced on the first (preferred) instance type of the fleet; an assumption says so.

The baseline is the same instance-hours all On-Demand. For Inferentia2 a second comparison,
`estimate_gpu_comparison`, prices the same accelerators as On-Demand g5.xlarge (one NVIDIA A10G per
Inferentia2 chip), the GPU fleet a team would otherwise run; its total appears in the estimate's notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING

from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
from inferwise.cost.render import usd
from inferwise.cost.specs.ec2 import Accelerator, ec2_instance_spec
from inferwise.cost.validation import InvalidValueError, check_number

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

PATTERN = "spot inference fleet"
BASELINE_PATTERN = "all On-Demand fleet"
GPU_PATTERN = "On-Demand GPU fleet"

EC2_SERVICE = "AmazonEC2"
ON_DEMAND_DIMENSION = "OnDemand"
EBS_SKU = "gp3"
EBS_DIMENSION = "Storage"

GPU_COMPARISON_TYPE = "g5.xlarge"
"""One NVIDIA A10G (24 GiB), 4 vCPUs, 16 GiB: the smallest common On-Demand GPU for LLM serving."""

PUBLIC_IPV4_USD_PER_HOUR = Decimal("0.005")
"""AWS's public IPv4 address charge (since 2024-02-01); not in the bundled catalogue, so only named in a note."""


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class FleetUsage:
    """How much the fleet runs; every figure appears in the estimate's assumptions.

    - `average_instances`: instances running on average while the fleet is on (0 or more, at most the
      construct's `max_capacity`). Default 1: one instance around the clock. Set it to what your traffic
      needs; it is split into On-Demand and Spot as the group would split a constant count.
    - `hours_per_month`: hours a month the fleet is on (0-730). Default 730. With `off_hours` the
      construct does not derive it from the cron expressions: set it yourself (e.g. 13 h x 22 weekdays = 286).
    """

    average_instances: float = 1.0
    hours_per_month: float = 730.0

    def __post_init__(self) -> None:
        check_number("FleetUsage.average_instances", self.average_instances, low=0, cap=MAX_FLEET_INSTANCES)
        check_number("FleetUsage.hours_per_month", self.hours_per_month, low=0, high=HOURS_PER_MONTH)


MAX_FLEET_INSTANCES = 10_000
"""Sanity limit of `FleetUsage.average_instances` (and of the construct's capacities)."""


def usage_floor_problem(usage: FleetUsage, min_capacity: int, off_hours: bool) -> str | None:
    """Why `usage` prices less than the group's floor forces, or None when it does not.

    A group with `min_capacity=N` keeps N instances running whenever it is on: all month without an off-hours
    schedule, during the on hours with one. An estimate below that floor (e.g. `hours_per_month=0` with
    `min_capacity=1`, an On-Demand inf2 at $0.00) would be silently wrong, so the construct refuses it.
    """
    if min_capacity <= 0:
        return None
    fixes = (
        f"raise them (FleetUsage(average_instances>={min_capacity}"
        + ("" if off_hours else ", hours_per_month=730")
        + "))"
        + ("" if off_hours else ", add off_hours to stop the fleet on a schedule,")
        + " or lower min_capacity"
    )
    if Decimal(str(usage.average_instances)) < min_capacity:
        return (
            f"usage.average_instances must be >= min_capacity ({min_capacity}), got {usage.average_instances:g}: "
            f"the group never runs fewer than {min_capacity} instance(s) while it is on; {fixes}"
        )
    if not off_hours and Decimal(str(usage.hours_per_month)) < HOURS_PER_MONTH:
        return (
            f"usage.hours_per_month must be 730 when min_capacity={min_capacity} and there is no off_hours schedule, "
            f"got {usage.hours_per_month:g}: the group keeps {min_capacity} instance(s) running all month; {fixes}"
        )
    return None


def split_capacity(
    instances: Decimal, on_demand_base: int, spot_percent_above_base: int
) -> tuple[Decimal, Decimal]:
    """(On-Demand, Spot) instances for `instances` running, as EC2 Auto Scaling splits a mixed group.

    The first `on_demand_base` are On-Demand; above the base, `spot_percent_above_base` percent are Spot.
    """
    on_demand = min(instances, Decimal(on_demand_base))
    above = instances - on_demand
    spot = above * Decimal(spot_percent_above_base) / 100
    return on_demand + (above - spot), spot


def _count(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _ebs_lines(
    catalog: PriceCatalog,
    region: str,
    *,
    running_gb_months: Decimal,
    root_volume_gib: int,
    running_text: str,
    warm_pool_instances: Decimal,
) -> list[CostLine]:
    lines = [
        catalog.line(
            f"gp3 root volumes, {root_volume_gib} GiB each (encrypted)",
            EC2_SERVICE,
            EBS_SKU,
            region,
            EBS_DIMENSION,
            running_gb_months,
            assumptions=(
                f"{running_text} x {root_volume_gib} GiB; a volume is deleted with its instance, so it bills only "
                "while the instance exists; gp3 baseline 3,000 IOPS and 125 MB/s are included in the price",
            ),
        )
    ]
    if warm_pool_instances > 0:
        lines.append(
            catalog.line(
                f"gp3 root volumes of stopped warm-pool instances, {root_volume_gib} GiB each",
                EC2_SERVICE,
                EBS_SKU,
                region,
                EBS_DIMENSION,
                warm_pool_instances * root_volume_gib,
                assumptions=(
                    f"the warm pool keeps up to {_count(warm_pool_instances)} stopped instance(s) (max_capacity "
                    "minus the average running) all month; stopped instances bill only for their volumes",
                ),
            )
        )
    return lines


def _usage_text(usage: FleetUsage, on_demand_base: int, spot_percent_above_base: int) -> str:
    """The usage assumption: instances on average, hours, and how the group splits them."""
    return (
        f"{usage.average_instances:g} instance(s) running on average for {usage.hours_per_month:g} h/month, "
        f"split as the group splits them: the first {on_demand_base} On-Demand, then "
        f"{spot_percent_above_base} % Spot above the base"
    )


def _instance_lines(
    catalog: PriceCatalog,
    region: str,
    *,
    instance_types: Sequence[str],
    on_demand: Decimal,
    spot: Decimal,
    usage: FleetUsage,
) -> list[CostLine]:
    """The On-Demand and Spot instance-hours, both priced on the preferred (first) instance type."""
    preferred = instance_types[0]
    hours = _decimal(usage.hours_per_month)
    preferred_text = f"priced on the preferred (first) instance type {preferred}" + (
        f"; Spot may also launch {', '.join(instance_types[1:])}, which the estimate does not price"
        if len(instance_types) > 1
        else ""
    )
    lines: list[CostLine] = []
    if on_demand > 0 or spot == 0:
        lines.append(
            catalog.line(
                f"{preferred} On-Demand ({_count(on_demand)} instance(s))",
                EC2_SERVICE,
                preferred,
                region,
                ON_DEMAND_DIMENSION,
                on_demand * hours,
                assumptions=(
                    f"{_count(on_demand)} On-Demand instance(s) x {usage.hours_per_month:g} h/month",
                    preferred_text,
                ),
            )
        )
    if spot > 0:
        lines.append(
            catalog.line(
                f"{preferred} Spot ({_count(spot)} instance(s))",
                EC2_SERVICE,
                preferred,
                region,
                ON_DEMAND_DIMENSION,
                spot * hours,
                pricing_category="Dynamic",
                discount=catalog.spot_discount(preferred, region),
                assumptions=(
                    f"{_count(spot)} Spot instance(s) x {usage.hours_per_month:g} h/month",
                    preferred_text,
                ),
            )
        )
    return lines


def _fleet_volume_lines(
    catalog: PriceCatalog,
    region: str,
    *,
    usage: FleetUsage,
    root_volume_gib: int,
    max_capacity: int,
    warm_pool: bool,
) -> list[CostLine]:
    """The root volumes of the running instances and, with a warm pool, of the stopped ones."""
    instances = _decimal(usage.average_instances)
    hours = _decimal(usage.hours_per_month)
    warm = (
        max(Decimal(0), Decimal(max_capacity) - instances).to_integral_value(rounding=ROUND_CEILING)
        if warm_pool
        else Decimal(0)
    )
    return _ebs_lines(
        catalog,
        region,
        running_gb_months=instances * root_volume_gib * hours / HOURS_PER_MONTH,
        root_volume_gib=root_volume_gib,
        running_text=f"{usage.average_instances:g} volume(s) x {usage.hours_per_month:g}/730 of a month",
        warm_pool_instances=warm,
    )


def _all_on_demand_baseline(
    catalog: PriceCatalog,
    region: str,
    *,
    preferred: str,
    usage: FleetUsage,
    volume_lines: Sequence[CostLine],
) -> CostEstimate:
    """The same instance-hours and volumes, every instance On-Demand."""
    instances = _decimal(usage.average_instances)
    baseline_lines = [
        catalog.line(
            f"{preferred} On-Demand ({_count(instances)} instance(s))",
            EC2_SERVICE,
            preferred,
            region,
            ON_DEMAND_DIMENSION,
            instances * _decimal(usage.hours_per_month),
            assumptions=(
                f"the same {usage.average_instances:g} instance(s) x {usage.hours_per_month:g} h/month, all On-Demand",
            ),
        ),
        *volume_lines,
    ]
    return CostEstimate(
        construct_path="", pattern=BASELINE_PATTERN, region=region, lines=tuple(baseline_lines)
    )


def _gpu_comparison_note(
    catalog: PriceCatalog,
    region: str,
    *,
    preferred: str,
    root_volume_gib: int,
    usage: FleetUsage,
    inferentia2_chips: int,
    fleet_total: Decimal,
) -> str:
    """What the same Inferentia2 accelerators would cost as On-Demand GPUs, against `fleet_total`."""
    gpu = estimate_gpu_comparison(
        instance_type=preferred,
        root_volume_gib=root_volume_gib,
        usage=usage,
        catalog=catalog,
        region=region,
    )
    saving = gpu.monthly_total - fleet_total
    percent = saving * 100 / gpu.monthly_total if gpu.monthly_total else Decimal(0)
    gpus = _decimal(usage.average_instances) * inferentia2_chips
    return (
        f"Against the same accelerators on On-Demand GPUs ({_count(gpus)} x {GPU_COMPARISON_TYPE}, one NVIDIA "
        f"A10G per Inferentia2 chip, same hours and volumes): {usd(gpu.monthly_total)}/month; this fleet "
        f"{'saves' if saving >= 0 else 'costs'} {usd(abs(saving))} ({abs(percent):.0f} %) "
        f"{'' if saving >= 0 else 'more '}a month. Throughput per accelerator depends on the model: benchmark "
        "both before choosing."
    )


def _fleet_notes(
    catalog: PriceCatalog,
    region: str,
    *,
    preferred: str,
    usage: FleetUsage,
    max_capacity: int,
    public_ipv4: bool,
    off_hours: bool,
) -> list[str]:
    """The ceiling at max_capacity, and what the estimate leaves out (off-hours it cannot see, IPv4, logs)."""
    worst = catalog.cost(EC2_SERVICE, preferred, region, ON_DEMAND_DIMENSION, HOURS_PER_MONTH * max_capacity)
    notes = [
        f"Ceiling: max_capacity={max_capacity} x {preferred} On-Demand for 730 h = {usd(worst)}/month plus volumes. "
        "When Spot capacity is short, EC2 Auto Scaling does not fall back to On-Demand for the Spot share: the "
        "group runs fewer instances until Spot capacity returns."
    ]
    if off_hours and usage.hours_per_month >= 730:
        notes.append(
            "off_hours stops the fleet on a schedule, but FleetUsage.hours_per_month is 730, so the estimate "
            "counts no off-hours saving: set hours_per_month to the hours the fleet is on."
        )
    if public_ipv4:
        ip_month = (
            PUBLIC_IPV4_USD_PER_HOUR * _decimal(usage.average_instances) * _decimal(usage.hours_per_month)
        )
        notes.append(
            f"Instances get public IPv4 addresses (public subnets, no NAT gateway): AWS bills $0.005 per address-hour, "
            f"about {usd(ip_month)}/month here, which the catalogue does not price and the total leaves out "
            "(a NAT gateway would cost about $32.85/month plus $0.045/GB)."
        )
    notes.append(
        "Not priced: data transfer, CloudWatch Logs ingestion and storage of the fleet's log group, and the "
        "CloudWatch alarms target tracking creates (2 per policy)."
    )
    return notes


def _check_shape(
    instance_types: Sequence[str], usage: FleetUsage, min_capacity: int, off_hours: bool
) -> None:
    """At least one instance type, and a usage no lower than the group's floor."""
    if not instance_types:
        raise InvalidValueError("instance_types must name at least one instance type")
    floor = usage_floor_problem(usage, min_capacity, off_hours)
    if floor is not None:
        raise InvalidValueError(floor)


def estimate_spot_fleet(
    *,
    accelerator: Accelerator,
    instance_types: Sequence[str],
    on_demand_base: int,
    spot_percent_above_base: int,
    root_volume_gib: int,
    usage: FleetUsage,
    catalog: PriceCatalog,
    region: str,
    max_capacity: int,
    warm_pool: bool = False,
    public_ipv4: bool = False,
    off_hours: bool = False,
    assumptions: tuple[str, ...] = (),
    min_capacity: int = 0,
) -> CostEstimate:
    """Monthly cost of the fleet, with the all-On-Demand baseline (and, for Inferentia2, a g5 comparison note).

    Every price comes from `catalog`: an instance type, EBS volume or Spot discount it lacks for `region`
    raises its `UnknownPriceError`, which says how to add an override. A `usage` below what `min_capacity`
    forces is a `ValueError` (`usage_floor_problem`): the estimate never goes below the group's floor.
    """
    _check_shape(instance_types, usage, min_capacity, off_hours)
    preferred = instance_types[0]
    spec = ec2_instance_spec(preferred)
    on_demand, spot = split_capacity(
        _decimal(usage.average_instances), on_demand_base, spot_percent_above_base
    )
    lines = _instance_lines(
        catalog, region, instance_types=instance_types, on_demand=on_demand, spot=spot, usage=usage
    )
    volume_lines = _fleet_volume_lines(
        catalog,
        region,
        usage=usage,
        root_volume_gib=root_volume_gib,
        max_capacity=max_capacity,
        warm_pool=warm_pool,
    )
    lines += volume_lines
    baseline = _all_on_demand_baseline(
        catalog, region, preferred=preferred, usage=usage, volume_lines=volume_lines
    )
    notes: list[str] = []
    if accelerator == "inferentia2":
        fleet_total = sum((line.monthly_cost for line in lines), Decimal(0))
        chips = spec.inferentia2_chips
        notes.append(
            _gpu_comparison_note(
                catalog,
                region,
                preferred=preferred,
                root_volume_gib=root_volume_gib,
                usage=usage,
                inferentia2_chips=chips,
                fleet_total=fleet_total,
            )
        )
    notes += _fleet_notes(
        catalog,
        region,
        preferred=preferred,
        usage=usage,
        max_capacity=max_capacity,
        public_ipv4=public_ipv4,
        off_hours=off_hours,
    )
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=tuple(lines),
        baseline=baseline,
        assumptions=(*assumptions, _usage_text(usage, on_demand_base, spot_percent_above_base)),
        notes=tuple(notes),
    )


def estimate_gpu_comparison(
    *,
    instance_type: str,
    root_volume_gib: int,
    usage: FleetUsage,
    catalog: PriceCatalog,
    region: str,
) -> CostEstimate:
    """The same Inferentia2 accelerators as On-Demand g5.xlarge: one A10G per Inferentia2 chip, same hours."""
    spec = ec2_instance_spec(instance_type)
    if spec.accelerator != "inferentia2":
        raise ValueError(f"a GPU comparison is made for Inferentia2 types only, got {instance_type!r}")
    instances = _decimal(usage.average_instances)
    hours = _decimal(usage.hours_per_month)
    gpus = instances * spec.inferentia2_chips
    return CostEstimate(
        construct_path="",
        pattern=GPU_PATTERN,
        region=region,
        lines=(
            catalog.line(
                f"{GPU_COMPARISON_TYPE} On-Demand ({_count(gpus)} instance(s))",
                EC2_SERVICE,
                GPU_COMPARISON_TYPE,
                region,
                ON_DEMAND_DIMENSION,
                gpus * hours,
                assumptions=(
                    f"{_count(instances)} x {instance_type} = {_count(gpus)} Inferentia2 chip(s) (2 NeuronCores, "
                    f"32 GiB each), compared one for one with {GPU_COMPARISON_TYPE} (1 NVIDIA A10G, 24 GiB), "
                    f"{usage.hours_per_month:g} h/month",
                ),
            ),
            catalog.line(
                f"gp3 root volumes, {root_volume_gib} GiB each",
                EC2_SERVICE,
                EBS_SKU,
                region,
                EBS_DIMENSION,
                gpus * root_volume_gib * hours / HOURS_PER_MONTH,
                assumptions=(f"one {root_volume_gib} GiB volume per GPU instance (a GPU DLAMI is as large)",),
            ),
        ),
    )
