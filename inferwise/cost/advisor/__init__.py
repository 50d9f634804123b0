"""The break-even advisor: one workload, every way inferwise can serve it, priced by the one cost model.

`compare_serving_options(workload)` prices the workload as
- Bedrock on-demand tokens, the global cross-Region profile and the Flex and Priority tiers (where the
  catalogue prices them), Bedrock batch (`BedrockBatchPipeline`), Bedrock with prompt caching (5-minute or
  1-hour cache), and a routed cascade (a small model first, the rest escalated to the large one);
- Bedrock Provisioned Throughput, listed as not priced: no source prices a model unit of a catalogued model;
- a SageMaker real-time endpoint always on, a `ScaleToZeroEndpoint`, a `SpotInferenceFleet` on Inferentia2
  and on Graviton, and an EC2 GPU Spot fleet (g5, g6, g6e), each running an open model on the smallest
  instance that holds it, with as many instances as the workload's peak needs, plus the people who run it;
- SageMaker Asynchronous Inference (deferrable work, scaling to zero between backlogs) and Serverless Inference
  (CPU, 1-6 GB, per GB-second; throughput only from your measurement) (`sagemaker_modes`);
- commitments (`commitments`): the Inferentia2 or GPU fleet on 1-year, no-upfront EC2 Reserved Instances (the
  catalogue's sourced rates), and the always-on endpoint under a SageMaker AI Savings Plan at your own rate
  (not priced without one: no sourced rate).

Bedrock options bill a request above the model's long-context threshold (Claude Sonnet 4 / 4.5: 200,000 input
tokens) at its long-context rates; a request longer than the model's context window is an error.

Self-hosting needs open weights: the Bedrock model's own (Llama, Mistral), or a substitute the user names for
a closed model, which is priced and listed apart (a different model: quality not compared). An instance
qualifies only if its accelerator memory holds the weights and the KV cache (`fit`); its throughput comes from
the sourced table, prefill and decode apart (`throughput`), or from the user's measurement; never a default.

Every price comes from the estimators in `inferwise.cost.estimators` or the catalogue records they use.
Break-even volumes: for options next to each other in cost order, the monthly token volume where their costs
cross (`break_even`). Scenarios: the cheapest option at low, expected and high volume (`comparison`).

The package, one module per part: `workload` (the input, checked by `checks`), `fit`, `throughput`,
`serving` (the model and the instance), `capacity`, `options`, `bedrock_options`, `tiers`,
`self_hosted_options`, `sagemaker_modes`, `commitments`, `fleet_lines` (the GPU and Reserved fleets and the
people), `pricing`, `break_even`, `explain` (with `wording`) and `comparison`.
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
from inferwise.cost.advisor.comparison import SCHEMA_VERSION, Comparison, Scenario, compare_serving_options
from inferwise.cost.advisor.fit import OVERHEAD_FRACTION, SERVERLESS_TYPES, Fit, check_fit, hardware
from inferwise.cost.advisor.fleet_lines import RESERVED_DIMENSION
from inferwise.cost.advisor.options import (
    OPTION_KEYS,
    OPTION_NAMES,
    PROVISIONED_REASON,
    SAVINGS_PLAN_REASON,
    SELF_HOSTED_KEYS,
    ServingOption,
)
from inferwise.cost.advisor.pricing import check_models, option_cost, price_option
from inferwise.cost.advisor.sagemaker_modes import SERVERLESS_MAX_CONCURRENCY, SERVERLESS_MAX_SECONDS
from inferwise.cost.advisor.self_hosted_options import (
    SELF_HOSTED_MODEL_NOTE,
    SPOT_ON_DEMAND_BASE,
    SPOT_PERCENT_ABOVE_BASE,
    plan_for,
)
from inferwise.cost.advisor.serving import DIFFERENT_MODEL, served_model
from inferwise.cost.advisor.throughput import (
    SELF_HOSTED_KINDS,
    THROUGHPUT_FIELDS,
    SelfHostedKind,
    Throughput,
    lookup,
    sourced_cells,
)
from inferwise.cost.advisor.wording import tokens_text
from inferwise.cost.advisor.workload import (
    BATCH_TURNAROUND,
    DAYS_PER_MONTH,
    DEFAULT_OPS_HOURLY_USD,
    DEFAULT_OPS_HOURS_PER_MONTH,
    DEFAULT_SCENARIOS,
    SECONDS_PER_HOUR,
    WORKLOAD_FIELDS,
    Workload,
    load_workload_file,
    workload_from_mapping,
)

__all__ = [
    "BATCH_RUNS_PER_MONTH",
    "BATCH_TURNAROUND",
    "BREAK_EVEN_TOLERANCE_RELATIVE",
    "BREAK_EVEN_TOLERANCE_USD",
    "DAYS_PER_MONTH",
    "DEFAULT_OPS_HOURLY_USD",
    "DEFAULT_OPS_HOURS_PER_MONTH",
    "DEFAULT_SCENARIOS",
    "DIFFERENT_MODEL",
    "GRID_POINTS_PER_DECADE",
    "OPTION_KEYS",
    "OPTION_NAMES",
    "OVERHEAD_FRACTION",
    "PROVISIONED_REASON",
    "RESERVED_DIMENSION",
    "SAVINGS_PLAN_REASON",
    "SCHEMA_VERSION",
    "SEARCH_DECADES",
    "SECONDS_PER_HOUR",
    "SELF_HOSTED_KEYS",
    "SELF_HOSTED_KINDS",
    "SELF_HOSTED_MODEL_NOTE",
    "SERVERLESS_MAX_CONCURRENCY",
    "SERVERLESS_MAX_SECONDS",
    "SERVERLESS_TYPES",
    "SPOT_ON_DEMAND_BASE",
    "SPOT_PERCENT_ABOVE_BASE",
    "THROUGHPUT_FIELDS",
    "WORKLOAD_FIELDS",
    "BreakEven",
    "Capacity",
    "Comparison",
    "Fit",
    "Number",
    "Scenario",
    "SelfHostedKind",
    "ServingOption",
    "Throughput",
    "Workload",
    "batch_family",
    "capacity_for",
    "check_fit",
    "check_models",
    "compare_serving_options",
    "cost_curves",
    "find_break_even",
    "hardware",
    "load_workload_file",
    "lookup",
    "option_cost",
    "plan_for",
    "price_option",
    "search_range",
    "served_model",
    "sourced_cells",
    "tokens_text",
    "volume_grid",
    "workload_from_mapping",
]
