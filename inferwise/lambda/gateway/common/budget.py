"""Tenant budgets in DynamoDB: reserve the worst case before a call, settle to the actual cost after it.

One item per tenant and calendar month (UTC), key `pk = <tenant>#<YYYY-MM>`, numbers in micro-USD:

- `committed`: spend settled so far plus every reservation still open; the only figure the check reads;
- `spent`: settled spend; `calls`: settled calls.

Reserve is one conditional UpdateItem: `ADD committed :cost` under `committed <= :headroom`, where
`headroom = budget - cost` (DynamoDB conditions compare, they cannot add, so the sum is moved to the right
side). DynamoDB applies a conditional update to an item atomically, so however many callers race, the sum
of accepted reservations never passes the budget. Settle adds `actual - reserved` to `committed` and `actual`
to `spent`, unconditionally: the money is spent already. See docs/gateway.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Reservation:
    key: str
    micro_usd: int


@dataclass(frozen=True)
class Refusal:
    """Why a reservation was refused: the budget, what is settled and what is reserved, and when it resets."""

    tenant: str
    budget_micro_usd: int
    spent_micro_usd: int
    reserved_micro_usd: int
    requested_micro_usd: int
    resets_at: datetime


def month_key(tenant: str, now: datetime) -> str:
    return f"{tenant}#{now.astimezone(UTC):%Y-%m}"


def next_reset(now: datetime) -> datetime:
    """The first instant of next month, UTC: when a monthly budget starts again."""
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def reserve(
    dynamodb: Any, table: str, tenant: str, budget_micro_usd: int, cost_micro_usd: int, now: datetime
) -> Reservation | Refusal:
    """Reserve `cost_micro_usd` against the tenant's budget for this month, or say why not."""
    key = month_key(tenant, now)
    headroom = budget_micro_usd - cost_micro_usd
    if headroom < 0:
        return _refusal(dynamodb, table, tenant, key, budget_micro_usd, cost_micro_usd, now)
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": {"S": key}},
            UpdateExpression="ADD #committed :cost SET #budget = :budget",
            ConditionExpression="attribute_not_exists(#committed) OR #committed <= :headroom",
            ExpressionAttributeNames={"#committed": "committed", "#budget": "budget"},
            ExpressionAttributeValues={
                ":cost": {"N": str(cost_micro_usd)},
                ":budget": {"N": str(budget_micro_usd)},
                ":headroom": {"N": str(headroom)},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return _refusal(dynamodb, table, tenant, key, budget_micro_usd, cost_micro_usd, now)
    return Reservation(key, cost_micro_usd)


def settle(dynamodb: Any, table: str, reservation: Reservation, actual_micro_usd: int) -> None:
    """Replace the reservation by the actual cost (0 releases it all, e.g. when the call failed)."""
    values = {":delta": {"N": str(actual_micro_usd - reservation.micro_usd)}}
    expression = "ADD #committed :delta"
    names = {"#committed": "committed"}
    if actual_micro_usd:
        expression += ", #spent :actual, #calls :one"
        names |= {"#spent": "spent", "#calls": "calls"}
        values |= {":actual": {"N": str(actual_micro_usd)}, ":one": {"N": "1"}}
    dynamodb.update_item(
        TableName=table,
        Key={"pk": {"S": reservation.key}},
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def _refusal(
    dynamodb: Any, table: str, tenant: str, key: str, budget: int, cost: int, now: datetime
) -> Refusal:
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": key}}, ConsistentRead=True).get("Item", {})
    committed = int(item.get("committed", {}).get("N", "0"))
    spent = int(item.get("spent", {}).get("N", "0"))
    return Refusal(
        tenant=tenant,
        budget_micro_usd=budget,
        spent_micro_usd=spent,
        reserved_micro_usd=max(committed - spent, 0),
        requested_micro_usd=cost,
        resets_at=next_reset(now),
    )
