"""The `BedrockBatchPipeline` reference stack: a million summaries a month with Claude Haiku 4.5 in batch.

The model runs through the geographic cross-Region inference profile of the stack's Region (`us.` in
us-east-1; `global.` where the Region has no geography), how Bedrock serves Claude Haiku 4.5, copied into the
pipeline's own tagged application inference profile, so the stack also shows the IAM both profiles need and
its token spend carries the pipeline's `inferwise:construct` tag, which the budget filters on. Deploy it,
upload JSONL under `incoming/` and start a run with `{"input_prefix": "incoming/"}`; see docs/bedrock-batch.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inferwise.constructs.bedrock_batch import BedrockBatchPipeline, SmallBatch
from inferwise.cost.estimators.bedrock_batch import BatchUsage
from inferwise.cost.specs.regions import geo_profile_prefix
from inferwise.stacks.guardrails import reference_guardrails

REFERENCE_FOUNDATION_MODEL = "anthropic.claude-haiku-4-5-20251001-v1:0"


def reference_model_id(region: str) -> str:
    """Claude Haiku 4.5 through the geographic profile callable from `region`, else the global profile."""
    return f"{geo_profile_prefix(region) or 'global.'}{REFERENCE_FOUNDATION_MODEL}"


REFERENCE_MODEL_ID = reference_model_id("us-east-1")
"""Claude Haiku 4.5 through the US cross-Region inference profile; the catalogue has its batch price."""

REFERENCE_USAGE = BatchUsage(
    records_per_month=1_000_000,
    input_tokens_per_record=1_000,
    output_tokens_per_record=200,
    duplicate_share=0.05,
    runs_per_month=30,
)
"""One million records a month in daily runs, 1,000 tokens in and 200 out each, 5 % repeated."""


class BatchInferenceStack(cdk.Stack):
    """A `BedrockBatchPipeline` with the reference model and workload, priced in the stack's Region."""

    def __init__(self, scope: Construct, construct_id: str, *, env: cdk.Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="inferwise reference: Bedrock batch inference pipeline (BedrockBatchPipeline)",
        )
        self.pipeline = BedrockBatchPipeline(
            self,
            "Summaries",
            model_id=reference_model_id(self.region),
            usage=REFERENCE_USAGE,
            input_prefix="incoming/",
            output_prefix="results/",
            small_batch=SmallBatch.ON_DEMAND,
        )
        # The pipeline's token spend goes through its tagged application inference profile, so a budget on
        # its inferwise:construct tag sees the tokens as well as the orchestration.
        self.guardrails = reference_guardrails(self, watch=[self.pipeline])
        cdk.CfnOutput(self, "InputBucketName", value=self.pipeline.input_bucket.bucket_name)
        cdk.CfnOutput(self, "OutputBucketName", value=self.pipeline.output_bucket.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
