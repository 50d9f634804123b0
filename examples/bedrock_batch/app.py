"""Two million summaries a month with Claude Haiku 4.5 through Bedrock batch inference (BedrockBatchPipeline)."""

import aws_cdk as cdk

from inferwise import BatchUsage, BedrockBatchPipeline, SmallBatch, enable_cost_report

app = cdk.App()
enable_cost_report(app)
stack = cdk.Stack(app, "BedrockBatchExample", env=cdk.Environment(region="us-east-1"))
pipeline = BedrockBatchPipeline(
    stack,
    "Summaries",
    model_id="us.anthropic.claude-haiku-4-5-20251001-v1:0",  # the US cross-Region inference profile
    usage=BatchUsage(
        records_per_month=2_000_000, input_tokens_per_record=1_200, output_tokens_per_record=250
    ),
    input_prefix="incoming/",
    output_prefix="results/",
    small_batch=SmallBatch.ON_DEMAND,  # a run below the batch minimum goes through on-demand InvokeModel
)
cdk.CfnOutput(stack, "InputBucketName", value=pipeline.input_bucket.bucket_name)
cdk.CfnOutput(stack, "OutputBucketName", value=pipeline.output_bucket.bucket_name)
cdk.CfnOutput(stack, "StateMachineArn", value=pipeline.state_machine.state_machine_arn)
app.synth()
