"""The per-token options: Bedrock on-demand, batch (`BedrockBatchPipeline`), prompt caching and a routed
cascade, each priced by the Bedrock estimators (`bedrock_on_demand`, `bedrock_batch`).

An option the workload does not ask for or describe (no cache prefix, no small model), or that the catalogue
cannot price, is returned as not priced, with the reason.
"""

from __future__ import annotations

from decimal import Decimal

from inferwise.cost.advisor.checks import to_decimal
from inferwise.cost.advisor.options import ServingOption, token_option, unavailable
from inferwise.cost.advisor.wording import count_text, share_text
from inferwise.cost.advisor.workload import BATCH_TURNAROUND, Workload
from inferwise.cost.catalog import INFERENCE_PROFILE_PREFIXES, PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.bedrock_batch import (
    BATCH_MODEL_FAMILIES,
    BatchPlan,
    BatchUsage,
    ModelFamily,
    estimate_bedrock_batch,
)
from inferwise.cost.estimators.bedrock_on_demand import (
    TokenUsage,
    estimate_bedrock_on_demand,
    long_context_suffix,
    on_demand_token_lines,
    supports_prompt_cache,
)
from inferwise.cost.model import CostEstimate

BATCH_RUNS_PER_MONTH = 30
"""The batch option submits the month's records in one run a day."""


def _plain_usage(workload: Workload, requests: Decimal | None = None) -> TokenUsage:
    return TokenUsage(
        workload.requests if requests is None else requests,
        workload.input_tokens_per_request,
        workload.output_tokens_per_request,
    )


def price_on_demand(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """Every request at the model's on-demand token prices."""
    peak_per_minute = workload.peak_tokens_per_second * 60
    estimate = estimate_bedrock_on_demand(workload.model_id, _plain_usage(workload), catalog, workload.region)
    return token_option(
        workload,
        "bedrock-on-demand",
        estimate,
        "priced per token: nothing to provision or keep running",
        f"the account's Bedrock tokens-per-minute quota for {workload.model_id} must cover the peak of about "
        f"{count_text(peak_per_minute)} tokens a minute",
    )


def batch_family(model_id: str) -> ModelFamily | None:
    """The request family `BedrockBatchPipeline` would use for a model id, or None if it builds none for it."""
    text = model_id.strip()
    if text.startswith("arn:"):
        text = text.rsplit("/", 1)[-1]
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    for start, family in BATCH_MODEL_FAMILIES:
        if text.startswith(start):
            return family
    return None


def price_batch(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """Every request as a record of `BedrockBatchPipeline` (its defaults), one run a day."""
    key = "bedrock-batch"
    if workload.realtime:
        return unavailable(
            workload,
            key,
            f"real-time workload: a batch job returns within {BATCH_TURNAROUND}, not while a caller waits",
        )
    if not workload.batch_ok:
        return unavailable(
            workload,
            key,
            f"batch not requested: set batch_ok (--batch-ok) if the work can wait up to {BATCH_TURNAROUND}",
        )
    if not catalog.has_batch_price(workload.model_id, workload.region):
        return unavailable(
            workload, key, f"no batch price in the catalogue for {workload.model_id} in {workload.region}"
        )
    suffix = long_context_suffix(
        workload.model_id, workload.input_tokens_per_request, catalog, workload.region
    )
    if suffix:
        try:
            catalog.bedrock(workload.model_id, workload.region, "batch-input" + suffix)
        except UnknownPriceError:
            return unavailable(
                workload,
                key,
                f"no long-context batch price in the catalogue for {workload.model_id} in {workload.region} "
                f"({workload.input_tokens_per_request:,} input tokens per request is billed at long-context rates)",
            )
    family = batch_family(workload.model_id)
    if family is None:
        return unavailable(
            workload,
            key,
            "BedrockBatchPipeline builds batch requests for Anthropic, Amazon Nova, Meta Llama and Titan "
            f"embedding models, not {workload.model_id}",
        )
    records = int(workload.requests.to_integral_value())
    usage = BatchUsage(
        records_per_month=records,
        input_tokens_per_record=workload.input_tokens_per_request,
        output_tokens_per_record=workload.output_tokens_per_request,
        runs_per_month=BATCH_RUNS_PER_MONTH,
    )
    plan = BatchPlan(model_id=workload.model_id, family=family)
    estimate = estimate_bedrock_batch(plan, usage, catalog, workload.region)
    return token_option(
        workload,
        key,
        estimate,
        f"records are whole requests: {records:,} a month in {BATCH_RUNS_PER_MONTH} runs (one a day); results "
        f"within {BATCH_TURNAROUND}",
        f"BedrockBatchPipeline with its defaults (at most {plan.records_per_job:,} records per job, at least "
        f"{plan.min_records_per_job:,})",
    )


def price_cache(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """On-demand with the workload's shared prompt prefix marked for Bedrock prompt caching."""
    key = "bedrock-prompt-cache"
    if workload.cache_prefix_tokens is None or workload.cache_hit_rate is None:
        return unavailable(
            workload, key, "no prompt cache described: pass cache_prefix_tokens and cache_hit_rate"
        )
    if not supports_prompt_cache(workload.model_id, catalog, workload.region):
        return unavailable(
            workload,
            key,
            f"no cache-read price in the catalogue for {workload.model_id} in {workload.region}",
        )
    usage = TokenUsage(
        workload.requests,
        workload.input_tokens_per_request,
        workload.output_tokens_per_request,
        cached_prefix_tokens=workload.cache_prefix_tokens,
        cache_hit_rate=to_decimal(workload.cache_hit_rate),
        cache_ttl="1h" if workload.cache_ttl == "1h" else "5m",
    )
    try:
        estimate = estimate_bedrock_on_demand(workload.model_id, usage, catalog, workload.region)
    except UnknownPriceError as missing:
        return unavailable(workload, key, f"not priced: {missing}")
    return token_option(
        workload,
        key,
        estimate,
        f"{workload.cache_prefix_tokens:,} of the {workload.input_tokens_per_request:,} input tokens per request are "
        f"a shared prefix; {share_text(to_decimal(workload.cache_hit_rate))} of requests read it from the cache, the "
        f"others write it ({'1-hour' if workload.cache_ttl == '1h' else '5-minute'} cache TTL)",
    )


def price_routed(workload: Workload, catalog: PriceCatalog) -> ServingOption:
    """Every request to the small model first; the share it does not finish escalates to `model_id`."""
    key = "bedrock-routed"
    if workload.small_model_id is None or workload.routed_share is None:
        return unavailable(workload, key, "no routing described: pass small_model_id and routed_share")
    share = to_decimal(workload.routed_share)
    escalated = workload.requests * (1 - share)
    small_lines = on_demand_token_lines(
        workload.small_model_id,
        _plain_usage(workload),
        catalog,
        workload.region,
        label="small model: ",
        assumptions=("every request is answered by the small model first",),
    )
    large_lines = on_demand_token_lines(
        workload.model_id,
        _plain_usage(workload, escalated),
        catalog,
        workload.region,
        label="escalated to large model: ",
        assumptions=(f"{share_text(1 - share)} of requests escalate to {workload.model_id}",),
    )
    baseline = estimate_bedrock_on_demand(workload.model_id, _plain_usage(workload), catalog, workload.region)
    estimate = CostEstimate(
        construct_path="",
        pattern="Bedrock routed cascade",
        region=workload.region,
        lines=(*small_lines, *large_lines),
        baseline=baseline,
        assumptions=(
            f"cascade: {workload.small_model_id} answers every request; {share_text(share)} are done there, the other "
            f"{share_text(1 - share)} escalate to {workload.model_id} and pay both models",
        ),
        notes=(
            "Not priced: the router or judge that decides to escalate, and any extra input an escalated request "
            "carries (e.g. the small model's draft).",
        ),
    )
    return token_option(
        workload,
        key,
        estimate,
        f"{workload.small_model_id} handles {share_text(share)} of requests; the rest escalate to {workload.model_id} "
        "after the small model answered (escalated requests pay both models)",
    )
