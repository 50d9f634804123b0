"""SageMaker hosting instance types that inferwise accepts for inference components, with their sizes.

The figures bound what one inference-component copy may ask for (`NumberOfAcceleratorDevicesRequired`,
`MinMemoryRequiredInMb`). Only accelerated families that SageMaker inference components run on are
listed, and only sizes the bundled price catalogue prices (tests/cost/test_scale_to_zero_estimate.py
checks that every type here has a us-east-1 SageMaker hosting price): add a type here together with
its price.

Sources of the figures (the ml.* hosting types are the EC2 shapes of the same name):
- g5, g6e, p4d, p5, inf2 vCPUs / host memory / accelerators: meta-pytorch/torchx
  `torchx/specs/named_resources_aws.py` (taken from https://aws.amazon.com/ec2/instance-types/), and
  the AWS instance pages https://aws.amazon.com/ec2/instance-types/g5/ , /g6e/ , /p4/ , /p5/ .
- g6 (NVIDIA L4, the g5 shapes): https://aws.amazon.com/ec2/instance-types/g6/ .
- inf2 NeuronCores: awsdocs-neuron "Inferentia2 Architecture" (each Inferentia2 chip has 2 NeuronCore-v2,
  32 GiB HBM) and docs/aws-facts.md#inf2-sizes (chips per size). SageMaker's API only says "accelerators include
  GPUs and AWS Inferentia"; NeuronCores (the larger count) are used as the bound so a valid request is
  never refused at synth; SageMaker itself rejects an over-ask at deploy time.
- local NVMe instance storage (no ML storage volume attached): g5, g6, g6e, p4d, p5 have it; inf2 is
  EBS-only (same AWS instance pages).
- the ML storage volume an instance without local storage gets: `DEFAULT_ML_STORAGE_GB`, sourced there.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_ML_STORAGE_GB = 30
"""GB of the ML storage volume (EBS gp2) SageMaker attaches to each endpoint instance that has no local
storage when the endpoint config does not set `VolumeSizeInGB` (inferwise's constructs do not). Source:
AWS, "SageMaker AI endpoint parameters for large model inference"
(https://docs.aws.amazon.com/sagemaker/latest/dg/large-model-inference-hosting.html): "If the size of the
model is larger than 30 GB and you are using an instance without a local disk, you should increase
[VolumeSizeInGB]"; awslabs/graphstorm issue #309 (2023): "SageMaker ... inference instances have 30GB disk
volume by default". The volume is gp2 (`ProductionVariant.VolumeSizeInGB`: "Currently only Amazon EBS gp2
storage volumes are supported"); an instance with NVMe instance storage gets none ("When using an ML instance
with NVMe SSD volumes, SageMaker doesn't provision Amazon EBS General Purpose SSD (gp2) storage",
`ResourceConfig.VolumeSizeInGB`)."""


@dataclass(frozen=True)
class InstanceSpec:
    """What one ml.* hosting instance offers to the inference-component copies placed on it."""

    instance_type: str
    accelerators: int
    accelerator: str
    vcpus: int
    memory_gib: int
    local_nvme: bool

    @property
    def memory_mb(self) -> int:
        """Host memory in MiB, the unit of `MinMemoryRequiredInMb`."""
        return self.memory_gib * 1024

    @property
    def ml_storage_gb(self) -> int:
        """GB of ML storage volume SageMaker attaches per instance: none with local NVMe, else the default."""
        return 0 if self.local_nvme else DEFAULT_ML_STORAGE_GB


def _spec(
    instance_type: str,
    accelerators: int,
    accelerator: str,
    vcpus: int,
    memory_gib: int,
    local_nvme: bool = True,
) -> InstanceSpec:
    return InstanceSpec(instance_type, accelerators, accelerator, vcpus, memory_gib, local_nvme)


INFERENCE_COMPONENT_FAMILIES: tuple[str, ...] = ("ml.g5", "ml.g6", "ml.g6e", "ml.inf2", "ml.p4d", "ml.p5")
"""Instance families SageMaker inference components (and scale to zero) are offered on that inferwise
knows; CPU families (ml.m5, ml.c7i, ...) also host inference components but are not accepted here."""

INSTANCE_SPECS: dict[str, InstanceSpec] = {
    spec.instance_type: spec
    for spec in (
        # NVIDIA A10G, 24 GiB each
        _spec("ml.g5.xlarge", 1, "NVIDIA A10G", 4, 16),
        _spec("ml.g5.2xlarge", 1, "NVIDIA A10G", 8, 32),
        _spec("ml.g5.12xlarge", 4, "NVIDIA A10G", 48, 192),
        # NVIDIA L4, 24 GiB each
        _spec("ml.g6.xlarge", 1, "NVIDIA L4", 4, 16),
        _spec("ml.g6.2xlarge", 1, "NVIDIA L4", 8, 32),
        _spec("ml.g6.12xlarge", 4, "NVIDIA L4", 48, 192),
        # NVIDIA L40S, 48 GiB each
        _spec("ml.g6e.xlarge", 1, "NVIDIA L40S", 4, 32),
        _spec("ml.g6e.2xlarge", 1, "NVIDIA L40S", 8, 64),
        # AWS Inferentia2: NeuronCores (2 per chip; 1, 1, 6, 12 chips)
        _spec("ml.inf2.xlarge", 2, "AWS Inferentia2 NeuronCore", 4, 16, local_nvme=False),
        _spec("ml.inf2.8xlarge", 2, "AWS Inferentia2 NeuronCore", 32, 128, local_nvme=False),
        _spec("ml.inf2.24xlarge", 12, "AWS Inferentia2 NeuronCore", 96, 384, local_nvme=False),
        _spec("ml.inf2.48xlarge", 24, "AWS Inferentia2 NeuronCore", 192, 768, local_nvme=False),
        # NVIDIA A100 40 GiB / H100 80 GiB
        _spec("ml.p4d.24xlarge", 8, "NVIDIA A100", 96, 1152),
        _spec("ml.p5.48xlarge", 8, "NVIDIA H100", 192, 2048),
    )
}


def instance_spec(instance_type: str) -> InstanceSpec:
    """The spec of an accepted instance type, or a ValueError saying which types are accepted."""
    spec = INSTANCE_SPECS.get(instance_type)
    if spec is not None:
        return spec
    family = instance_type.rsplit(".", 1)[0] if isinstance(instance_type, str) else ""
    accepted = ", ".join(INSTANCE_SPECS)
    if family not in INFERENCE_COMPONENT_FAMILIES:
        raise ValueError(
            f"instance_type must be an accelerated SageMaker instance type that supports inference components "
            f"(families {', '.join(INFERENCE_COMPONENT_FAMILIES)}), got {instance_type!r}; accepted: {accepted}"
        )
    raise ValueError(
        f"instance_type {instance_type!r} is not in inferwise's instance table (sizes and prices); "
        f"accepted: {accepted}"
    )
