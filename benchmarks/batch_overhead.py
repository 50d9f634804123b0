"""What the Bedrock batch pipeline's orchestration costs next to its tokens (target: at most 1 %).

Prices 1,000,000 records a month at 1,000 input and 200 output tokens on the reference model (Claude Haiku
4.5 through the us. inference profile, us-east-1), then the same workload on a few other models and
volumes, with the bundled catalogue. Orchestration is every non-token line: Step Functions, Lambda, S3,
CloudWatch, KMS, SNS. Prints figures; asserts nothing.
"""

from __future__ import annotations

from decimal import Decimal

from inferwise.constructs.bedrock_batch import parse_model_id
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_batch import (
    BatchPlan,
    BatchUsage,
    batch_shape,
    estimate_bedrock_batch,
    orchestration_lines,
    overhead_ratio,
    state_transitions,
    token_lines,
)
from inferwise.cost.render import usd
from inferwise.stacks.bedrock_batch import REFERENCE_MODEL_ID

REGION = "us-east-1"
MODELS = (
    REFERENCE_MODEL_ID,
    "global.anthropic.claude-sonnet-4-6",
    "amazon.nova-pro-v1:0",
    "amazon.nova-lite-v1:0",
)
VOLUMES = (100_000, 1_000_000, 10_000_000)


def row(catalog: PriceCatalog, model_id: str, records: int) -> str:
    plan = BatchPlan(model_id=model_id, family=parse_model_id(model_id).family)
    usage = BatchUsage(records_per_month=records, input_tokens_per_record=1_000, output_tokens_per_record=200)
    estimate = estimate_bedrock_batch(plan, usage, catalog, REGION)
    assert estimate.baseline is not None
    tokens = sum((line.monthly_cost for line in token_lines(estimate)), Decimal(0))
    overhead = sum((line.monthly_cost for line in orchestration_lines(estimate)), Decimal(0))
    shape = batch_shape(plan, usage)
    return (
        f"{model_id:<46} {records:>12,} {shape.shards:>7,} {state_transitions(shape):>12,} "
        f"{usd(tokens):>12} {usd(overhead):>9} {overhead_ratio(estimate) * 100:>9.3f}% "
        f"{usd(estimate.baseline.monthly_total):>12}"
    )


def main() -> None:
    catalog = PriceCatalog.bundled()
    plan = BatchPlan(model_id=REFERENCE_MODEL_ID, family=parse_model_id(REFERENCE_MODEL_ID).family)
    usage = BatchUsage(
        records_per_month=1_000_000, input_tokens_per_record=1_000, output_tokens_per_record=200
    )
    reference = estimate_bedrock_batch(plan, usage, catalog, REGION)
    print(f"reference: {REFERENCE_MODEL_ID}, 1,000,000 records/month, 1,000 in / 200 out tokens, {REGION}")
    print(f"  overhead / token cost = {overhead_ratio(reference) * 100:.3f}% (target <= 1%)")
    for line in orchestration_lines(reference):
        print(f"  {line.component:<36} {usd(line.monthly_cost):>9}")
    print()
    print(
        f"{'model':<46} {'records/mo':>12} {'shards':>7} {'transitions':>12} {'tokens':>12} "
        f"{'overhead':>9} {'ratio':>10} {'on-demand':>12}"
    )
    for model_id in MODELS:
        for records in VOLUMES:
            print(row(catalog, model_id, records))


if __name__ == "__main__":
    main()
