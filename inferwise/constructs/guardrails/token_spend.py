"""Bedrock token-spend alarms: US dollars per hour from the AWS/Bedrock token counts times catalogue prices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch

from inferwise.constructs.guardrails.props import TokenSpendAlarm, evaluation_hours, plain
from inferwise.constructs.validation import InvalidValueError
from inferwise.cost.catalog import TOKENS_PER_PRICED_UNIT, PriceCatalog, UnknownPriceError
from inferwise.cost.records import PriceRecord

# (metric id, AWS/Bedrock metric, catalogue dimension, required): the token counts that cost money.
_TOKEN_METRICS: tuple[tuple[str, str, str, bool], ...] = (
    ("tin", "InputTokenCount", "input", True),
    ("tout", "OutputTokenCount", "output", True),
    ("tcr", "CacheReadInputTokenCount", "cache-read", False),
    ("tcw", "CacheWriteInputTokenCount", "cache-write-5m", False),
)


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


def token_spend_expression(
    model_id: str, prices: Sequence[TokenPrice], label: str | None = None
) -> cloudwatch.MathExpression:
    """`FILL(tin,0)*<price_in/1e6> + FILL(tout,0)*<price_out/1e6> + ...` over hourly Sums, for one ModelId.

    `model_id` is the dimension value: a model or profile id, or an application inference profile's ARN (which
    may be a token); `label` names the series (default: `model_id`)."""
    hour = cdk.Duration.hours(1)
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({p.metric_id},0)*{plain(p.per_token)}" for p in prices),
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
        label=f"{label or model_id} USD/hour",
        period=hour,
    )


def token_prices(
    catalog: PriceCatalog, region: str, alarm: TokenSpendAlarm, index: int
) -> tuple[TokenPrice, ...]:
    """The priced token counts of the alarm's model: input and output required, cache reads/writes if priced."""
    evaluation_hours(f"token_spend_alarms[{index}].evaluation_hours", alarm.evaluation_hours)
    prices = []
    for metric_id, metric_name, dimension, required in _TOKEN_METRICS:
        try:
            record = catalog.bedrock(alarm.model_id, region, dimension)
        except UnknownPriceError as missing:
            if not required:
                continue
            raise InvalidValueError(
                f"token_spend_alarms[{index}]: no on-demand {dimension} token price for model "
                f"{alarm.model_id!r} in {region}, so its spend cannot be computed. {missing}"
            ) from None
        prices.append(TokenPrice(metric_id, metric_name, record))
    return tuple(prices)


def alarm_description(
    model_id: str, limit: Decimal, prices: Sequence[TokenPrice], subject: str | None = None
) -> str:
    """What the alarm watches and the prices, with their dates, its expression multiplies by.

    `subject` replaces `on ModelId <model_id>` when the alarm reads a profile's metrics (an ARN that may be a
    token must not be cut at 1,024 characters)."""
    terms = "; ".join(
        f"{p.metric_name} x ${plain(p.record.unit_price)}/1M ({p.record.key}, as of {p.record.as_of.isoformat()})"
        for p in prices
    )
    text = (
        f"Bedrock on-demand spend {subject or f'on ModelId {model_id}'} above ${plain(limit)}/hour. "
        f"USD/hour = sum of hourly token counts x inferwise catalogue prices: {terms}. "
        "Prices are fixed at synth time; re-synthesize after a price change."
    )
    return text[:1024]
