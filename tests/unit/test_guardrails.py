"""CostGuardrails: the policies, budget, anomaly subscription, token-spend alarms and hard cap it synthesizes.

Most tests read the reference stack (`CostGuardrailsStack`, shared per session); small extra stacks cover
only what the reference stack does not exercise (other filters, monitor choices, bad props).
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk.assertions import Annotations, Match, Template
from constructs import Construct

from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate, CostLine
from inferwise.cost.recording import record_estimate
from inferwise.stacks.guardrails import (
    STACK_NAME_TAG,
    CostGuardrailsStack,
    guardrails_for,
    recorded_monthly_total,
)

STACK = "CostGuardrailsStack"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE_PROFILE = "us.amazon.nova-lite-v1:0"
ACCOUNT = {"Ref": "AWS::AccountId"}


def join(*parts: Any) -> dict[str, Any]:
    return {"Fn::Join": ["", list(parts)]}


PARTITION = {"Ref": "AWS::Partition"}


@pytest.fixture(scope="module")
def template(reference_stacks: dict[str, cdk.Stack]) -> Template:
    return Template.from_stack(reference_stacks[STACK])


@pytest.fixture(scope="module")
def stack(reference_stacks: dict[str, cdk.Stack]) -> CostGuardrailsStack:
    found = reference_stacks[STACK]
    assert isinstance(found, CostGuardrailsStack)
    return found


def only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, got {sorted(found)}"
    return next(iter(found.items()))


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"no single statement {sid} in {document}"
    return matches[0]


def small_stack(**props: Any) -> tuple[cdk.Stack, CostGuardrails]:
    """A one-construct stack for props the reference stack does not exercise."""
    app = cdk.App()
    stack = cdk.Stack(app, "Small", env=cdk.Environment(region="us-east-1"))
    props.setdefault("monthly_budget_usd", 100)
    props.setdefault("emails", ["finops@example.com"])
    return stack, CostGuardrails(stack, "Guardrails", **props)


def small_template(**props: Any) -> Template:
    stack, _ = small_stack(**props)
    return Template.from_stack(stack)


def expected_expression(model_id: str, dimensions: list[tuple[str, str]]) -> str:
    """The alarm expression computed straight from the bundled catalogue: price per 1M / 1e6 per token."""
    catalog = PriceCatalog.bundled()
    terms = []
    for metric_id, dimension in dimensions:
        price = catalog.bedrock(model_id, "us-east-1", dimension).unit_price
        terms.append(f"FILL({metric_id},0)*{format((price / Decimal(1_000_000)).normalize(), 'f')}")
    return " + ".join(terms)


def alarm_for(template: Template, model_id: str) -> dict[str, Any]:
    for resource in template.find_resources("AWS::CloudWatch::Alarm").values():
        metrics = resource["Properties"]["Metrics"]
        ids = {
            d["Value"]
            for m in metrics
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "ModelId"
        }
        if ids == {model_id}:
            return resource["Properties"]
    raise AssertionError(f"no alarm on ModelId {model_id}")


# --------------------------------------------------------------------------------- topic and key policies
def test_key_rotates_and_lets_cost_services_and_alarms_encrypt_for_this_account_only(
    template: Template,
) -> None:
    _, key = only(template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    grant = statement(key["Properties"]["KeyPolicy"], "AllowCostServicesToPublishEncrypted")
    assert grant["Effect"] == "Allow"
    assert sorted(grant["Principal"]["Service"]) == [
        "budgets.amazonaws.com",
        "cloudwatch.amazonaws.com",
        "costalerts.amazonaws.com",
    ]
    assert sorted(grant["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_topic_is_encrypted_with_the_customer_managed_key(template: Template) -> None:
    key_id, _ = only(template, "AWS::KMS::Key")
    _, topic = only(template, "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}


def test_topic_policy_lets_budgets_publish_from_this_account_s_budgets(template: Template) -> None:
    topic_id, _ = only(template, "AWS::SNS::Topic")
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    grant = statement(policy["Properties"]["PolicyDocument"], "AllowBudgetsToPublish")
    assert grant["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert grant["Action"] == "sns:Publish"
    assert grant["Resource"] == {"Ref": topic_id}
    assert grant["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": join("arn:", PARTITION, ":budgets::", ACCOUNT, ":*")},
    }


def test_topic_policy_lets_cost_anomaly_detection_publish_from_this_account(template: Template) -> None:
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    grant = statement(policy["Properties"]["PolicyDocument"], "AllowCostAnomalyDetectionToPublish")
    assert grant["Principal"] == {"Service": "costalerts.amazonaws.com"}
    assert grant["Action"] == "sns:Publish"
    assert grant["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_topic_policy_lets_only_this_account_s_alarms_publish(template: Template) -> None:
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    grant = statement(policy["Properties"]["PolicyDocument"], "AllowAlarmsToPublish")
    assert grant["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert grant["Condition"]["ArnLike"] == {
        "aws:SourceArn": join("arn:", PARTITION, ":cloudwatch:us-east-1:", ACCOUNT, ":alarm:*")
    }


def test_topic_policy_denies_publishing_without_tls(template: Template) -> None:
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    denies = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert [(d["Action"], d["Condition"]) for d in denies] == [
        ("sns:Publish", {"Bool": {"aws:SecureTransport": "false"}})
    ]


def test_without_token_alarms_cloudwatch_gets_no_publish_or_key_grant() -> None:
    template = small_template()
    _, policy = only(template, "AWS::SNS::TopicPolicy")
    sids = [s.get("Sid") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert "AllowAlarmsToPublish" not in sids
    _, key = only(template, "AWS::KMS::Key")
    grant = statement(key["Properties"]["KeyPolicy"], "AllowCostServicesToPublishEncrypted")
    assert "cloudwatch.amazonaws.com" not in grant["Principal"]["Service"]


def test_budget_and_subscription_wait_for_the_topic_policy(template: Template) -> None:
    policy_id, _ = only(template, "AWS::SNS::TopicPolicy")
    _, budget = only(template, "AWS::Budgets::Budget")
    _, subscription = only(template, "AWS::CE::AnomalySubscription")
    assert policy_id in budget["DependsOn"]
    assert policy_id in subscription["DependsOn"]


# ------------------------------------------------------------------------------------------------ budget
def test_budget_is_a_monthly_cost_budget_on_the_project_tag_in_unblended_cost(template: Template) -> None:
    _, budget = only(template, "AWS::Budgets::Budget")
    data = budget["Properties"]["Budget"]
    assert data["BudgetType"] == "COST"
    assert data["TimeUnit"] == "MONTHLY"
    assert data["BudgetLimit"] == {"Amount": 1500, "Unit": "USD"}
    assert data["FilterExpression"] == {
        "Tags": {"Key": "project", "Values": ["chatbot"], "MatchOptions": ["EQUALS"]}
    }
    assert data["Metrics"] == ["UnblendedCost"]
    assert "CostFilters" not in data and "CostTypes" not in data
    assert "BudgetName" not in data  # create-only: a generated name lets CloudFormation replace the budget


def test_budget_notifies_actual_percents_and_a_forecast_to_the_topic_and_the_emails(
    template: Template,
) -> None:
    topic_id, _ = only(template, "AWS::SNS::Topic")
    _, budget = only(template, "AWS::Budgets::Budget")
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    assert [
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications
    ] == [
        ("ACTUAL", 50),
        ("ACTUAL", 80),
        ("ACTUAL", 100),
        ("FORECASTED", 100),
    ]
    for notification in notifications:
        assert notification["Notification"]["ThresholdType"] == "PERCENTAGE"
        assert notification["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert notification["Subscribers"] == [
            {"SubscriptionType": "SNS", "Address": {"Ref": topic_id}},
            {"SubscriptionType": "EMAIL", "Address": "finops@example.com"},
        ]


def test_budget_filters_on_services() -> None:
    template = small_template(services=["Amazon Bedrock", "Amazon SageMaker"])
    _, budget = only(template, "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["FilterExpression"] == {
        "Dimensions": {
            "Key": "SERVICE",
            "Values": ["Amazon Bedrock", "Amazon SageMaker"],
            "MatchOptions": ["EQUALS"],
        }
    }


def test_budget_ands_several_tags() -> None:
    template = small_template(cost_filter_tags={"project": ["chatbot"], "env": ["prod", "staging"]})
    _, budget = only(template, "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["FilterExpression"] == {
        "And": [
            {"Tags": {"Key": "project", "Values": ["chatbot"], "MatchOptions": ["EQUALS"]}},
            {"Tags": {"Key": "env", "Values": ["prod", "staging"], "MatchOptions": ["EQUALS"]}},
        ]
    }


def test_budget_without_a_filter_watches_the_whole_account_and_keeps_its_metric() -> None:
    template = small_template()
    _, budget = only(template, "AWS::Budgets::Budget")
    assert "FilterExpression" not in budget["Properties"]["Budget"]
    assert budget["Properties"]["Budget"]["Metrics"] == ["UnblendedCost"]


def test_budget_records_the_guardrails_estimate(template: Template, stack: CostGuardrailsStack) -> None:
    _, budget = only(template, "AWS::Budgets::Budget")
    recorded = CostEstimate.from_json(budget["Metadata"][COST_METADATA_KEY])
    assert recorded == stack.guardrails.cost_estimate
    assert recorded.construct_path == "CostGuardrailsStack/Guardrails"


# ------------------------------------------------------------------------------------- anomaly detection
def test_custom_monitor_watches_the_budget_tag(template: Template) -> None:
    _, monitor = only(template, "AWS::CE::AnomalyMonitor")
    assert monitor["Properties"]["MonitorType"] == "CUSTOM"
    assert "MonitorDimension" not in monitor["Properties"]
    assert json.loads(monitor["Properties"]["MonitorSpecification"]) == {
        "Tags": {"Key": "project", "Values": ["chatbot"]}
    }


def test_subscription_ands_absolute_and_percentage_impact_and_alerts_the_topic_immediately(
    template: Template,
) -> None:
    topic_id, _ = only(template, "AWS::SNS::Topic")
    monitor_id, _ = only(template, "AWS::CE::AnomalyMonitor")
    _, subscription = only(template, "AWS::CE::AnomalySubscription")
    props = subscription["Properties"]
    assert json.loads(props["ThresholdExpression"]) == {
        "And": [
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["100"],
                }
            },
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": ["20"],
                }
            },
        ]
    }
    assert "Threshold" not in props
    assert props["Frequency"] == "IMMEDIATE"
    assert props["Subscribers"] == [{"Type": "SNS", "Address": {"Ref": topic_id}}]
    assert props["MonitorArnList"] == [{"Fn::GetAtt": [monitor_id, "MonitorArn"]}]


def test_default_monitor_is_dimensional_by_service_with_an_absolute_threshold() -> None:
    template = small_template()
    _, monitor = only(template, "AWS::CE::AnomalyMonitor")
    assert monitor["Properties"]["MonitorType"] == "DIMENSIONAL"
    assert monitor["Properties"]["MonitorDimension"] == "SERVICE"
    assert "MonitorSpecification" not in monitor["Properties"]
    _, subscription = only(template, "AWS::CE::AnomalySubscription")
    assert json.loads(subscription["Properties"]["ThresholdExpression"]) == {
        "Dimensions": {
            "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            "Values": ["100"],
        }
    }


def test_percentage_only_threshold() -> None:
    template = small_template(anomaly_threshold_usd=None, anomaly_threshold_percent=Decimal("12.5"))
    _, subscription = only(template, "AWS::CE::AnomalySubscription")
    assert json.loads(subscription["Properties"]["ThresholdExpression"]) == {
        "Dimensions": {
            "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
            "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
            "Values": ["12.5"],
        }
    }


def test_an_existing_monitor_is_subscribed_to_and_none_is_created() -> None:
    arn = "arn:aws:ce::123456789012:anomalymonitor/0b8f2d0e-5a4c-4d7b-9f1e-2c3d4e5f6a7b"
    template = small_template(existing_anomaly_monitor_arn=arn)
    template.resource_count_is("AWS::CE::AnomalyMonitor", 0)
    _, subscription = only(template, "AWS::CE::AnomalySubscription")
    assert subscription["Properties"]["MonitorArnList"] == [arn]


def test_anomaly_detection_can_be_left_out() -> None:
    template = small_template(anomaly_detection=False)
    template.resource_count_is("AWS::CE::AnomalyMonitor", 0)
    template.resource_count_is("AWS::CE::AnomalySubscription", 0)


# ------------------------------------------------------------------------------------ token-spend alarms
def test_alarm_math_prices_tokens_with_the_catalogue_including_cache_tokens(template: Template) -> None:
    alarm = alarm_for(template, HAIKU)
    expressions = [m for m in alarm["Metrics"] if "Expression" in m]
    assert len(expressions) == 1 and expressions[0]["ReturnData"] is True
    assert expressions[0]["Expression"] == expected_expression(
        HAIKU, [("tin", "input"), ("tout", "output"), ("tcr", "cache-read"), ("tcw", "cache-write-5m")]
    )
    stats = {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}
    assert {i: s["Metric"]["MetricName"] for i, s in stats.items()} == {
        "tin": "InputTokenCount",
        "tout": "OutputTokenCount",
        "tcr": "CacheReadInputTokenCount",
        "tcw": "CacheWriteInputTokenCount",
    }
    for stat in stats.values():
        assert stat["Metric"]["Namespace"] == "AWS/Bedrock"
        assert (stat["Stat"], stat["Period"]) == ("Sum", 3600)


def test_alarm_on_a_model_without_cache_write_price_reads_only_the_priced_metrics(template: Template) -> None:
    alarm = alarm_for(template, NOVA_LITE_PROFILE)
    expression = next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)
    assert expression == expected_expression(
        NOVA_LITE_PROFILE, [("tin", "input"), ("tout", "output"), ("tcr", "cache-read")]
    )
    assert "tcw" not in {m["Id"] for m in alarm["Metrics"]}


def test_alarm_fires_above_the_hourly_limit_and_notifies_the_topic(template: Template) -> None:
    topic_id, _ = only(template, "AWS::SNS::Topic")
    alarm = alarm_for(template, HAIKU)
    assert alarm["Threshold"] == 5
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert alarm_for(template, NOVA_LITE_PROFILE)["EvaluationPeriods"] == 2


def test_alarm_description_names_each_price_and_its_catalogue_key(template: Template) -> None:
    description = alarm_for(template, HAIKU)["AlarmDescription"]
    catalog = PriceCatalog.bundled()
    for dimension in ("input", "output", "cache-read", "cache-write-5m"):
        record = catalog.bedrock(HAIKU, "us-east-1", dimension)
        assert f"${format(record.unit_price.normalize(), 'f')}/1M ({record.key}," in description
    assert len(description) <= 1024


def test_token_spend_metric_is_exposed_for_dashboards(stack: CostGuardrailsStack) -> None:
    metric = stack.guardrails.metric_token_spend(HAIKU)
    assert metric.expression.startswith("FILL(tin,0)*")
    with pytest.raises(ValueError, match=re.escape("no token_spend_alarms entry for model 'other'")):
        stack.guardrails.metric_token_spend("other")


# ---------------------------------------------------------------------------------------------- hard cap
def test_deny_policy_blocks_bedrock_and_sagemaker_inference_and_is_attached_to_nobody(
    template: Template,
) -> None:
    _, policy = only(template, "AWS::IAM::ManagedPolicy")
    [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Resource"] == "*"
    assert deny["Action"] == [
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
        "bedrock:CreateModelInvocationJob",
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
        "sagemaker:InvokeEndpointWithResponseStream",
    ]
    assert not {"Roles", "Users", "Groups"} & set(policy["Properties"])


def test_budget_action_attaches_the_deny_policy_to_the_roles_at_the_cap(
    template: Template, stack: CostGuardrailsStack
) -> None:
    budget_id, _ = only(template, "AWS::Budgets::Budget")
    policy_id, _ = only(template, "AWS::IAM::ManagedPolicy")
    topic_id, _ = only(template, "AWS::SNS::Topic")
    app_role_id = stack.resolve(stack.app_role.role_name)["Ref"]
    _, action = only(template, "AWS::Budgets::BudgetsAction")
    props = action["Properties"]
    assert props["BudgetName"] == {"Ref": budget_id}
    assert props["ActionType"] == "APPLY_IAM_POLICY"
    assert props["NotificationType"] == "ACTUAL"
    assert props["ActionThreshold"] == {"Type": "PERCENTAGE", "Value": 120}
    assert props["ApprovalModel"] == "AUTOMATIC"
    assert props["Definition"] == {
        "IamActionDefinition": {"PolicyArn": {"Ref": policy_id}, "Roles": [{"Ref": app_role_id}]}
    }
    assert props["Subscribers"] == [
        {"Type": "SNS", "Address": {"Ref": topic_id}},
        {"Type": "EMAIL", "Address": "finops@example.com"},
    ]


def test_action_role_trusts_only_this_account_s_budgets(template: Template) -> None:
    _, action = only(template, "AWS::Budgets::BudgetsAction")
    role_id = action["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    role = template.find_resources("AWS::IAM::Role")[role_id]
    [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "budgets.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": join("arn:", PARTITION, ":budgets::", ACCOUNT, ":budget/*")},
    }


def test_action_role_may_attach_and_detach_exactly_the_deny_policy_on_exactly_the_roles(
    template: Template, stack: CostGuardrailsStack
) -> None:
    _, action = only(template, "AWS::Budgets::BudgetsAction")
    role_id = action["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    policy_id, _ = only(template, "AWS::IAM::ManagedPolicy")
    policies = template.find_resources("AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": role_id}]}})
    [(policy_logical_id, policy)] = policies.items()
    [grant] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Effect"] == "Allow"
    assert grant["Action"] == ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    assert grant["Resource"] == stack.resolve(stack.app_role.role_arn)
    assert grant["Condition"] == {"ArnEquals": {"iam:PolicyARN": {"Ref": policy_id}}}
    assert policy_logical_id in action["DependsOn"]


def test_without_a_hard_cap_there_is_no_action_policy_or_role() -> None:
    template = small_template()
    template.resource_count_is("AWS::Budgets::BudgetsAction", 0)
    template.resource_count_is("AWS::IAM::ManagedPolicy", 0)
    template.resource_count_is("AWS::IAM::Role", 0)


# ---------------------------------------------------------------------------------------------- bad props
def _role(stack: cdk.Stack) -> iam.Role:
    return iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))


BAD_PROPS: list[tuple[str, dict[str, Any], str]] = [
    ("budget zero", {"monthly_budget_usd": 0}, "monthly_budget_usd must be > 0, got 0"),
    ("budget negative", {"monthly_budget_usd": -5.5}, "monthly_budget_usd must be > 0, got -5.5"),
    (
        "alert percent zero",
        {"actual_alert_percents": (0, 80)},
        "actual_alert_percents must be in (0, 1000] percent, got 0",
    ),
    (
        "alert percent above 1000",
        {"actual_alert_percents": (50, 1001)},
        "actual_alert_percents must be in (0, 1000] percent, got 1001",
    ),
    (
        "forecast percent",
        {"forecast_alert_percent": 1500},
        "forecast_alert_percent must be in (0, 1000] percent, got 1500",
    ),
    (
        "repeated percent",
        {"actual_alert_percents": (80, 80)},
        "actual_alert_percents must not repeat a value, got (80, 80)",
    ),
    (
        "eleven emails",
        {"emails": [f"p{i}@example.com" for i in range(11)]},
        "emails allows at most 10 addresses (AWS Budgets: 1 SNS + 10 e-mail subscribers per notification), "
        "got 11; subscribe more people to the topic instead",
    ),
    (
        "malformed email",
        {"emails": ["finops.example.com"]},
        "emails[0] must be an e-mail address like name@example.com, got 'finops.example.com'",
    ),
    (
        "both filter styles",
        {"cost_filter_tags": {"project": ["chatbot"]}, "services": ["Amazon Bedrock"]},
        "pass cost_filter_tags or services, not both: a budget filters on one of them "
        "(combine them yourself with a cost category if you need both)",
    ),
    (
        "malformed monitor arn",
        {"existing_anomaly_monitor_arn": "arn:aws:ce::1234:anomalymonitor/abc"},
        "existing_anomaly_monitor_arn must look like arn:aws:ce::123456789012:anomalymonitor/<id>, "
        "got 'arn:aws:ce::1234:anomalymonitor/abc'",
    ),
    (
        "monitor arn of another kind",
        {"existing_anomaly_monitor_arn": "arn:aws:ce::123456789012:anomalysubscription/abc"},
        "existing_anomaly_monitor_arn must look like arn:aws:ce::123456789012:anomalymonitor/<id>, "
        "got 'arn:aws:ce::123456789012:anomalysubscription/abc'",
    ),
    (
        "no anomaly threshold",
        {"anomaly_threshold_usd": None},
        "anomaly_threshold_usd and anomaly_threshold_percent are both None: give at least one, "
        "or pass anomaly_detection=False",
    ),
    (
        "custom monitor without one tag",
        {"anomaly_monitor_type": "CUSTOM", "services": ["Amazon Bedrock"]},
        "anomaly_monitor_type='CUSTOM' watches the cost allocation tag of cost_filter_tags: it needs exactly "
        "one tag key with 1 to 10 values, got None",
    ),
    (
        "budget name with a colon",
        {"budget_name": "team:chatbot"},
        "budget_name must be non-empty without ':', '\\' or '/action/', got 'team:chatbot' (AWS Budgets' BudgetName, "
        "docs/aws-facts.md#budgets)",
    ),
    (
        "same model twice",
        {
            "token_spend_alarms": [
                TokenSpendAlarm(model_id=HAIKU, max_usd_per_hour=1),
                TokenSpendAlarm(model_id=HAIKU, max_usd_per_hour=2),
            ]
        },
        f"token_spend_alarms must name each model once, got ['{HAIKU}', '{HAIKU}']",
    ),
]


@pytest.mark.parametrize(
    ("props", "message"), [case[1:] for case in BAD_PROPS], ids=[c[0] for c in BAD_PROPS]
)
def test_bad_props_fail_at_synth_with_a_message_naming_the_prop(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        small_stack(**props)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({"max_usd_per_hour": 0}, "TokenSpendAlarm.max_usd_per_hour must be > 0, got 0"),
        (
            {"max_usd_per_hour": 1, "evaluation_hours": 0},
            "TokenSpendAlarm.evaluation_hours must be a whole number between 1 and 168, got 0: the alarm's period "
            "is 1 hour and CloudWatch allows at most 7 days (604,800 s) of period x evaluation periods "
            "(docs/aws-facts.md#bedrock-metrics)",
        ),
    ],
    ids=["token limit zero", "token alarm over zero hours"],
)
def test_bad_token_spend_alarms_are_refused_when_made(props: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        TokenSpendAlarm(model_id=HAIKU, **props)
    assert str(raised.value) == message


def test_hard_cap_percent_outside_range_fails() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Small", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ValueError) as raised:
        CostGuardrails(
            stack,
            "Guardrails",
            monthly_budget_usd=100,
            emails=["finops@example.com"],
            hard_cap=HardCap(at_percent=1200, deny_roles=[_role(stack)]),
        )
    assert str(raised.value) == "HardCap.at_percent must be in (0, 1000] percent, got 1200"


def test_hard_cap_without_roles_fails() -> None:
    with pytest.raises(ValueError) as raised:
        small_stack(hard_cap=HardCap(at_percent=120, deny_roles=[]))
    assert str(raised.value) == "hard_cap.deny_roles must name at least one role, got none"


def test_token_alarm_on_a_model_without_a_price_fails_and_says_how_to_add_one() -> None:
    with pytest.raises(ValueError) as raised:
        small_stack(
            token_spend_alarms=[TokenSpendAlarm(model_id="acme.unpriced-model-v1:0", max_usd_per_hour=1)]
        )
    message = str(raised.value)
    assert message.startswith(
        "token_spend_alarms[0]: no on-demand input token price for model 'acme.unpriced-model-v1:0' in "
        "us-east-1, so its spend cannot be computed. no AmazonBedrock price for model 'acme.unpriced-model-v1:0'"
    )
    assert '"inferwise:prices"' in message  # the catalogue's override hint


def test_no_subscriber_at_all_fails_at_synth() -> None:
    stack, _ = small_stack(emails=[])
    with pytest.raises(RuntimeError) as raised:
        Template.from_stack(stack)
    assert (
        "CostGuardrails Small/Guardrails has no subscriber: pass emails=[...] or topic_subscriptions=[...] "
        "(or call topic.add_subscription(...)); the topic alone delivers alerts to nobody"
    ) in str(raised.value)


def test_a_topic_subscription_alone_is_a_subscriber_even_when_added_later() -> None:
    stack, guardrails = small_stack(emails=[])
    guardrails.topic.add_subscription(subscriptions.EmailSubscription("oncall@example.com"))
    Template.from_stack(stack).resource_count_is("AWS::SNS::Subscription", 1)
    Annotations.from_stack(stack).has_no_warning("*", Match.any_value())


def test_emails_without_topic_subscriptions_warn_that_anomaly_alerts_reach_nobody() -> None:
    stack, _ = small_stack()
    Template.from_stack(stack)
    Annotations.from_stack(stack).has_warning(
        "/Small/Guardrails", Match.string_like_regexp("anomaly alerts and token-spend alarms publish only")
    )


# ---------------------------------------------------------------------------------------- guardrails_for
class Priced(Construct):
    """A stand-in workload construct that records an estimate of `total` USD per month."""

    def __init__(self, scope: Construct, construct_id: str, *, total: str) -> None:
        super().__init__(scope, construct_id)
        resource = cdk.CfnWaitConditionHandle(self, "Resource")
        line = CostLine(
            component="tokens",
            service_code="AmazonBedrock",
            usage_type="",
            pricing_unit="1M tokens",
            monthly_quantity=Decimal(1),
            unit_price=Decimal(total),
            monthly_cost=Decimal(total),
            pricing_category="OnDemand",
            price_source="test",
            price_as_of=date(2026, 11, 1),
        )
        record_estimate(self, CostEstimate("", "test", "us-east-1", (line,)), resource)


def test_guardrails_for_sizes_the_budget_from_the_recorded_estimates() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Workload", env=cdk.Environment(region="us-east-1"))
    Priced(stack, "First", total="45.50")
    Priced(stack, "Second", total="10.10")
    assert recorded_monthly_total(stack) == Decimal("55.60")
    guardrails = guardrails_for(stack, emails=["finops@example.com"])
    assert guardrails.monthly_budget_usd == Decimal(84)  # 55.60 x 1.5 = 83.40, rounded up
    assert recorded_monthly_total(stack) == Decimal("55.60")  # the guardrails' own estimate is not counted
    _, budget = only(Template.from_stack(stack), "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["BudgetLimit"] == {"Amount": 84, "Unit": "USD"}
    assert budget["Properties"]["Budget"]["FilterExpression"] == {
        "Tags": {"Key": STACK_NAME_TAG, "Values": ["Workload"], "MatchOptions": ["EQUALS"]}
    }


def test_guardrails_for_passes_its_margin_filter_and_options_through() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Workload", env=cdk.Environment(region="us-east-1"))
    Priced(stack, "Only", total="40")
    guardrails = guardrails_for(
        stack,
        emails=["finops@example.com"],
        margin=Decimal("2"),
        services=["Amazon Bedrock"],
        anomaly_detection=False,
    )
    assert guardrails.monthly_budget_usd == Decimal(80)
    assert guardrails.anomaly_subscription is None
    _, budget = only(Template.from_stack(stack), "AWS::Budgets::Budget")
    assert budget["Properties"]["Budget"]["FilterExpression"]["Dimensions"]["Values"] == ["Amazon Bedrock"]


def test_guardrails_for_refuses_a_stack_without_estimates() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Empty", env=cdk.Environment(region="us-east-1"))
    with pytest.raises(ValueError) as raised:
        guardrails_for(stack, emails=["finops@example.com"])
    assert str(raised.value) == (
        "stack Empty records no cost estimate above $0 yet: call guardrails_for after the priced constructs "
        "are created, or create CostGuardrails with an explicit monthly_budget_usd"
    )


def test_guardrails_for_refuses_a_margin_below_one() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Workload", env=cdk.Environment(region="us-east-1"))
    Priced(stack, "Only", total="1")
    with pytest.raises(ValueError) as raised:
        guardrails_for(stack, emails=["finops@example.com"], margin=Decimal("0.9"))
    assert str(raised.value) == "margin must be a Decimal >= 1, got Decimal('0.9')"
