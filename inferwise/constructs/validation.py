"""Prop checks shared by the constructs: one message shape for every bad number a user can pass."""

from __future__ import annotations

import re

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
"""An ECR image URI, `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `@sha256:<digest>`."""


def check_whole_number(prop: str, value: object, low: int, high: int | None = None) -> int:
    """`value` if it is an int in [low, high]; otherwise a ValueError naming the prop, the value and the range."""
    allowed = f"between {low} and {high}" if high is not None else f">= {low}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        raise ValueError(f"{prop} must be a whole number {allowed}, got {value!r}")
    return value
