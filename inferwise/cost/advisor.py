"""The break-even advisor: one workload, every way inferwise can serve it, priced by the one cost model.

`compare_serving_options(workload)` prices the workload as
- Bedrock on-demand tokens, Bedrock batch (`BedrockBatchPipeline`), Bedrock with prompt caching, and a
  routed cascade (a small model first, the rest escalated to the large one);
- Bedrock Provisioned Throughput, listed as not priced: the catalogue has no Provisioned Throughput price;
- a SageMaker real-time endpoint always on, a `ScaleToZeroEndpoint`, and a `SpotInferenceFleet` on
  Inferentia2 and on Graviton, each with as many instances as the workload's peak needs.

Every figure comes from the estimators in `inferwise.cost.estimators` (none is computed a second way here):
`bedrock_on_demand` for tokens, `bedrock_batch` for the batch pipeline, `scale_to_zero` for both SageMaker
options (the always-on endpoint is the baseline that estimator builds), `spot_fleet` for both fleets.

Capacity: instances = ceil(peak tokens/s / throughput per instance), where peak tokens/s = monthly tokens /
active seconds a month x peak-to-average. "Tokens" are input + output tokens throughout, and so is the
throughput per instance. A month is 730 h, so a day is 730/24 h and the active seconds a month are
active hours a day x 3,600 x 730/24; at 24 active hours that is exactly the 730 h every always-on option bills.

Break-even volumes: for options next to each other in cost order at the workload's volume, the monthly
token volume where their costs cross, found by scanning a log grid of request volumes (the workload scaled,
everything else unchanged) from 1/1000 to 1000 times the workload's and bisecting the bracket nearest the
workload's volume. Self-hosted costs are step functions (a whole instance more); where the order flips at a
step, the costs never meet and the break-even says so (`kind="step"`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal, cast

from inferwise.cost.catalog import (
    INFERENCE_PROFILE_PREFIXES,
    TOKENS_PER_PRICED_UNIT,
    PriceCatalog,
    UnknownPriceError,
)
from inferwise.cost.estimators.bedrock_batch import (
    BATCH_MODEL_FAMILIES,
    BatchPlan,
    BatchUsage,
    ModelFamily,
    estimate_bedrock_batch,
    token_lines,
)
from inferwise.cost.estimators.bedrock_on_demand import (
    TokenUsage,
    estimate_bedrock_on_demand,
    on_demand_token_lines,
    supports_prompt_cache,
)
from inferwise.cost.estimators.scale_to_zero import (
    EndpointUsage,
    billed_hours_per_instance,
    estimate_scale_to_zero,
)
from inferwise.cost.estimators.spot_fleet import FleetUsage, estimate_spot_fleet, split_capacity
from inferwise.cost.model import HOURS_PER_MONTH, Confidence, CostEstimate
from inferwise.cost.render import usd
from inferwise.cost.specs.ec2 import DEFAULT_ROOT_VOLUME_GIB, EC2_INSTANCE_SPECS
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS

SCHEMA_VERSION = 1
SECONDS_PER_HOUR = 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""730 h / 24 h: the days in a 730-hour month, so that 24 active hours a day bill exactly 730 h."""

SEARCH_DECADES = 3
"""Break-even volumes are searched from 10^-3 to 10^3 times the workload's requests per month."""
GRID_POINTS_PER_DECADE = 20
BREAK_EVEN_TOLERANCE_USD = Decimal("0.01")
"""Two costs "cross" at a volume when they differ there by at most a cent (or 1 part in a million)."""
BREAK_EVEN_TOLERANCE_RELATIVE = Decimal("0.000001")

BATCH_TURNAROUND = "24 h"
BATCH_RUNS_PER_MONTH = 30

SPOT_ON_DEMAND_BASE = 1
SPOT_PERCENT_ABOVE_BASE = 100
"""The `SpotInferenceFleet` defaults `on_demand_base=1` and `spot_percent_above_base=100`, repeated here so
the advisor imports no CDK; tests check they agree."""

SELF_HOSTED_MODEL_NOTE = (
    "Self-hosted options serve an open-weight model you deploy; they are comparable only if that model does "
    "the job as well as {model}. The throughput defaults are for an 8B-parameter model (Llama 2 7B / Llama 3 "
    "8B class)."
)

OPTION_NAMES: dict[str, str] = {
    "bedrock-on-demand": "Bedrock on-demand",
    "bedrock-batch": "Bedrock batch",
    "bedrock-prompt-cache": "Bedrock + prompt caching",
    "bedrock-routed": "Bedrock routed cascade",
    "bedrock-provisioned": "Bedrock Provisioned Throughput",
    "sagemaker-always-on": "SageMaker endpoint, always on",
    "scale-to-zero": "ScaleToZeroEndpoint",
    "spot-inf2": "SpotInferenceFleet (Inferentia2)",
    "spot-graviton": "SpotInferenceFleet (Graviton)",
}
OPTION_KEYS: tuple[str, ...] = tuple(OPTION_NAMES)
PROVISIONED_REASON = "not priced: no Provisioned Throughput price in the catalogue"

ILLUSTRATIVE = "illustrative default, no source — pass your own measurement"
_HF_LLAMA2_SAGEMAKER = (
    "Hugging Face blog 'Llama 2 on Amazon SageMaker a Benchmark' (2023-09-26, TGI 1.0.3): Llama 2 7B, GPTQ "
    "4-bit, on g5.2xlarge (one NVIDIA A10G, the GPU of {type}) with 5 concurrent requests generates 120 tokens/s; "
    "used here as input + output tokens/s, which overstates the instances a prompt-heavy workload needs"
)
_ARM_GRAVITON3_LLAMA3 = (
    "Arm community blog 'Best-in-class LLM performance on Arm Neoverse V1 based AWS Graviton3 CPUs' (2024): "
    "Llama 3 8B int4 with llama.cpp on c7g.16xlarge meets a 100 ms time-to-next-token target, i.e. at least 10 "
    "generated tokens/s, at batch size 1; 10 tokens/s is that floor (batching raises it)"
)
_INF2_ILLUSTRATIVE = (
    f"{ILLUSTRATIVE} (set equal to the A10G figure for an 8B model on one Inferentia2 chip, 2 NeuronCores, "
    "32 GiB)"
)

SelfHostedKind = Literal["sagemaker", "inf2", "graviton"]


@dataclass(frozen=True)
class ThroughputDefault:
    """A default input + output tokens/s per instance for an 8B-class model, and where it comes from."""

    tokens_per_second: Decimal
    source: str


THROUGHPUT_DEFAULTS: dict[str, ThroughputDefault] = {
    "ml.g5.xlarge": ThroughputDefault(Decimal(120), _HF_LLAMA2_SAGEMAKER.format(type="ml.g5.xlarge")),
    "ml.g5.2xlarge": ThroughputDefault(Decimal(120), _HF_LLAMA2_SAGEMAKER.format(type="ml.g5.2xlarge")),
    "ml.inf2.xlarge": ThroughputDefault(Decimal(120), _INF2_ILLUSTRATIVE),
    "inf2.xlarge": ThroughputDefault(Decimal(120), _INF2_ILLUSTRATIVE),
    "inf2.8xlarge": ThroughputDefault(Decimal(120), _INF2_ILLUSTRATIVE),
    "c7g.16xlarge": ThroughputDefault(Decimal(10), _ARM_GRAVITON3_LLAMA3),
}
"""Catalogue-style throughput defaults (LOW confidence): what one instance serves of an 8B-class model."""

DEFAULT_SELF_HOSTED_TYPES: dict[SelfHostedKind, str] = {
    "sagemaker": "ml.g5.xlarge",
    "inf2": "inf2.xlarge",
    "graviton": "c7g.16xlarge",
}
_THROUGHPUT_FIELDS: dict[SelfHostedKind, tuple[str, str]] = {
    "sagemaker": ("sagemaker_instance_type", "sagemaker_tokens_per_second"),
    "inf2": ("inf2_instance_type", "inf2_tokens_per_second"),
    "graviton": ("graviton_instance_type", "graviton_tokens_per_second"),
}


# ------------------------------------------------------------------------------------------------ workload
Number = int | float | Decimal


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def _check_number(
    name: str, value: object, *, low: float, high: float | None, low_open: bool = False
) -> None:
    if low_open and high is not None:
        allowed = f"> {low:g} and <= {high:g}"
    elif low_open:
        allowed = f"> {low:g}"
    elif high is not None:
        allowed = f"between {low:g} and {high:g}"
    else:
        allowed = f">= {low:g}"
    if not _is_number(value):
        raise ValueError(f"Workload.{name} must be a number {allowed}, got {value!r}")
    number = _decimal(cast(Number, value))
    too_low = number <= low if low_open else number < low
    if not number.is_finite() or too_low or (high is not None and number > high):
        raise ValueError(f"Workload.{name} must be {allowed}, got {number}")


def _check_whole(name: str, value: object, *, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Workload.{name} must be a whole number >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"Workload.{name} must be >= {low}, got {value!r}")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Workload.{name} must be a non-empty string, got {value!r}")


def _check_instance(kind: SelfHostedKind, value: object) -> None:
    name = _THROUGHPUT_FIELDS[kind][0]
    if kind == "sagemaker":
        known = list(INSTANCE_SPECS)
        ok = isinstance(value, str) and value in INSTANCE_SPECS
        what = "a SageMaker instance type inferwise knows"
    else:
        accelerator = "inferentia2" if kind == "inf2" else "graviton"
        known = sorted(t for t, s in EC2_INSTANCE_SPECS.items() if s.accelerator == accelerator)
        spec = EC2_INSTANCE_SPECS.get(value) if isinstance(value, str) else None
        ok = spec is not None and spec.accelerator == accelerator
        what = (
            f"{'an Inferentia2' if kind == 'inf2' else 'a Graviton'} instance type SpotInferenceFleet knows"
        )
    if not ok:
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        raise ValueError(f"Workload.{name} must be {what} ({shown}), got {value!r}")


@dataclass(frozen=True)
class Workload:
    """A month of inference work, and how it may be served; validated on construction.

    - `model_id`: the Bedrock model (a model id, inference profile id or ARN the catalogue prices).
    - `requests_per_month` (> 0), `input_tokens_per_request` (>= 1), `output_tokens_per_request` (>= 0).
    - `active_hours_per_day` (0-24, default 24): hours a day with traffic, every day of a 730-hour month.
    - `peak_to_average` (>= 1, default 1): peak tokens/s over the average during active hours.
    - `realtime` (default True): answers are needed while the caller waits (latency matters).
    - `batch_ok` (default False): the work can wait up to 24 h for a batch job; only for `realtime=False`.
    - `cache_prefix_tokens` and `cache_hit_rate` (both or neither): a shared prompt prefix of that many of the
      input tokens is marked for Bedrock prompt caching, and that share of requests (0-1) reads it from the cache.
    - `small_model_id` and `routed_share` (both or neither): a routed cascade sends every request to the small
      model first; `routed_share` (0-1) of requests are done there and the rest escalate to `model_id`.
      Escalated requests pay both models: the small model's answer is what decides to escalate.
    - self-hosting: `sagemaker_instance_type` (SageMaker endpoint and ScaleToZeroEndpoint), `inf2_instance_type`
      and `graviton_instance_type` (the two Spot fleets), each with the input + output tokens per second one
      instance sustains (`*_tokens_per_second`; default from `THROUGHPUT_DEFAULTS`, LOW confidence).
    - `region` (default us-east-1): where everything is priced.
    """

    model_id: str
    requests_per_month: Number
    input_tokens_per_request: int
    output_tokens_per_request: int
    active_hours_per_day: Number = 24
    peak_to_average: Number = 1
    realtime: bool = True
    batch_ok: bool = False
    cache_prefix_tokens: int | None = None
    cache_hit_rate: Number | None = None
    small_model_id: str | None = None
    routed_share: Number | None = None
    sagemaker_instance_type: str = DEFAULT_SELF_HOSTED_TYPES["sagemaker"]
    sagemaker_tokens_per_second: Number | None = None
    inf2_instance_type: str = DEFAULT_SELF_HOSTED_TYPES["inf2"]
    inf2_tokens_per_second: Number | None = None
    graviton_instance_type: str = DEFAULT_SELF_HOSTED_TYPES["graviton"]
    graviton_tokens_per_second: Number | None = None
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        _check_text("model_id", self.model_id)
        _check_number("requests_per_month", self.requests_per_month, low=0, high=None, low_open=True)
        _check_whole("input_tokens_per_request", self.input_tokens_per_request, low=1)
        _check_whole("output_tokens_per_request", self.output_tokens_per_request, low=0)
        _check_number("active_hours_per_day", self.active_hours_per_day, low=0, high=24, low_open=True)
        _check_number("peak_to_average", self.peak_to_average, low=1, high=None)
        for name in ("realtime", "batch_ok"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Workload.{name} must be true or false, got {getattr(self, name)!r}")
        if self.realtime and self.batch_ok:
            raise ValueError(
                "batch requested for a real-time workload: batch_ok=True needs realtime=False (a batch job "
                f"returns within {BATCH_TURNAROUND}, not while a caller waits)"
            )
        self._check_cache()
        self._check_routing()
        for kind in _THROUGHPUT_FIELDS:
            self._check_self_hosting(kind)
        _check_text("region", self.region)

    def _check_cache(self) -> None:
        prefix, rate = self.cache_prefix_tokens, self.cache_hit_rate
        if (prefix is None) != (rate is None):
            raise ValueError(
                "Workload.cache_prefix_tokens and Workload.cache_hit_rate go together: give both or neither, "
                f"got cache_prefix_tokens={prefix!r}, cache_hit_rate={rate!r}"
            )
        if prefix is None:
            return
        _check_whole("cache_prefix_tokens", prefix, low=1)
        if prefix > self.input_tokens_per_request:
            raise ValueError(
                f"Workload.cache_prefix_tokens must be <= input_tokens_per_request "
                f"({self.input_tokens_per_request}), got {prefix}"
            )
        _check_number("cache_hit_rate", rate, low=0, high=1)

    def _check_routing(self) -> None:
        small, share = self.small_model_id, self.routed_share
        if (small is None) != (share is None):
            raise ValueError(
                "Workload.small_model_id and Workload.routed_share go together: give both or neither, "
                f"got small_model_id={small!r}, routed_share={share!r}"
            )
        if small is None:
            return
        _check_text("small_model_id", small)
        _check_number("routed_share", share, low=0, high=1)

    def _check_self_hosting(self, kind: SelfHostedKind) -> None:
        type_field, throughput_field = _THROUGHPUT_FIELDS[kind]
        instance_type = getattr(self, type_field)
        _check_instance(kind, instance_type)
        measured = getattr(self, throughput_field)
        if measured is not None:
            _check_number(throughput_field, measured, low=0, high=None, low_open=True)
        elif instance_type not in THROUGHPUT_DEFAULTS:
            defaults = ", ".join(THROUGHPUT_DEFAULTS)
            raise ValueError(
                f"Workload.{throughput_field} is required for {instance_type}: there is no default throughput for "
                f"it (defaults exist for {defaults}); pass your own measurement in input + output tokens/s"
            )

    # ---------------------------------------------------------------------------------------- derived
    @property
    def requests(self) -> Decimal:
        return _decimal(self.requests_per_month)

    @property
    def tokens_per_request(self) -> int:
        return self.input_tokens_per_request + self.output_tokens_per_request

    @property
    def monthly_tokens(self) -> Decimal:
        """Input + output tokens a month."""
        return self.requests * self.tokens_per_request

    @property
    def active_seconds_per_month(self) -> Decimal:
        """Active hours a day x 3,600 s x 730/24 days: 2,628,000 s (730 h) at 24 h a day."""
        return HOURS_PER_MONTH * _decimal(self.active_hours_per_day) * SECONDS_PER_HOUR / 24

    @property
    def average_tokens_per_second(self) -> Decimal:
        """Tokens/s averaged over the active hours."""
        return self.monthly_tokens / self.active_seconds_per_month

    @property
    def peak_tokens_per_second(self) -> Decimal:
        return self.average_tokens_per_second * _decimal(self.peak_to_average)

    def instance_type(self, kind: SelfHostedKind) -> str:
        return cast(str, getattr(self, _THROUGHPUT_FIELDS[kind][0]))

    def throughput(self, kind: SelfHostedKind) -> tuple[Decimal, str, bool]:
        """(tokens/s per instance, where the figure comes from, whether it is a default)."""
        measured = getattr(self, _THROUGHPUT_FIELDS[kind][1])
        instance_type = self.instance_type(kind)
        if measured is not None:
            return _decimal(measured), "your measurement", False
        default = THROUGHPUT_DEFAULTS[instance_type]
        return default.tokens_per_second, default.source, True

    def scaled(self, requests_per_month: Decimal) -> Workload:
        """The same workload at another volume; everything but the requests per month is unchanged."""
        return dataclasses.replace(self, requests_per_month=requests_per_month)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            data[item.name] = str(value) if isinstance(value, Decimal | float) else value
        return data


WORKLOAD_FIELDS: tuple[str, ...] = tuple(item.name for item in dataclasses.fields(Workload))


def workload_from_mapping(data: Mapping[str, Any]) -> Workload:
    """A `Workload` from a mapping with its field names (a YAML workload file); unknown keys are an error."""
    unknown = sorted(set(data) - set(WORKLOAD_FIELDS))
    if unknown:
        raise ValueError(
            f"unknown workload field(s) {', '.join(unknown)}; allowed: {', '.join(WORKLOAD_FIELDS)}"
        )
    missing = [
        name
        for name in (
            "model_id",
            "requests_per_month",
            "input_tokens_per_request",
            "output_tokens_per_request",
        )
        if data.get(name) is None
    ]
    if missing:
        raise ValueError(f"the workload needs {', '.join(missing)}")
    return Workload(**dict(data))


# ------------------------------------------------------------------------------------------------- options
@dataclass(frozen=True)
class Capacity:
    """What a self-hosted option provisions for the workload's peak."""

    tokens_per_second_per_instance: Decimal
    average_tokens_per_second: Decimal
    peak_tokens_per_second: Decimal
    instances: int


def capacity_for(workload: Workload, tokens_per_second_per_instance: Decimal) -> Capacity:
    """instances = ceil(peak tokens/s / throughput per instance), at least 1.

    A fleet below capacity gets more instances; the workload's tokens never shrink to fit.
    """
    peak = workload.peak_tokens_per_second
    needed = (peak / tokens_per_second_per_instance).to_integral_value(rounding=ROUND_CEILING)
    return Capacity(
        tokens_per_second_per_instance, workload.average_tokens_per_second, peak, max(1, int(needed))
    )


@dataclass(frozen=True)
class ServingOption:
    """One way to serve the workload: its estimate, or why it is not priced."""

    key: str
    name: str
    available: bool
    monthly_tokens: Decimal
    estimate: CostEstimate | None = None
    reason: str = ""
    instance_type: str | None = None
    capacity: Capacity | None = None
    billed_instance_hours: Decimal | None = None
    assumptions: tuple[str, ...] = ()
    confidence: Confidence = "high"

    @property
    def monthly_cost(self) -> Decimal | None:
        return None if self.estimate is None else self.estimate.monthly_total

    @property
    def unit_cost_per_million_tokens(self) -> Decimal | None:
        """Monthly cost per 1M of the workload's input + output tokens."""
        cost = self.monthly_cost
        if cost is None or self.monthly_tokens == 0:
            return None
        return cost * TOKENS_PER_PRICED_UNIT / self.monthly_tokens

    @property
    def instances(self) -> int | None:
        return None if self.capacity is None else self.capacity.instances

    @property
    def utilisation(self) -> Decimal | None:
        """Self-hosted: average load / provisioned capacity over the hours billed; None for per-token options."""
        if self.capacity is None or not self.billed_instance_hours:
            return None
        capacity_tokens = (
            self.billed_instance_hours * SECONDS_PER_HOUR * self.capacity.tokens_per_second_per_instance
        )
        return self.monthly_tokens / capacity_tokens

    def to_json(self) -> dict[str, Any]:
        cost, unit, util = self.monthly_cost, self.unit_cost_per_million_tokens, self.utilisation
        return {
            "x_Option": self.key,
            "x_Name": self.name,
            "x_Available": self.available,
            "x_Reason": self.reason,
            "ListCost": None if cost is None else str(cost),
            "BillingCurrency": "USD",
            "x_UnitCostPerMillionTokens": None if unit is None else str(unit),
            "x_MonthlyTokens": str(self.monthly_tokens),
            "x_InstanceType": self.instance_type,
            "x_Instances": self.instances,
            "x_Utilisation": None if util is None else str(util),
            "x_Confidence": self.confidence,
            "x_Assumptions": list(self.assumptions),
            "x_Estimate": None if self.estimate is None else self.estimate.to_json(),
        }


@dataclass(frozen=True)
class BreakEven:
    """Where two options adjacent in cost order at the workload's volume swap places.

    `cheaper` is cheaper at the workload's volume, `other` the next. `monthly_tokens` (and the requests per
    month behind it) is the crossing nearest the workload's volume, or None when the order does not change
    between `searched_tokens`. `kind` is "cross" where the costs are equal (within a cent or 1 ppm), "step"
    where one option's cost steps over the other's (a self-hosted option adding an instance, or a batch run
    reaching the pipeline's minimum job size); `stepping` names that option. `cheaper_above` is the option that
    is cheaper just above the break-even volume.
    """

    cheaper: str
    other: str
    searched_tokens: tuple[Decimal, Decimal]
    requests_per_month: Decimal | None = None
    monthly_tokens: Decimal | None = None
    cost_cheaper: Decimal | None = None
    cost_other: Decimal | None = None
    kind: Literal["cross", "step"] | None = None
    cheaper_above: str | None = None
    stepping: str | None = None

    def to_json(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "x_Cheaper": self.cheaper,
            "x_Other": self.other,
            "x_MonthlyTokens": text(self.monthly_tokens),
            "x_RequestsPerMonth": text(self.requests_per_month),
            "x_CostCheaper": text(self.cost_cheaper),
            "x_CostOther": text(self.cost_other),
            "x_Kind": self.kind,
            "x_CheaperAbove": self.cheaper_above,
            "x_Stepping": self.stepping,
            "x_SearchedTokens": [str(self.searched_tokens[0]), str(self.searched_tokens[1])],
        }


@dataclass(frozen=True)
class Comparison:
    """Every option for one workload, cheapest first (then the unpriced ones), with break-evens and a verdict."""

    workload: Workload
    options: tuple[ServingOption, ...]
    break_evens: tuple[BreakEven, ...]
    cheapest: ServingOption
    reason: str
    search_requests: tuple[Decimal, Decimal]
    notes: tuple[str, ...] = ()

    @property
    def priced(self) -> tuple[ServingOption, ...]:
        return tuple(option for option in self.options if option.available)

    def option(self, key: str) -> ServingOption:
        for option in self.options:
            if option.key == key:
                return option
        raise KeyError(f"no option {key!r}; options: {', '.join(o.key for o in self.options)}")

    def to_json(self) -> dict[str, Any]:
        workload = self.workload
        return {
            "x_SchemaVersion": SCHEMA_VERSION,
            "RegionId": workload.region,
            "BillingCurrency": "USD",
            "x_Workload": workload.to_json(),
            "x_MonthlyTokens": str(workload.monthly_tokens),
            "x_PeakTokensPerSecond": str(workload.peak_tokens_per_second),
            "x_Cheapest": self.cheapest.key,
            "x_Reason": self.reason,
            "x_Options": [option.to_json() for option in self.options],
            "x_BreakEvens": [item.to_json() for item in self.break_evens],
            "x_SearchedRequestsPerMonth": [str(self.search_requests[0]), str(self.search_requests[1])],
            "x_Notes": list(self.notes),
        }


# ------------------------------------------------------------------------------------------------ pricing
def _min_confidence(*values: str) -> Confidence:
    order = {"low": 0, "medium": 1, "high": 2}
    return cast(Confidence, min(values, key=lambda value: order[value]))


def _estimate_confidence(estimate: CostEstimate) -> Confidence:
    return _min_confidence("high", *(line.confidence for line in estimate.lines))


def _volume_text(workload: Workload) -> str:
    return (
        f"{_count(workload.requests)} requests a month x ({workload.input_tokens_per_request:,} input + "
        f"{workload.output_tokens_per_request:,} output tokens) = {_count(workload.monthly_tokens)} tokens a month"
    )


def _unavailable(workload: Workload, key: str, reason: str) -> ServingOption:
    return ServingOption(key, OPTION_NAMES[key], False, workload.monthly_tokens, reason=reason)


def _token_option(workload: Workload, key: str, estimate: CostEstimate, *assumptions: str) -> ServingOption:
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=estimate,
        assumptions=(_volume_text(workload), *assumptions),
        confidence=_estimate_confidence(estimate),
    )


def _plain_usage(workload: Workload, requests: Decimal | None = None) -> TokenUsage:
    return TokenUsage(
        workload.requests if requests is None else requests,
        workload.input_tokens_per_request,
        workload.output_tokens_per_request,
    )


def _price_on_demand(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    peak_per_minute = workload.peak_tokens_per_second * 60
    estimate = estimate_bedrock_on_demand(workload.model_id, _plain_usage(workload), catalog, workload.region)
    return _token_option(
        workload,
        "bedrock-on-demand",
        estimate,
        "priced per token: nothing to provision or keep running",
        f"the account's Bedrock tokens-per-minute quota for {workload.model_id} must cover the peak of about "
        f"{_count(peak_per_minute)} tokens a minute",
    )


def batch_family(model_id: str) -> ModelFamily | None:
    """The request family `BedrockBatchPipeline` would use for a model id, or None if it builds none for it."""
    text = model_id.strip()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for start, family in BATCH_MODEL_FAMILIES:
        if text.startswith(start):
            return family
    return None


def _price_batch(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    key = "bedrock-batch"
    if workload.realtime:
        return _unavailable(
            workload,
            key,
            f"real-time workload: a batch job returns within {BATCH_TURNAROUND}, not while a caller waits",
        )
    if not workload.batch_ok:
        return _unavailable(
            workload,
            key,
            f"batch not requested: set batch_ok (--batch-ok) if the work can wait up to {BATCH_TURNAROUND}",
        )
    if not catalog.has_batch_price(workload.model_id, workload.region):
        return _unavailable(
            workload, key, f"no batch price in the catalogue for {workload.model_id} in {workload.region}"
        )
    family = batch_family(workload.model_id)
    if family is None:
        return _unavailable(
            workload,
            key,
            "BedrockBatchPipeline builds batch requests for Anthropic, Amazon Nova, Meta Llama and Titan "
            f"embedding models, not {workload.model_id}",
        )
    records = int(workload.requests.to_integral_value())
    usage = BatchUsage(
        records_per_month=records,
        input_tokens_per_record=workload.input_tokens_per_request,
        output_tokens_per_record=workload.output_tokens_per_request,
        runs_per_month=BATCH_RUNS_PER_MONTH,
    )
    plan = BatchPlan(model_id=workload.model_id, family=family)
    estimate = estimate_bedrock_batch(plan, usage, catalog, workload.region)
    return _token_option(
        workload,
        key,
        estimate,
        f"records are whole requests: {records:,} a month in {BATCH_RUNS_PER_MONTH} runs (one a day); results "
        f"within {BATCH_TURNAROUND}",
        f"BedrockBatchPipeline with its defaults (at most {plan.records_per_job:,} records per job, at least "
        f"{plan.min_records_per_job:,})",
    )


def _price_cache(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    key = "bedrock-prompt-cache"
    if workload.cache_prefix_tokens is None or workload.cache_hit_rate is None:
        return _unavailable(
            workload, key, "no prompt cache described: pass cache_prefix_tokens and cache_hit_rate"
        )
    if not supports_prompt_cache(workload.model_id, catalog, workload.region):
        return _unavailable(
            workload,
            key,
            f"no cache-read price in the catalogue for {workload.model_id} in {workload.region}",
        )
    usage = TokenUsage(
        workload.requests,
        workload.input_tokens_per_request,
        workload.output_tokens_per_request,
        cached_prefix_tokens=workload.cache_prefix_tokens,
        cache_hit_rate=_decimal(workload.cache_hit_rate),
    )
    estimate = estimate_bedrock_on_demand(workload.model_id, usage, catalog, workload.region)
    return _token_option(
        workload,
        key,
        estimate,
        f"{workload.cache_prefix_tokens:,} of the {workload.input_tokens_per_request:,} input tokens per request are "
        f"a shared prefix; {_percent(_decimal(workload.cache_hit_rate))} of requests read it from the cache, the "
        "others write it (5-minute cache TTL)",
    )


def _price_routed(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    key = "bedrock-routed"
    if workload.small_model_id is None or workload.routed_share is None:
        return _unavailable(workload, key, "no routing described: pass small_model_id and routed_share")
    share = _decimal(workload.routed_share)
    escalated = workload.requests * (1 - share)
    small_lines = on_demand_token_lines(
        workload.small_model_id,
        _plain_usage(workload),
        catalog,
        workload.region,
        label="small model: ",
        assumptions=("every request is answered by the small model first",),
    )
    large_lines = on_demand_token_lines(
        workload.model_id,
        _plain_usage(workload, escalated),
        catalog,
        workload.region,
        label="escalated to large model: ",
        assumptions=(f"{_percent(1 - share)} of requests escalate to {workload.model_id}",),
    )
    baseline = estimate_bedrock_on_demand(workload.model_id, _plain_usage(workload), catalog, workload.region)
    estimate = CostEstimate(
        construct_path="",
        pattern="Bedrock routed cascade",
        region=workload.region,
        lines=(*small_lines, *large_lines),
        baseline=baseline,
        assumptions=(
            f"cascade: {workload.small_model_id} answers every request; {_percent(share)} are done there, the other "
            f"{_percent(1 - share)} escalate to {workload.model_id} and pay both models",
        ),
        notes=(
            "Not priced: the router or judge that decides to escalate, and any extra input an escalated request "
            "carries (e.g. the small model's draft).",
        ),
    )
    return _token_option(
        workload,
        key,
        estimate,
        f"{workload.small_model_id} handles {_percent(share)} of requests; the rest escalate to {workload.model_id} "
        "after the small model answered (escalated requests pay both models)",
    )


def _self_hosted_assumptions(workload: Workload, kind: SelfHostedKind, capacity: Capacity) -> tuple[str, ...]:
    throughput, source, is_default = workload.throughput(kind)
    label = "LOW confidence default" if is_default else "your measurement"
    return (
        _volume_text(workload),
        f"{_number(throughput)} input + output tokens/s per {workload.instance_type(kind)} ({label}: {source})",
        f"peak {_rate(capacity.peak_tokens_per_second)} tokens/s = {_count(workload.monthly_tokens)} tokens / "
        f"({_number(_decimal(workload.active_hours_per_day))} active h/day x 3,600 s x 730/24 days) x peak-to-average "
        f"{_number(_decimal(workload.peak_to_average))}",
        f"{capacity.instances} instance(s) = ceil(peak {_rate(capacity.peak_tokens_per_second)} / "
        f"{_number(throughput)} tokens/s per instance), provisioned for the peak through every active hour "
        "(scaling between average and peak is not modelled, so this is an upper bound)",
        SELF_HOSTED_MODEL_NOTE.format(model=workload.model_id),
    )


def _self_hosted_confidence(workload: Workload, kind: SelfHostedKind, estimate: CostEstimate) -> Confidence:
    is_default = workload.throughput(kind)[2]
    return _min_confidence(_estimate_confidence(estimate), "low" if is_default else "high")


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


def _price_always_on(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    key = "sagemaker-always-on"
    try:
        estimate, capacity, _ = _scale_to_zero_estimate(workload, catalog)
    except UnknownPriceError as missing:
        return _unavailable(workload, key, f"not priced: {missing}")
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


def _price_scale_to_zero(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    key = "scale-to-zero"
    try:
        estimate, capacity, usage = _scale_to_zero_estimate(workload, catalog)
    except UnknownPriceError as missing:
        return _unavailable(workload, key, f"not priced: {missing}")
    assumptions = _self_hosted_assumptions(workload, "sagemaker", capacity)
    assumptions += (
        f"traffic {_number(_decimal(workload.active_hours_per_day))} h every day of a 730-hour month "
        f"({_number(DAYS_PER_MONTH.quantize(Decimal('0.01')))} days), one wake from zero a day below 24 h",
    )
    if workload.realtime and _decimal(workload.active_hours_per_day) < 24:
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


def _price_spot(workload: Workload, catalog: PriceCatalog, kind: SelfHostedKind) -> ServingOption:
    key = "spot-inf2" if kind == "inf2" else "spot-graviton"
    instance_type = workload.instance_type(kind)
    accelerator = EC2_INSTANCE_SPECS[instance_type].accelerator
    capacity = capacity_for(workload, workload.throughput(kind)[0])
    hours = float(HOURS_PER_MONTH * _decimal(workload.active_hours_per_day) / 24)
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
            off_hours=_decimal(workload.active_hours_per_day) < 24,
        )
    except UnknownPriceError as missing:
        return _unavailable(workload, key, f"not priced: {missing}")
    on_demand, spot = split_capacity(
        Decimal(capacity.instances), SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE
    )
    assumptions = (
        *_self_hosted_assumptions(workload, kind, capacity),
        f"SpotInferenceFleet defaults: On-Demand base {SPOT_ON_DEMAND_BASE}, {SPOT_PERCENT_ABOVE_BASE} % Spot above "
        f"it: {_number(on_demand)} On-Demand + {_number(spot)} Spot instance(s)",
        f"the fleet runs {_number(Decimal(str(usage.hours_per_month)).quantize(Decimal('0.01')))} h a month (off "
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


_PRICERS: dict[str, Callable[[Workload, PriceCatalog], ServingOption]] = {
    "bedrock-on-demand": _price_on_demand,
    "bedrock-batch": _price_batch,
    "bedrock-prompt-cache": _price_cache,
    "bedrock-routed": _price_routed,
    "bedrock-provisioned": lambda workload, _catalog: _unavailable(
        workload, "bedrock-provisioned", PROVISIONED_REASON
    ),
    "sagemaker-always-on": _price_always_on,
    "scale-to-zero": _price_scale_to_zero,
    "spot-inf2": lambda workload, catalog: _price_spot(workload, catalog, "inf2"),
    "spot-graviton": lambda workload, catalog: _price_spot(workload, catalog, "graviton"),
}


def price_option(workload: Workload, key: str, catalog: PriceCatalog) -> ServingOption:
    """One option for `workload` (priced, or unavailable with the reason)."""
    try:
        pricer = _PRICERS[key]
    except KeyError:
        raise ValueError(f"unknown option {key!r}; options: {', '.join(OPTION_KEYS)}") from None
    return pricer(workload, catalog)


def option_cost(workload: Workload, key: str, requests_per_month: Decimal, catalog: PriceCatalog) -> Decimal:
    """The monthly cost of option `key` for `workload` scaled to `requests_per_month`."""
    option = price_option(workload.scaled(requests_per_month), key, catalog)
    if option.monthly_cost is None:
        raise ValueError(f"{option.name} is not priced: {option.reason}")
    return option.monthly_cost


def check_models(workload: Workload, catalog: PriceCatalog) -> None:
    """ValueError unless the catalogue prices the workload's model(s) on demand in its Region."""
    for field_name in ("model_id", "small_model_id"):
        model = getattr(workload, field_name)
        if model is None:
            continue
        try:
            catalog.bedrock(model, workload.region, "input")
        except UnknownPriceError as missing:
            raise ValueError(
                f"Workload.{field_name} {model!r} has no Bedrock price in the catalogue for {workload.region}: {missing}"
            ) from None


# ------------------------------------------------------------------------------------------------ break-even
def search_range(workload: Workload) -> tuple[Decimal, Decimal]:
    """Requests per month searched for break-evens: 10^-3 to 10^3 times the workload's."""
    scale = Decimal(10) ** SEARCH_DECADES
    return workload.requests / scale, workload.requests * scale


def volume_grid(workload: Workload, points_per_decade: int = GRID_POINTS_PER_DECADE) -> list[Decimal]:
    """Requests per month on a log grid over `search_range`, including the workload's own volume."""
    steps = 2 * SEARCH_DECADES * points_per_decade
    return [
        _scale(workload.requests, -SEARCH_DECADES + 2 * SEARCH_DECADES * i / steps) for i in range(steps + 1)
    ]


def _scale(requests: Decimal, log10_factor: float) -> Decimal:
    return requests * Decimal(repr(10.0**log10_factor)) if log10_factor else requests


def _within_tolerance(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(BREAK_EVEN_TOLERANCE_USD, BREAK_EVEN_TOLERANCE_RELATIVE * max(a, b))


def _sign(value: Decimal) -> int:
    return (value > 0) - (value < 0)


def find_break_even(
    workload: Workload,
    cheaper: str,
    other: str,
    catalog: PriceCatalog,
    *,
    grid: Sequence[Decimal] | None = None,
    costs: Mapping[str, Sequence[Decimal]] | None = None,
) -> BreakEven:
    """The volume nearest the workload's where `cheaper` and `other` change order (see `BreakEven`).

    `grid` and `costs` (the two options' costs on it) may be passed in when already computed.
    """
    low, high = search_range(workload)
    tokens = workload.tokens_per_request
    searched = (low * tokens, high * tokens)
    points = list(grid) if grid is not None else volume_grid(workload)

    def cost(key: str, requests: Decimal) -> Decimal:
        return option_cost(workload, key, requests, catalog)

    a_costs = list(costs[cheaper]) if costs else [cost(cheaper, r) for r in points]
    b_costs = list(costs[other]) if costs else [cost(other, r) for r in points]
    signed = [
        (i, _sign(a - b)) for i, (a, b) in enumerate(zip(a_costs, b_costs, strict=True)) if _sign(a - b) != 0
    ]
    brackets = [
        (signed[k][0], signed[k + 1][0]) for k in range(len(signed) - 1) if signed[k][1] != signed[k + 1][1]
    ]
    if not brackets:
        return BreakEven(cheaper, other, searched)
    home = min(range(len(points)), key=lambda i: abs(points[i] - workload.requests))
    lo_i, hi_i = min(brackets, key=lambda pair: min(abs(pair[0] - home), abs(pair[1] - home)))
    lo, hi = points[lo_i], points[hi_i]
    lo_sign = _sign(a_costs[lo_i] - b_costs[lo_i])
    for _ in range(200):
        mid = (lo * hi).sqrt()
        if hi / lo - 1 < Decimal("1e-15") or mid in (lo, hi):
            break
        diff = _sign(cost(cheaper, mid) - cost(other, mid))
        if diff == 0:
            lo = hi = mid
            break
        if diff == lo_sign:
            lo = mid
        else:
            hi = mid
    at = (lo * hi).sqrt()
    cost_a, cost_b = cost(cheaper, at), cost(other, at)
    above = cheaper if _sign(cost(cheaper, hi) - cost(other, hi)) < 0 else other
    crossed = _within_tolerance(cost_a, cost_b)
    stepping = None
    if not crossed:
        jump_a = abs(cost(cheaper, hi) - cost(cheaper, lo))
        jump_b = abs(cost(other, hi) - cost(other, lo))
        stepping = cheaper if jump_a >= jump_b else other
    return BreakEven(
        cheaper,
        other,
        searched,
        requests_per_month=at,
        monthly_tokens=at * tokens,
        cost_cheaper=cost_a,
        cost_other=cost_b,
        kind="cross" if crossed else "step",
        cheaper_above=above,
        stepping=stepping,
    )


def cost_curves(
    workload: Workload,
    keys: Sequence[str],
    catalog: PriceCatalog | None = None,
    *,
    points_per_decade: int = GRID_POINTS_PER_DECADE,
) -> tuple[list[Decimal], dict[str, list[Decimal]]]:
    """(requests per month on the search grid, each option's monthly cost at those volumes)."""
    catalog = catalog or PriceCatalog.bundled()
    grid = volume_grid(workload, points_per_decade)
    return grid, {key: [option_cost(workload, key, r, catalog) for r in grid] for key in keys}


# -------------------------------------------------------------------------------------------------- compare
def compare_serving_options(workload: Workload, catalog: PriceCatalog | None = None) -> Comparison:
    """Price every way to serve `workload`, find break-even volumes, name the cheapest and why."""
    catalog = catalog or PriceCatalog.bundled()
    check_models(workload, catalog)
    options = [price_option(workload, key, catalog) for key in OPTION_KEYS]
    priced = sorted(
        (option for option in options if option.available),
        key=lambda option: (option.monthly_cost, OPTION_KEYS.index(option.key)),
    )
    unpriced = [option for option in options if not option.available]
    grid, curves = cost_curves(workload, [option.key for option in priced], catalog)
    break_evens = tuple(
        find_break_even(workload, a.key, b.key, catalog, grid=grid, costs=curves)
        for a, b in itertools.pairwise(priced)
    )
    cheapest = priced[0]
    notes = [
        "Provisioned Throughput is not priced: the catalogue has no Provisioned Throughput price (model units are "
        "bought per hour with a commitment; ask AWS for a quote).",
        "A month is 730 h. Self-hosted options need an open-weight model that does the job; Bedrock options use "
        f"{workload.model_id}.",
    ]
    return Comparison(
        workload=workload,
        options=(*priced, *unpriced),
        break_evens=break_evens,
        cheapest=cheapest,
        reason=_why_cheapest(workload, priced, break_evens, catalog),
        search_requests=search_range(workload),
        notes=tuple(notes),
    )


def _why_cheapest(
    workload: Workload,
    priced: Sequence[ServingOption],
    break_evens: Sequence[BreakEven],
    catalog: PriceCatalog,
) -> str:
    best = priced[0]
    estimate = best.estimate
    assert estimate is not None
    text = _why(workload, best, estimate, catalog)
    if len(priced) > 1:
        runner = priced[1]
        runner_cost = runner.monthly_cost
        assert runner_cost is not None and best.monthly_cost is not None
        text += f" Next: {runner.name} at {usd(runner_cost)}/month"
        if best.monthly_cost > 0:
            ratio = runner_cost / best.monthly_cost
            more = (
                f"{_number(ratio, '0.1')} times as much"
                if ratio >= 2
                else f"{_number((ratio - 1) * 100, '0.1')} % more"
            )
            text += f" ({more})"
        text += "."
        first = break_evens[0]
        if first.monthly_tokens is not None:
            where = _tokens(first.monthly_tokens)
            if first.monthly_tokens > workload.monthly_tokens:
                text += (
                    f" It stays cheapest up to about {where} tokens a month, where {runner.name} takes over."
                )
            else:
                text += f" Below about {where} tokens a month, {runner.name} would be cheaper."
        else:
            low, high = first.searched_tokens
            text += f" The two do not swap places between {_tokens(low)} and {_tokens(high)} tokens a month."
    if best.capacity is not None:
        throughput, _, is_default = workload.throughput(_kind_of(best.key))
        if is_default:
            text += (
                f" This rests on a LOW-confidence throughput of {_number(throughput)} tokens/s per "
                f"{best.instance_type}: measure your model and pass it."
            )
    return text


def _kind_of(key: str) -> SelfHostedKind:
    return "inf2" if key == "spot-inf2" else "graviton" if key == "spot-graviton" else "sagemaker"


def _why(workload: Workload, best: ServingOption, estimate: CostEstimate, catalog: PriceCatalog) -> str:
    name = best.name
    if best.key == "bedrock-batch":
        tokens_cost = sum((line.monthly_cost for line in token_lines(estimate)), Decimal(0))
        baseline = estimate.baseline
        assert baseline is not None
        on_demand = baseline.monthly_total
        share = tokens_cost * 100 / on_demand if on_demand else Decimal(0)
        overhead = estimate.monthly_total - tokens_cost
        return (
            f"{name} is cheapest: its tokens cost {_number(share, '0.1')} % of on-demand (the catalogue's batch "
            f"prices for {workload.model_id}), and the work can wait up to {BATCH_TURNAROUND}; the pipeline adds "
            f"{usd(overhead)}/month of orchestration."
        )
    if best.key == "bedrock-prompt-cache":
        saving = estimate.savings_usd or Decimal(0)
        percent = estimate.savings_percent or Decimal(0)
        return (
            f"{name} is cheapest: {workload.cache_prefix_tokens:,} of the {workload.input_tokens_per_request:,} "
            f"input tokens per request are a shared prefix read from the cache on "
            f"{_percent(_decimal(workload.cache_hit_rate or 0))} of requests, which saves {usd(saving)}/month "
            f"({_number(percent, '0.1')} %) against the same requests without caching; output and the uncached "
            "input cost the same."
        )
    if best.key == "bedrock-routed":
        saving = estimate.savings_usd or Decimal(0)
        percent = estimate.savings_percent or Decimal(0)
        return (
            f"The {name} is cheapest: {workload.small_model_id} answers "
            f"{_percent(_decimal(workload.routed_share or 0))} of requests and only the rest reach "
            f"{workload.model_id} (paying both), {usd(saving)}/month ({_number(percent, '0.1')} %) less than "
            f"sending everything to {workload.model_id}."
        )
    if best.key == "bedrock-on-demand":
        unit = best.unit_cost_per_million_tokens or Decimal(0)
        return (
            f"{name} is cheapest: at {_tokens(workload.monthly_tokens)} tokens a month, paying "
            f"{usd(unit)} per 1M tokens costs less than keeping capacity for a peak of "
            f"{_rate(workload.peak_tokens_per_second)} tokens/s running."
        )
    capacity = best.capacity
    assert capacity is not None
    utilisation = best.utilisation or Decimal(0)
    if best.key == "sagemaker-always-on":
        return (
            f"A {name} is cheapest: {capacity.instances} x {best.instance_type} at "
            f"{_number(utilisation * 100, '0.1')} % average utilisation cost less than per-token pricing for "
            f"{_tokens(workload.monthly_tokens)} tokens a month."
        )
    if best.key == "scale-to-zero":
        hours = best.billed_instance_hours or Decimal(0)
        return (
            f"{name} is cheapest: its {capacity.instances} x {best.instance_type} bill "
            f"{_number(hours, '0.1')} instance-hours a month (traffic {_number(_decimal(workload.active_hours_per_day))} "
            f"h a day plus cold starts and scale-in tails) instead of {_number(HOURS_PER_MONTH * capacity.instances)}."
        )
    on_demand, spot = split_capacity(
        Decimal(capacity.instances), SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE
    )
    assert best.instance_type is not None
    discount = catalog.spot_discount(best.instance_type, workload.region)
    return (
        f"{name} is cheapest: {capacity.instances} x {best.instance_type} ({_number(on_demand)} On-Demand, "
        f"{_number(spot)} Spot at an assumed {_number(discount.average * 100, '1')} % Spot discount) at "
        f"{_number(utilisation * 100, '0.1')} % average utilisation."
    )


# ---------------------------------------------------------------------------------------------- wording
def _count(value: Decimal) -> str:
    return f"{value.to_integral_value():,}"


def _number(value: Decimal, quantum: str | None = None) -> str:
    if quantum is not None:
        return format(value.quantize(Decimal(quantum)), "f")
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def _rate(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}"


def _percent(share: Decimal) -> str:
    return f"{_number((share * 100).normalize())} %"


def _tokens(value: Decimal) -> str:
    """A token volume for people: 1.2M, 350k, 4.5B."""
    number = float(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= scale:
            return f"{number / scale:.3g}{suffix}"
    return f"{number:.3g}"


def tokens_text(value: Decimal) -> str:
    """Public form of the token-volume wording used in the verdict (for renderers)."""
    return _tokens(value)


__all__ = [
    "DAYS_PER_MONTH",
    "OPTION_KEYS",
    "OPTION_NAMES",
    "PROVISIONED_REASON",
    "THROUGHPUT_DEFAULTS",
    "WORKLOAD_FIELDS",
    "BreakEven",
    "Capacity",
    "Comparison",
    "ServingOption",
    "ThroughputDefault",
    "Workload",
    "batch_family",
    "capacity_for",
    "check_models",
    "compare_serving_options",
    "cost_curves",
    "find_break_even",
    "option_cost",
    "price_option",
    "search_range",
    "tokens_text",
    "volume_grid",
    "workload_from_mapping",
]
