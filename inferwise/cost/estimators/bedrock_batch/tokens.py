"""The model's token lines: batch prices for the distinct records, or on-demand prices when a run is below
the pipeline's minimum job size and `SmallBatch.ON_DEMAND` sends it through InvokeModel.

A record longer than the model's long-context threshold (`bedrock_on_demand.long_context_suffix`) is priced at
the long-context dimensions (`batch-input-above-200k`, ...); a price the catalogue lacks raises.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from inferwise.cost.estimators.bedrock_batch.plan import BatchPlan, BatchShape, BatchUsage
from inferwise.cost.estimators.bedrock_batch.wording import count_text, share_text
from inferwise.cost.estimators.bedrock_on_demand import long_context_suffix, long_context_text
from inferwise.cost.model import CostLine

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog


def token_cost_lines(
    plan: BatchPlan, usage: BatchUsage, shape: BatchShape, catalog: PriceCatalog, region: str
) -> list[CostLine]:
    """Input and output token lines for the distinct records: batch prices, or on-demand for small runs."""
    category: Literal["OnDemand", "Batch"]
    dedup = (
        f"{usage.records_per_month:,} records a month less {share_text(usage.share)} duplicates = "
        f"{count_text(shape.distinct_records)} distinct records sent to the model"
    )
    if shape.below_minimum and plan.small_batch == "fail":
        distinct = Decimal(0)
        how = (
            f"each run has {count_text(shape.records_per_run)} records, below min_records_per_job "
            f"{plan.min_records_per_job:,}: with SmallBatch.FAIL no record reaches the model"
        )
        dimension_in, dimension_out, category, label = "batch-input", "batch-output", "Batch", "batch"
    elif shape.below_minimum:
        distinct = shape.distinct_records
        how = (
            f"each run has {count_text(shape.records_per_run)} records, below min_records_per_job "
            f"{plan.min_records_per_job:,}: SmallBatch.ON_DEMAND sends them through InvokeModel"
        )
        dimension_in, dimension_out, category, label = "input", "output", "OnDemand", "on-demand"
    else:
        distinct = shape.distinct_records
        how = f"{shape.shards_per_run} batch job(s) per run, {shape.runs} runs a month"
        dimension_in, dimension_out, category, label = "batch-input", "batch-output", "Batch", "batch"
    suffix = long_context_suffix(plan.model_id, usage.input_tokens_per_record, catalog, region)
    if suffix:
        dimension_in, dimension_out, label = (
            dimension_in + suffix,
            dimension_out + suffix,
            f"{label} long-context",
        )
        how = f"{how}; {long_context_text(suffix, usage.input_tokens_per_record)}"
    lines = [
        _bedrock_line(
            catalog,
            region,
            plan.model_id,
            dimension_in,
            f"{label} input tokens",
            distinct * usage.input_tokens_per_record,
            category,
            (dedup, f"{usage.input_tokens_per_record:,} input tokens per record", how),
        )
    ]
    if bills_output(plan, usage):
        lines.append(
            _bedrock_line(
                catalog,
                region,
                plan.model_id,
                dimension_out,
                f"{label} output tokens",
                distinct * usage.output_tokens_per_record,
                category,
                (dedup, f"{usage.output_tokens_per_record:,} output tokens per record", how),
            )
        )
    return lines


def _bedrock_line(
    catalog: PriceCatalog,
    region: str,
    model_id: str,
    dimension: str,
    component: str,
    tokens: Decimal,
    category: Literal["OnDemand", "Batch"],
    assumptions: Sequence[str],
) -> CostLine:
    return catalog.bedrock_line(
        component,
        model_id,
        region,
        dimension,
        tokens,
        pricing_category=category,
        assumptions=(f"model {model_id}", *assumptions),
    )


def bills_output(plan: BatchPlan, usage: BatchUsage) -> bool:
    """Output tokens are billed unless the model embeds (Titan embeddings) or no output is expected."""
    return plan.family != "titan-embed" and usage.output_tokens_per_record > 0
