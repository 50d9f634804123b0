"""`CostGuardrails`: a monthly budget, Cost Anomaly Detection, Bedrock token-spend alarms and a hard cap.

Everything notifies one SNS topic encrypted with a customer-managed KMS key whose policies let AWS Budgets,
Cost Anomaly Detection and CloudWatch alarms publish (an AWS-managed `alias/aws/sns` key cannot, and a topic
without those statements makes every notification fail silently). See docs/guardrails.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import aws_cdk as cdk
import jsii
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from inferwise.cost.catalog import TOKENS_PER_PRICED_UNIT, PriceCatalog, UnknownPriceError, catalog_for
from inferwise.cost.estimators.guardrails import GuardrailsPlan, GuardrailsUsage, estimate_guardrails
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.records import PriceRecord
from inferwise.cost.usage_file import apply_usage_file

Amount = Decimal | int | float
"""A money or percentage figure; floats are read through their shortest repr (0.1 is 0.1)."""

MAX_EMAILS = 10
"""E-mail subscribers per budget notification (AWS Budgets allows 1 SNS + 10 e-mail)."""

MAX_PERCENT = Decimal(1000)

DENIED_INFERENCE_ACTIONS: tuple[str, ...] = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CreateModelInvocationJob",
    "sagemaker:InvokeEndpoint",
    "sagemaker:InvokeEndpointAsync",
    "sagemaker:InvokeEndpointWithResponseStream",
)
"""What the hard cap's Deny policy blocks: every way to start paid inference on Bedrock and SageMaker.

Converse and ConverseStream are not IAM actions: AWS authorizes them as bedrock:InvokeModel and
bedrock:InvokeModelWithResponseStream (Bedrock API reference), so denying those two denies them as well.
"""

MONITOR_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:ce::\d{12}:anomalymonitor/[A-Za-z0-9-]+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")

# (metric id, AWS/Bedrock metric, catalogue dimension, required): the token counts that cost money.
_TOKEN_METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("tin", "InputTokenCount", "input", True),
    ("tout", "OutputTokenCount", "output", True),
    ("tcr", "CacheReadInputTokenCount", "cache-read", False),
    ("tcw", "CacheWriteInputTokenCount", "cache-write-5m", False),
)


@dataclass(frozen=True)
class TokenSpendAlarm:
    """Alarm when one Bedrock model's on-demand spend exceeds `max_usd_per_hour`.

    `model_id` is what the application invokes (a model id, an inference profile id such as
    `us.anthropic...` or an ARN): it is both the `ModelId` dimension of the AWS/Bedrock metrics and the key
    of the catalogue prices. `evaluation_hours`: consecutive hours above the limit before the alarm fires.
    """

    model_id: str
    max_usd_per_hour: Amount
    evaluation_hours: int = 1


@dataclass(frozen=True)
class HardCap:
    """Deny inference to `deny_roles` once ACTUAL spend reaches `at_percent` of the monthly budget.

    A budget action (APPLY_IAM_POLICY, automatic approval) attaches a Deny policy on the Bedrock and
    SageMaker inference actions to the roles. AWS evaluates budgets several times a day, so spend can run
    past the cap for hours before it bites: this is a backstop, not a real-time breaker.
    """

    at_percent: Amount
    deny_roles: Sequence[iam.IRole]


@dataclass(frozen=True)
class TokenPrice:
    """One term of a token-spend expression: the metric it reads and the catalogue price it multiplies."""

    metric_id: str
    metric_name: str
    record: PriceRecord

    @property
    def per_token(self) -> Decimal:
        """The expression's coefficient: the catalogue price per 1M tokens / 1e6."""
        return (self.record.unit_price / TOKENS_PER_PRICED_UNIT).normalize()


@dataclass(frozen=True)
class _MonitorSpec:
    monitor_type: str
    dimension: str | None = None
    specification: str | None = None


class CostGuardrails(Construct):
    """Budget, anomaly detection, token-spend alarms and an optional hard cap, all alerting one SNS topic.

    Cost: a few dollars a month (the KMS key, alarm metrics, an action-enabled budget); see `cost_estimate`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        monthly_budget_usd: Amount,
        emails: Sequence[str] = (),
        topic_subscriptions: Sequence[sns.ITopicSubscription] = (),
        cost_filter_tags: Mapping[str, Sequence[str]] | None = None,
        services: Sequence[str] | None = None,
        actual_alert_percents: Sequence[Amount] = (50, 80, 100),
        forecast_alert_percent: Amount | None = 100,
        anomaly_detection: bool = True,
        anomaly_monitor_type: Literal["DIMENSIONAL", "CUSTOM"] = "DIMENSIONAL",
        existing_anomaly_monitor_arn: str | None = None,
        anomaly_threshold_usd: Amount | None = 100,
        anomaly_threshold_percent: Amount | None = None,
        token_spend_alarms: Sequence[TokenSpendAlarm] = (),
        hard_cap: HardCap | None = None,
        budget_name: str | None = None,
        usage: GuardrailsUsage = GuardrailsUsage(),  # noqa: B008 - frozen dataclass, safe as a default
    ) -> None:
        super().__init__(scope, construct_id)
        self.monthly_budget_usd = _positive("monthly_budget_usd", monthly_budget_usd)
        self.emails = _emails(emails)
        _check_budget_name(budget_name)
        self._filter = _filter_expression(cost_filter_tags, services)
        actual_percents = _percents("actual_alert_percents", actual_alert_percents)
        forecast = (
            None
            if forecast_alert_percent is None
            else _percent("forecast_alert_percent", forecast_alert_percent)
        )
        cap_percent = None if hard_cap is None else _percent("hard_cap.at_percent", hard_cap.at_percent)
        if hard_cap is not None and not hard_cap.deny_roles:
            raise ValueError("hard_cap.deny_roles must name at least one role, got none")
        thresholds = _anomaly_thresholds(anomaly_detection, anomaly_threshold_usd, anomaly_threshold_percent)
        monitor_spec = _monitor_spec(
            anomaly_detection, anomaly_monitor_type, existing_anomaly_monitor_arn, cost_filter_tags
        )
        if len({alarm.model_id for alarm in token_spend_alarms}) != len(token_spend_alarms):
            models = [alarm.model_id for alarm in token_spend_alarms]
            raise ValueError(f"token_spend_alarms must name each model once, got {models}")
        limits = {
            alarm.model_id: _positive(f"token_spend_alarms[{index}].max_usd_per_hour", alarm.max_usd_per_hour)
            for index, alarm in enumerate(token_spend_alarms)
        }

        stack = cdk.Stack.of(self)
        self._catalog = catalog_for(self)
        self._region, region_assumptions = pricing_region(self)
        self._token_prices = {
            alarm.model_id: _token_prices(self._catalog, self._region, alarm, index)
            for index, alarm in enumerate(token_spend_alarms)
        }

        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"Encrypts the cost-guardrail alerts topic of {self.node.path}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            pending_window=cdk.Duration.days(7),
        )
        self.topic = sns.Topic(self, "AlertsTopic", master_key=self.key, enforce_ssl=True)
        publishers = ["budgets.amazonaws.com", "costalerts.amazonaws.com"]
        if token_spend_alarms:
            publishers.append("cloudwatch.amazonaws.com")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCostServicesToPublishEncrypted",
                principals=[iam.ServicePrincipal(service) for service in publishers],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.topic.add_to_resource_policy(
            _publish_statement(
                "AllowBudgetsToPublish",
                "budgets.amazonaws.com",
                self.topic,
                stack.account,
                source_arn=f"arn:{stack.partition}:budgets::{stack.account}:*",
            )
        )
        self.topic.add_to_resource_policy(
            _publish_statement(
                "AllowCostAnomalyDetectionToPublish", "costalerts.amazonaws.com", self.topic, stack.account
            )
        )
        if token_spend_alarms:
            self.topic.add_to_resource_policy(
                _publish_statement(
                    "AllowAlarmsToPublish",
                    "cloudwatch.amazonaws.com",
                    self.topic,
                    stack.account,
                    source_arn=f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:*",
                )
            )
        for subscription in topic_subscriptions:
            self.topic.add_subscription(subscription)
        topic_policy = next(child for child in self.topic.node.children if isinstance(child, sns.TopicPolicy))

        subscribers = [
            budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=self.topic.topic_arn)
        ]
        subscribers += [
            budgets.CfnBudget.SubscriberProperty(subscription_type="EMAIL", address=e) for e in self.emails
        ]
        notifications = [_notification("ACTUAL", percent, subscribers) for percent in actual_percents]
        if forecast is not None:
            notifications.append(_notification("FORECASTED", forecast, subscribers))
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_type="COST",
                time_unit="MONTHLY",
                budget_name=budget_name,
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=float(self.monthly_budget_usd), unit="USD"
                ),
                filter_expression=self._filter,
                metrics=["UnblendedCost"],
            ),
            notifications_with_subscribers=notifications,
        )
        self.budget.node.add_dependency(topic_policy)

        self.anomaly_monitor: ce.CfnAnomalyMonitor | None = None
        self.anomaly_subscription: ce.CfnAnomalySubscription | None = None
        self.anomaly_monitor_arn: str | None = existing_anomaly_monitor_arn
        if anomaly_detection:
            if monitor_spec is not None:
                self.anomaly_monitor = ce.CfnAnomalyMonitor(
                    self,
                    "AnomalyMonitor",
                    monitor_name=f"{cdk.Names.unique_resource_name(self, max_length=200, separator='-')}-monitor",
                    monitor_type=monitor_spec.monitor_type,
                    monitor_dimension=monitor_spec.dimension,
                    monitor_specification=monitor_spec.specification,
                )
                self.anomaly_monitor_arn = self.anomaly_monitor.attr_monitor_arn
            assert self.anomaly_monitor_arn is not None
            self.anomaly_subscription = ce.CfnAnomalySubscription(
                self,
                "AnomalySubscription",
                subscription_name=f"{cdk.Names.unique_resource_name(self, max_length=200, separator='-')}-alerts",
                monitor_arn_list=[self.anomaly_monitor_arn],
                frequency="IMMEDIATE",
                subscribers=[
                    ce.CfnAnomalySubscription.SubscriberProperty(type="SNS", address=self.topic.topic_arn)
                ],
                threshold_expression=json.dumps(thresholds, separators=(",", ":")),
            )
            self.anomaly_subscription.node.add_dependency(topic_policy)

        self.token_alarms: dict[str, cloudwatch.Alarm] = {}
        for alarm in token_spend_alarms:
            limit = limits[alarm.model_id]
            created = cloudwatch.Alarm(
                self,
                f"TokenSpend-{re.sub(r'[^A-Za-z0-9.-]', '-', alarm.model_id)}",
                metric=self.metric_token_spend(alarm.model_id),
                threshold=float(limit),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=alarm.evaluation_hours,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=_alarm_description(
                    alarm.model_id, limit, self._token_prices[alarm.model_id]
                ),
            )
            created.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
            self.token_alarms[alarm.model_id] = created

        self.deny_policy: iam.ManagedPolicy | None = None
        self.action_role: iam.Role | None = None
        self.budget_action: budgets.CfnBudgetsAction | None = None
        if hard_cap is not None and cap_percent is not None:
            self._add_hard_cap(hard_cap, cap_percent, stack)

        self.node.add_validation(_SubscriberCheck(self))
        plan = GuardrailsPlan(
            alarm_metrics=tuple(len(prices) for prices in self._token_prices.values()),
            action_enabled_budget=hard_cap is not None,
            creates_anomaly_monitor=self.anomaly_monitor is not None,
            anomaly_subscription=self.anomaly_subscription is not None,
        )
        usage, usage_from_file = apply_usage_file(self, usage)
        estimate = estimate_guardrails(
            plan, usage, self._catalog, self._region, assumptions=region_assumptions
        )
        self.cost_estimate = record_estimate(self, estimate, self.budget, extra_assumptions=usage_from_file)

    def metric_token_spend(self, model_id: str) -> cloudwatch.MathExpression:
        """US dollars per hour spent on `model_id` (one of `token_spend_alarms`), from AWS/Bedrock token counts.

        The coefficients are the catalogue's on-demand prices at synth time; re-synthesize after a price change.
        """
        prices = self._token_prices.get(model_id)
        if prices is None:
            raise ValueError(
                f"no token_spend_alarms entry for model {model_id!r}; known: {sorted(self._token_prices)}"
            )
        return token_spend_expression(model_id, prices)

    def _add_hard_cap(self, hard_cap: HardCap, at_percent: Decimal, stack: cdk.Stack) -> None:
        self.deny_policy = iam.ManagedPolicy(
            self,
            "DenyInferencePolicy",
            description="Attached by the cost-guardrail budget action: denies Bedrock and SageMaker inference",
            statements=[
                iam.PolicyStatement(
                    sid="DenyInferenceOverBudget",
                    effect=iam.Effect.DENY,
                    actions=list(DENIED_INFERENCE_ACTIONS),
                    resources=["*"],
                )
            ],
        )
        self.action_role = iam.Role(
            self,
            "BudgetActionRole",
            description="Assumed by AWS Budgets to attach the inference Deny policy when the hard cap is hit",
            assumed_by=iam.ServicePrincipal(
                "budgets.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:budget/*"},
                },
            ),
        )
        self.action_role.add_to_policy(
            iam.PolicyStatement(
                sid="AttachTheDenyPolicyToTheCappedRoles",
                actions=["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
                resources=[role.role_arn for role in hard_cap.deny_roles],
                conditions={"ArnEquals": {"iam:PolicyARN": self.deny_policy.managed_policy_arn}},
            )
        )
        subscribers = [budgets.CfnBudgetsAction.SubscriberProperty(type="SNS", address=self.topic.topic_arn)]
        subscribers += [
            budgets.CfnBudgetsAction.SubscriberProperty(type="EMAIL", address=e) for e in self.emails
        ]
        self.budget_action = budgets.CfnBudgetsAction(
            self,
            "HardCapAction",
            budget_name=self.budget.ref,
            notification_type="ACTUAL",
            action_type="APPLY_IAM_POLICY",
            action_threshold=budgets.CfnBudgetsAction.ActionThresholdProperty(
                type="PERCENTAGE", value=float(at_percent)
            ),
            approval_model="AUTOMATIC",
            execution_role_arn=self.action_role.role_arn,
            definition=budgets.CfnBudgetsAction.DefinitionProperty(
                iam_action_definition=budgets.CfnBudgetsAction.IamActionDefinitionProperty(
                    policy_arn=self.deny_policy.managed_policy_arn,
                    roles=[role.role_name for role in hard_cap.deny_roles],
                )
            ),
            subscribers=subscribers,
        )
        # The role's permissions must exist before Budgets validates the action against them.
        self.budget_action.node.add_dependency(self.action_role)


def token_spend_expression(model_id: str, prices: Sequence[TokenPrice]) -> cloudwatch.MathExpression:
    """`FILL(tin,0)*<price_in/1e6> + FILL(tout,0)*<price_out/1e6> + ...` over hourly Sums, for one ModelId."""
    hour = cdk.Duration.hours(1)
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({p.metric_id},0)*{_plain(p.per_token)}" for p in prices),
        using_metrics={
            p.metric_id: cloudwatch.Metric(
                namespace="AWS/Bedrock",
                metric_name=p.metric_name,
                dimensions_map={"ModelId": model_id},
                statistic="Sum",
                period=hour,
            )
            for p in prices
        },
        label=f"{model_id} USD/hour",
        period=hour,
    )


@jsii.implements(IValidation)
class _SubscriberCheck:
    """Fails synth when nobody receives the alerts; warns when anomaly and alarm alerts reach no one."""

    def __init__(self, guardrails: CostGuardrails) -> None:
        self._guardrails = guardrails

    def validate(self) -> list[str]:
        guardrails = self._guardrails
        topic_arn = guardrails.topic.topic_arn
        subscribed = any(
            isinstance(child, sns.CfnSubscription) and child.topic_arn == topic_arn
            for child in cdk.Stack.of(guardrails).node.find_all()
        )
        if not guardrails.emails and not subscribed:
            return [
                f"CostGuardrails {guardrails.node.path} has no subscriber: pass emails=[...] or "
                "topic_subscriptions=[...] (or call topic.add_subscription(...)); the topic alone delivers "
                "alerts to nobody"
            ]
        if not subscribed and (guardrails.anomaly_subscription is not None or guardrails.token_alarms):
            cdk.Annotations.of(guardrails).add_warning_v2(
                "inferwise:guardrails-unsubscribed-topic",
                "anomaly alerts and token-spend alarms publish only to the SNS topic, which has no subscription; "
                "`emails` receive budget notifications only (add topic_subscriptions=[...])",
            )
        return []


def _publish_statement(
    sid: str, service: str, topic: sns.ITopic, account: str, *, source_arn: str | None = None
) -> iam.PolicyStatement:
    conditions: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": account}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return iam.PolicyStatement(
        sid=sid,
        principals=[iam.ServicePrincipal(service)],
        actions=["sns:Publish"],
        resources=[topic.topic_arn],
        conditions=conditions,
    )


def _notification(
    kind: str, percent: Decimal, subscribers: list[budgets.CfnBudget.SubscriberProperty]
) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
    return budgets.CfnBudget.NotificationWithSubscribersProperty(
        notification=budgets.CfnBudget.NotificationProperty(
            notification_type=kind,
            comparison_operator="GREATER_THAN",
            threshold=float(percent),
            threshold_type="PERCENTAGE",
        ),
        subscribers=subscribers,
    )


def _token_prices(
    catalog: PriceCatalog, region: str, alarm: TokenSpendAlarm, index: int
) -> tuple[TokenPrice, ...]:
    if not isinstance(alarm.evaluation_hours, int) or alarm.evaluation_hours < 1:
        raise ValueError(
            f"token_spend_alarms[{index}].evaluation_hours must be an int >= 1, got {alarm.evaluation_hours!r}"
        )
    prices = []
    for metric_id, metric_name, dimension, required in _TOKEN_METRICS:
        try:
            record = catalog.bedrock(alarm.model_id, region, dimension)
        except UnknownPriceError as missing:
            if not required:
                continue
            raise ValueError(
                f"token_spend_alarms[{index}]: no on-demand {dimension} token price for model "
                f"{alarm.model_id!r} in {region}, so its spend cannot be computed. {missing}"
            ) from None
        prices.append(TokenPrice(metric_id, metric_name, record))
    return tuple(prices)


def _alarm_description(model_id: str, limit: Decimal, prices: Sequence[TokenPrice]) -> str:
    terms = "; ".join(
        f"{p.metric_name} x ${_plain(p.record.unit_price)}/1M ({p.record.key}, as of {p.record.as_of.isoformat()})"
        for p in prices
    )
    text = (
        f"Bedrock on-demand spend on ModelId {model_id} above ${_plain(limit)}/hour. "
        f"USD/hour = sum of hourly token counts x inferwise catalogue prices: {terms}. "
        "Prices are fixed at synth time; re-synthesize after a price change."
    )
    return text[:1024]


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 8E-7 -> 0.0000008, 5.00 -> 5."""
    text = format(value.normalize(), "f")
    return text


def _amount(name: str, value: Amount) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _positive(name: str, value: Amount) -> Decimal:
    number = _amount(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def _percent(name: str, value: Amount) -> Decimal:
    number = _amount(name, value)
    if not 0 < number <= MAX_PERCENT:
        raise ValueError(f"{name} must be in (0, 1000] percent, got {value!r}")
    return number


def _percents(name: str, values: Sequence[Amount]) -> tuple[Decimal, ...]:
    numbers = tuple(_percent(name, value) for value in values)
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{name} must not repeat a value, got {tuple(values)!r}")
    return numbers


def _check_budget_name(name: str | None) -> None:
    if name is None or cdk.Token.is_unresolved(name):
        return
    if not name or re.search(r"[:\\]|/action/", name):
        raise ValueError(
            f"budget_name must be non-empty without ':', '\\' or '/action/' (AWS Budgets), got {name!r}"
        )


def _emails(emails: Sequence[str]) -> tuple[str, ...]:
    if isinstance(emails, str):
        raise ValueError(f"emails must be a list of addresses, got the string {emails!r}")
    addresses = tuple(emails)
    if len(addresses) > MAX_EMAILS:
        raise ValueError(
            f"emails allows at most {MAX_EMAILS} addresses (AWS Budgets: 1 SNS + 10 e-mail subscribers per "
            f"notification), got {len(addresses)}; subscribe more people to the topic instead"
        )
    for address in addresses:
        if not isinstance(address, str) or not EMAIL.match(address):
            raise ValueError(f"emails must be e-mail addresses like name@example.com, got {address!r}")
    if len(set(addresses)) != len(addresses):
        raise ValueError(f"emails must not repeat an address, got {list(addresses)}")
    return addresses


def _filter_expression(
    tags: Mapping[str, Sequence[str]] | None, services: Sequence[str] | None
) -> budgets.CfnBudget.ExpressionProperty | None:
    if tags is not None and services is not None:
        raise ValueError(
            "pass cost_filter_tags or services, not both: a budget filters on one of them "
            "(combine them yourself with a cost category if you need both)"
        )
    if tags is not None:
        if not tags:
            raise ValueError("cost_filter_tags must name at least one tag key, got {}")
        parts = []
        for key, values in tags.items():
            if not key or isinstance(values, str) or not values or not all(values):
                raise ValueError(
                    f"cost_filter_tags maps each tag key to a non-empty list of values, got {key!r}: {values!r}"
                )
            parts.append(
                budgets.CfnBudget.ExpressionProperty(
                    tags=budgets.CfnBudget.TagValuesProperty(
                        key=key, values=list(values), match_options=["EQUALS"]
                    )
                )
            )
        return parts[0] if len(parts) == 1 else budgets.CfnBudget.ExpressionProperty(and_=parts)
    if services is not None:
        if isinstance(services, str) or not services or not all(services):
            raise ValueError(
                f"services must be a non-empty list of Cost Explorer service names (e.g. 'Amazon Bedrock'), "
                f"got {services!r}"
            )
        return budgets.CfnBudget.ExpressionProperty(
            dimensions=budgets.CfnBudget.ExpressionDimensionValuesProperty(
                key="SERVICE", values=list(services), match_options=["EQUALS"]
            )
        )
    return None


def _anomaly_thresholds(enabled: bool, usd: Amount | None, percent: Amount | None) -> dict[str, Any]:
    if not enabled:
        return {}
    terms = []
    if usd is not None:
        terms.append(
            _threshold_term("ANOMALY_TOTAL_IMPACT_ABSOLUTE", _positive("anomaly_threshold_usd", usd))
        )
    if percent is not None:
        terms.append(
            _threshold_term(
                "ANOMALY_TOTAL_IMPACT_PERCENTAGE", _positive("anomaly_threshold_percent", percent)
            )
        )
    if not terms:
        raise ValueError(
            "anomaly_threshold_usd and anomaly_threshold_percent are both None: give at least one, "
            "or pass anomaly_detection=False"
        )
    return terms[0] if len(terms) == 1 else {"And": terms}


def _threshold_term(key: str, value: Decimal) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "MatchOptions": ["GREATER_THAN_OR_EQUAL"], "Values": [_plain(value)]}}


def _monitor_spec(
    enabled: bool,
    monitor_type: str,
    existing_arn: str | None,
    tags: Mapping[str, Sequence[str]] | None,
) -> _MonitorSpec | None:
    """What monitor to create; None when an existing one is used or anomaly detection is off."""
    if existing_arn is not None:
        if not cdk.Token.is_unresolved(existing_arn) and not MONITOR_ARN.match(existing_arn):
            raise ValueError(
                "existing_anomaly_monitor_arn must look like "
                f"arn:aws:ce::123456789012:anomalymonitor/<id>, got {existing_arn!r}"
            )
        return None
    if not enabled:
        return None
    if monitor_type == "DIMENSIONAL":
        return _MonitorSpec("DIMENSIONAL", dimension="SERVICE")
    if monitor_type == "CUSTOM":
        if tags is None or len(tags) != 1 or len(next(iter(tags.values()))) > 10:
            raise ValueError(
                "anomaly_monitor_type='CUSTOM' watches the cost allocation tag of cost_filter_tags: it needs "
                f"exactly one tag key with 1 to 10 values, got {dict(tags) if tags else tags!r}"
            )
        key, values = next(iter(tags.items()))
        spec = {"Tags": {"Key": key, "Values": list(values)}}
        return _MonitorSpec("CUSTOM", specification=json.dumps(spec, separators=(",", ":")))
    raise ValueError(f"anomaly_monitor_type must be 'DIMENSIONAL' or 'CUSTOM', got {monitor_type!r}")
