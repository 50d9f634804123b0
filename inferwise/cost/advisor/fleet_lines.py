"""The parts of self-hosted options no construct estimator prices: an EC2 GPU Spot fleet, a fleet on Reserved
Instances, and the people.

- `estimate_gpu_spot_fleet`: g5, g6 or g6e instances run as `SpotInferenceFleet` runs its Inferentia2 and
  Graviton fleets (an On-Demand base of one, every instance above it on Spot, an encrypted gp3 root volume
  each, off outside the active hours). `SpotInferenceFleet` does not accept GPU types yet, so no construct
  deploys this option; it is priced from the same catalogue records in the same way (On-Demand price, the
  catalogue's Spot discount assumption for the family, gp3 storage) and says so.
- `estimate_reserved_fleet`: Inferentia2 or GPU instances on 1-year, no-upfront Reserved Instances (the
  catalogue's `Reserved1yrStandardNoUpfront` records), billed every hour of the month, with the same root volumes;
  baseline the same instances On-Demand.
- `operations_line`: the hours people spend running a self-hosted option, at an hourly rate; both are the
  workload's assumptions (20 h x $100 by default, no source: set your own).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.workload import DEFAULT_OPS_HOURLY_USD, DEFAULT_OPS_HOURS_PER_MONTH, Workload
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.spot_fleet import split_capacity
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
from inferwise.cost.specs.ec2 import DEFAULT_ROOT_VOLUME_GIB, EC2_INSTANCE_SPECS

GPU_ROOT_VOLUME_GIB = 128
"""A GPU Deep Learning AMI's root volume is as large as the Neuron one (the spot-fleet estimator's GPU
comparison uses the same size); `specs/ec2.py` has no GPU entry to take it from."""
RESERVED_DIMENSION = "Reserved1yrStandardNoUpfront"
"""The catalogue's 1-year Standard, no-upfront Reserved Instance rate per hour (`prices/ec2_reserved.json`)."""


def root_volume_gib(instance_type: str) -> int:
    """The root volume of one instance: the construct's default for Inferentia2 and Graviton, else the GPU AMI's."""
    spec = EC2_INSTANCE_SPECS.get(instance_type)
    if spec is not None:
        return DEFAULT_ROOT_VOLUME_GIB[spec.accelerator]
    return GPU_ROOT_VOLUME_GIB


def root_volumes_line(
    instance_type: str, instances: int, hours_per_month: Decimal, catalog: PriceCatalog, region: str
) -> CostLine:
    """An encrypted gp3 root volume per instance, billed for the hours the instances run."""
    gib = root_volume_gib(instance_type)
    return catalog.line(
        f"gp3 root volumes, {gib} GiB each (encrypted)",
        "AmazonEC2",
        "gp3",
        region,
        "Storage",
        Decimal(instances) * gib * hours_per_month / HOURS_PER_MONTH,
        assumptions=(f"{instances} volume(s) x {hours_per_month.quantize(Decimal('0.01'))} h/month of 730",),
    )


def on_demand_fleet(
    instance_type: str,
    instances: int,
    hours_per_month: Decimal,
    catalog: PriceCatalog,
    region: str,
    pattern: str,
) -> CostEstimate:
    """The same instances all On-Demand for `hours_per_month`, with their root volumes: a fleet's baseline."""
    count = Decimal(instances)
    return CostEstimate(
        construct_path="",
        pattern=pattern,
        region=region,
        lines=(
            catalog.line(
                f"{instance_type} On-Demand ({instances} instance(s))",
                "AmazonEC2",
                instance_type,
                region,
                "OnDemand",
                count * hours_per_month,
            ),
            root_volumes_line(instance_type, instances, hours_per_month, catalog, region),
        ),
    )


def estimate_reserved_fleet(
    instance_type: str, instances: int, catalog: PriceCatalog, region: str
) -> CostEstimate:
    """`instances` 1-year, no-upfront Reserved Instances, billed all 730 h of the month, and their root volumes;
    baseline the same instances On-Demand all month. An unsourced rate is the catalogue's UnknownPriceError."""
    count = Decimal(instances)
    compute = catalog.line(
        f"{instance_type} Reserved Instances ({instances}, 1-year Standard, no upfront)",
        "AmazonEC2",
        instance_type,
        region,
        RESERVED_DIMENSION,
        count * HOURS_PER_MONTH,
        pricing_category="Committed",
        assumptions=(
            f"{instances} instance(s) x 730 h: a Reserved Instance bills every hour of its 12-month term, used or not",
        ),
    )
    term = compute.monthly_cost * 12
    return CostEstimate(
        construct_path="",
        pattern="EC2 fleet on Reserved Instances",
        region=region,
        lines=(compute, root_volumes_line(instance_type, instances, HOURS_PER_MONTH, catalog, region)),
        baseline=on_demand_fleet(
            instance_type, instances, HOURS_PER_MONTH, catalog, region, "all On-Demand fleet"
        ),
        assumptions=(
            f"the commitment: {instances} x {instance_type} for 12 months = ${term:,.2f} over the term, whatever "
            "the volume turns out to be",
        ),
        notes=(
            "No inferwise construct buys Reserved Instances: they are a billing commitment on instances you run "
            "(here the Spot fleet options' instances and root volumes, every instance reserved and always on).",
            "Not priced: 3-year and upfront terms, EC2 Instance and Compute Savings Plans (no sourced rate), data "
            "transfer, logs.",
        ),
    )


OPERATIONS_SERVICE = "Operations"
OPERATIONS_SOURCE = "workload:ops_hourly_usd"


def estimate_gpu_spot_fleet(
    instance_type: str,
    instances: int,
    hours_per_month: Decimal,
    catalog: PriceCatalog,
    region: str,
) -> CostEstimate:
    """On-Demand base 1, the rest on Spot at the catalogue's discount, gp3 root volumes; baseline all On-Demand."""
    count = Decimal(instances)
    on_demand, spot = split_capacity(count, 1, 100)
    hours_text = f"{hours_per_month.quantize(Decimal('0.01'))} h/month"
    lines = [
        catalog.line(
            f"{instance_type} On-Demand ({on_demand.normalize():f} instance(s))",
            "AmazonEC2",
            instance_type,
            region,
            "OnDemand",
            on_demand * hours_per_month,
            assumptions=(f"{on_demand.normalize():f} On-Demand instance(s) x {hours_text}",),
        )
    ]
    if spot > 0:
        lines.append(
            catalog.line(
                f"{instance_type} Spot ({spot.normalize():f} instance(s))",
                "AmazonEC2",
                instance_type,
                region,
                "OnDemand",
                spot * hours_per_month,
                pricing_category="Dynamic",
                discount=catalog.spot_discount(instance_type, region),
                assumptions=(f"{spot.normalize():f} Spot instance(s) x {hours_text}",),
            )
        )
    volumes = root_volumes_line(instance_type, instances, hours_per_month, catalog, region)
    baseline = on_demand_fleet(
        instance_type, instances, hours_per_month, catalog, region, "all On-Demand GPU fleet"
    )
    return CostEstimate(
        construct_path="",
        pattern="EC2 GPU Spot fleet",
        region=region,
        lines=(*lines, volumes),
        baseline=baseline,
        notes=(
            "No inferwise construct deploys a GPU fleet yet (SpotInferenceFleet runs Inferentia2 and Graviton): "
            "priced from the same catalogue records as that construct's estimate, with its defaults (On-Demand "
            "base 1, 100 % Spot above it).",
            "Not priced: data transfer, logs, the alarms of a scaling policy, public IPv4 addresses.",
        ),
    )


def operations_line(workload: Workload, catalog: PriceCatalog) -> CostLine | None:
    """The people running a self-hosted option: hours a month x hourly rate, on a line of its own."""
    hours = to_decimal(workload.ops_hours_per_month)
    rate = to_decimal(workload.ops_hourly_usd)
    if hours * rate == 0:
        return None
    default = hours == DEFAULT_OPS_HOURS_PER_MONTH and rate == DEFAULT_OPS_HOURLY_USD
    return CostLine(
        component=f"operations: {hours.normalize():f} h a month x ${rate.normalize():f}/h (people running it)",
        service_code=OPERATIONS_SERVICE,
        usage_type="PeopleHours",
        pricing_unit="Hrs",
        monthly_quantity=hours,
        unit_price=rate,
        monthly_cost=hours * rate,
        pricing_category="OnDemand",
        price_source=OPERATIONS_SOURCE,
        price_as_of=catalog.as_of,
        assumptions=(
            "patching, engine and model upgrades, on-call and capacity work for a self-hosted deployment; "
            + (
                "the default (20 h x $100) is an assumption with no source: set ops_hours_per_month and "
                "ops_hourly_usd"
                if default
                else "your figures (ops_hours_per_month, ops_hourly_usd)"
            ),
        ),
        confidence="low" if default else "high",
    )


def with_operations(estimate: CostEstimate, workload: Workload, catalog: PriceCatalog) -> CostEstimate:
    """`estimate` (and its baseline) with the operations line added, so totals read as cost of ownership."""
    line = operations_line(workload, catalog)
    if line is None:
        return estimate
    baseline = estimate.baseline
    if baseline is not None:
        baseline = dataclasses.replace(baseline, lines=(*baseline.lines, line))
    return dataclasses.replace(estimate, lines=(*estimate.lines, line), baseline=baseline)
