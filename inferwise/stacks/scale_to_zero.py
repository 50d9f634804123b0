"""Reference stack: a small open LLM on a SageMaker endpoint that scales to zero outside working hours."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from inferwise.constructs.scale_to_zero import InferenceModel, OffHours, ScaleToZeroEndpoint
from inferwise.cost.estimators.scale_to_zero import EndpointUsage
from inferwise.stacks.guardrails import reference_guardrails

TGI_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"
)
"""Hugging Face TGI 3.3.6 Deep Learning Container (GPU) in us-east-1, as `sagemaker_image("huggingface-llm",
"3.3.6", "us-east-1", "ml.g5.xlarge")` returns it with sagemaker-core 2.27.0 (docs/aws-facts.md#sagemaker-images;
tests/packaging/test_sagemaker_sdk.py checks it against the SDK)."""

MODEL_ID = "Qwen/Qwen2.5-1.5B-Instruct"
"""Apache-2.0 open model small enough for one A10G (24 GiB), pulled from the Hugging Face Hub at start-up."""


class ScaleToZeroEndpointStack(cdk.Stack):
    """One chat model on ml.g5.xlarge, busy 9 h on 22 working days a month, forced off at night and weekends."""

    def __init__(self, scope: Construct, construct_id: str, *, env: cdk.Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="inferwise reference: SageMaker inference components that scale to zero when idle",
        )
        self.endpoint = ScaleToZeroEndpoint(
            self,
            "Chat",
            instance_type="ml.g5.xlarge",
            models=[
                InferenceModel(
                    name="qwen",
                    image_uri=TGI_IMAGE,
                    environment={
                        "HF_MODEL_ID": MODEL_ID,
                        "SM_NUM_GPUS": "1",
                        "MAX_INPUT_TOKENS": "4096",
                        "MAX_TOTAL_TOKENS": "6144",
                    },
                    accelerators=1,
                    # A reservation, not a limit: SageMaker places copies against a pool smaller than the
                    # instance's 16 GiB; 1024 MiB was accepted on ml.g5.xlarge where 4096 was refused
                    # (community measurement, docs/aws-facts.md#sagemaker-inference-component). The weights live in GPU memory.
                    memory_mb=1024,
                    max_copies=2,
                )
            ],
            max_instances=2,
            off_hours=OffHours(
                cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *", time_zone="Europe/Berlin"
            ),
            usage=EndpointUsage(active_hours_per_day=9, days_per_month=22),
        )
        self.guardrails = reference_guardrails(self, watch=[self.endpoint])
        cdk.CfnOutput(self, "EndpointName", value=self.endpoint.endpoint_name)
        cdk.CfnOutput(self, "InferenceComponentName", value=self.endpoint.inference_component_names[0])
