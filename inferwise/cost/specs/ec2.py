"""EC2 instance types that `SpotInferenceFleet` accepts, with the figures the construct and its estimate need.

One row per type: which accelerator kind it is (`inferentia2` or `graviton`), its CPU architecture (one AMI
serves one architecture, so a fleet must not mix them), vCPUs, host memory and, for Inferentia2, the
number of chips. Only sizes the bundled price catalogue prices in us-east-1 are listed (tests check it);
whether a type is priced in the stack's Region is checked by the construct against the catalogue.

Sources of the figures:
- inf2: docs/aws-facts.md#inf2-sizes (awsdocs-neuron "Inferentia2 Architecture": 2 NeuronCore-v2 and 32 GiB
  HBM per chip; chips, vCPUs and host memory per size from meta-pytorch/torchx `named_resources_aws.py`,
  taken from https://aws.amazon.com/ec2/instance-types/inf2/). x86_64 (AMD EPYC hosts).
- Graviton c7g, m7g, r7g (Graviton3) and c8g (Graviton4), arm64: https://aws.amazon.com/ec2/instance-types/
  (c7g/m7g/r7g/c8g pages): 1 vCPU per `medium` step and doubling per size; memory 2 GiB (c), 4 GiB (m) and
  8 GiB (r) per vCPU. `.metal` sizes are left out (no hypervisor, slow to launch, not for a Spot fleet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Accelerator = Literal["inferentia2", "graviton"]
Architecture = Literal["x86_64", "arm64"]

ACCELERATORS: tuple[Accelerator, ...] = ("inferentia2", "graviton")

DEFAULT_ROOT_VOLUME_GIB: dict[Accelerator, int] = {"inferentia2": 128, "graviton": 32}
"""Root volume per accelerator's default AMI (the Neuron DLAMI snapshot is about 100 GB), shared by the
fleet construct and the advisor so both price the same volume."""

ARCHITECTURE_OF: dict[Accelerator, Architecture] = {"inferentia2": "x86_64", "graviton": "arm64"}

DEFAULT_INSTANCE_TYPES: dict[Accelerator, tuple[str, ...]] = {
    # Both have one Inferentia2 chip (2 NeuronCores, 32 GiB); the 8xlarge adds host vCPUs and RAM. Two types
    # double the Spot pools per Availability Zone; the first is preferred by the On-Demand base.
    "inferentia2": ("inf2.xlarge", "inf2.8xlarge"),
    # Three shapes with >= 16 GiB, all priced in us-east-1, us-west-2 and eu-west-1 in the catalogue.
    "graviton": ("m7g.xlarge", "c7g.2xlarge", "m7g.2xlarge"),
}


@dataclass(frozen=True)
class Ec2InstanceSpec:
    """What one EC2 instance type offers an inference fleet."""

    instance_type: str
    accelerator: Accelerator
    architecture: Architecture
    vcpus: int
    memory_gib: int
    inferentia2_chips: int = 0

    @property
    def family(self) -> str:
        return self.instance_type.split(".", 1)[0]

    @property
    def neuron_cores(self) -> int:
        """NeuronCore-v2 count (2 per Inferentia2 chip); 0 for Graviton."""
        return 2 * self.inferentia2_chips


def _inf2(size: str, chips: int, vcpus: int, memory_gib: int) -> Ec2InstanceSpec:
    return Ec2InstanceSpec(f"inf2.{size}", "inferentia2", "x86_64", vcpus, memory_gib, chips)


_GRAVITON_SIZES: tuple[tuple[str, int], ...] = (
    ("medium", 1),
    ("large", 2),
    ("xlarge", 4),
    ("2xlarge", 8),
    ("4xlarge", 16),
    ("8xlarge", 32),
    ("12xlarge", 48),
    ("16xlarge", 64),
)
_GRAVITON_FAMILIES: tuple[tuple[str, int, tuple[tuple[str, int], ...]], ...] = (
    ("c7g", 2, _GRAVITON_SIZES),
    ("m7g", 4, _GRAVITON_SIZES),
    ("r7g", 8, _GRAVITON_SIZES),
    ("c8g", 2, (*_GRAVITON_SIZES, ("24xlarge", 96), ("48xlarge", 192))),
)

EC2_INSTANCE_SPECS: dict[str, Ec2InstanceSpec] = {
    spec.instance_type: spec
    for spec in (
        _inf2("xlarge", 1, 4, 16),
        _inf2("8xlarge", 1, 32, 128),
        _inf2("24xlarge", 6, 96, 384),
        _inf2("48xlarge", 12, 192, 768),
        *(
            Ec2InstanceSpec(f"{family}.{size}", "graviton", "arm64", vcpus, vcpus * gib_per_vcpu)
            for family, gib_per_vcpu, sizes in _GRAVITON_FAMILIES
            for size, vcpus in sizes
        ),
    )
}


def known_types(accelerator: Accelerator | None = None) -> list[str]:
    """The accepted instance types (for `accelerator` if given), sorted."""
    return sorted(
        t for t, s in EC2_INSTANCE_SPECS.items() if accelerator is None or s.accelerator == accelerator
    )


def ec2_instance_spec(instance_type: str, prop: str = "instance_types") -> Ec2InstanceSpec:
    """The spec of `instance_type`, or a ValueError naming `prop`, the value and the accepted families."""
    spec = EC2_INSTANCE_SPECS.get(instance_type) if isinstance(instance_type, str) else None
    if spec is None:
        families = sorted({s.family for s in EC2_INSTANCE_SPECS.values()})
        raise ValueError(
            f"{prop} has {instance_type!r}, which is not an instance type SpotInferenceFleet knows; allowed: "
            f"inf2.xlarge, inf2.8xlarge, inf2.24xlarge, inf2.48xlarge (inferentia2) or a non-metal size of "
            f"{', '.join(f for f in families if f != 'inf2')} (graviton), e.g. m7g.xlarge"
        )
    return spec
