"""The `BedrockBatchPipeline` reference stack: a million summaries a month with Claude Haiku 4.5 in batch.

The model runs through the `us.` cross-Region inference profile (how Bedrock serves Claude Haiku 4.5), so
the stack also shows the IAM a profile needs. Deploy it, upload JSONL under `incoming/` and start a run
with `{"input_prefix": "incoming/"}`; see docs/bedrock-batch.md.
"""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inferwise.constructs.bedrock_batch import BedrockBatchPipeline, SmallBatch
from inferwise.cost.estimators.bedrock_batch import BatchUsage
from inferwise.stacks.guardrails import reference_guardrails

REFERENCE_MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
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
            model_id=REFERENCE_MODEL_ID,
            usage=REFERENCE_USAGE,
            input_prefix="incoming/",
            output_prefix="results/",
            small_batch=SmallBatch.ON_DEMAND,
        )
        # Bedrock token spend carries no stack tag, so the budget watches the services the pipeline bills.
        self.guardrails = reference_guardrails(
            self,
            services=["Amazon Bedrock", "AWS Lambda", "AWS Step Functions", "Amazon Simple Storage Service"],
        )
        cdk.CfnOutput(self, "InputBucketName", value=self.pipeline.input_bucket.bucket_name)
        cdk.CfnOutput(self, "OutputBucketName", value=self.pipeline.output_bucket.bucket_name)
        cdk.CfnOutput(self, "StateMachineArn", value=self.pipeline.state_machine.state_machine_arn)
