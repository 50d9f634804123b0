"""The advisor's input: one month of inference work (`Workload`), validated on construction, its parsing
from a mapping (`workload_from_mapping`) and the safe reading of a YAML workload file (`load_workload_file`).

Derived figures (tokens a month, active seconds, average and peak tokens/s) live on the workload so every
option is priced from the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from inferwise.cost.advisor.checks import (
    Number,
    check_choice,
    check_instance,
    check_number,
    check_text,
    check_whole,
    to_decimal,
)
from inferwise.cost.advisor.throughput import THROUGHPUT_FIELDS, SelfHostedKind
from inferwise.cost.model import HOURS_PER_MONTH
from inferwise.cost.specs.models import OPEN_MODELS, PRECISIONS, Precision
from inferwise.cost.validation import InvalidValueError, key_lines, load_yaml_file, suggestion

SECONDS_PER_HOUR = 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""730 h / 24 h: the days in a 730-hour month, so that 24 active hours a day bill exactly 730 h."""

BATCH_TURNAROUND = "24 h"
"""How long a Bedrock batch job may take to return; why batch is never offered to a real-time workload."""

DEFAULT_OPS_HOURS_PER_MONTH = 20
DEFAULT_OPS_HOURLY_USD = 100
"""The people who run a self-hosted fleet (patching, upgrades, on-call, capacity): 20 h a month at $100 an
hour by default. An assumption with no source: set your own (`--ops-hours-per-month`, `--ops-hourly-usd`)."""

DEFAULT_SCENARIOS: tuple[Number, ...] = (0.5, 1, 2)
"""Low, expected and high volume: the workload's requests per month times each multiplier."""

SERVICE_TIERS = ("flex", "priority")
CACHE_TTLS = ("5m", "1h")
SAVINGS_PLAN_TERMS = ("1yr", "3yr")


@dataclass(frozen=True)
class Workload:
    """A month of inference work, and how it may be served; validated on construction.

    - `model_id`: the Bedrock model (a model id, inference profile id or ARN the catalogue prices).
    - `requests_per_month` (> 0), `input_tokens_per_request` (>= 1), `output_tokens_per_request` (>= 0).
    - `active_hours_per_day` (0-24, default 24): hours a day with traffic, every day of a 730-hour month.
    - `peak_to_average` (>= 1, default 1): peak tokens/s over the average during active hours.
    - `realtime` (default True): answers are needed while the caller waits (latency matters); False makes
      the work deferrable (Bedrock Flex and SageMaker Asynchronous Inference are offered).
    - `batch_ok` (default False): the work can wait up to 24 h for a batch job; only for `realtime=False`.
    - `cache_prefix_tokens` and `cache_hit_rate` (both or neither): a shared prompt prefix of that many of the
      input tokens is marked for Bedrock prompt caching, and that share of requests (0-1) reads it from the
      cache; `cache_ttl` ("5m" or "1h") is how long the cache lives, which sets the write price.
    - `small_model_id` and `routed_share` (both or neither): a routed cascade sends every request to the small
      model first; `routed_share` (0-1) of requests are done there and the rest escalate to `model_id`.
    - `service_tier` ("flex" or "priority"): asks for that Bedrock tier; an error if the model has no price
      for it. Without it, the tiers the catalogue prices for the model are compared anyway.
    - `substitute_model`: an open model (by its Hugging Face name, `specs/models.py`) to self-host in place of
      `model_id`; needed for closed models, listed apart as a different model.
    - `precision` (default bf16): the weights' precision when self-hosting (bf16, fp16, fp8, int8, int4).
    - self-hosting: `sagemaker_instance_type`, `inf2_instance_type`, `gpu_instance_type` (g5, g6, g6e) and
      `graviton_instance_type` pin an instance type (default: the smallest that holds the model and has a
      sourced throughput); `*_tokens_per_second` is your measured input + output tokens/s per instance.
      `serverless_memory` (`serverless-1gb` to `serverless-6gb`) pins a SageMaker Serverless Inference memory
      size, and `serverless_tokens_per_second` is what one invocation serves (no source measured any).
    - `savings_plan_discount` (0-1, exclusive) and `savings_plan_term` ("1yr" or "3yr", default 1yr): your
      SageMaker AI Savings Plan rate off On-Demand; without it that option is not priced (no sourced rate).
    - `ops_hours_per_month` and `ops_hourly_usd` (default 20 h x $100): people running a self-hosted option.
    - `scenarios` (default 0.5, 1, 2): volume multipliers for the low / expected / high comparison.
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
    cache_ttl: str = "5m"
    small_model_id: str | None = None
    routed_share: Number | None = None
    service_tier: str | None = None
    substitute_model: str | None = None
    precision: Precision = "bf16"
    sagemaker_instance_type: str | None = None
    sagemaker_tokens_per_second: Number | None = None
    inf2_instance_type: str | None = None
    inf2_tokens_per_second: Number | None = None
    gpu_instance_type: str | None = None
    gpu_tokens_per_second: Number | None = None
    graviton_instance_type: str | None = None
    graviton_tokens_per_second: Number | None = None
    serverless_memory: str | None = None
    serverless_tokens_per_second: Number | None = None
    savings_plan_discount: Number | None = None
    savings_plan_term: str = "1yr"
    ops_hours_per_month: Number = DEFAULT_OPS_HOURS_PER_MONTH
    ops_hourly_usd: Number = DEFAULT_OPS_HOURLY_USD
    scenarios: tuple[Number, ...] = DEFAULT_SCENARIOS
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        check_text("model_id", self.model_id)
        check_number("requests_per_month", self.requests_per_month, low=0, high=None, low_open=True)
        check_whole("input_tokens_per_request", self.input_tokens_per_request, low=1)
        check_whole("output_tokens_per_request", self.output_tokens_per_request, low=0)
        check_number("active_hours_per_day", self.active_hours_per_day, low=0, high=24, low_open=True)
        check_number("peak_to_average", self.peak_to_average, low=1, high=None)
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
        if self.service_tier is not None:
            check_choice("service_tier", self.service_tier, SERVICE_TIERS)
        self._check_self_hosting()
        discount = self.savings_plan_discount
        if discount is not None:
            check_number("savings_plan_discount", discount, low=0, high=None, low_open=True)
            if to_decimal(discount) >= 1:
                raise ValueError(
                    f"Workload.savings_plan_discount must be > 0 and < 1 (a share off), got {discount}"
                )
        check_choice("savings_plan_term", self.savings_plan_term, SAVINGS_PLAN_TERMS)
        check_number("ops_hours_per_month", self.ops_hours_per_month, low=0, high=None)
        check_number("ops_hourly_usd", self.ops_hourly_usd, low=0, high=None)
        self._check_scenarios()
        check_text("region", self.region)

    def _check_cache(self) -> None:
        prefix, rate = self.cache_prefix_tokens, self.cache_hit_rate
        if (prefix is None) != (rate is None):
            raise ValueError(
                "Workload.cache_prefix_tokens and Workload.cache_hit_rate go together: give both or neither, "
                f"got cache_prefix_tokens={prefix!r}, cache_hit_rate={rate!r}"
            )
        check_choice("cache_ttl", self.cache_ttl, CACHE_TTLS)
        if prefix is None:
            return
        check_whole("cache_prefix_tokens", prefix, low=1)
        if prefix > self.input_tokens_per_request:
            raise ValueError(
                f"Workload.cache_prefix_tokens must be <= input_tokens_per_request "
                f"({self.input_tokens_per_request}), got {prefix}"
            )
        check_number("cache_hit_rate", rate, low=0, high=1)

    def _check_routing(self) -> None:
        small, share = self.small_model_id, self.routed_share
        if (small is None) != (share is None):
            raise ValueError(
                "Workload.small_model_id and Workload.routed_share go together: give both or neither, "
                f"got small_model_id={small!r}, routed_share={share!r}"
            )
        if small is None:
            return
        check_text("small_model_id", small)
        check_number("routed_share", share, low=0, high=1)

    def _check_self_hosting(self) -> None:
        check_choice("precision", self.precision, PRECISIONS)
        if self.substitute_model is not None and self.substitute_model not in OPEN_MODELS:
            raise ValueError(
                f"Workload.substitute_model must be an open model the catalogue sizes ({', '.join(OPEN_MODELS)}), "
                f"got {self.substitute_model!r}"
            )
        for kind, (type_field, throughput_field) in THROUGHPUT_FIELDS.items():
            instance_type = getattr(self, type_field)
            if instance_type is not None:
                check_instance(kind, instance_type)
            measured = getattr(self, throughput_field)
            if measured is not None:
                check_number(throughput_field, measured, low=0, high=None, low_open=True)

    def _check_scenarios(self) -> None:
        values = self.scenarios
        if isinstance(values, list):
            values = tuple(values)
            object.__setattr__(self, "scenarios", values)
        if not isinstance(values, tuple) or not 1 <= len(values) <= 5:
            raise ValueError(f"Workload.scenarios must be 1 to 5 volume multipliers, got {values!r}")
        for value in values:
            check_number("scenarios", value, low=0, high=1000, low_open=True)

    # ---------------------------------------------------------------------------------------- derived
    @property
    def requests(self) -> Decimal:
        return to_decimal(self.requests_per_month)

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
        return HOURS_PER_MONTH * to_decimal(self.active_hours_per_day) * SECONDS_PER_HOUR / 24

    @property
    def average_tokens_per_second(self) -> Decimal:
        """Tokens/s averaged over the active hours."""
        return self.monthly_tokens / self.active_seconds_per_month

    @property
    def peak_tokens_per_second(self) -> Decimal:
        return self.average_tokens_per_second * to_decimal(self.peak_to_average)

    @property
    def ops_monthly_usd(self) -> Decimal:
        return to_decimal(self.ops_hours_per_month) * to_decimal(self.ops_hourly_usd)

    def instance_type(self, kind: SelfHostedKind) -> str | None:
        """The instance type pinned for `kind`, or None (the advisor picks the smallest that fits)."""
        return cast("str | None", getattr(self, THROUGHPUT_FIELDS[kind][0]))

    def measured_throughput(self, kind: SelfHostedKind) -> Decimal | None:
        """Your measured input + output tokens/s per instance for `kind`, or None."""
        measured = getattr(self, THROUGHPUT_FIELDS[kind][1])
        return None if measured is None else to_decimal(measured)

    def pins_self_hosting(self) -> list[str]:
        """The self-hosting fields set (instance types or measurements), which force a self-hosted option."""
        return [
            name
            for fields in THROUGHPUT_FIELDS.values()
            for name in fields
            if getattr(self, name) is not None
        ]

    def scaled(self, requests_per_month: Decimal) -> Workload:
        """The same workload at another volume; everything but the requests per month is unchanged."""
        return dataclasses.replace(self, requests_per_month=requests_per_month)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, tuple):
                value = [str(v) if isinstance(v, Decimal | float) else v for v in value]
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


class WorkloadFileError(InvalidValueError):
    """A workload file that cannot be read; the message names the file and, where there is one, the line."""


def load_workload_file(path: Path) -> dict[str, Any]:
    """The fields of the YAML workload file at `path` (an empty file is no fields), read safely: at most 1 MiB
    of UTF-8, no anchors or aliases, no duplicate keys; unknown field names are refused with their line."""
    data = load_yaml_file(path, "workload file", WorkloadFileError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise WorkloadFileError(
            f"workload file {path} must be a mapping of Workload fields, got {type(data).__name__}"
        )
    unknown = [str(key) for key in data if key not in WORKLOAD_FIELDS]
    if unknown:
        line = key_lines(path).get((unknown[0],), 0)
        hint = suggestion(unknown[0], WORKLOAD_FIELDS).removeprefix("; ")
        where = "; ".join(part for part in (f"line {line}" if line else "", hint) if part)
        raise WorkloadFileError(
            f"workload file {path} has unknown field(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(WORKLOAD_FIELDS)}" + (f" ({where})" if where else "")
        )
    return {str(key): value for key, value in data.items()}
