"""The one naming of services: `inferwise prices show` and `inferwise prices refresh --services` both take the
catalogue's service names (the AWS Price List service codes the records carry, e.g. `AmazonSageMaker`).

Kept free of any AWS client import, so the missing-price message at synth can name the refresh command.
"""

from __future__ import annotations

from collections.abc import Mapping

from inferwise.cost.refresh.bedrock_models import BEDROCK_MODELS

SERVICES: tuple[str, ...] = (
    "AmazonEC2",
    "AmazonSageMaker",
    "AmazonBedrock",
    "AWSLambda",
    "AmazonS3",
    "AmazonCloudWatch",
    "AmazonSNS",
    "AWSQueueService",
    "awskms",
    "AmazonDynamoDB",
    "AmazonStates",
    "AmazonEventBridge",
    "AmazonVPC",
    "AWSBudgets",
)
"""Every service `refresh` fetches, in the order it fetches them: the catalogue's service names."""

LEGACY_NAMES: Mapping[str, str] = {
    "ec2": "AmazonEC2",
    "sagemaker": "AmazonSageMaker",
    "bedrock": "AmazonBedrock",
    "lambda": "AWSLambda",
}
"""The short words `refresh --service` took before the names were unified; still accepted."""

BEDROCK_MODEL_IDS: frozenset[str] = frozenset(BEDROCK_MODELS)
"""The Bedrock model ids `refresh --model` knows where the Price List sells."""


def service_name(text: str, known: tuple[str, ...] = SERVICES) -> str:
    """The catalogue's spelling of a service name given in any case (or a legacy short word).

    `ValueError` naming the choices for anything else.
    """
    wanted = text.strip()
    for name in known:
        if name.lower() == wanted.lower():
            return name
    legacy = LEGACY_NAMES.get(wanted.lower())
    if legacy is not None and legacy in known:
        return legacy
    raise ValueError(f"unknown service {text!r}; choose from {', '.join(known)}")
