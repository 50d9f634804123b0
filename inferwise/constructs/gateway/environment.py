"""The function's GATEWAY_CONFIG as JSON, measured against the Lambda environment's 4 KB at synth.

Parts of it are deploy-time tokens (inference profile ids, role names, the account): each is measured at its
deployed length's bound (`token_bounds`), so a configuration that fits at synth fits at deploy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import aws_cdk as cdk
from constructs import Construct

from inferwise.constructs.gateway.principals import Principal
from inferwise.constructs.gateway.profiles import Profiles, profile_bounds, profile_config
from inferwise.constructs.gateway.props import (
    CONFIG_LIMIT_BYTES,
    Route,
    Tenant,
    bedrock_models,
    gateway_config,
)
from inferwise.cost.catalog import PriceCatalog

TOKEN = re.compile(r"\$\{Token\[[^\]]*\]\}")
UNKNOWN_TOKEN_BYTES = 64
PSEUDO_BYTES = {"partition": 10, "region": 14, "account": 12}
"""`aws-us-gov`, `ap-southeast-4`, a 12-digit account id: the longest each pseudo parameter resolves to."""


def function_config(
    scope: Construct,
    routes: Sequence[Route],
    tenants: Sequence[Tenant],
    catalog: PriceCatalog,
    region: str,
    *,
    principals: Mapping[str, Sequence[Principal]],
    profiles: Profiles,
) -> str:
    """GATEWAY_CONFIG for the function; a ValueError naming the props when it cannot fit the environment."""
    config: dict[str, Any] = gateway_config(routes, tenants, catalog, region)
    config |= profile_config(scope, profiles, bedrock_models(routes))
    text = json.dumps(config, separators=(",", ":"))
    bounds = token_bounds(scope, principals, profiles)
    size = measured_bytes(text, bounds)
    if size > CONFIG_LIMIT_BYTES:
        parts = {
            "Tenant.principals": config.get("callers", {}),
            "inference profile ids (tenant_inference_profiles)": config.get("profiles", {}),
        }
        shares = ", ".join(
            f"{measured_bytes(json.dumps(v, separators=(',', ':')), bounds):,} bytes of {k}"
            for k, v in parts.items()
            if v
        )
        raise ValueError(
            f"InferenceGateway routes, tenants, Tenant.principals and per-tenant inference profiles make a "
            f"{size:,}-byte configuration ({shares or 'routes and prices only'}; deploy-time names counted at "
            f"their longest); Lambda environments hold 4 KB, so at most {CONFIG_LIMIT_BYTES:,} bytes: use "
            "fewer routes, tenants or principals, or set tenant_inference_profiles=False"
        )
    return text


def token_bounds(
    scope: Construct, principals: Mapping[str, Sequence[Principal]], profiles: Profiles
) -> dict[str, int]:
    """Deploy-time token -> the most bytes it resolves to (other tokens count UNKNOWN_TOKEN_BYTES)."""
    stack = cdk.Stack.of(scope)
    bounds = {
        getattr(stack, name): length
        for name, length in PSEUDO_BYTES.items()
        if cdk.Token.is_unresolved(getattr(stack, name))
    }
    for listed in principals.values():
        for item in listed:
            bounds |= dict(item.token_bounds)
    return bounds | profile_bounds(profiles)


def measured_bytes(text: str, bounds: Mapping[str, int]) -> int:
    """The UTF-8 length of `text` once deployed, each token counted at its bound."""
    tokens = TOKEN.findall(text)
    plain = TOKEN.sub("", text)
    return len(plain.encode()) + sum(bounds.get(token, UNKNOWN_TOKEN_BYTES) for token in tokens)
