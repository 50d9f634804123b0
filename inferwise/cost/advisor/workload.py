"""The advisor's input: one month of inference work (`Workload`), validated on construction, and its parsing
from a mapping such as a YAML workload file (`workload_from_mapping`).

Derived figures (tokens a month, active seconds, average and peak tokens/s) live on the workload so every
option is priced from the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from inferwise.cost.advisor.checks import (
    Number,
    check_instance,
    check_number,
    check_text,
    check_whole,
    to_decimal,
)
from inferwise.cost.advisor.throughput import (
    DEFAULT_SELF_HOSTED_TYPES,
    THROUGHPUT_DEFAULTS,
    THROUGHPUT_FIELDS,
    SelfHostedKind,
)
from inferwise.cost.model import HOURS_PER_MONTH

SECONDS_PER_HOUR = 3600
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
"""730 h / 24 h: the days in a 730-hour month, so that 24 active hours a day bill exactly 730 h."""

BATCH_TURNAROUND = "24 h"
"""How long a Bedrock batch job may take to return; why batch is never offered to a real-time workload."""


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
        for kind in THROUGHPUT_FIELDS:
            self._check_self_hosting(kind)
        check_text("region", self.region)

    def _check_cache(self) -> None:
        prefix, rate = self.cache_prefix_tokens, self.cache_hit_rate
        if (prefix is None) != (rate is None):
            raise ValueError(
                "Workload.cache_prefix_tokens and Workload.cache_hit_rate go together: give both or neither, "
                f"got cache_prefix_tokens={prefix!r}, cache_hit_rate={rate!r}"
            )
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

    def _check_self_hosting(self, kind: SelfHostedKind) -> None:
        type_field, throughput_field = THROUGHPUT_FIELDS[kind]
        instance_type = getattr(self, type_field)
        check_instance(kind, instance_type)
        measured = getattr(self, throughput_field)
        if measured is not None:
            check_number(throughput_field, measured, low=0, high=None, low_open=True)
        elif instance_type not in THROUGHPUT_DEFAULTS:
            defaults = ", ".join(THROUGHPUT_DEFAULTS)
            raise ValueError(
                f"Workload.{throughput_field} is required for {instance_type}: there is no default throughput for "
                f"it (defaults exist for {defaults}); pass your own measurement in input + output tokens/s"
            )

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

    def instance_type(self, kind: SelfHostedKind) -> str:
        return cast(str, getattr(self, THROUGHPUT_FIELDS[kind][0]))

    def throughput(self, kind: SelfHostedKind) -> tuple[Decimal, str, bool]:
        """(tokens/s per instance, where the figure comes from, whether it is a default)."""
        measured = getattr(self, THROUGHPUT_FIELDS[kind][1])
        instance_type = self.instance_type(kind)
        if measured is not None:
            return to_decimal(measured), "your measurement", False
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
