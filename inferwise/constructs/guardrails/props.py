"""The guardrails' options (token-spend alarms, hard cap), the figures they take and the checks of the props."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

Amount = Decimal | int | float
"""A money or percentage figure; floats are read through their shortest repr (0.1 is 0.1)."""

MAX_EMAILS = 10
"""E-mail subscribers per budget notification (AWS Budgets allows 1 SNS + 10 e-mail)."""

MAX_PERCENT = Decimal(1000)

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


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


def plain(value: Decimal) -> str:
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


def positive(name: str, value: Amount) -> Decimal:
    """`value` as a Decimal, if it is a finite number > 0."""
    number = _amount(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def percent(name: str, value: Amount) -> Decimal:
    """`value` as a Decimal, if it is a percentage in (0, 1000]."""
    number = _amount(name, value)
    if not 0 < number <= MAX_PERCENT:
        raise ValueError(f"{name} must be in (0, 1000] percent, got {value!r}")
    return number


def optional_percent(name: str, value: Amount | None) -> Decimal | None:
    """`percent`, or None when `value` is None."""
    return None if value is None else percent(name, value)


def percents(name: str, values: Sequence[Amount]) -> tuple[Decimal, ...]:
    """Each of `values` as a percentage, none repeated."""
    numbers = tuple(percent(name, value) for value in values)
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{name} must not repeat a value, got {tuple(values)!r}")
    return numbers


def hard_cap_percent(hard_cap: HardCap | None) -> Decimal | None:
    """The hard cap's threshold, checked together with its roles; None without a hard cap."""
    cap_percent = None if hard_cap is None else percent("hard_cap.at_percent", hard_cap.at_percent)
    if hard_cap is not None and not hard_cap.deny_roles:
        raise ValueError("hard_cap.deny_roles must name at least one role, got none")
    return cap_percent


def alarm_limits(alarms: Sequence[TokenSpendAlarm]) -> dict[str, Decimal]:
    """Each alarm's hourly limit by model id; one alarm per model."""
    if len({alarm.model_id for alarm in alarms}) != len(alarms):
        models = [alarm.model_id for alarm in alarms]
        raise ValueError(f"token_spend_alarms must name each model once, got {models}")
    return {
        alarm.model_id: positive(f"token_spend_alarms[{index}].max_usd_per_hour", alarm.max_usd_per_hour)
        for index, alarm in enumerate(alarms)
    }


def check_budget_name(name: str | None) -> None:
    """A budget name AWS Budgets accepts (tokens pass unchecked)."""
    if name is None or cdk.Token.is_unresolved(name):
        return
    if not name or re.search(r"[:\\]|/action/", name):
        raise ValueError(
            f"budget_name must be non-empty without ':', '\\' or '/action/' (AWS Budgets), got {name!r}"
        )


def checked_emails(emails: Sequence[str]) -> tuple[str, ...]:
    """At most MAX_EMAILS distinct e-mail addresses."""
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
