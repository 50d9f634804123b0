"""A small open chat model on Inferentia2, mostly on Spot with one On-Demand instance (SpotInferenceFleet)."""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2

from inferwise import ContainerServing, FleetUsage, OffHours, SpotInferenceFleet, enable_cost_report

# Hugging Face TGI for AWS Neuron (optimum-neuron 3.3.6) in us-east-1; it serves on port 8080.
TGI_NEURONX_IMAGE = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-optimum3.3.6-inf2-py310-ubuntu22.04"
)

app = cdk.App()
enable_cost_report(app)
stack = cdk.Stack(app, "SpotFleetExample", env=cdk.Environment(region="us-east-1"))
# Public subnets and no NAT gateway (about $33 a month per zone saved); the fleet's security group admits
# the serving port from inside the VPC only.
vpc = ec2.Vpc(
    stack,
    "Vpc",
    nat_gateways=0,
    subnet_configuration=[ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)],
)
fleet = SpotInferenceFleet(
    stack,
    "Chat",
    vpc=vpc,
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
        environment={"HF_MODEL_ID": "Qwen/Qwen2.5-1.5B-Instruct", "HF_NUM_CORES": "2"},
    ),
    off_hours=OffHours(cron="0 20 ? * MON-FRI *", resume_cron="0 7 ? * MON-FRI *", time_zone="Europe/Berlin"),
    usage=FleetUsage(average_instances=3, hours_per_month=286),
)
cdk.CfnOutput(stack, "AutoScalingGroupName", value=fleet.auto_scaling_group.auto_scaling_group_name)
app.synth()
