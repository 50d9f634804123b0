"""The gateway's configuration, written by the construct at synth into GATEWAY_CONFIG (JSON):

```
{"routes": {"<name>": {"model": id, "small": id | null, "cache": bool, "tier": "standard" | "priority",
            "deferrable_tier": "flex" | null, "deferrable_default": bool, "small_context": int,
            "max_tokens": int}},
 "tenants": {"<name>": <monthly budget, micro-USD>},
 "prices": {"<model id>": {"<tier>": {"in": USD/1M, "out": USD/1M, "cr"?: USD/1M, "cw"?: USD/1M}}}}
```

A model has a price row for each tier it offers; a tier without a row is not sent to that model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class GatewayConfig:
    routes: dict[str, RouteConfig]
    tenants: dict[str, int]
    prices: dict[str, dict[str, TierPrices]]

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
        )
        for name, r in data["routes"].items()
    }
    tenants = {str(name): int(budget) for name, budget in data["tenants"].items()}
    return GatewayConfig(routes, tenants, parse_prices(data["prices"]))
