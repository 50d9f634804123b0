"""The guardrails' options (token-spend alarms, hard cap), the figures they take and the checks of the props.

Every check raises `InvalidValueError` / `InvalidTypeError` (ValueErrors) naming the prop, showing the value
and saying what is allowed, before anything reaches jsii or Decimal arithmetic; the AWS limits they enforce
are in docs/aws-facts.md#budgets, #budget-notifications, #anomaly-detection and #bedrock-metrics.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from inferwise.constructs.validation import (
    EMAIL,
    InvalidTypeError,
    InvalidValueError,
    check_construct,
    check_email,
    check_number,
    check_sequence,
    check_text,
    check_whole_number,
    implements,
    is_token,
    role_prop,
    shown,
)

__all__ = ["EMAIL", "MAX_EMAILS", "MAX_PERCENT", "Amount", "HardCap", "TokenSpendAlarm"]

Amount = Decimal | int | float
"""A money or percentage figure; floats are read through their shortest repr (0.1 is 0.1)."""

MAX_EMAILS = 10
"""E-mail subscribers per budget notification (AWS Budgets allows 1 SNS + 10 e-mail)."""
MAX_NOTIFICATIONS = 10
"""Notifications per budget (botocore `budgets` `NotificationWithSubscribersList`, max 10)."""
MAX_DENY_ROLES = 100
"""Roles one budget action may attach its policy to (botocore `budgets` `Roles`, 1-100)."""
MAX_PERCENT = Decimal(1000)
MAX_USD = Decimal(10_000_000)
"""Sanity limit of every US-dollar figure (a monthly budget, an hourly limit, an anomaly threshold)."""
MAX_ALARM_HOURS = 168
"""CloudWatch: period x evaluation periods <= 604,800 s (7 days); the token-spend alarms' period is one hour."""
MAX_BUDGET_NAME = 100
MAX_MODEL_ID = 2048
"""Bedrock `ModelIdentifier` (botocore), and within CloudWatch's 1,024-character dimension value in practice."""

_BUDGET_NAME = re.compile(r"(?!.*/action/)(?!(?i:.*<script>.*</script>))[^:\\]+")
"""botocore `budgets` `BudgetName`: no ':' or '\\', no '/action/', no <script> element."""


@dataclass(frozen=True)
class TokenSpendAlarm:
    """Alarm when one Bedrock model's on-demand spend exceeds `max_usd_per_hour`.

    `model_id` is what the application invokes (a model id, an inference profile id such as
    `us.anthropic...` or an ARN): it is both the `ModelId` dimension of the AWS/Bedrock metrics and the key
    of the catalogue prices; a geographic profile must be of the stack's geography. `evaluation_hours`:
    consecutive hours above the limit before the alarm fires (1-168: CloudWatch evaluates at most 7 days).

    `construct`: an inferwise construct that calls `model_id` through its application inference profile (a
    `BedrockBatchPipeline`): the alarm then reads the metrics CloudWatch reports under that profile's ARN, the
    construct's calls only, and still prices them as `model_id`.
    """

    model_id: str
    max_usd_per_hour: Amount
    evaluation_hours: int = 1
    construct: Construct | None = None

    def __post_init__(self) -> None:
        check_text(
            "TokenSpendAlarm.model_id", self.model_id, allowed="a Bedrock model id", max_length=MAX_MODEL_ID
        )
        positive("TokenSpendAlarm.max_usd_per_hour", self.max_usd_per_hour)
        evaluation_hours("TokenSpendAlarm.evaluation_hours", self.evaluation_hours)
        if self.construct is not None and not isinstance(self.construct, Construct):
            raise InvalidTypeError(
                "TokenSpendAlarm.construct must be an inferwise construct that calls the model (such as a "
                f"BedrockBatchPipeline) or None, got {shown(self.construct)}"
            )


@dataclass(frozen=True)
class HardCap:
    """Deny inference to `deny_roles` once ACTUAL spend reaches `at_percent` of the monthly budget.

    A budget action (APPLY_IAM_POLICY, automatic approval) attaches a Deny policy on the Bedrock and
    SageMaker inference actions to the roles. AWS evaluates budgets several times a day, so spend can run
    past the cap for hours before it bites: this is a backstop, not a real-time breaker.

    `deny_roles`: 1-100 `iam.IRole`s or role ARN strings (imported with `iam.Role.from_role_arn`).
    """

    at_percent: Amount
    deny_roles: Sequence[iam.IRole | str]

    def __post_init__(self) -> None:
        percent("HardCap.at_percent", self.at_percent)
        roles = check_sequence("HardCap.deny_roles", self.deny_roles, of="roles", max_items=MAX_DENY_ROLES)
        for index, role in enumerate(roles):
            if not isinstance(role, str):
                check_construct(
                    f"HardCap.deny_roles[{index}]", role, iam.IRole, what="an iam.IRole or a role ARN"
                )


def plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 8E-7 -> 0.0000008, 5.00 -> 5."""
    text = format(value.normalize(), "f")
    return text


# ---------------------------------------------------------------------------------------------- figures
def positive(name: str, value: object, cap: Decimal = MAX_USD) -> Decimal:
    """`value` as a Decimal, if it is a finite number > 0 (and at most `cap`)."""
    return check_number(name, value, low=0, low_open=True, cap=cap)  # type: ignore[no-any-return]


def percent(name: str, value: object) -> Decimal:
    """`value` as a Decimal, if it is a percentage in (0, 1000]."""
    return check_number(  # type: ignore[no-any-return]
        name, value, low=0, low_open=True, high=MAX_PERCENT, allowed="in (0, 1000] percent"
    )


def optional_percent(name: str, value: object) -> Decimal | None:
    """`percent`, or None when `value` is None."""
    return None if value is None else percent(name, value)


def percents(name: str, values: object) -> tuple[Decimal, ...]:
    """Each of `values` as a percentage, none repeated."""
    if isinstance(values, int | float | Decimal) and not isinstance(values, bool):
        raise InvalidTypeError(
            f"{name} must be a list of percentages such as (50, 80, 100), got {shown(values)}"
        )
    items = check_sequence(name, values, of="percentages", max_items=MAX_NOTIFICATIONS)
    numbers = tuple(percent(name, value) for value in items)
    if len(set(numbers)) != len(numbers):
        raise InvalidValueError(f"{name} must not repeat a value, got {shown(tuple(items))}")
    return numbers


def evaluation_hours(name: str, value: object) -> int:
    """Hours a token-spend alarm evaluates: CloudWatch allows at most 7 days of period x evaluation periods."""
    try:
        return check_whole_number(name, value, 1, MAX_ALARM_HOURS)
    except InvalidValueError as bad:
        raise type(bad)(
            f"{bad}: the alarm's period is 1 hour and CloudWatch allows at most 7 days (604,800 s) of period x "
            "evaluation periods (docs/aws-facts.md#bedrock-metrics)"
        ) from None


def notification_count(actual: Sequence[Decimal], forecast: Decimal | None) -> None:
    """A budget holds at most 10 notifications (botocore `budgets`)."""
    count = len(actual) + (forecast is not None)
    if count > MAX_NOTIFICATIONS:
        raise InvalidValueError(
            f"actual_alert_percents and forecast_alert_percent must make at most {MAX_NOTIFICATIONS} notifications "
            f"(AWS Budgets' limit per budget), got {count}"
        )


def hard_cap_percent(hard_cap: object) -> Decimal | None:
    """The hard cap's threshold, checked together with its roles; None without a hard cap."""
    if hard_cap is None:
        return None
    if not isinstance(hard_cap, HardCap):
        raise InvalidTypeError(
            f"hard_cap must be a HardCap(at_percent=..., deny_roles=[...]) or None, got {shown(hard_cap)}"
        )
    cap_percent = percent("hard_cap.at_percent", hard_cap.at_percent)
    if not hard_cap.deny_roles:
        raise InvalidValueError("hard_cap.deny_roles must name at least one role, got none")
    return cap_percent


def deny_roles(scope: Construct, hard_cap: HardCap) -> list[iam.IRole]:
    """The hard cap's roles, a role ARN string imported with `iam.Role.from_role_arn(mutable=False)`."""
    return [
        role_prop(scope, f"hard_cap.deny_roles[{index}]", role, f"DenyRole{index}")
        for index, role in enumerate(hard_cap.deny_roles)
    ]


def alarm_limits(alarms: object) -> tuple[Decimal, ...]:
    """Each alarm's hourly limit, in the order of `alarms` (one alarm per model: `watch.alarm_targets`)."""
    items = check_sequence("token_spend_alarms", alarms, of="TokenSpendAlarm objects")
    for index, alarm in enumerate(items):
        if not isinstance(alarm, TokenSpendAlarm):
            raise InvalidTypeError(
                f"token_spend_alarms[{index}] must be a TokenSpendAlarm(model_id=..., max_usd_per_hour=...), got "
                f"{shown(alarm)}"
            )
    return tuple(
        positive(f"token_spend_alarms[{index}].max_usd_per_hour", alarm.max_usd_per_hour)
        for index, alarm in enumerate(items)
    )


# ---------------------------------------------------------------------------------------------- names
def check_budget_name(name: object) -> None:
    """A budget name AWS Budgets accepts: 1-100 characters, no ':', '\\' or '/action/' (tokens pass)."""
    if name is None or (isinstance(name, str) and is_token(name)):
        return
    check_text(
        "budget_name",
        name,
        allowed="non-empty without ':', '\\' or '/action/'",
        max_length=MAX_BUDGET_NAME,
        pattern=_BUDGET_NAME,
        why=" (AWS Budgets' BudgetName, docs/aws-facts.md#budgets)",
    )


def checked_emails(emails: object) -> tuple[str, ...]:
    """At most MAX_EMAILS distinct e-mail addresses."""
    if isinstance(emails, str):
        raise InvalidTypeError(f"emails must be a list of addresses, got the string {shown(emails)}")
    addresses = check_sequence("emails", emails, of="e-mail addresses")
    if len(addresses) > MAX_EMAILS:
        raise InvalidValueError(
            f"emails allows at most {MAX_EMAILS} addresses (AWS Budgets: 1 SNS + 10 e-mail subscribers per "
            f"notification), got {len(addresses)}; subscribe more people to the topic instead"
        )
    for index, address in enumerate(addresses):
        try:
            check_email("emails", address)
        except InvalidValueError as bad:
            raise type(bad)(str(bad).replace("emails must", f"emails[{index}] must", 1)) from None
    folded = [address.casefold() for address in addresses]
    if len(set(folded)) != len(folded):
        raise InvalidValueError(f"emails must not repeat an address, got {list(addresses)}")
    return addresses


def topic_subscriptions(values: object) -> list[sns.ITopicSubscription]:
    """`sns.ITopicSubscription`s; an e-mail address string becomes an `EmailSubscription`."""
    items = check_sequence(
        "topic_subscriptions", values, of="sns.ITopicSubscription objects or e-mail addresses"
    )
    found: list[sns.ITopicSubscription] = []
    for index, item in enumerate(items):
        prop = f"topic_subscriptions[{index}]"
        if isinstance(item, str):
            if "@" not in item:
                raise InvalidTypeError(
                    f"{prop} must be an sns.ITopicSubscription or an e-mail address, got {shown(item)}; for a "
                    "queue, function or URL pass aws_sns_subscriptions.SqsSubscription(...), LambdaSubscription(...) "
                    "or UrlSubscription(...)"
                )
            found.append(subscriptions.EmailSubscription(check_email(prop, item)))
        elif implements(item, sns.ITopicSubscription):
            found.append(item)
        else:
            raise InvalidTypeError(
                f"{prop} must be an sns.ITopicSubscription (e.g. aws_sns_subscriptions.EmailSubscription(...)) or "
                f"an e-mail address, got {shown(item)}"
            )
    return found


def check_tags(tags: object) -> Mapping[str, Sequence[str]] | None:
    """`cost_filter_tags`: tag keys (1-128 characters) to 1 or more values (at most 256 characters each)."""
    if tags is None:
        return None
    if not isinstance(tags, Mapping):
        raise InvalidTypeError(
            f"cost_filter_tags must be a mapping of tag key to values such as {{'project': ['chatbot']}}, got "
            f"{shown(tags)}"
        )
    if not tags:
        raise InvalidValueError("cost_filter_tags must name at least one tag key, got {}")
    for key, values in tags.items():
        check_text("cost_filter_tags key", key, allowed="a tag key of 1 to 128 characters", max_length=128)
        if isinstance(values, str) or not isinstance(values, Sequence) or not values:
            raise InvalidValueError(
                f"cost_filter_tags maps each tag key to a non-empty list of values, got {key!r}: {shown(values)}"
            )
        for value in values:
            check_text(f"cost_filter_tags[{key!r}] value", value, allowed="a tag value", max_length=256)
    return tags
