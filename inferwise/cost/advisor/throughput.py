"""What one self-hosted instance serves: the default tokens/s per instance type, and where each figure comes from.

Self-hosted options are sized from a throughput per instance. The workload may carry its own measurement;
without one, these defaults (for an 8B-parameter model) are used and every option built on them is LOW
confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

SelfHostedKind = Literal["sagemaker", "inf2", "graviton"]

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
THROUGHPUT_FIELDS: dict[SelfHostedKind, tuple[str, str]] = {
    "sagemaker": ("sagemaker_instance_type", "sagemaker_tokens_per_second"),
    "inf2": ("inf2_instance_type", "inf2_tokens_per_second"),
    "graviton": ("graviton_instance_type", "graviton_tokens_per_second"),
}
"""The `Workload` fields (instance type, measured tokens/s) behind each kind of self-hosting."""
