"""inferwise: AWS CDK constructs for AI inference at the lowest cost that still does the job.

Every construct estimates its own monthly cost at synth time, next to the naive baseline it replaces;
`enable_cost_report(app)` turns those estimates into a report in the cloud assembly.

Names are imported on first use, so the `inferwise` CLI can render reports and diffs without starting
the jsii runtime that aws-cdk-lib needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferwise.constructs.bedrock_batch import BedrockBatchPipeline, SmallBatch
    from inferwise.constructs.gateway import GatewayUsage, InferenceGateway, Route, Tenant
    from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
    from inferwise.constructs.sagemaker_images import sagemaker_image
    from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
    from inferwise.constructs.schedule import OffHours
    from inferwise.constructs.spot_fleet import (
        ContainerServing,
        QueueBacklogScaling,
        SpotInferenceFleet,
        UserDataServing,
    )
    from inferwise.cost.catalog import PriceCatalog
    from inferwise.cost.estimators.bedrock_batch import BatchUsage
    from inferwise.cost.estimators.guardrails import GuardrailsUsage
    from inferwise.cost.estimators.scale_to_zero import EndpointUsage
    from inferwise.cost.estimators.spot_fleet import FleetUsage
    from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
    from inferwise.cost.plugin import enable_cost_report
    from inferwise.cost.recording import record_estimate
    from inferwise.cost.usage_file import apply_usage_file

__version__ = "0.1.0"

_PUBLIC = {
    "BedrockBatchPipeline": "inferwise.constructs.bedrock_batch",
    "SmallBatch": "inferwise.constructs.bedrock_batch",
    "BatchUsage": "inferwise.cost.estimators.bedrock_batch",
    "ScaleToZeroEndpoint": "inferwise.constructs.scale_to_zero",
    "InferenceModel": "inferwise.constructs.scale_to_zero",
    "EndpointUsage": "inferwise.cost.estimators.scale_to_zero",
    "sagemaker_image": "inferwise.constructs.sagemaker_images",
    "OffHours": "inferwise.constructs.schedule",
    "SpotInferenceFleet": "inferwise.constructs.spot_fleet",
    "ContainerServing": "inferwise.constructs.spot_fleet",
    "UserDataServing": "inferwise.constructs.spot_fleet",
    "QueueBacklogScaling": "inferwise.constructs.spot_fleet",
    "FleetUsage": "inferwise.cost.estimators.spot_fleet",
    "InferenceGateway": "inferwise.constructs.gateway",
    "Route": "inferwise.constructs.gateway",
    "Tenant": "inferwise.constructs.gateway",
    "GatewayUsage": "inferwise.constructs.gateway",
    "CostGuardrails": "inferwise.constructs.guardrails",
    "TokenSpendAlarm": "inferwise.constructs.guardrails",
    "HardCap": "inferwise.constructs.guardrails",
    "GuardrailsUsage": "inferwise.cost.estimators.guardrails",
    "HOURS_PER_MONTH": "inferwise.cost.model",
    "CostEstimate": "inferwise.cost.model",
    "CostLine": "inferwise.cost.model",
    "PriceCatalog": "inferwise.cost.catalog",
    "enable_cost_report": "inferwise.cost.plugin",
    "record_estimate": "inferwise.cost.recording",
    "apply_usage_file": "inferwise.cost.usage_file",
}

__all__ = [  # noqa: RUF022 - grouped as in _PUBLIC
    "__version__",
    "BedrockBatchPipeline",
    "SmallBatch",
    "BatchUsage",
    "ScaleToZeroEndpoint",
    "InferenceModel",
    "EndpointUsage",
    "sagemaker_image",
    "OffHours",
    "SpotInferenceFleet",
    "ContainerServing",
    "UserDataServing",
    "QueueBacklogScaling",
    "FleetUsage",
    "InferenceGateway",
    "Route",
    "Tenant",
    "GatewayUsage",
    "CostGuardrails",
    "TokenSpendAlarm",
    "HardCap",
    "GuardrailsUsage",
    "HOURS_PER_MONTH",
    "CostEstimate",
    "CostLine",
    "PriceCatalog",
    "enable_cost_report",
    "record_estimate",
    "apply_usage_file",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'inferwise' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
