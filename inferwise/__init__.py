"""inferwise: AWS CDK constructs for AI inference at the lowest cost that still does the job.

Every construct estimates its own monthly cost at synth time, next to the naive baseline it replaces;
`enable_cost_report(app)` turns those estimates into a report in the cloud assembly.

Names that need aws-cdk-lib are imported on first use, so the `inferwise` CLI can render reports and
diffs without starting the jsii runtime.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog
    from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
    from inferwise.cost.plugin import enable_cost_report
    from inferwise.cost.recording import record_estimate
    from inferwise.cost.usage_file import apply_usage_file

__version__ = "0.1.0"

_PUBLIC = {
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
