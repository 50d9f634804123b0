"""`CostGuardrails`: a monthly budget, Cost Anomaly Detection, Bedrock token-spend alarms and a hard cap.

Everything notifies one SNS topic encrypted with a customer-managed KMS key whose policies let AWS Budgets,
Cost Anomaly Detection and CloudWatch alarms publish (an AWS-managed `alias/aws/sns` key cannot, and a topic
without those statements makes every notification fail silently). See docs/guardrails.md.

The package, one room per part: `props` (the options and prop checks), `topic` (the encrypted alerts
topic), `budget` (the budget, its filter and notifications), `anomaly` (Cost Anomaly Detection),
`token_spend` (the token-spend expression and its prices), `watch` (the budget's tag filter and the alarms'
`ModelId` for watched constructs) and `construct` (the construct, with the hard cap).
"""

from inferwise.constructs.guardrails.anomaly import MONITOR_ARN
from inferwise.constructs.guardrails.construct import DENIED_INFERENCE_ACTIONS, CostGuardrails
from inferwise.constructs.guardrails.props import (
    EMAIL,
    MAX_EMAILS,
    MAX_PERCENT,
    Amount,
    HardCap,
    TokenSpendAlarm,
)
from inferwise.constructs.guardrails.token_spend import TokenPrice, token_spend_expression

__all__ = [
    "DENIED_INFERENCE_ACTIONS",
    "EMAIL",
    "MAX_EMAILS",
    "MAX_PERCENT",
    "MONITOR_ARN",
    "Amount",
    "CostGuardrails",
    "HardCap",
    "TokenPrice",
    "TokenSpendAlarm",
    "token_spend_expression",
]
