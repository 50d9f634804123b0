"""Field checks for `Workload`: each raises a ValueError naming the field, the value and what is allowed.

Numbers may come as int, float or Decimal (from Python or a YAML file); `to_decimal` turns each into the
Decimal every calculation uses, through its text so that 0.1 stays 0.1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from inferwise.cost.advisor.fit import SERVERLESS_TYPES, gpu_fleet_types
from inferwise.cost.advisor.throughput import THROUGHPUT_FIELDS, SelfHostedKind
from inferwise.cost.specs.ec2 import EC2_INSTANCE_SPECS
from inferwise.cost.specs.sagemaker import INSTANCE_SPECS

Number = int | float | Decimal


def to_decimal(value: Number) -> Decimal:
    """The value as a Decimal (a float through its shortest text, so 0.1 is 0.1)."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def is_number(value: object) -> bool:
    """True for an int, float or Decimal; False for a bool (a YAML `yes` is not a volume)."""
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def check_number(name: str, value: object, *, low: float, high: float | None, low_open: bool = False) -> None:
    """`value` is a finite number >= `low` (> `low` when `low_open`) and, with `high`, <= `high`."""
    if low_open and high is not None:
        allowed = f"> {low:g} and <= {high:g}"
    elif low_open:
        allowed = f"> {low:g}"
    elif high is not None:
        allowed = f"between {low:g} and {high:g}"
    else:
        allowed = f">= {low:g}"
    if not is_number(value):
        raise ValueError(f"Workload.{name} must be a number {allowed}, got {value!r}")
    number = to_decimal(cast(Number, value))
    too_low = number <= low if low_open else number < low
    if not number.is_finite() or too_low or (high is not None and number > high):
        raise ValueError(f"Workload.{name} must be {allowed}, got {number}")


def check_whole(name: str, value: object, *, low: int) -> None:
    """`value` is an int (not a bool) >= `low`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Workload.{name} must be a whole number >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"Workload.{name} must be >= {low}, got {value!r}")


def check_text(name: str, value: object) -> None:
    """`value` is a string with something in it."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Workload.{name} must be a non-empty string, got {value!r}")


def check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    """`value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Workload.{name} must be one of {', '.join(choices)}, got {value!r}")


def _known_types(kind: SelfHostedKind) -> tuple[list[str], str]:
    if kind == "sagemaker":
        return list(INSTANCE_SPECS), "a SageMaker instance type inferwise knows"
    if kind == "serverless":
        return list(SERVERLESS_TYPES), "a SageMaker Serverless Inference memory size"
    if kind == "gpu":
        return gpu_fleet_types(), "an EC2 GPU instance type (g5, g6, g6e) the advisor knows"
    accelerator = "inferentia2" if kind == "inf2" else "graviton"
    known = sorted(t for t, s in EC2_INSTANCE_SPECS.items() if s.accelerator == accelerator)
    what = f"{'an Inferentia2' if kind == 'inf2' else 'a Graviton'} instance type SpotInferenceFleet knows"
    return known, what


def check_instance(kind: SelfHostedKind, value: object) -> None:
    """`value` is an instance type the `kind` of option runs on; the error lists some that are."""
    name = THROUGHPUT_FIELDS[kind][0]
    known, what = _known_types(kind)
    if not (isinstance(value, str) and value in known):
        shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
        raise ValueError(f"Workload.{name} must be {what} ({shown}), got {value!r}")
