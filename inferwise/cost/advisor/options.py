"""The serving options the advisor compares (`OPTION_NAMES`), and `ServingOption`: one option priced for a
workload, or listed as not priced with the reason.

The helpers here build options the same way for every pricer: the volume assumption first, the confidence
of the weakest line, one wording for "not priced".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from inferwise.cost.advisor.capacity import Capacity
from inferwise.cost.advisor.serving import served_model
from inferwise.cost.advisor.wording import count_text
from inferwise.cost.advisor.workload import SECONDS_PER_HOUR, Workload
from inferwise.cost.catalog import TOKENS_PER_PRICED_UNIT, PriceCatalog
from inferwise.cost.model import Confidence, CostEstimate

OPTION_NAMES: dict[str, str] = {
    "bedrock-on-demand": "Bedrock on-demand",
    "bedrock-global": "Bedrock global profile",
    "bedrock-flex": "Bedrock Flex tier",
    "bedrock-priority": "Bedrock Priority tier",
    "bedrock-batch": "Bedrock batch",
    "bedrock-prompt-cache": "Bedrock + prompt caching",
    "bedrock-routed": "Bedrock routed cascade",
    "bedrock-provisioned": "Bedrock Provisioned Throughput",
    "sagemaker-always-on": "SageMaker endpoint, always on",
    "sagemaker-savings-plan": "SageMaker endpoint + Savings Plan",
    "scale-to-zero": "ScaleToZeroEndpoint",
    "sagemaker-async": "SageMaker Asynchronous Inference",
    "sagemaker-serverless": "SageMaker Serverless Inference",
    "spot-inf2": "SpotInferenceFleet (Inferentia2)",
    "spot-gpu": "EC2 GPU Spot fleet",
    "ec2-reserved": "EC2 Reserved Instances (1 yr)",
    "spot-graviton": "SpotInferenceFleet (Graviton)",
}
OPTION_KEYS: tuple[str, ...] = tuple(OPTION_NAMES)
SELF_HOSTED_KEYS: tuple[str, ...] = (
    "sagemaker-always-on",
    "sagemaker-savings-plan",
    "scale-to-zero",
    "sagemaker-async",
    "sagemaker-serverless",
    "spot-inf2",
    "spot-gpu",
    "ec2-reserved",
    "spot-graviton",
)
PROVISIONED_REASON = (
    "not priced: no sourced Provisioned Throughput rate for this model (the only model-unit prices in any "
    "source, litellm 1.109.1's 1- and 6-month commitments, are for Claude Instant, Claude v1 / v2.1 and Cohere "
    "Command, which the catalogue does not price)"
)
SAVINGS_PLAN_REASON = (
    "not priced: no sourced SageMaker AI Savings Plans rate in the catalogue (no discount is assumed); pass "
    "savings_plan_discount (your plan's rate off On-Demand) and savings_plan_term to price one"
)


@dataclass(frozen=True)
class ServingOption:
    """One way to serve the workload: its estimate, or why it is not priced."""

    key: str
    name: str
    available: bool
    monthly_tokens: Decimal
    estimate: CostEstimate | None = None
    reason: str = ""
    instance_type: str | None = None
    capacity: Capacity | None = None
    billed_instance_hours: Decimal | None = None
    assumptions: tuple[str, ...] = ()
    confidence: Confidence = "high"
    served_model: str | None = None
    different_model: bool = False
    throughput_confidence: Confidence | None = None

    @property
    def monthly_cost(self) -> Decimal | None:
        return None if self.estimate is None else self.estimate.monthly_total

    @property
    def unit_cost_per_million_tokens(self) -> Decimal | None:
        """Monthly cost per 1M of the workload's input + output tokens."""
        cost = self.monthly_cost
        if cost is None or self.monthly_tokens == 0:
            return None
        return cost * TOKENS_PER_PRICED_UNIT / self.monthly_tokens

    @property
    def instances(self) -> int | None:
        return None if self.capacity is None else self.capacity.instances

    @property
    def utilisation(self) -> Decimal | None:
        """Self-hosted: average load / provisioned capacity over the hours billed; None for per-token options."""
        if self.capacity is None or not self.billed_instance_hours:
            return None
        capacity_tokens = (
            self.billed_instance_hours * SECONDS_PER_HOUR * self.capacity.tokens_per_second_per_instance
        )
        return self.monthly_tokens / capacity_tokens

    def to_json(self) -> dict[str, Any]:
        cost, unit, util = self.monthly_cost, self.unit_cost_per_million_tokens, self.utilisation
        return {
            "x_Option": self.key,
            "x_Name": self.name,
            "x_Available": self.available,
            "x_Reason": self.reason,
            "ListCost": None if cost is None else str(cost),
            "BillingCurrency": "USD",
            "x_UnitCostPerMillionTokens": None if unit is None else str(unit),
            "x_MonthlyTokens": str(self.monthly_tokens),
            "x_InstanceType": self.instance_type,
            "x_Instances": self.instances,
            "x_Utilisation": None if util is None else str(util),
            "x_Confidence": self.confidence,
            "x_ServedModel": self.served_model,
            "x_DifferentModel": self.different_model,
            "x_Assumptions": list(self.assumptions),
            "x_Estimate": None if self.estimate is None else self.estimate.to_json(),
        }


def min_confidence(*values: str) -> Confidence:
    """The weakest of the confidences given ("low" < "medium" < "high")."""
    order = {"low": 0, "medium": 1, "high": 2}
    return cast(Confidence, min(values, key=lambda value: order[value]))


def estimate_confidence(estimate: CostEstimate) -> Confidence:
    """An estimate is as confident as its least confident line."""
    return min_confidence("high", *(line.confidence for line in estimate.lines))


def volume_text(workload: Workload) -> str:
    """The volume assumption every priced option starts with: requests x tokens per request."""
    return (
        f"{count_text(workload.requests)} requests a month x ({workload.input_tokens_per_request:,} input + "
        f"{workload.output_tokens_per_request:,} output tokens) = {count_text(workload.monthly_tokens)} tokens a month"
    )


def unavailable(workload: Workload, key: str, reason: str) -> ServingOption:
    """Option `key` listed as not priced, with the reason."""
    return ServingOption(key, OPTION_NAMES[key], False, workload.monthly_tokens, reason=reason)


def unserved(workload: Workload, catalog: PriceCatalog, key: str) -> ServingOption | None:
    """Option `key` as not priced when no open model can be self-hosted for the workload, else None.

    The first check of each self-hosted option, so a closed or unsized model is the reason it gives.
    """
    served = served_model(workload, catalog)
    return unavailable(workload, key, served) if isinstance(served, str) else None


def token_option(workload: Workload, key: str, estimate: CostEstimate, *assumptions: str) -> ServingOption:
    """A per-token (Bedrock) option priced by `estimate`: nothing provisioned, no capacity."""
    return ServingOption(
        key,
        OPTION_NAMES[key],
        True,
        workload.monthly_tokens,
        estimate=estimate,
        assumptions=(volume_text(workload), *assumptions),
        confidence=estimate_confidence(estimate),
    )
