"""SageMaker's other two ways to serve a model: Asynchronous Inference and Serverless Inference.

- Asynchronous Inference (`sagemaker-async`): requests wait in the endpoint's queue, answers go to S3, and the
  endpoint scales to zero instances when the queue is empty. It runs the model on the instance the real-time
  options pick (same fit and throughput) and is billed per instance-hour while the backlog is worked: the day's
  requests in one busy spell with as many instances as finish it within the active hours (ceil(average tokens/s
  / tokens/s per instance)), plus a wake from zero and a scale-in tail a day. Those hours are priced by the
  `ScaleToZeroEndpoint` estimator (its instance, ML storage and alarm lines; the minimum is zero instances).
  Offered to deferrable work only: a caller cannot wait on a queue.
- Serverless Inference (`sagemaker-serverless`): no GPU, 1 to 6 GB of memory; billed per GB-second of processing.
  A model qualifies only if its weights and KV cache fit the memory (`fit`, like Graviton's host memory); no
  source measured a model on it, so the option says "throughput unknown" until you pass your measurement of one
  invocation (`serverless_tokens_per_second`). A request longer than Serverless Inference's 60-second processing
  limit, or a peak above its 200 concurrent invocations per endpoint, is not priced.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_CEILING, Decimal

from inferwise.cost.advisor.capacity import Capacity
from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.fit import serverless_gb
from inferwise.cost.advisor.fleet_lines import with_operations
from inferwise.cost.advisor.options import ServingOption, unavailable, unserved
from inferwise.cost.advisor.self_hosted_options import Plan, plan_for, plan_option
from inferwise.cost.advisor.wording import count_text, number_text, rate_text
from inferwise.cost.advisor.workload import DAYS_PER_MONTH, SECONDS_PER_HOUR, Workload
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.scale_to_zero import (
    EndpointUsage,
    billed_hours_per_instance,
    estimate_scale_to_zero,
)
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.validation import InvalidValueError

SERVERLESS_MAX_CONCURRENCY = 200
"""`ServerlessConfig.MaxConcurrency` is 1 to 200 per endpoint (CloudFormation and botocore)."""
SERVERLESS_MAX_SECONDS = 60
"""Serverless Inference supports processing times up to 60 seconds (SageMaker developer guide, 'Inference options
in Amazon SageMaker AI', https://docs.aws.amazon.com/sagemaker/latest/dg/deploy-model-options.html)."""
SERVERLESS_SKU = "serverless-inference"
ASYNC_PRICE_ASSUMPTION = (
    "Asynchronous Inference instances are billed per instance-hour (Price List usage type <region>-AsyncInf:<type>, "
    "a SKU of its own); no source gives its rate apart from real-time hosting, so the real-time Hosting record "
    "prices it (LOW confidence)"
)


def _async_capacity(workload: Workload, plan: Plan) -> tuple[Capacity, Decimal]:
    """Instances that work a day's backlog within the active hours, and the hours each works a day."""
    rate = plan.capacity.tokens_per_second_per_instance
    average = workload.average_tokens_per_second
    instances = max(1, int((average / rate).to_integral_value(rounding=ROUND_CEILING)))
    work_hours = workload.monthly_tokens / (rate * SECONDS_PER_HOUR)
    capacity = Capacity(rate, average, workload.peak_tokens_per_second, instances)
    return capacity, work_hours / instances / DAYS_PER_MONTH


def _async_estimate(
    estimate: CostEstimate, workload: Workload, instances: int, hours_per_day: Decimal
) -> CostEstimate:
    def relabel(line: CostLine) -> CostLine:
        if not line.price_source.endswith("/Hosting"):
            return line
        return dataclasses.replace(
            line,
            component=line.component.replace(
                "billed only while a copy runs", "billed while the backlog is worked"
            ),
            assumptions=(*line.assumptions, ASYNC_PRICE_ASSUMPTION),
            confidence="low",
        )

    return CostEstimate(
        construct_path="",
        pattern="SageMaker Asynchronous Inference, scaling to zero",
        region=workload.region,
        lines=tuple(relabel(line) for line in estimate.lines),
        baseline=estimate.baseline,
        assumptions=(
            f"{instances} instance(s) work the day's backlog in {number_text(hours_per_day, '0.01')} h, then scale to "
            "zero (minimum 0 instances); one wake from zero a day",
            *estimate.assumptions[1:],
        ),
        notes=(
            "Scaling: a step policy on HasBacklogWithoutCapacity wakes the endpoint from zero and target tracking on "
            "ApproximateBacklogSizePerInstance adds instances (SageMaker developer guide, 'Autoscale an asynchronous "
            "endpoint'); their alarms are the estimate's three.",
            "Not priced: the S3 requests and storage of the request payloads and answers, SNS notifications.",
        ),
    )


def price_async(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """SageMaker Asynchronous Inference: instance-hours while the backlog is worked, scaling to zero between."""
    key = "sagemaker-async"
    if (not_served := unserved(workload, catalog, key)) is not None:
        return not_served
    if workload.realtime:
        return unavailable(
            workload,
            key,
            "real-time workload: asynchronous requests wait in a queue and their answers are written to S3; mark "
            "the work deferrable (realtime=false) to price it",
        )
    plan = plan_for(workload, catalog, "sagemaker")
    if isinstance(plan, str):
        return unavailable(workload, key, plan)
    capacity, hours_per_day = _async_capacity(workload, plan)
    try:
        usage = EndpointUsage(
            active_hours_per_day=float(hours_per_day),
            days_per_month=float(DAYS_PER_MONTH),
            instances_while_active=capacity.instances,
            cold_starts_per_day=1.0,
        )
        estimate = estimate_scale_to_zero(
            plan.instance_type, 1, usage, catalog, workload.region, max_instances=capacity.instances
        )
    except (UnknownPriceError, InvalidValueError) as refused:
        return unavailable(workload, key, f"not priced: {refused}")
    sizing = (
        f"average {rate_text(capacity.average_tokens_per_second)} tokens/s over the active hours; {capacity.instances} "
        f"instance(s) = ceil(average / {rate_text(capacity.tokens_per_second_per_instance)} tokens/s per instance) "
        "work the queue at full throughput (peaks wait in the queue)",
        f"{count_text(workload.monthly_tokens)} tokens / ({rate_text(capacity.tokens_per_second_per_instance)} tokens/s "
        f"x 3,600 s) / {capacity.instances} / (730/24 days) = {number_text(hours_per_day, '0.01')} h of work a day per "
        "instance",
    )
    extra = ("answers can wait in the queue for up to a day: for deferrable work only",)
    hours = billed_hours_per_instance(usage) * capacity.instances
    estimate = with_operations(
        _async_estimate(estimate, workload, capacity.instances, hours_per_day), workload, catalog
    )
    plan = dataclasses.replace(plan, capacity=capacity)
    return plan_option(workload, key, plan, estimate, hours, extra, sizing=sizing)


def _serverless_limits(workload: Workload, seconds: Decimal) -> tuple[Decimal, str]:
    """The peak concurrent invocations, and why the workload exceeds Serverless Inference's limits ("" if not)."""
    peak_requests = (
        workload.requests / workload.active_seconds_per_month * to_decimal(workload.peak_to_average)
    )
    concurrency = peak_requests * seconds
    if seconds > SERVERLESS_MAX_SECONDS:
        return concurrency, (
            f"not priced: a request takes {number_text(seconds, '0.1')} s of one invocation, above Serverless "
            f"Inference's {SERVERLESS_MAX_SECONDS}-second processing limit"
        )
    if concurrency > SERVERLESS_MAX_CONCURRENCY:
        return concurrency, (
            f"not priced: the peak needs {concurrency.quantize(Decimal('0.1')):,} concurrent invocations, above Serverless "
            f"Inference's {SERVERLESS_MAX_CONCURRENCY} per endpoint"
        )
    return concurrency, ""


def price_serverless(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """SageMaker Serverless Inference: GB-seconds of processing at the memory size that holds the model."""
    key = "sagemaker-serverless"
    plan = plan_for(workload, catalog, "serverless")
    if isinstance(plan, str):
        return unavailable(workload, key, plan)
    throughput = plan.selection.throughput
    assert throughput is not None
    tokens_in, tokens_out = workload.input_tokens_per_request, workload.output_tokens_per_request
    seconds = throughput.seconds_per_request(tokens_in, tokens_out)
    concurrency, refused = _serverless_limits(workload, seconds)
    if refused:
        return unavailable(workload, key, refused)
    gigabytes = Decimal(serverless_gb(plan.instance_type) or 0)
    try:
        compute = catalog.line(
            f"Serverless Inference compute ({gigabytes} GB, billed per second of processing)",
            "AmazonSageMaker",
            SERVERLESS_SKU,
            workload.region,
            "Duration",
            workload.requests * seconds * gigabytes,
            assumptions=(
                f"{count_text(workload.requests)} requests x {number_text(seconds, '0.0001')} s x {gigabytes} GB",
            ),
        )
    except UnknownPriceError as missing:
        return unavailable(workload, key, f"not priced: {missing}")
    estimate = CostEstimate(
        construct_path="",
        pattern="SageMaker Serverless Inference",
        region=workload.region,
        lines=(compute,),
        notes=(
            "Not priced: Serverless Inference's data processing in and out (a dimension the catalogue lacks) and "
            "provisioned concurrency (not used).",
        ),
    )
    sizing = (
        f"peak {number_text(concurrency, '0.01')} concurrent invocations (at most {SERVERLESS_MAX_CONCURRENCY} per "
        f"endpoint); each request up to {SERVERLESS_MAX_SECONDS} s",
    )
    extra: tuple[str, ...] = ("billed only while a request is processed; nothing while idle",)
    if workload.realtime:
        extra += ("a request arriving at a cold endpoint waits while a container starts and loads the model",)
    return plan_option(
        workload, key, plan, with_operations(estimate, workload, catalog), None, extra, sizing=sizing
    )
