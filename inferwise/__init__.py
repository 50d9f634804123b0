"""inferwise: AWS CDK constructs for AI inference at the lowest cost that still does the job.

Every construct estimates its own monthly cost at synth time, next to the naive baseline it replaces;
`enable_cost_report(app)` turns those estimates into a report in the cloud assembly.
"""

__version__ = "0.1.0"

from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine
from inferwise.cost.plugin import enable_cost_report
from inferwise.cost.recording import record_estimate

__all__ = [
    "HOURS_PER_MONTH",
    "CostEstimate",
    "CostLine",
    "__version__",
    "enable_cost_report",
    "record_estimate",
]
