"""Does a model fit an instance? Accelerator memory against weights plus KV cache plus a stated reserve.

An instance qualifies for a model only if its accelerator memory, less `OVERHEAD_FRACTION`, holds

    weights (parameters x bytes per parameter at the precision)
    + KV cache (sequences in flight x (input + output tokens) x KV bytes per token)

where the model is split over `tp` accelerators (tensor parallelism) and the instance runs `count / tp`
replicas, each holding the weights once and its share of the sequences. The smallest `tp` that fits is
chosen. Accelerator memory per instance is `inferwise/cost/specs/accelerators.csv` (GPU and Inferentia2
shapes, with sources; a SageMaker `ml.X` type is the EC2 shape `X`, as `specs/sagemaker.py` says) and, for
Graviton, the host memory of `specs/ec2.py`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import cache
from pathlib import Path

from inferwise.cost.specs.ec2 import EC2_INSTANCE_SPECS
from inferwise.cost.specs.models import OpenModel, Precision

OVERHEAD_FRACTION = Decimal("0.1")
"""Accelerator memory kept back for activations, the runtime and fragmentation: vLLM's default
`gpu_memory_utilization` is 0.9, i.e. 10 % of the memory is never given to weights or the KV cache."""

_TABLE = Path(__file__).resolve().parents[1] / "specs" / "accelerators.csv"
_UNIT_BYTES = {"GB": Decimal(10) ** 9, "GiB": Decimal(2) ** 30}
_TP_DEGREES = (1, 2, 4, 8, 12, 16, 24)


@dataclass(frozen=True)
class Hardware:
    """The accelerators of one instance shape: how many, and the memory of each."""

    instance_type: str
    accelerator: str
    count: int
    memory_each: Decimal
    memory_unit: str
    source: str

    @property
    def bytes_each(self) -> Decimal:
        return self.memory_each * _UNIT_BYTES[self.memory_unit]

    @property
    def total_bytes(self) -> Decimal:
        return self.bytes_each * self.count

    @property
    def text(self) -> str:
        return f"{self.count} x {self.memory_each} {self.memory_unit} {self.accelerator}"


@cache
def _accelerator_table() -> dict[str, Hardware]:
    with _TABLE.open(encoding="utf-8", newline="") as handle:
        return {
            row["instance_type"]: Hardware(
                row["instance_type"],
                row["accelerator"],
                int(row["count"]),
                Decimal(row["memory_each"]),
                row["memory_unit"],
                row["source"],
            )
            for row in csv.DictReader(handle)
        }


def shape_of(instance_type: str) -> str:
    """The EC2 shape of an instance type: `ml.g5.xlarge` -> `g5.xlarge`."""
    return instance_type.removeprefix("ml.")


SERVERLESS_MEMORY_GB = (1, 2, 3, 4, 5, 6)
"""SageMaker Serverless Inference memory sizes: `ServerlessConfig.MemorySizeInMB` 1024 to 6144 in 1 GB steps, no
GPU (SageMaker developer guide, 'Deploy models with Amazon SageMaker Serverless Inference'; CloudFormation
`AWS::SageMaker::EndpointConfig ServerlessConfig`)."""
SERVERLESS_TYPES: tuple[str, ...] = tuple(f"serverless-{size}gb" for size in SERVERLESS_MEMORY_GB)
"""The advisor's names of the Serverless Inference memory sizes, which `--instance-type` takes."""


def serverless_gb(instance_type: str) -> int | None:
    """The memory in GB (1,024 MB) of a Serverless Inference size name (`serverless-6gb` -> 6), else None."""
    if instance_type not in SERVERLESS_TYPES:
        return None
    return int(instance_type.removeprefix("serverless-").removesuffix("gb"))


def hardware(instance_type: str) -> Hardware | None:
    """The accelerators of `instance_type` (an EC2 or `ml.` type, or a Serverless Inference memory size), or None
    when the table has no row for it."""
    gigabytes = serverless_gb(instance_type)
    if gigabytes is not None:
        return Hardware(
            instance_type,
            "Serverless Inference memory (CPU inference, no GPU)",
            1,
            Decimal(gigabytes),
            "GiB",
            "ServerlessConfig.MemorySizeInMB",
        )
    shape = shape_of(instance_type)
    table = _accelerator_table()
    if shape in table:
        return table[shape]
    spec = EC2_INSTANCE_SPECS.get(shape)
    if spec is not None and spec.accelerator == "graviton":
        return Hardware(
            shape, "Graviton host memory (CPU inference)", 1, Decimal(spec.memory_gib), "GiB", "specs/ec2.py"
        )
    return None


def gpu_fleet_types() -> list[str]:
    """EC2 GPU shapes (g5, g6, g6e) an EC2 GPU Spot fleet may run, in table order."""
    return [t for t in _accelerator_table() if t.split(".", 1)[0] in ("g5", "g6", "g6e")]


def gigabytes(value: Decimal) -> str:
    """Bytes as GB (10^9) with one decimal."""
    return f"{(value / Decimal(10) ** 9).quantize(Decimal('0.1')):,} GB"


@dataclass(frozen=True)
class Fit:
    """Whether `model` at `precision` fits `instance_type` for `sequences` in flight of `context_tokens` each."""

    instance_type: str
    fits: bool
    tp: int | None
    replicas: int
    weight_bytes: Decimal
    kv_bytes: Decimal
    usable_bytes: Decimal
    sequences: int
    context_tokens: int
    hardware: Hardware

    @property
    def text(self) -> str:
        """The arithmetic, for the option's assumptions or the reason it does not fit."""
        need = (
            f"{gigabytes(self.weight_bytes)} of weights + {gigabytes(self.kv_bytes)} of KV cache ({self.sequences:,} "
            f"sequence(s) x {self.context_tokens:,} tokens)"
        )
        usable = f"{gigabytes(self.usable_bytes)} usable of {self.hardware.text} (less {OVERHEAD_FRACTION * 100:.0f} %)"
        if not self.fits:
            return f"{self.instance_type} does not fit: {need} > {usable}"
        return (
            f"{self.instance_type} fits: {need} <= {usable}; tensor parallel over {self.tp} accelerator(s), "
            f"{self.replicas} replica(s)"
        )


def check_fit(
    model: OpenModel, precision: Precision, instance_type: str, context_tokens: int, sequences: int
) -> Fit | None:
    """The fit of `model` on `instance_type` (None when the accelerator table has no row for the type)."""
    shape = hardware(instance_type)
    if shape is None:
        return None
    weights = model.weight_bytes(precision)
    per_sequence = Decimal(context_tokens * model.kv_bytes_per_token)
    usable_each = shape.bytes_each * (1 - OVERHEAD_FRACTION)
    for tp in (d for d in _TP_DEGREES if d <= shape.count and shape.count % d == 0):
        replicas = shape.count // tp
        per_replica = -(-sequences // replicas)
        if (weights + per_replica * per_sequence) / tp <= usable_each:
            return Fit(
                instance_type,
                True,
                tp,
                replicas,
                weights * replicas,
                per_sequence * per_replica * replicas,
                usable_each * shape.count,
                sequences,
                context_tokens,
                shape,
            )
    return Fit(
        instance_type,
        False,
        None,
        1,
        weights,
        per_sequence * sequences,
        usable_each * shape.count,
        sequences,
        context_tokens,
        shape,
    )


def scaled_sequences(sequences: int, scale: Decimal) -> int:
    """Sequences in flight scaled with the accelerators, rounded up, at least 1."""
    return max(1, int((Decimal(sequences) * scale).to_integral_value(rounding=ROUND_CEILING)))
