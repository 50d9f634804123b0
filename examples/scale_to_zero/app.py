"""A small open chat model on a SageMaker endpoint that scales to zero when idle (ScaleToZeroEndpoint)."""

import aws_cdk as cdk

from inferwise import EndpointUsage, InferenceModel, OffHours, ScaleToZeroEndpoint, enable_cost_report

# Hugging Face TGI 3.3.6 Deep Learning Container for GPUs, in us-east-1 (the reference stack's image).
TGI_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"
)

app = cdk.App()
enable_cost_report(app, max_monthly_usd=2_000)  # synth fails above $2,000 a month
stack = cdk.Stack(app, "ScaleToZeroExample", env=cdk.Environment(region="us-east-1"))
endpoint = ScaleToZeroEndpoint(
    stack,
    "Chat",
    instance_type="ml.g5.xlarge",
    models=[
        InferenceModel(
            name="qwen",
            image_uri=TGI_IMAGE,
            environment={"HF_MODEL_ID": "Qwen/Qwen2.5-1.5B-Instruct", "SM_NUM_GPUS": "1"},
            accelerators=1,
            memory_mb=1024,
            max_copies=2,
        )
    ],
    max_instances=2,
    off_hours=OffHours(cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *", time_zone="Europe/Berlin"),
    usage=EndpointUsage(active_hours_per_day=9, days_per_month=22),
)
cdk.CfnOutput(stack, "EndpointName", value=endpoint.endpoint_name)
app.synth()
