"""Reference stack: a small open LLM on Inferentia2, mostly on Spot, with one On-Demand instance as a floor.

The network is chosen for cost: public subnets only and no NAT gateway (a NAT gateway costs about
$32.85/month plus $0.045/GB before the fleet does anything). The instances get public IPv4 addresses
($0.005/hour each) so they reach ECR, the Hugging Face Hub and Systems Manager through the internet
gateway, while their security group admits only the serving port from inside the VPC. No VPC endpoints:
each interface endpoint costs about $7.30/month per Availability Zone, more than the traffic it would save.
Flow logs record rejected traffic only (probes of the public addresses), kept two weeks.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from inferwise.constructs.nag import CHECKOV_REASONS, checkov_skip
from inferwise.constructs.schedule import OffHours
from inferwise.constructs.spot_fleet import ContainerServing, SpotInferenceFleet
from inferwise.cost.estimators.spot_fleet import FleetUsage
from inferwise.stacks.guardrails import reference_guardrails

TGI_NEURONX_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-optimum3.3.6-inf2-py310-ubuntu22.04"
)
"""Hugging Face TGI for Neuron (optimum-neuron 3.3.6) in us-east-1, as `image_uris.retrieve("huggingface-llm-neuronx",
region="us-east-1", version="0.3.0", instance_type="ml.inf2.xlarge")` returns it (docs/aws-facts.md#sagemaker-images). Its
entrypoint serves on port 8080 and is configured through environment variables."""

MODEL_ID = "Qwen/Qwen2.5-1.5B-Instruct"
"""Apache-2.0 open model that fits one Inferentia2 chip (2 NeuronCores, 32 GiB), pulled from the Hugging Face Hub."""

VPC_CIDR = "10.60.0.0/16"


class SpotFleetStack(cdk.Stack):
    """A chat model on inf2.xlarge/inf2.8xlarge: 1 On-Demand instance, up to 5 more on Spot, off at night
    and on weekends (Europe/Berlin), 3 instances on average over 286 working hours a month."""

    def __init__(self, scope: Construct, construct_id: str, *, env: cdk.Environment) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="inferwise reference: Inferentia2 inference on Spot with an On-Demand floor",
        )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(VPC_CIDR),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            ],
        )
        self.flow_log_group = logs.LogGroup(self, "FlowLogs", retention=logs.RetentionDays.TWO_WEEKS)
        checkov_skip(self.flow_log_group, "CKV_AWS_158", CHECKOV_REASONS["log-group-kms"])
        self.flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
        )
        self.fleet = SpotInferenceFleet(
            self,
            "Chat",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            accelerator="inferentia2",
            instance_types=["inf2.xlarge", "inf2.8xlarge"],
            on_demand_base=1,
            spot_percent_above_base=100,
            min_capacity=1,
            max_capacity=6,
            serving=ContainerServing(
                image=TGI_NEURONX_IMAGE,
                port=8080,
                environment={
                    "HF_MODEL_ID": MODEL_ID,
                    "HF_NUM_CORES": "2",
                    "HF_AUTO_CAST_TYPE": "bf16",
                    "MAX_BATCH_SIZE": "4",
                    "MAX_INPUT_TOKENS": "2048",
                    "MAX_TOTAL_TOKENS": "4096",
                },
            ),
            off_hours=OffHours(
                cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *", time_zone="Europe/Berlin"
            ),
            usage=FleetUsage(average_instances=3, hours_per_month=286),
        )
        self.guardrails = reference_guardrails(self, watch=[self.fleet])
        cdk.CfnOutput(self, "AutoScalingGroupName", value=self.fleet.auto_scaling_group_name)
        cdk.CfnOutput(self, "SecurityGroupId", value=self.fleet.security_group.security_group_id)
