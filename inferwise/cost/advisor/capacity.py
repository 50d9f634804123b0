"""How many instances a self-hosted option provisions: enough for the workload's peak tokens/s.

instances = ceil(peak tokens/s / throughput per instance), where peak tokens/s = monthly tokens / active
seconds a month x peak-to-average; "tokens" are input + output tokens, for the peak and the throughput alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from inferwise.cost.advisor.workload import Workload


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
