"""The gateway's configuration, written by the construct at synth into GATEWAY_CONFIG (JSON):

```
{"routes": {"<name>": {"model": id, "small": id | null, "cache": bool, "tier": "standard" | "priority",
            "deferrable_tier": "flex" | null, "deferrable_default": bool, "small_context": int,
            "max_tokens": int, "endpoint"?: ["<endpoint name>", "<inference component name>"]}},
 "tenants": {"<name>": <monthly budget, micro-USD>},
 "prices": {"<model id>": {"<tier>": {"in": USD/1M, "out": USD/1M, "cr"?: USD/1M, "cw"?: USD/1M}}},
 "callers"?: {"<account>:role/<name>" | "<account>:user/<name>": ["<tenant>", ...]},
 "trusted"?: ["<tenant that accepts the x-inferwise-tenant header from any admitted caller>", ...],
 "profile_arn"?: "arn:<partition>:bedrock:<region>:<account>:application-inference-profile/",
 "profiles"?: {"<tenant>": ["<profile id>", ...]}}
```

A model has a price row for each tier it offers; a tier without a row is not sent to that model. A route with
`endpoint` tries that SageMaker inference component first and falls back to `model` (`endpoint.py`).
`profiles` holds one application inference profile id per model, in the order of the `prices` keys: a tenant's
calls name `profile_arn + id` as `modelId` (prices are still those of the model). `callers` and `trusted` decide
which tenant a request is billed to (`tenancy.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .pricing import STANDARD, TierPrices, parse_prices


@dataclass(frozen=True)
class RouteConfig:
    name: str
    model: str
    small: str | None
    cache: bool
    tier: str
    deferrable_tier: str | None
    deferrable_default: bool
    small_context: int
    max_tokens: int
    endpoint: tuple[str, str] | None = None
    """(endpoint name, inference component name) tried before `model`, which is then the fallback."""


@dataclass(frozen=True)
class GatewayConfig:
    routes: dict[str, RouteConfig]
    tenants: dict[str, int]
    prices: dict[str, dict[str, TierPrices]]
    callers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    trusted: frozenset[str] = frozenset()
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    """tenant -> model id -> application inference profile id."""
    profile_arn: str = ""

    def invoke_ids(self, tenant: str) -> dict[str, str]:
        """model -> what the tenant's calls pass as `modelId`: its application inference profile's ARN."""
        return {model: f"{self.profile_arn}{pid}" for model, pid in self.profiles.get(tenant, {}).items()}

    @property
    def has_endpoints(self) -> bool:
        return any(route.endpoint is not None for route in self.routes.values())

    def tier_for(self, route: RouteConfig, model: str, deferrable: bool) -> str:
        """The service tier to ask of `model`: the route's deferrable tier for deferrable requests, else its
        tier, each only where the model offers it; Standard otherwise."""
        wanted = route.deferrable_tier if deferrable and route.deferrable_tier else route.tier
        return wanted if wanted in self.prices[model] else STANDARD

    def prices_for(self, model: str, tier: str) -> TierPrices:
        return self.prices[model][tier]


def load_config(text: str) -> GatewayConfig:
    data: Mapping[str, Any] = json.loads(text)
    routes = {
        name: RouteConfig(
            name=name,
            model=str(r["model"]),
            small=r.get("small"),
            cache=bool(r.get("cache", False)),
            tier=str(r.get("tier", STANDARD)),
            deferrable_tier=r.get("deferrable_tier"),
            deferrable_default=bool(r.get("deferrable_default", False)),
            small_context=int(r.get("small_context", 200_000)),
            max_tokens=int(r.get("max_tokens", 1024)),
            endpoint=(str(r["endpoint"][0]), str(r["endpoint"][1])) if r.get("endpoint") else None,
        )
        for name, r in data["routes"].items()
    }
    tenants = {str(name): int(budget) for name, budget in data["tenants"].items()}
    models = list(data["prices"])
    return GatewayConfig(
        routes,
        tenants,
        parse_prices(data["prices"]),
        callers={str(k): tuple(str(t) for t in v) for k, v in (data.get("callers") or {}).items()},
        trusted=frozenset(str(t) for t in data.get("trusted") or ()),
        profiles={
            str(tenant): dict(zip(models, (str(i) for i in ids), strict=True))
            for tenant, ids in (data.get("profiles") or {}).items()
        },
        profile_arn=str(data.get("profile_arn") or ""),
    )
