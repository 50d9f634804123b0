"""A monthly budget, anomaly alerts, a Bedrock token-spend alarm and a hard cap for one application."""

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions

from inferwise import CostGuardrails, HardCap, TokenSpendAlarm, enable_cost_report

app = cdk.App()
enable_cost_report(app)
stack = cdk.Stack(app, "GuardrailsExample", env=cdk.Environment(region="us-east-1"))
cdk.Tags.of(stack).add("project", "chatbot")  # the budget and the anomaly monitor follow this tag
# The role your application runs as; the hard cap denies it Bedrock and SageMaker inference.
app_role = iam.Role(stack, "ChatbotAppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
CostGuardrails(
    stack,
    "Guardrails",
    monthly_budget_usd=1_500,
    emails=["finops@example.com"],  # budget alerts, sent by AWS Budgets itself
    topic_subscriptions=[subscriptions.EmailSubscription("oncall@example.com")],  # every alert
    cost_filter_tags={"project": ["chatbot"]},
    actual_alert_percents=(50, 80, 100),
    anomaly_monitor_type="CUSTOM",
    anomaly_threshold_usd=100,
    token_spend_alarms=[
        TokenSpendAlarm(model_id="anthropic.claude-3-5-haiku-20241022-v1:0", max_usd_per_hour=5),
    ],
    hard_cap=HardCap(at_percent=120, deny_roles=[app_role]),
)
app.synth()
