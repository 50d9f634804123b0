"""Commitments: a fleet on EC2 Reserved Instances, a SageMaker endpoint under a Savings Plan, and Bedrock
Provisioned Throughput; each priced only from a sourced rate or the user's own figure, never an assumed discount.

- EC2 Reserved Instances (1-year Standard, no upfront): the Inferentia2 or GPU fleet the Spot options size (the
  same model, instance, throughput and instances for the peak), every instance reserved and billed all 730 h of
  the month, at the catalogue's sourced rate (`fleet_lines.estimate_reserved_fleet`); the cheaper of the two
  kinds. 3-year and upfront terms and EC2 Savings Plans have no sourced rate: the option says so.
- SageMaker AI Savings Plans: no sourced rate. With the workload's `savings_plan_discount` (your rate off
  On-Demand) and `savings_plan_term`, the always-on endpoint's instance-hours at that rate, said to be your
  figure; without it, not priced.
- Bedrock Provisioned Throughput: no source prices a model unit of a model the catalogue sells; not priced.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.fleet_lines import estimate_reserved_fleet, with_operations
from inferwise.cost.advisor.options import (
    OPTION_NAMES,
    PROVISIONED_REASON,
    SAVINGS_PLAN_REASON,
    ServingOption,
    estimate_confidence,
    min_confidence,
    unavailable,
    unserved,
)
from inferwise.cost.advisor.self_hosted_options import Plan, plan_for, plan_option, price_always_on
from inferwise.cost.advisor.throughput import SelfHostedKind
from inferwise.cost.advisor.wording import share_text
from inferwise.cost.advisor.workload import Workload
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate, CostLine

RESERVED_KINDS: dict[SelfHostedKind, str] = {"inf2": "Inferentia2", "gpu": "GPU (g5, g6, g6e)"}
TERM_TEXT = {"1yr": "1-year", "3yr": "3-year"}


def price_provisioned(workload: Workload, _catalog: PriceCatalog) -> ServingOption:
    """Bedrock Provisioned Throughput: listed, not priced, until a source prices a model unit of the model."""
    return unavailable(workload, "bedrock-provisioned", PROVISIONED_REASON)


def _reserved_plans(
    workload: Workload, catalog: PriceCatalog
) -> tuple[list[tuple[Plan, CostEstimate]], list[str]]:
    """The Reserved fleets that can be priced (plan, estimate) and why the others cannot."""
    priced: list[tuple[Plan, CostEstimate]] = []
    reasons: list[str] = []
    for kind, name in RESERVED_KINDS.items():
        plan = plan_for(workload, catalog, kind)
        if isinstance(plan, str):
            reasons.append(f"{name}: {plan}")
            continue
        try:
            estimate = estimate_reserved_fleet(
                plan.instance_type, plan.capacity.instances, catalog, workload.region
            )
        except UnknownPriceError:
            reasons.append(
                f"{name}: no sourced 1-year Reserved Instance rate for {plan.instance_type} in {workload.region}"
            )
            continue
        priced.append((plan, with_operations(estimate, workload, catalog)))
    return priced, reasons


def price_reserved(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """The Inferentia2 or GPU fleet of the Spot options on 1-year, no-upfront Reserved Instances, always on."""
    key = "ec2-reserved"
    if (not_served := unserved(workload, catalog, key)) is not None:
        return not_served
    priced, reasons = _reserved_plans(workload, catalog)
    if not priced:
        return unavailable(workload, key, "not priced: " + "; ".join(reasons))
    plan, estimate = min(priced, key=lambda item: item[1].monthly_total)
    instances = plan.capacity.instances
    extra: tuple[str, ...] = (
        "1-year Standard Reserved Instances, no upfront (the catalogue's only sourced commitment rate): the "
        f"{instances} instance(s) are paid for all 730 h of every month of the term, so they run all month "
        "(no Spot interruptions, nothing saved outside the active hours)",
        "a commitment sized for this volume: at a lower volume the reserved instances are still billed",
    )
    if reasons:
        extra += (f"not compared: {'; '.join(reasons)}",)
    return plan_option(workload, key, plan, estimate, HOURS_PER_MONTH * instances, extra)


def _committed(line: CostLine, discount: Decimal, term: str) -> CostLine:
    """An instance-hour line at your Savings Plan rate: (1 - discount) x the On-Demand price."""
    factor = 1 - discount
    return dataclasses.replace(
        line,
        component=f"{line.component}, {TERM_TEXT[term]} Savings Plan",
        unit_price=line.unit_price * factor,
        monthly_cost=line.monthly_cost * factor,
        pricing_category="Committed",
        assumptions=(
            *line.assumptions,
            f"your SageMaker AI Savings Plan rate: {share_text(discount)} off On-Demand for a {TERM_TEXT[term]} "
            "commitment (savings_plan_discount, savings_plan_term: your figures, not a sourced rate)",
        ),
    )


def price_savings_plan(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """The always-on endpoint with its instance-hours at your Savings Plan rate; not priced without one."""
    key = "sagemaker-savings-plan"
    if (not_served := unserved(workload, catalog, key)) is not None:
        return not_served
    if workload.savings_plan_discount is None:
        return unavailable(workload, key, SAVINGS_PLAN_REASON)
    base = price_always_on(workload, catalog)
    if not base.available or base.estimate is None:
        return unavailable(workload, key, base.reason)
    discount = to_decimal(workload.savings_plan_discount)
    lines = tuple(
        _committed(line, discount, workload.savings_plan_term)
        if line.service_code == "AmazonSageMaker" and line.price_source.endswith("/Hosting")
        else line
        for line in base.estimate.lines
    )
    estimate = CostEstimate(
        construct_path="",
        pattern="SageMaker endpoint, always on, under a Savings Plan",
        region=workload.region,
        lines=lines,
        baseline=base.estimate,
        notes=(
            "A Savings Plan is a commitment of dollars an hour for its term: the instance-hours here must be used "
            "every hour, or the commitment is paid anyway. ML storage and the people are not discounted.",
        ),
    )
    return dataclasses.replace(
        base,
        key=key,
        name=OPTION_NAMES[key],
        estimate=estimate,
        assumptions=(
            *base.assumptions,
            f"{share_text(discount)} off the instance-hours: your {TERM_TEXT[workload.savings_plan_term]} plan's rate",
        ),
        confidence=min_confidence(estimate_confidence(estimate), base.throughput_confidence or "high"),
    )
