"""The break-even advisor: one workload, every way inferwise can serve it, priced by the one cost model.

`compare_serving_options(workload)` prices the workload as
- Bedrock on-demand tokens, Bedrock batch (`BedrockBatchPipeline`), Bedrock with prompt caching, and a
  routed cascade (a small model first, the rest escalated to the large one);
- Bedrock Provisioned Throughput, listed as not priced: the catalogue has no Provisioned Throughput price;
- a SageMaker real-time endpoint always on, a `ScaleToZeroEndpoint`, and a `SpotInferenceFleet` on
  Inferentia2 and on Graviton, each with as many instances as the workload's peak needs.

Every figure comes from the estimators in `inferwise.cost.estimators` (none is computed a second way here):
`bedrock_on_demand` for tokens, `bedrock_batch` for the batch pipeline, `scale_to_zero` for both SageMaker
options (the always-on endpoint is the baseline that estimator builds), `spot_fleet` for both fleets.

Capacity: instances = ceil(peak tokens/s / throughput per instance), where peak tokens/s = monthly tokens /
active seconds a month x peak-to-average. "Tokens" are input + output tokens throughout, and so is the
throughput per instance. A month is 730 h, so a day is 730/24 h and the active seconds a month are
active hours a day x 3,600 x 730/24; at 24 active hours that is exactly the 730 h every always-on option bills.

Break-even volumes: for options next to each other in cost order at the workload's volume, the monthly
token volume where their costs cross, found by scanning a log grid of request volumes (the workload scaled,
everything else unchanged) from 1/1000 to 1000 times the workload's and bisecting the bracket nearest the
workload's volume. Self-hosted costs are step functions (a whole instance more); where the order flips at a
step, the costs never meet and the break-even says so (`kind="step"`).

The package, one module per part: `workload` (the input, checked by `checks`, with `throughput` defaults),
`capacity`, `options` (the option names and `ServingOption`), `bedrock_options` and `self_hosted_options`
(pricing each option through the estimators), `pricing` (one option by key), `break_even`, `explain` (the
verdict in words, with `wording`) and `comparison` (all of it for one workload). Everything importable from
`inferwise.cost.advisor` before the split still is, from here.
"""

from __future__ import annotations

from inferwise.cost.advisor.bedrock_options import BATCH_RUNS_PER_MONTH, batch_family
from inferwise.cost.advisor.break_even import (
    BREAK_EVEN_TOLERANCE_RELATIVE,
    BREAK_EVEN_TOLERANCE_USD,
    GRID_POINTS_PER_DECADE,
    SEARCH_DECADES,
    BreakEven,
    cost_curves,
    find_break_even,
    search_range,
    volume_grid,
)
from inferwise.cost.advisor.capacity import Capacity, capacity_for
from inferwise.cost.advisor.checks import Number
from inferwise.cost.advisor.comparison import SCHEMA_VERSION, Comparison, compare_serving_options
from inferwise.cost.advisor.options import OPTION_KEYS, OPTION_NAMES, PROVISIONED_REASON, ServingOption
from inferwise.cost.advisor.pricing import check_models, option_cost, price_option
from inferwise.cost.advisor.self_hosted_options import (
    SELF_HOSTED_MODEL_NOTE,
    SPOT_ON_DEMAND_BASE,
    SPOT_PERCENT_ABOVE_BASE,
)
from inferwise.cost.advisor.throughput import (
    DEFAULT_SELF_HOSTED_TYPES,
    ILLUSTRATIVE,
    THROUGHPUT_DEFAULTS,
    SelfHostedKind,
    ThroughputDefault,
)
from inferwise.cost.advisor.wording import tokens_text
from inferwise.cost.advisor.workload import (
    BATCH_TURNAROUND,
    DAYS_PER_MONTH,
    SECONDS_PER_HOUR,
    WORKLOAD_FIELDS,
    Workload,
    workload_from_mapping,
)

__all__ = [
    "BATCH_RUNS_PER_MONTH",
    "BATCH_TURNAROUND",
    "BREAK_EVEN_TOLERANCE_RELATIVE",
    "BREAK_EVEN_TOLERANCE_USD",
    "DAYS_PER_MONTH",
    "DEFAULT_SELF_HOSTED_TYPES",
    "GRID_POINTS_PER_DECADE",
    "ILLUSTRATIVE",
    "OPTION_KEYS",
    "OPTION_NAMES",
    "PROVISIONED_REASON",
    "SCHEMA_VERSION",
    "SEARCH_DECADES",
    "SECONDS_PER_HOUR",
    "SELF_HOSTED_MODEL_NOTE",
    "SPOT_ON_DEMAND_BASE",
    "SPOT_PERCENT_ABOVE_BASE",
    "THROUGHPUT_DEFAULTS",
    "WORKLOAD_FIELDS",
    "BreakEven",
    "Capacity",
    "Comparison",
    "Number",
    "SelfHostedKind",
    "ServingOption",
    "ThroughputDefault",
    "Workload",
    "batch_family",
    "capacity_for",
    "check_models",
    "compare_serving_options",
    "cost_curves",
    "find_break_even",
    "option_cost",
    "price_option",
    "search_range",
    "tokens_text",
    "volume_grid",
    "workload_from_mapping",
]
