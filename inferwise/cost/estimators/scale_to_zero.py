"""Cost of a SageMaker endpoint whose inference components scale to zero, against the same instances always on.

Pure: (instance type, inference components, usage, price catalogue, Region) -> CostEstimate; no CDK.

What is billed: instance-hours while at least one copy runs. Each time traffic starts after an idle
spell the endpoint pays a cold start (an instance boots and loads the model before it serves), and each
time traffic stops it keeps billing through the scale-in tail (Application Auto Scaling waits for the
scale-in alarm, then managed instance scaling releases the emptied instance). An instance type without
local NVMe storage (inf2) also gets an ML storage volume, billed per GB-month for the same fraction of the
month. Three CloudWatch alarms per inference component run all month. The baseline is the same instances,
and their storage, billed 730 h/month.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
from inferwise.cost.render import usd
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS
from inferwise.cost.validation import check_number

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

PATTERN = "scale-to-zero endpoint"
BASELINE_PATTERN = "always-on endpoint"

SAGEMAKER_SERVICE = "AmazonSageMaker"
HOSTING_DIMENSION = "Hosting"
STORAGE_SKU = "gp2"
STORAGE_DIMENSION = "HostingStorage"
"""The ML storage volume of endpoint instances (Price List usage type `<region>-Host:VolumeUsage.gp2`)."""
CLOUDWATCH_SERVICE = "AmazonCloudWatch"
ALARM_SKU = "standard"
ALARM_DIMENSION = "StandardAlarm"

ALARMS_PER_COMPONENT = 3
"""The wake-from-zero alarm on NoCapacityInvocationFailures, plus the high and low alarms Application
Auto Scaling creates for each target-tracking policy (they are billed like any standard alarm)."""

COLD_START_SOURCE = (
    "default 10 min: about 9.5 min from the first request at zero to the first HTTP 200, measured with "
    "Qwen3-0.6B on ml.g5.xlarge in us-east-1, July 2026 (community; docs/aws-facts.md#scale-to-zero-cold-start); AWS's launch blog "
    "counts about 5 min for a small model"
)
DEFAULT_SCALE_IN_TAIL_MINUTES = 27.0
SCALE_IN_TAIL_SOURCE = (
    "default 27 min = 15 min before Application Auto Scaling's target-tracking scale-in alarm fires "
    "(it needs 15 min of datapoints below target) + 12 min for managed instance scaling to release the "
    "emptied instance (same measurement)"
)
DEFAULT_COLD_START_MINUTES = 10.0


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


@dataclass(frozen=True)
class EndpointUsage:
    """How the endpoint is used; every figure appears in the estimate's assumptions.

    - `active_hours_per_day`: hours a day with traffic (0-24), on `days_per_month` days (0-31).
    - `instances_while_active`: instances serving while there is traffic (at most the construct's
      `max_instances`); the always-on baseline runs this many instances all month.
    - `cold_starts_per_day`: times a day traffic resumes after an idle spell long enough to scale to zero
      (default 1: one busy period a day). Each costs `cold_start_minutes` of instance time before the first
      answer and `scale_in_tail_minutes` after the last request.
    """

    active_hours_per_day: float = 8.0
    days_per_month: float = 22.0
    instances_while_active: int = 1
    cold_starts_per_day: float = 1.0
    scale_in_tail_minutes: float = DEFAULT_SCALE_IN_TAIL_MINUTES
    cold_start_minutes: float = DEFAULT_COLD_START_MINUTES

    def __post_init__(self) -> None:
        check_number("EndpointUsage.active_hours_per_day", self.active_hours_per_day, low=0, high=24)
        check_number("EndpointUsage.days_per_month", self.days_per_month, low=0, high=31)
        check_number(
            "EndpointUsage.instances_while_active",
            self.instances_while_active,
            low=1,
            whole=True,
            cap=MAX_INSTANCES,
        )
        for name in ("cold_starts_per_day", "scale_in_tail_minutes", "cold_start_minutes"):
            check_number(f"EndpointUsage.{name}", getattr(self, name), low=0, cap=MINUTES_PER_DAY)


MAX_INSTANCES = 10_000
"""Sanity limit of `EndpointUsage.instances_while_active`."""
MINUTES_PER_DAY = 1440
"""Sanity limit of the cold-start and scale-in figures (at most one a minute, at most a day long)."""


def billed_hours_per_instance(usage: EndpointUsage) -> Decimal:
    """Instance-hours a month for one serving instance: active time, cold starts and scale-in tails.

    A day never bills more than 24 h and a month never more than 730 h.
    """
    active = _decimal(usage.active_hours_per_day)
    days = _decimal(usage.days_per_month)
    if active == 0 or days == 0:
        return Decimal(0)
    per_wake_minutes = _decimal(usage.cold_start_minutes) + _decimal(usage.scale_in_tail_minutes)
    daily = min(Decimal(24), active + _decimal(usage.cold_starts_per_day) * per_wake_minutes / 60)
    return min(HOURS_PER_MONTH, daily * days)


def ml_storage_gb(instance_type: str) -> int:
    """GB of ML storage volume SageMaker attaches per instance of this type (0 with local NVMe or unknown)."""
    spec = INSTANCE_SPECS.get(instance_type)
    return spec.ml_storage_gb if spec is not None else 0


def _storage_line(
    instance_type: str, instances: int, hours_each: Decimal, catalog: PriceCatalog, region: str, *, when: str
) -> CostLine:
    """The ML storage volume of each instance, billed per GB-month for the hours the instance runs."""
    gigabytes = ml_storage_gb(instance_type)
    fraction = hours_each / HOURS_PER_MONTH
    return catalog.line(
        f"ML storage volume ({gigabytes} GB gp2 per {instance_type} instance, {when})",
        SAGEMAKER_SERVICE,
        STORAGE_SKU,
        region,
        STORAGE_DIMENSION,
        Decimal(gigabytes) * instances * fraction,
        assumptions=(
            f"{gigabytes} GB x {instances} instance(s) x {hours_each.quantize(Decimal('0.01'))} h / 730 h: "
            f"{instance_type} has no local NVMe storage, so SageMaker attaches an EBS gp2 ML storage volume to "
            f"each instance ({gigabytes} GB, its default: the construct sets no VolumeSizeInGB), billed per "
            "GB-month while the instance runs",
        ),
    )


def _endpoint_lines(
    instance_type: str, inference_components: int, usage: EndpointUsage, catalog: PriceCatalog, region: str
) -> tuple[CostLine, ...]:
    """The instance-hours billed while a copy runs, their ML storage if any, and the alarms that run all month."""
    instances = usage.instances_while_active
    hours_each = billed_hours_per_instance(usage)
    compute = catalog.line(
        f"{instance_type} instances (billed only while a copy runs)",
        SAGEMAKER_SERVICE,
        instance_type,
        region,
        HOSTING_DIMENSION,
        hours_each * instances,
        assumptions=(
            f"{hours_each.quantize(Decimal('0.01'))} billed h/month per instance x {instances}: active hours "
            "+ cold starts + scale-in tails (at most 24 h a day and 730 h a month)",
        ),
    )
    alarm_count = Decimal(ALARMS_PER_COMPONENT * inference_components)
    alarms = catalog.line(
        "CloudWatch alarms (wake from zero + target tracking)",
        CLOUDWATCH_SERVICE,
        ALARM_SKU,
        region,
        ALARM_DIMENSION,
        alarm_count,
        assumptions=(
            f"{ALARMS_PER_COMPONENT} standard alarms per inference component x {inference_components}: one on "
            "NoCapacityInvocationFailures, two that Application Auto Scaling creates for target tracking; "
            "the account's 10 free alarms are not counted",
        ),
    )
    if ml_storage_gb(instance_type):
        return (
            compute,
            _storage_line(instance_type, instances, hours_each, catalog, region, when="billed while it runs"),
            alarms,
        )
    return (compute, alarms)


def _always_on_baseline(
    instance_type: str, usage: EndpointUsage, catalog: PriceCatalog, region: str
) -> CostEstimate:
    """The same instances (and their ML storage, if any) billed 730 h a month, whatever the traffic."""
    instances = usage.instances_while_active
    lines = [
        catalog.line(
            f"{instance_type} instances (always on)",
            SAGEMAKER_SERVICE,
            instance_type,
            region,
            HOSTING_DIMENSION,
            HOURS_PER_MONTH * instances,
            assumptions=(f"{instances} instance(s) x 730 h/month, whatever the traffic",),
        )
    ]
    if ml_storage_gb(instance_type):
        lines.append(
            _storage_line(instance_type, instances, HOURS_PER_MONTH, catalog, region, when="always on")
        )
    return CostEstimate(construct_path="", pattern=BASELINE_PATTERN, region=region, lines=tuple(lines))


def _endpoint_notes(
    instance_type: str,
    usage: EndpointUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    total: Decimal,
    always_on_total: Decimal,
    max_instances: int,
) -> list[str]:
    """When always on is no dearer, what each deployment and cold start costs, and the ceiling."""
    notes: list[str] = []
    if total >= always_on_total:
        notes.append(
            f"At {usage.active_hours_per_day:g} active h/day on {usage.days_per_month:g} days the endpoint is "
            f"almost never idle: an always-on endpoint ({usd(always_on_total)}/month) costs no more "
            f"than scaling to zero ({usd(total)}/month) and has no cold starts; consider an always-on endpoint."
        )
    warm_hours = _decimal(usage.scale_in_tail_minutes) / 60
    first_deploy = catalog.cost(SAGEMAKER_SERVICE, instance_type, region, HOSTING_DIMENSION, warm_hours)
    notes.append(
        f"Each deployment that (re)creates the inference components starts 1 instance with 1 copy per component; "
        f"it bills until scale-in ({usage.scale_in_tail_minutes:g} min, about {usd(first_deploy)} each time), "
        "which is not in the monthly figure."
    )
    notes.append(
        f"Cold start: requests while scaled to zero fail at once with HTTP 400 'no capacity' for about "
        f"{usage.cold_start_minutes:g} min while an instance starts; clients must retry with backoff or queue."
    )
    ceiling_instances = max(max_instances, usage.instances_while_active)
    worst = catalog.cost(
        SAGEMAKER_SERVICE,
        instance_type,
        region,
        HOSTING_DIMENSION,
        HOURS_PER_MONTH * ceiling_instances,
    )
    storage_text = ""
    if gigabytes := ml_storage_gb(instance_type):
        worst += catalog.cost(
            SAGEMAKER_SERVICE, STORAGE_SKU, region, STORAGE_DIMENSION, Decimal(gigabytes * ceiling_instances)
        )
        storage_text = f" (with {gigabytes} GB of ML storage each)"
    notes.append(
        f"Ceiling if traffic never stops: {ceiling_instances} instance(s){storage_text} x 730 h = {usd(worst)}/month "
        "plus alarms."
    )
    return notes


def estimate_scale_to_zero(
    instance_type: str,
    inference_components: int,
    usage: EndpointUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    max_instances: int = 1,
    assumptions: tuple[str, ...] = (),
) -> CostEstimate:
    """Monthly cost of a scale-to-zero endpoint with `inference_components` components on `instance_type`.

    Every price comes from `catalog` (an unknown instance type or Region raises the catalogue's
    UnknownPriceError). `max_instances` only bounds the worst case stated in the notes.
    """
    if inference_components < 1:
        raise ValueError(f"inference_components must be >= 1, got {inference_components}")
    usage_text = (
        f"traffic {usage.active_hours_per_day:g} h/day on {usage.days_per_month:g} days/month, "
        f"{usage.instances_while_active} instance(s) serving while active"
    )
    wake_text = (
        f"{usage.cold_starts_per_day:g} wake(s) from zero per active day, each billing a "
        f"{usage.cold_start_minutes:g}-min cold start and a {usage.scale_in_tail_minutes:g}-min scale-in tail"
    )
    source_texts = (f"cold start: {COLD_START_SOURCE}", f"scale-in tail: {SCALE_IN_TAIL_SOURCE}")
    lines = _endpoint_lines(instance_type, inference_components, usage, catalog, region)
    baseline = _always_on_baseline(instance_type, usage, catalog, region)
    notes = _endpoint_notes(
        instance_type,
        usage,
        catalog,
        region,
        total=sum((line.monthly_cost for line in lines), Decimal(0)),
        always_on_total=baseline.monthly_total,
        max_instances=max_instances,
    )
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=lines,
        baseline=baseline,
        assumptions=(*assumptions, usage_text, wake_text, *source_texts),
        notes=tuple(notes),
    )
