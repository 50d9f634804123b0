"""Reference stacks: deployable examples of every pattern, built from the public constructs.

`REFERENCE_STACKS` lists them as (stack name, stack class); the reference app (`app.py`), `make synth`
and the test suite all build them from this one list. Each class takes `(scope, construct_id, *, env)`.
"""

from __future__ import annotations

import aws_cdk as cdk

from inferwise.stacks.bedrock_batch import BatchInferenceStack
from inferwise.stacks.gateway import GatewayStack
from inferwise.stacks.guardrails import CostGuardrailsStack
from inferwise.stacks.scale_to_zero import ScaleToZeroEndpointStack
from inferwise.stacks.spot_fleet import SpotFleetStack

REFERENCE_REGION = "us-east-1"

REFERENCE_STACKS: tuple[tuple[str, type[cdk.Stack]], ...] = (
    ("BatchInferenceStack", BatchInferenceStack),
    ("CostGuardrailsStack", CostGuardrailsStack),
    ("GatewayStack", GatewayStack),
    ("ScaleToZeroEndpointStack", ScaleToZeroEndpointStack),
    ("SpotFleetStack", SpotFleetStack),
)


def add_reference_stacks(app: cdk.App) -> list[cdk.Stack]:
    """Add every reference stack to `app` (priced and deployed in us-east-1) and return them in order."""
    env = cdk.Environment(region=REFERENCE_REGION)
    return [stack_class(app, name, env=env) for name, stack_class in REFERENCE_STACKS]
