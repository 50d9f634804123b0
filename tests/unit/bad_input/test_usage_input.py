"""The usage dataclasses refuse every bad figure when made: NaN, infinities, absurd magnitudes, bools, strings.

Before this, `Decimal('NaN')` reached a comparison and raised a bare `decimal.InvalidOperation`, and a float
`1e30` reached a quantize that did the same.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inferwise.cost.estimators.bedrock_batch import BatchUsage
from inferwise.cost.estimators.bedrock_on_demand import TokenUsage
from inferwise.cost.estimators.guardrails import GuardrailsUsage
from inferwise.cost.estimators.scale_to_zero import EndpointUsage
from inferwise.cost.estimators.spot_fleet import FleetUsage
from tests.unit.bad_input.support import Case, assert_refused, label, param

V, T = ValueError, TypeError
INF, NAN = float("inf"), float("nan")
D_NAN, D_INF = Decimal("NaN"), Decimal("Infinity")

TOKENS: dict[str, Any] = {
    "requests_per_month": 1000,
    "input_tokens_per_request": 500,
    "output_tokens_per_request": 100,
}


def usage(
    cls: type, prop: str, field: str, value: object, error: type[Exception], shows: str, **base: Any
) -> Case:
    return Case(
        f"{cls.__name__}.{field}={label(value)}",
        lambda: cls(**{**base, field: value}),
        error,
        f"{prop}.{field}",
        shows,
    )


def fleet(field: str, value: object, error: type[Exception], shows: str) -> Case:
    return usage(FleetUsage, "FleetUsage", field, value, error, shows)


def endpoint(field: str, value: object, error: type[Exception], shows: str) -> Case:
    return usage(EndpointUsage, "EndpointUsage", field, value, error, shows)


def tokens(field: str, value: object, error: type[Exception], shows: str) -> Case:
    return usage(TokenUsage, "TokenUsage", field, value, error, shows, **TOKENS)


def batch(field: str, value: object, error: type[Exception], shows: str) -> Case:
    return usage(BatchUsage, "usage", field, value, error, shows)


def guardrails(field: str, value: object, error: type[Exception], shows: str) -> Case:
    return Case(
        f"GuardrailsUsage.{field}={label(value)}",
        lambda: GuardrailsUsage(**{field: value}),
        error,
        field,
        shows,
    )


CASES: list[Case] = [
    fleet("average_instances", NAN, V, "nan"),
    fleet("average_instances", INF, V, "inf"),
    fleet("average_instances", -1, V, "-1"),
    fleet("average_instances", 1e30, V, "1e+30"),
    fleet("average_instances", 10**50, V, "digits"),
    fleet("average_instances", True, T, "True"),
    fleet("average_instances", "1", T, "'1'"),
    fleet("average_instances", None, T, "None"),
    fleet("average_instances", D_NAN, V, "Decimal('NaN')"),
    fleet("average_instances", [1], T, "[1]"),
    fleet("hours_per_month", 731, V, "731"),
    fleet("hours_per_month", -1, V, "-1"),
    fleet("hours_per_month", NAN, V, "nan"),
    fleet("hours_per_month", INF, V, "inf"),
    fleet("hours_per_month", "730", T, "'730'"),
    fleet("hours_per_month", D_INF, V, "Decimal('Infinity')"),
    endpoint("active_hours_per_day", 25, V, "25"),
    endpoint("active_hours_per_day", -1, V, "-1"),
    endpoint("active_hours_per_day", NAN, V, "nan"),
    endpoint("active_hours_per_day", INF, V, "inf"),
    endpoint("active_hours_per_day", "8", T, "'8'"),
    endpoint("active_hours_per_day", D_NAN, V, "Decimal('NaN')"),
    endpoint("days_per_month", 32, V, "32"),
    endpoint("days_per_month", NAN, V, "nan"),
    endpoint("days_per_month", False, T, "False"),
    endpoint("instances_while_active", 0, V, "got 0"),
    endpoint("instances_while_active", 1.5, T, "1.5"),
    endpoint("instances_while_active", True, T, "True"),
    endpoint("instances_while_active", 10**30, V, "1000000000000000000000000000000"),
    endpoint("instances_while_active", NAN, T, "nan"),
    endpoint("cold_starts_per_day", -2, V, "-2"),
    endpoint("cold_starts_per_day", INF, V, "inf"),
    endpoint("cold_starts_per_day", 1e9, V, "1000000000.0"),
    endpoint("cold_starts_per_day", "1", T, "'1'"),
    endpoint("scale_in_tail_minutes", NAN, V, "nan"),
    endpoint("scale_in_tail_minutes", 10**400, V, "digits"),
    endpoint("cold_start_minutes", -5, V, "-5"),
    endpoint("cold_start_minutes", 1e30, V, "1e+30"),
    tokens("requests_per_month", NAN, V, "nan"),
    tokens("requests_per_month", INF, V, "inf"),
    tokens("requests_per_month", -1, V, "-1"),
    tokens("requests_per_month", 1e30, V, "1e+30"),
    tokens("requests_per_month", D_NAN, V, "Decimal('NaN')"),
    tokens("requests_per_month", Decimal("1E+30"), V, "Decimal('1E+30')"),
    tokens("requests_per_month", True, T, "True"),
    tokens("requests_per_month", "10", T, "'10'"),
    tokens("input_tokens_per_request", -1, V, "-1"),
    tokens("input_tokens_per_request", 1.5, T, "1.5"),
    tokens("input_tokens_per_request", 10**30, V, "1000000000000000000000000000000"),
    tokens("output_tokens_per_request", NAN, T, "nan"),
    tokens("cached_prefix_tokens", 501, V, "501"),
    tokens("cache_hit_rate", 1.5, V, "1.5"),
    tokens("cache_hit_rate", NAN, V, "nan"),
    tokens("cache_hit_rate", D_NAN, V, "Decimal('NaN')"),
    tokens("cache_hit_rate", -0.1, V, "-0.1"),
    tokens("cache_hit_rate", "0.5", T, "'0.5'"),
    tokens("cache_ttl", "10m", V, "'10m'"),
    tokens("cache_ttl", None, T, "None"),
    tokens("cache_ttl", ["5m"], T, "['5m']"),
    batch("records_per_month", NAN, T, "nan"),
    batch("records_per_month", 1e30, T, "1e+30"),
    batch("records_per_month", 10**13, V, "10000000000000"),
    batch("records_per_month", -1, V, "-1"),
    batch("records_per_month", True, T, "True"),
    batch("records_per_month", Decimal(5), T, "Decimal('5')"),
    batch("input_tokens_per_record", 10**8, V, "100000000"),
    batch("output_tokens_per_record", -5, V, "-5"),
    batch("duplicate_share", NAN, V, "nan"),
    batch("duplicate_share", D_NAN, V, "Decimal('NaN')"),
    batch("duplicate_share", INF, V, "inf"),
    batch("duplicate_share", 1.0, V, "1.0"),
    batch("duplicate_share", -0.1, V, "-0.1"),
    batch("duplicate_share", "0.1", T, "'0.1'"),
    batch("duplicate_share", True, T, "True"),
    batch("runs_per_month", 0, V, "got 0"),
    batch("runs_per_month", 10**7, V, "10000000"),
    batch("bytes_per_token", 0, V, "got 0"),
    batch("bytes_per_token", 10**4, V, "10000"),
    guardrails("alerts_per_month", -1, V, "-1"),
    guardrails("alerts_per_month", 1.5, T, "1.5"),
    guardrails("alerts_per_month", 10**12, V, "1000000000000"),
    guardrails("alerts_per_month", NAN, T, "nan"),
    guardrails("alerts_per_month", True, T, "True"),
    guardrails("apply_free_tiers", "yes", T, "'yes'"),
    guardrails("apply_free_tiers", 1, T, "got 1"),
]


@param(CASES)
def test_bad_usage_figures_are_refused_when_made(case: Case) -> None:
    assert_refused(case)


def test_figures_at_their_limits_are_accepted() -> None:
    FleetUsage(average_instances=10_000, hours_per_month=Decimal(730))
    EndpointUsage(active_hours_per_day=24, days_per_month=31, cold_starts_per_day=1440)
    TokenUsage(
        requests_per_month=Decimal("1E+12"), input_tokens_per_request=10_000_000, output_tokens_per_request=0
    )
    BatchUsage(records_per_month=10**12, duplicate_share=Decimal("0.999"))
    GuardrailsUsage(alerts_per_month=0, apply_free_tiers=True)
