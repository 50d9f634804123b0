"""Why the cheapest option wins, in words: the verdict `Comparison.reason` carries.

`why_cheapest` says what makes the cheapest option cheap (per option kind), how far behind the next one is,
where the two swap places, and whether the verdict rests on a LOW-confidence throughput default.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from inferwise.cost.advisor.break_even import BreakEven
from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.options import ServingOption
from inferwise.cost.advisor.self_hosted_options import SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE
from inferwise.cost.advisor.wording import number_text, rate_text, share_text, tokens_text
from inferwise.cost.advisor.workload import BATCH_TURNAROUND, Workload
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_batch import token_lines
from inferwise.cost.estimators.spot_fleet import split_capacity
from inferwise.cost.model import HOURS_PER_MONTH, CostEstimate
from inferwise.cost.render import usd

COMMITTED = {
    "ec2-reserved": "the 1-year, no-upfront Reserved Instance rate",
    "sagemaker-savings-plan": "your Savings Plan rate",
}


def why_cheapest(
    workload: Workload,
    priced: Sequence[ServingOption],
    break_evens: Sequence[BreakEven],
    catalog: PriceCatalog,
) -> str:
    """The verdict for `priced` (cheapest first): why the first wins, by how much, and where the next takes over."""
    best = priced[0]
    estimate = best.estimate
    assert estimate is not None
    text = _why(workload, best, estimate, catalog)
    if len(priced) > 1:
        runner = priced[1]
        runner_cost = runner.monthly_cost
        assert runner_cost is not None and best.monthly_cost is not None
        text += f" Next: {runner.name} at {usd(runner_cost)}/month"
        if best.monthly_cost > 0:
            ratio = runner_cost / best.monthly_cost
            more = (
                f"{number_text(ratio, '0.1')} times as much"
                if ratio >= 2
                else f"{number_text((ratio - 1) * 100, '0.1')} % more"
            )
            text += f" ({more})"
        text += "."
        first = break_evens[0]
        if first.monthly_tokens is not None:
            where = tokens_text(first.monthly_tokens)
            if first.monthly_tokens > workload.monthly_tokens:
                text += (
                    f" It stays cheapest up to about {where} tokens a month, where {runner.name} takes over."
                )
            else:
                text += f" Below about {where} tokens a month, {runner.name} would be cheaper."
        else:
            low, high = first.searched_tokens
            text += f" The two do not swap places between {tokens_text(low)} and {tokens_text(high)} tokens a month."
    if best.capacity is not None and best.confidence == "low":
        weak = []
        if best.throughput_confidence == "low":
            weak.append(f"a throughput scaled from another size to {best.instance_type}")
        if any(line.service_code == "Operations" and line.confidence == "low" for line in estimate.lines):
            weak.append("the default operations hours")
        if weak:
            text += f" This rests on LOW-confidence figures ({' and '.join(weak)}): measure and set your own."
    return text


def _why(workload: Workload, best: ServingOption, estimate: CostEstimate, catalog: PriceCatalog) -> str:
    """What makes `best` cheap, in the terms of its kind: token prices, cache reads, routing or instances."""
    name = best.name
    if best.key == "bedrock-batch":
        tokens_cost = sum((line.monthly_cost for line in token_lines(estimate)), Decimal(0))
        baseline = estimate.baseline
        assert baseline is not None
        on_demand = baseline.monthly_total
        share = tokens_cost * 100 / on_demand if on_demand else Decimal(0)
        overhead = estimate.monthly_total - tokens_cost
        return (
            f"{name} is cheapest: its tokens cost {number_text(share, '0.1')} % of on-demand (the catalogue's batch "
            f"prices for {workload.model_id}), and the work can wait up to {BATCH_TURNAROUND}; the pipeline adds "
            f"{usd(overhead)}/month of orchestration."
        )
    if best.key == "bedrock-prompt-cache":
        saving = estimate.savings_usd or Decimal(0)
        percent = estimate.savings_percent or Decimal(0)
        return (
            f"{name} is cheapest: {workload.cache_prefix_tokens:,} of the {workload.input_tokens_per_request:,} "
            f"input tokens per request are a shared prefix read from the cache on "
            f"{share_text(to_decimal(workload.cache_hit_rate or 0))} of requests, which saves {usd(saving)}/month "
            f"({number_text(percent, '0.1')} %) against the same requests without caching; output and the uncached "
            "input cost the same."
        )
    if best.key == "bedrock-routed":
        saving = estimate.savings_usd or Decimal(0)
        percent = estimate.savings_percent or Decimal(0)
        return (
            f"The {name} is cheapest: {workload.small_model_id} answers "
            f"{share_text(to_decimal(workload.routed_share or 0))} of requests and only the rest reach "
            f"{workload.model_id} (paying both), {usd(saving)}/month ({number_text(percent, '0.1')} %) less than "
            f"sending everything to {workload.model_id}."
        )
    if best.key in ("bedrock-global", "bedrock-flex", "bedrock-priority"):
        saving = estimate.savings_usd or Decimal(0)
        percent = estimate.savings_percent or Decimal(0)
        how = (
            "the global cross-Region profile's rate"
            if best.key == "bedrock-global"
            else "the Flex tier's rates"
        )
        return (
            f"{name} is cheapest: every token at {how}, {usd(saving)}/month ({number_text(percent, '0.1')} %) less "
            f"than the standard on-demand rates for {workload.model_id}."
        )
    if best.key == "bedrock-on-demand":
        unit = best.unit_cost_per_million_tokens or Decimal(0)
        return (
            f"{name} is cheapest: at {tokens_text(workload.monthly_tokens)} tokens a month, paying "
            f"{usd(unit)} per 1M tokens costs less than keeping capacity for a peak of "
            f"{rate_text(workload.peak_tokens_per_second)} tokens/s running."
        )
    return _why_self_hosted(workload, best, estimate, catalog)


def _why_self_hosted(
    workload: Workload, best: ServingOption, estimate: CostEstimate, catalog: PriceCatalog
) -> str:
    """What makes a self-hosted option cheap: billed seconds, instances, their rate and utilisation."""
    name = best.name
    if best.key == "sagemaker-serverless":
        return (
            f"{name} is cheapest: {best.instance_type} billed per GB-second only while a request is processed "
            f"({usd(estimate.monthly_total)}/month with the people), nothing while idle."
        )
    capacity = best.capacity
    assert capacity is not None
    utilisation = best.utilisation or Decimal(0)
    if best.key in COMMITTED:
        return (
            f"{name} is cheapest: {capacity.instances} x {best.instance_type} always on at {COMMITTED[best.key]}, "
            f"{number_text(utilisation * 100, '0.1')} % average utilisation; a commitment for the term, paid "
            "whatever the volume."
        )
    if best.key == "sagemaker-async":
        hours = best.billed_instance_hours or Decimal(0)
        return (
            f"{name} is cheapest: the queue lets {capacity.instances} x {best.instance_type} work the backlog at "
            f"full throughput, billing {number_text(hours, '0.1')} instance-hours a month and scaling to zero "
            "between."
        )
    if best.key == "sagemaker-always-on":
        return (
            f"A {name} is cheapest: {capacity.instances} x {best.instance_type} at "
            f"{number_text(utilisation * 100, '0.1')} % average utilisation cost less than per-token pricing for "
            f"{tokens_text(workload.monthly_tokens)} tokens a month."
        )
    if best.key == "scale-to-zero":
        hours = best.billed_instance_hours or Decimal(0)
        return (
            f"{name} is cheapest: its {capacity.instances} x {best.instance_type} bill "
            f"{number_text(hours, '0.1')} instance-hours a month (traffic {number_text(to_decimal(workload.active_hours_per_day))} "
            f"h a day plus cold starts and scale-in tails) instead of {number_text(HOURS_PER_MONTH * capacity.instances)}."
        )
    on_demand, spot = split_capacity(
        Decimal(capacity.instances), SPOT_ON_DEMAND_BASE, SPOT_PERCENT_ABOVE_BASE
    )
    assert best.instance_type is not None
    discount = catalog.spot_discount(best.instance_type, workload.region)
    return (
        f"{name} is cheapest: {capacity.instances} x {best.instance_type} ({number_text(on_demand)} On-Demand, "
        f"{number_text(spot)} Spot at an assumed {number_text(discount.average * 100, '1')} % Spot discount) at "
        f"{number_text(utilisation * 100, '0.1')} % average utilisation."
    )
