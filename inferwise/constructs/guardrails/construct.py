"""`CostGuardrails`, the construct: validate the props, build the topic, budget, anomaly detection, alarms and
hard cap, estimate, record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import aws_cdk as cdk
import jsii
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct, IValidation

from inferwise.constructs.guardrails.anomaly import (
    MonitorSpec,
    anomaly_monitor,
    anomaly_subscription,
    anomaly_thresholds,
    claim_dimensional_monitor,
    monitor_spec,
)
from inferwise.constructs.guardrails.budget import budget_notifications, filter_expression, monthly_budget
from inferwise.constructs.guardrails.hard_cap_warnings import warn_about_hard_cap
from inferwise.constructs.guardrails.props import (
    Amount,
    HardCap,
    TokenSpendAlarm,
    alarm_limits,
    check_budget_name,
    check_tags,
    checked_emails,
    deny_roles,
    hard_cap_percent,
    notification_count,
    optional_percent,
    percents,
    positive,
)
from inferwise.constructs.guardrails.props import topic_subscriptions as checked_subscriptions
from inferwise.constructs.guardrails.token_spend import (
    alarm_description,
    token_prices,
    token_spend_expression,
)
from inferwise.constructs.guardrails.topic import alerts_topic, topic_policy
from inferwise.constructs.guardrails.watch import (
    AlarmTarget,
    alarm_targets,
    budget_tags,
    check_watch,
    warn_about_profile_calls,
)
from inferwise.constructs.validation import InvalidValueError, check_instance, check_profile_region, shown
from inferwise.cost.catalog import catalog_for
from inferwise.cost.estimators.guardrails import GuardrailsPlan, GuardrailsUsage, estimate_guardrails
from inferwise.cost.recording import pricing_region, record_estimate
from inferwise.cost.usage_file import apply_usage_file

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


class CostGuardrails(Construct):
    """Budget, anomaly detection, token-spend alarms and an optional hard cap, all alerting one SNS topic.

    `watch=[construct, ...]` filters the budget on the watched inferwise constructs' `inferwise:construct` tag,
    which their resources and, through their application inference profiles, their Bedrock token spend carry;
    a `TokenSpendAlarm(..., construct=...)` reads the metrics of that construct's profile (see `watch`).

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
        watch: Sequence[Construct] = (),
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
        self.monthly_budget_usd = positive("monthly_budget_usd", monthly_budget_usd)
        self.emails = checked_emails(emails)
        subscribers = checked_subscriptions(topic_subscriptions)
        check_budget_name(budget_name)
        self.watch = check_watch(watch, self)
        self._filter = filter_expression(
            budget_tags(self.watch, check_tags(cost_filter_tags), services), services
        )
        actual_percents = percents("actual_alert_percents", actual_alert_percents)
        forecast = optional_percent("forecast_alert_percent", forecast_alert_percent)
        notification_count(actual_percents, forecast)
        cap_percent = hard_cap_percent(hard_cap)
        thresholds = anomaly_thresholds(anomaly_detection, anomaly_threshold_usd, anomaly_threshold_percent)
        monitor = monitor_spec(
            anomaly_detection, anomaly_monitor_type, existing_anomaly_monitor_arn, cost_filter_tags
        )
        check_instance("usage", usage, GuardrailsUsage, " (e.g. GuardrailsUsage(alerts_per_month=100))")

        stack = cdk.Stack.of(self)
        self._catalog = catalog_for(self)
        self._region, region_assumptions = pricing_region(self)
        limits = self._price_token_alarms(token_spend_alarms, stack)
        if monitor is not None and monitor.monitor_type == "DIMENSIONAL":
            claim_dimensional_monitor(self)

        self.key, self.topic = alerts_topic(
            self, stack, alarms=bool(token_spend_alarms), subscriptions=subscribers
        )
        policy = topic_policy(self.topic)
        notifications = budget_notifications(self.topic, self.emails, actual_percents, forecast)
        self.budget = monthly_budget(self, budget_name, self.monthly_budget_usd, self._filter, notifications)
        self.budget.node.add_dependency(policy)

        self.anomaly_monitor: ce.CfnAnomalyMonitor | None = None
        self.anomaly_subscription: ce.CfnAnomalySubscription | None = None
        self.anomaly_monitor_arn: str | None = existing_anomaly_monitor_arn
        if anomaly_detection:
            self._add_anomaly_detection(monitor, thresholds, policy)
        self.token_alarms: dict[str, cloudwatch.Alarm] = {
            target.key: self._token_alarm(target, limits[target.index]) for target in self._targets
        }
        self.deny_policy: iam.ManagedPolicy | None = None
        self.action_role: iam.Role | None = None
        self.budget_action: budgets.CfnBudgetsAction | None = None
        if isinstance(hard_cap, HardCap) and cap_percent is not None:
            self._add_hard_cap(hard_cap, cap_percent, stack, cost_filter_tags)
        warn_about_profile_calls(self, token_spend_alarms, self.watch)

        self.node.add_validation(_SubscriberCheck(self))
        self._record_estimate(usage, hard_cap is not None, region_assumptions)

    def metric_token_spend(
        self, model_id: str, construct: Construct | None = None
    ) -> cloudwatch.MathExpression:
        """US dollars per hour spent on `model_id` (one of `token_spend_alarms`), from AWS/Bedrock token counts.

        For an alarm given a construct, pass it too (or the alarm's key in `token_alarms`). The coefficients are
        the catalogue's on-demand prices at synth time; re-synthesize after a price change.
        """
        key = model_id if construct is None else f"{model_id} via {construct.node.path}"
        prices = self._token_prices.get(key) if isinstance(key, str) else None
        if prices is None:
            raise InvalidValueError(
                f"no token_spend_alarms entry for model {shown(key)}; known: {sorted(self._token_prices)}"
            )
        return token_spend_expression(self._metric_ids[key], prices, label=key)

    def _price_token_alarms(self, alarms: Sequence[TokenSpendAlarm], stack: cdk.Stack) -> tuple[Decimal, ...]:
        """Each alarm's `ModelId` (`watch.alarm_targets`) and catalogue prices; the hourly limits by alarm."""
        limits = alarm_limits(alarms)
        for index, alarm in enumerate(alarms):
            check_profile_region(f"token_spend_alarms[{index}].model_id", alarm.model_id, stack.region)
        self._targets = alarm_targets(alarms)
        self._metric_ids = {target.key: target.metric_model_id for target in self._targets}
        self._token_prices = {
            target.key: token_prices(self._catalog, self._region, target.alarm, target.index)
            for target in self._targets
        }
        return limits

    def _add_anomaly_detection(
        self, monitor: MonitorSpec | None, thresholds: dict[str, Any], policy: sns.TopicPolicy
    ) -> None:
        """A monitor (unless an existing one is named) and an immediate subscription to it."""
        if monitor is not None:
            self.anomaly_monitor = anomaly_monitor(self, monitor)
            self.anomaly_monitor_arn = self.anomaly_monitor.attr_monitor_arn
        assert self.anomaly_monitor_arn is not None
        self.anomaly_subscription = anomaly_subscription(
            self, self.anomaly_monitor_arn, self.topic, thresholds
        )
        self.anomaly_subscription.node.add_dependency(policy)

    def _token_alarm(self, target: AlarmTarget, limit: Decimal) -> cloudwatch.Alarm:
        """An alarm on the model's spend per hour (through the construct's profile, if given), notifying the topic."""
        alarm, prices = target.alarm, self._token_prices[target.key]
        subject = None if alarm.construct is None else f"of {target.key} (its application inference profile)"
        created = cloudwatch.Alarm(
            self,
            target.construct_id,
            metric=token_spend_expression(target.metric_model_id, prices, label=target.key),
            threshold=float(limit),
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=alarm.evaluation_hours,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=alarm_description(alarm.model_id, limit, prices, subject=subject),
        )
        created.add_alarm_action(cloudwatch_actions.SnsAction(self.topic))
        return created

    def _add_hard_cap(
        self,
        hard_cap: HardCap,
        at_percent: Decimal,
        stack: cdk.Stack,
        cost_filter_tags: Mapping[str, Sequence[str]] | None,
    ) -> None:
        roles = deny_roles(self, hard_cap)
        warn_about_hard_cap(self, roles, cost_filter_tags, self.watch)
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
                resources=[role.role_arn for role in roles],
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
                    roles=[role.role_name for role in roles],
                )
            ),
            subscribers=subscribers,
        )
        # The role's permissions must exist before Budgets validates the action against them.
        self.budget_action.node.add_dependency(self.action_role)

    def _record_estimate(
        self, usage: GuardrailsUsage, action_enabled_budget: bool, region_assumptions: tuple[str, ...]
    ) -> None:
        """Price what was built and record the estimate on the budget resource."""
        plan = GuardrailsPlan(
            alarm_metrics=tuple(len(prices) for prices in self._token_prices.values()),
            action_enabled_budget=action_enabled_budget,
            creates_anomaly_monitor=self.anomaly_monitor is not None,
            anomaly_subscription=self.anomaly_subscription is not None,
        )
        usage, usage_from_file = apply_usage_file(self, usage)
        estimate = estimate_guardrails(
            plan, usage, self._catalog, self._region, assumptions=region_assumptions
        )
        self.cost_estimate = record_estimate(self, estimate, self.budget, extra_assumptions=usage_from_file)


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
