"""Gateway configurations for the tenancy, profile and fallback tests: real props through `gateway_config`,
callers signed as Lambda's AWS_IAM authorizer reports them, and a `ScaleToZeroEndpoint` to route to."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk

from inferwise.constructs.gateway.props import Route, Tenant, gateway_config
from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
from inferwise.cost.catalog import PriceCatalog
from tests.gateway.support import REGION, config_module

ACCOUNT = "111122223333"
TGI_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"
)
ENV = cdk.Environment(account=ACCOUNT, region=REGION)


def role_arn(name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def session_arn(role: str, session: str = "worker-1", account: str = ACCOUNT) -> str:
    """What Lambda reports as `userArn` for a caller signing with a session of `role`."""
    return f"arn:aws:sts::{account}:assumed-role/{role}/{session}"


def signed(event: dict[str, Any], user_arn: str) -> dict[str, Any]:
    """`event` as a function URL with AWS_IAM auth delivers it: the verified caller in the request context."""
    signed_event = copy.deepcopy(event)
    account = user_arn.split(":")[4]
    signed_event["requestContext"]["authorizer"] = {
        "iam": {
            "accessKey": "ASIAEXAMPLEEXAMPLE00",
            "accountId": account,
            "callerId": "AROAEXAMPLEEXAMPLE000:worker-1",
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": "AROAEXAMPLEEXAMPLE000:worker-1",
        }
    }
    return signed_event


def load(routes: Sequence[Route], tenants: Sequence[Tenant], **extra: Any) -> Any:
    """The handler's GatewayConfig for these props (plus `extra` keys, e.g. inference profiles)."""
    config = gateway_config(routes, tenants, PriceCatalog.bundled(), REGION) | extra
    return config_module.load_config(json.dumps(config))


def endpoint(models: Sequence[str] = ("qwen",), stack_name: str = "Local") -> ScaleToZeroEndpoint:
    """A ScaleToZeroEndpoint in a stack of its own (names are literal: `<stack>-Chat[-<model>]`)."""
    stack = cdk.Stack(cdk.App(), stack_name, env=ENV)
    return ScaleToZeroEndpoint(
        stack,
        "Chat",
        instance_type="ml.g5.xlarge",
        models=[InferenceModel(name=name, image_uri=TGI_IMAGE, memory_mb=1024) for name in models],
    )
