"""Asking Cost Explorer for a month of the bill, grouped by the `inferwise:construct` tag.

Two kinds of `GetCostAndUsage` request, both MONTHLY over one calendar month, metrics `UnblendedCost`,
`AmortizedCost` and `UsageQuantity`, credits, refunds and tax left out (the estimates are before them):

1. `construct_costs`: grouped by TAG `inferwise:construct` and SERVICE, no other filter. One request (and
   its pages) gives every construct's spend per service and the untagged spend (tag value `""`).
2. `usage_type_costs`: for one SERVICE, filtered to the tag values that need lines, grouped by TAG and
   USAGE_TYPE. One request per service whose drift is worth explaining (`matching.services_to_explain`).

Each request follows `NextPageToken` to its last page. Cost Explorer bills $0.01 per request (each page is
one), so a month costs 1 + (services explained) requests. Its endpoint is us-east-1 whatever the Region of
the resources; credentials come from the usual boto3 chain. AWS errors become one-line `ActualError`s that say
what to do (`explain_client_error`).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from inferwise.cost.tagging import CONSTRUCT_TAG_KEY

CE_REGION = "us-east-1"
"""Cost Explorer answers from us-east-1 for every Region of the bill."""
METRICS: tuple[str, ...] = ("UnblendedCost", "AmortizedCost", "UsageQuantity")
EXCLUDED_RECORD_TYPES: tuple[str, ...] = ("Credit", "Refund", "Tax")
"""Charge types left out: the estimates are list prices before credits, refunds and tax."""
MAX_PAGES = 100
"""A request that needs more pages than this is an error, not a loop."""
UNTAGGED = ""
"""The tag value of spend without the tag (the group `inferwise:construct$`)."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ActualError(ValueError):
    """A month that cannot be compared (no data, tags not active, Cost Explorer off or denied): one line."""


# ------------------------------------------------------------------------------------------- months
@dataclass(frozen=True)
class Month:
    """The period asked for: `start` inclusive, `end` exclusive (today for the current, partial month)."""

    start: date
    end: date
    partial: bool = False

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def parse_month(text: str) -> date:
    """`2026-10` -> 2026-10-01; anything else raises ValueError."""
    found = _MONTH.match(text)
    if not found or not 1 <= int(found[2]) <= 12:
        raise ValueError(f"a month is written YYYY-MM, e.g. 2026-10; got {text!r}")
    return date(int(found[1]), int(found[2]), 1)


def last_full_month(today: date) -> date:
    """The first day of the month before `today`'s."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_period(first_day: date, today: date) -> Month:
    """The period for the month starting `first_day`; a future month is an error, the current one partial."""
    this_month = today.replace(day=1)
    if first_day > this_month:
        raise ActualError(f"{first_day:%Y-%m} has not started yet (today is {today.isoformat()})")
    if first_day == this_month:
        if today == first_day:
            raise ActualError(
                f"{first_day:%Y-%m} started today: Cost Explorer has no data for it yet; "
                "use --last-full-month"
            )
        return Month(first_day, today, partial=True)
    days = calendar.monthrange(first_day.year, first_day.month)[1]
    return Month(first_day, first_day + timedelta(days=days))


# -------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Amounts:
    """One group's metrics: costs in USD, and the usage quantity with Cost Explorer's unit."""

    unblended: Decimal = Decimal(0)
    amortized: Decimal = Decimal(0)
    quantity: Decimal = Decimal(0)
    unit: str = ""

    def __add__(self, other: Amounts) -> Amounts:
        unit = (
            self.unit
            if self.unit == other.unit or not other.unit
            else (other.unit if not self.unit else "N/A")
        )
        return Amounts(
            self.unblended + other.unblended,
            self.amortized + other.amortized,
            self.quantity + other.quantity,
            unit,
        )


@dataclass(frozen=True)
class CostGroup:
    """One group of a response: a tag value (`""` = untagged), a dimension value (service or usage type)."""

    tag_value: str
    dimension: str
    amounts: Amounts


@dataclass(frozen=True)
class QueryResult:
    """The groups of one request across its pages, and whether Cost Explorer marked them estimated."""

    groups: tuple[CostGroup, ...]
    estimated: bool
    requests: int


# ------------------------------------------------------------------------------------------- requests
def ce_client() -> Any:
    """A boto3 Cost Explorer client on us-east-1 (boto3 imported here, on first use)."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client("ce", region_name=CE_REGION)


def _without_credits() -> dict[str, Any]:
    return {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(EXCLUDED_RECORD_TYPES)}}}


def construct_costs_request(month: Month) -> dict[str, Any]:
    """Request 1: every construct's spend per service, and the untagged spend."""
    return {
        "TimePeriod": {"Start": month.start.isoformat(), "End": month.end.isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": list(METRICS),
        "Filter": _without_credits(),
        "GroupBy": [
            {"Type": "TAG", "Key": CONSTRUCT_TAG_KEY},
            {"Type": "DIMENSION", "Key": "SERVICE"},
        ],
    }


def usage_type_request(month: Month, service: str, tag_values: Sequence[str]) -> dict[str, Any]:
    """Request 2: one service's usage types for the given tag values."""
    return {
        "TimePeriod": {"Start": month.start.isoformat(), "End": month.end.isoformat()},
        "Granularity": "MONTHLY",
        "Metrics": list(METRICS),
        "Filter": {
            "And": [
                {"Dimensions": {"Key": "SERVICE", "Values": [service]}},
                {"Tags": {"Key": CONSTRUCT_TAG_KEY, "Values": sorted(tag_values)}},
                _without_credits(),
            ]
        },
        "GroupBy": [
            {"Type": "TAG", "Key": CONSTRUCT_TAG_KEY},
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
        ],
    }


def pages(client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of one `GetCostAndUsage` request, following `NextPageToken`; AWS errors as ActualError."""
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = _call(client, {**request, **({"NextPageToken": token} if token else {})})
        yield page
        token = page.get("NextPageToken") or None
        if token is None:
            return
        if token in seen:
            raise ActualError(f"Cost Explorer repeated NextPageToken {token!r}; run the command again")
        seen.add(token)
    raise ActualError(f"Cost Explorer answered more than {MAX_PAGES} pages for one request")


def run_query(client: Any, request: dict[str, Any]) -> QueryResult:
    """All groups of a request across its pages (the same group on two pages is summed)."""
    merged: dict[tuple[str, str], Amounts] = {}
    estimated = False
    requests = 0
    for page in pages(client, request):
        requests += 1
        for period in page.get("ResultsByTime") or []:
            estimated = estimated or bool(period.get("Estimated"))
            for group in period.get("Groups") or []:
                tag_value, dimension = _group_keys(group.get("Keys") or [])
                key = (tag_value, dimension)
                merged[key] = merged.get(key, Amounts()) + _amounts(group.get("Metrics") or {})
    groups = tuple(CostGroup(tag, dim, amounts) for (tag, dim), amounts in sorted(merged.items()))
    return QueryResult(groups, estimated, requests)


def construct_costs(client: Any, month: Month) -> QueryResult:
    return run_query(client, construct_costs_request(month))


def usage_type_costs(client: Any, month: Month, service: str, tag_values: Sequence[str]) -> QueryResult:
    return run_query(client, usage_type_request(month, service, tag_values))


def _group_keys(keys: Sequence[str]) -> tuple[str, str]:
    """`["inferwise:construct$Stack/Pipeline", "Amazon Bedrock"]` -> ("Stack/Pipeline", "Amazon Bedrock")."""
    if len(keys) != 2:
        raise ActualError(
            f"Cost Explorer answered a group with keys {list(keys)!r}, expected a tag and a dimension"
        )
    tag, dimension = keys
    prefix = CONSTRUCT_TAG_KEY + "$"
    if not tag.startswith(prefix):
        raise ActualError(f"Cost Explorer answered a group key {tag!r}, expected one starting {prefix!r}")
    return tag[len(prefix) :], dimension


def _amounts(metrics: dict[str, Any]) -> Amounts:
    return Amounts(
        _amount(metrics, "UnblendedCost"),
        _amount(metrics, "AmortizedCost"),
        _amount(metrics, "UsageQuantity"),
        str((metrics.get("UsageQuantity") or {}).get("Unit") or ""),
    )


def _amount(metrics: dict[str, Any], name: str) -> Decimal:
    raw = (metrics.get(name) or {}).get("Amount", "0")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise ActualError(f"Cost Explorer answered {name} {raw!r}, which is not a number")
    return value


# --------------------------------------------------------------------------------------------- errors
def _call(client: Any, request: dict[str, Any]) -> dict[str, Any]:
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        NoCredentialsError,
    )

    try:
        page: dict[str, Any] = client.get_cost_and_usage(**request)
    except ClientError as bad:
        raise ActualError(explain_client_error(bad.response, "ce:GetCostAndUsage")) from None
    except NoCredentialsError:
        raise ActualError(NO_CREDENTIALS) from None
    except BotoCoreError as bad:
        raise ActualError(f"cannot reach Cost Explorer: {bad}") from None
    return page


NO_CREDENTIALS = (
    "no AWS credentials found (boto3 looks in AWS_* environment variables, AWS_PROFILE and ~/.aws, SSO, "
    "then the instance or task role); set AWS_PROFILE or run `aws configure`"
)
NOT_ENABLED = (
    "Cost Explorer is not enabled for this account: open Billing and Cost Management > Cost Explorer once "
    "(with a user allowed to) to enable it; its data appears within 24 hours. In an organization, the "
    "management account also decides whether member accounts may use it"
)
PERMISSIONS = "ce:GetCostAndUsage (inferwise actual), ce:ListCostAllocationTags and ce:UpdateCostAllocationTagsStatus (inferwise tags activate)"


def explain_client_error(response: dict[str, Any], action: str) -> str:
    """One line that says what a Cost Explorer error means and what to do about it."""
    error = response.get("Error") or {}
    code, message = str(error.get("Code") or "Unknown"), " ".join(str(error.get("Message") or "").split())
    said = f" (AWS said: {code}: {message})" if message else f" ({code})"
    if "not enabled for cost explorer" in message.lower():
        return NOT_ENABLED + said
    if code in (
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
    ):
        return f"access denied to {action}: the caller needs {PERMISSIONS}" + said
    if code == "DataUnavailableException":
        return (
            "Cost Explorer has no data for this request: if it was enabled less than 24 hours ago, wait; "
            "otherwise enable Cost Explorer in Billing and Cost Management" + said
        )
    if code == "BillExpirationException":
        return (
            "that month's bill is no longer in Cost Explorer (it keeps 13 months, or 38 with multi-year data)"
            + said
        )
    if code == "LimitExceededException":
        return (
            "Cost Explorer's request rate limit was reached; wait a minute and run the command again" + said
        )
    if code in ("InvalidNextTokenException", "RequestChangedException"):
        return "Cost Explorer's data changed while the answer was paged; run the command again" + said
    return f"Cost Explorer refused {action}" + said
