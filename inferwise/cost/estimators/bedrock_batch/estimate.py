"""The batch estimate: tokens plus orchestration for the pipeline, against every record (duplicates
included) through on-demand InvokeModel; and the filters that split an estimate into those two parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from inferwise.cost.estimators.bedrock_batch.orchestration import orchestration_cost_lines
from inferwise.cost.estimators.bedrock_batch.plan import (
    EPHEMERAL_DEFAULT_MB,
    BatchPlan,
    BatchShape,
    BatchUsage,
    batch_shape,
    prepare_ephemeral_mb,
)
from inferwise.cost.estimators.bedrock_batch.tokens import bills_output, token_cost_lines
from inferwise.cost.estimators.bedrock_batch.wording import count_text, share_text
from inferwise.cost.estimators.bedrock_on_demand import TokenUsage, on_demand_token_lines
from inferwise.cost.model import CostEstimate, CostLine

if TYPE_CHECKING:
    from inferwise.cost.catalog import PriceCatalog

PATTERN = "Bedrock batch inference"
BASELINE_PATTERN = "on-demand InvokeModel"
EVENTBRIDGE_NOTE = (
    "EventBridge: Bedrock 'Batch Inference Job State Change' events (and, with start_on_upload, S3 "
    "'Object Created' events) arrive on the default event bus, where AWS service events are free; the rules "
    "add no charge."
)
FREE_TIER_NOTE = (
    "AWS free allowances (Lambda, Step Functions, CloudWatch, SNS, KMS) are account-wide and not applied."
)


def estimate_bedrock_batch(
    plan: BatchPlan,
    usage: BatchUsage,
    catalog: PriceCatalog,
    region: str,
    *,
    assumptions: Sequence[str] = (),
) -> CostEstimate:
    """The monthly cost of the pipeline for `usage`, priced from `catalog` in `region`, with its baseline."""
    shape = batch_shape(plan, usage)
    lines = [
        *token_cost_lines(plan, usage, shape, catalog, region),
        *orchestration_cost_lines(plan, usage, shape, catalog, region),
    ]
    notes = [EVENTBRIDGE_NOTE, FREE_TIER_NOTE]
    ephemeral = prepare_ephemeral_mb(usage)
    if ephemeral > EPHEMERAL_DEFAULT_MB:
        notes.append(
            f"prepare has {ephemeral:,} MB of ephemeral storage for a run's spooled records; the part above "
            f"{EPHEMERAL_DEFAULT_MB} MB is billed per GB-second and is not priced (the catalogue has no "
            "Lambda ephemeral-storage record)."
        )
    if shape.below_minimum:
        notes.append(_small_batch_note(plan, shape))
    return CostEstimate(
        construct_path="",
        pattern=PATTERN,
        region=region,
        lines=tuple(lines),
        baseline=estimate_on_demand_baseline(plan, usage, catalog, region),
        assumptions=(*_usage_assumptions(plan, usage, shape), *assumptions),
        notes=tuple(notes),
    )


def estimate_on_demand_baseline(
    plan: BatchPlan, usage: BatchUsage, catalog: PriceCatalog, region: str
) -> CostEstimate:
    """Every record, duplicates included, through on-demand InvokeModel: token lines only, priced by the
    one on-demand token estimator (`bedrock_on_demand.on_demand_token_lines`)."""
    tokens = TokenUsage(
        requests_per_month=usage.records_per_month,
        input_tokens_per_request=usage.input_tokens_per_record,
        output_tokens_per_request=usage.output_tokens_per_record if bills_output(plan, usage) else 0,
    )
    why = "duplicates included (no de-duplication on demand)"
    return CostEstimate(
        construct_path="",
        pattern=BASELINE_PATTERN,
        region=region,
        lines=on_demand_token_lines(
            plan.model_id, tokens, catalog, region, label="on-demand ", assumptions=(why,)
        ),
        assumptions=(f"model {plan.model_id}",),
    )


def token_lines(estimate: CostEstimate) -> tuple[CostLine, ...]:
    """The Bedrock token lines of an estimate (or its baseline)."""
    return tuple(line for line in estimate.lines if line.service_code == "AmazonBedrock")


def orchestration_lines(estimate: CostEstimate) -> tuple[CostLine, ...]:
    """Everything but tokens: what the pipeline itself adds."""
    return tuple(line for line in estimate.lines if line.service_code != "AmazonBedrock")


def overhead_ratio(estimate: CostEstimate) -> Decimal:
    """Orchestration cost as a fraction of token cost (0.01 = 1 %)."""
    tokens = sum((line.monthly_cost for line in token_lines(estimate)), Decimal(0))
    overhead = sum((line.monthly_cost for line in orchestration_lines(estimate)), Decimal(0))
    if tokens == 0:
        raise ValueError("the estimate has no token cost to compare the overhead with")
    return overhead / tokens


def _usage_assumptions(plan: BatchPlan, usage: BatchUsage, shape: BatchShape) -> tuple[str, ...]:
    return (
        f"model {plan.model_id} ({plan.family})",
        f"{usage.records_per_month:,} records a month in {usage.runs_per_month} runs "
        f"({count_text(shape.records_per_run)} distinct records per run)",
        f"{usage.input_tokens_per_record:,} input and {usage.output_tokens_per_record:,} output tokens per record",
        f"duplicate share {share_text(usage.share)}",
        f"at most {plan.records_per_job:,} records per job, at least {plan.min_records_per_job:,}",
    )


def _small_batch_note(plan: BatchPlan, shape: BatchShape) -> str:
    if plan.small_batch == "fail":
        return (
            f"Each run ({count_text(shape.records_per_run)} records) is below min_records_per_job "
            f"{plan.min_records_per_job:,}: with SmallBatch.FAIL every run fails and nothing is inferred."
        )
    return (
        f"Each run ({count_text(shape.records_per_run)} records) is below min_records_per_job "
        f"{plan.min_records_per_job:,}: its records go through on-demand InvokeModel at on-demand prices."
    )
