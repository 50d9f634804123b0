"""What a `BedrockBatchPipeline` is configured with: the model id, the quotas and limits, the prop checks.

Also the names the construct shares with the handlers (work prefix, metric namespace and names; see
docs/bedrock-batch-contract.md) and the price-catalogue checks made before anything is built.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from inferwise.constructs.inference_profile import BEDROCK_ARN
from inferwise.constructs.validation import (
    InvalidTypeError,
    InvalidValueError,
    bucket_prop,
    check_bool,
    check_profile_region,
    check_text,
    check_whole_number,
    key_prop,
    shown,
)
from inferwise.cost.catalog import (
    BEDROCK_SERVICE,
    INFERENCE_PROFILE_PREFIXES,
    PriceCatalog,
    UnknownPriceError,
)
from inferwise.cost.estimators.bedrock_batch import BATCH_MODEL_FAMILIES, BatchUsage, ModelFamily

MAX_RECORDS_PER_JOB = 50_000
"""Default per-model quota "Records per batch inference job for <model>" (docs/aws-facts.md#batch-quotas)."""
MIN_RECORDS_PER_JOB = 100
"""Default per-model quota "Minimum number of records per batch inference job for <model>"."""
DEFAULT_MAX_CONCURRENT_JOBS = 10
"""Default per-model quota "Sum of in-progress and submitted batch inference jobs using a base model"."""
INLINE_MAP_MAX_CONCURRENCY = 40
"""Step Functions runs at most 40 iterations of an inline Map state at once."""
JOB_TIMEOUT_HOURS = (24, 168)
"""`timeoutDurationInHours` accepted by CreateModelInvocationJob."""
SUBMIT_MARGIN_HOURS = 6
"""The Submit task waits this much longer than the job timeout before it gives up on a job."""
MAX_MODEL_ID_LENGTH = 2048
"""Bedrock `ModelIdentifier` (botocore `bedrock`)."""
MAX_PREFIX_LENGTH = 512
"""Key prefixes leave room under S3's 1,024-byte keys for the run, shard and file names appended."""
MAX_RETENTION_DAYS = 3650
MAX_DEFAULT_MAX_TOKENS = 1_000_000
"""Sanity limits of `work_retention_days` (ten years) and `default_max_tokens`."""
WORK_PREFIX = "runs/"
METRIC_NAMESPACE = "inferwise/BedrockBatch"

COLLECT_METRICS = (
    "ActualCostUSD",
    "OnDemandEquivalentCostUSD",
    "SavingsUSD",
    "RecordsIn",
    "Results",
    "ModelErrors",
    "InputTokens",
    "OutputTokens",
)
"""The metrics collect publishes after each run (namespace `METRIC_NAMESPACE`, dimension `Pipeline`)."""

_S3_PREFIX = re.compile(r"^[A-Za-z0-9!_.*'()/=+-]*$")


class SmallBatch(enum.Enum):
    """What a run does when it has fewer distinct records than `min_records_per_job` (Bedrock would reject the job)."""

    ON_DEMAND = "on_demand"
    """Send them through on-demand InvokeModel (at on-demand prices) and finish the run normally."""
    FAIL = "fail"
    """Quarantine them with reason `below_minimum_records`, write the error report and fail the run."""


@dataclass(frozen=True)
class BedrockModel:
    """A model id as the pipeline uses it: what the jobs name, what IAM must allow, what the prepare step builds.

    `model_id` is what was given (a foundation-model id, an inference profile id such as `us.anthropic...`
    or `global.anthropic...`, or an ARN of either); `foundation_model_id` is the model without profile
    prefix; `profile` is the profile's geography (`us`, `eu`, `global`, ...) or '' for an in-Region model.
    """

    model_id: str
    foundation_model_id: str
    family: ModelFamily
    profile: str
    arn: str | None = None

    @property
    def is_cross_region(self) -> bool:
        return self.profile != ""


def parse_model_id(model_id: object) -> BedrockModel:
    """Parse a model id, inference profile id or ARN; `ValueError` if it is none of the supported families."""
    check_text(
        "model_id",
        model_id,
        allowed="a non-empty Bedrock model id or inference profile id",
        max_length=MAX_MODEL_ID_LENGTH,
    )
    assert isinstance(model_id, str)
    text = model_id.strip()
    arn = BEDROCK_ARN.match(text)
    body = text
    if arn is not None:
        if arn.group("kind") == "application-inference-profile":
            raise InvalidValueError(
                f"model_id {model_id!r} is an application inference profile ARN, whose id does not say which model "
                "it runs (the pipeline needs the model for the request bodies, the prices and IAM): pass the model "
                "or system profile it copies as model_id and this ARN as inference_profile_arn"
            )
        if arn.group("kind") not in ("foundation-model", "inference-profile"):
            raise InvalidValueError(
                f"model_id {model_id!r} is a Bedrock {arn.group('kind')} ARN; pass a foundation-model or "
                "inference-profile id or ARN, which name the model the jobs run"
            )
        body = arn.group("id")
    profile = ""
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if body.startswith(prefix):
            profile, body = prefix[:-1], body[len(prefix) :]
            break
    for start, family in BATCH_MODEL_FAMILIES:
        if body.startswith(start):
            return BedrockModel(text, body, family, profile, text if arn is not None else None)
    raise InvalidValueError(
        f"model_id {model_id!r} is not a supported model family: BedrockBatchPipeline builds batch requests for "
        "anthropic (Anthropic Claude, 'anthropic.*'), nova (Amazon Nova, 'amazon.nova*'), llama (Meta Llama, "
        "'meta.llama*') and titan-embed (Amazon Titan Text Embeddings, 'amazon.titan-embed*') models, each "
        f"optionally through an inference profile ({', '.join(INFERENCE_PROFILE_PREFIXES)})"
    )


# ------------------------------------------------------------------------------------------ prop checks
def _check_int(
    name: str, value: object, low: int, high: int | None, why: str, cap: int | None = None
) -> None:
    allowed = f"an int in [{low:,}, {high:,}]" if high is not None else f"an int >= {low:,}"
    wrong_type = isinstance(value, bool) or not isinstance(value, int)
    if wrong_type or value < low or (high is not None and value > high):  # type: ignore[operator]
        error = InvalidTypeError if wrong_type else InvalidValueError
        raise error(f"{name} must be {allowed}, got {shown(value)}{why}")
    check_whole_number(name, value, low, high, cap=cap)


def validate_props(
    *,
    usage: object,
    records_per_job: object,
    min_records_per_job: object,
    max_concurrent_jobs: object,
    job_timeout_hours: object,
    small_batch: object,
    input_prefix: object,
    output_prefix: object,
    start_on_upload: object,
    work_retention_days: object,
    default_max_tokens: object,
) -> None:
    """`ValueError` naming the prop, the allowed values and why, for the first prop that is out of range."""
    if not isinstance(usage, BatchUsage):
        raise InvalidTypeError(f"usage must be a BatchUsage, got {shown(usage)}")
    _check_job_sizes(records_per_job, min_records_per_job, max_concurrent_jobs, job_timeout_hours)
    if not isinstance(small_batch, SmallBatch):
        raise InvalidTypeError(
            f"small_batch must be SmallBatch.ON_DEMAND or SmallBatch.FAIL, got {shown(small_batch)}"
        )
    for name, prefix in (("input_prefix", input_prefix), ("output_prefix", output_prefix)):
        if (
            not isinstance(prefix, str)
            or prefix.startswith("/")
            or not _S3_PREFIX.fullmatch(prefix)
            or len(prefix) > MAX_PREFIX_LENGTH
        ):
            error = InvalidValueError if isinstance(prefix, str) else InvalidTypeError
            raise error(
                f"{name} must be an S3 key prefix without a leading '/' (letters, digits and !_.*'()/=+-), "
                f"got {shown(prefix)}"
                + (
                    f" ({len(prefix):,} characters; at most {MAX_PREFIX_LENGTH})"
                    if isinstance(prefix, str) and len(prefix) > MAX_PREFIX_LENGTH
                    else ""
                )
            )
    check_bool("start_on_upload", start_on_upload)
    _check_int(
        "work_retention_days",
        work_retention_days,
        1,
        None,
        ": the lifecycle rule deletes a run's work files this many days after they are written",
        cap=MAX_RETENTION_DAYS,
    )
    _check_retention_outlives_jobs(work_retention_days, job_timeout_hours)
    _check_int("default_max_tokens", default_max_tokens, 1, None, "", cap=MAX_DEFAULT_MAX_TOKENS)


def min_retention_days(job_timeout_hours: int) -> int:
    """Days the work files must live: a shard's input until its job ends (the job timeout, plus the 6 h the
    Submit task waits longer), then a day for collect to read the outputs."""
    return math.ceil((job_timeout_hours + SUBMIT_MARGIN_HOURS) / 24) + 1


def _check_retention_outlives_jobs(work_retention_days: object, job_timeout_hours: object) -> None:
    assert isinstance(work_retention_days, int) and isinstance(job_timeout_hours, int)
    needed = min_retention_days(job_timeout_hours)
    if work_retention_days < needed:
        raise InvalidValueError(
            f"work_retention_days must be >= {needed} with job_timeout_hours={job_timeout_hours}, got "
            f"{work_retention_days}: the lifecycle rule would delete a shard's input while its job may still run "
            f"(a job runs up to job_timeout_hours, the Submit task waits {SUBMIT_MARGIN_HOURS} h more, collect "
            "reads the outputs afterwards; docs/aws-facts.md#batch-job-request). Raise work_retention_days or "
            "lower job_timeout_hours"
        )


def _check_job_sizes(
    records_per_job: object,
    min_records_per_job: object,
    max_concurrent_jobs: object,
    job_timeout_hours: object,
) -> None:
    """The per-job props, checked against Bedrock's per-model batch quotas and Step Functions' limits."""
    quotas = (
        "Bedrock's batch quotas are per model (Service Quotas, service code bedrock) and can be raised; "
        "set these props to match your quotas for the model"
    )
    _check_int(
        "min_records_per_job",
        min_records_per_job,
        MIN_RECORDS_PER_JOB,
        MAX_RECORDS_PER_JOB,
        f": a job with fewer records than the quota 'Minimum number of records per batch inference job for "
        f"<model>' (default {MIN_RECORDS_PER_JOB}) fails validation. {quotas}",
    )
    assert isinstance(min_records_per_job, int)
    _check_int(
        "records_per_job",
        records_per_job,
        min_records_per_job,
        MAX_RECORDS_PER_JOB,
        f" (from min_records_per_job to the default quota 'Records per batch inference job for <model>', "
        f"{MAX_RECORDS_PER_JOB:,}). {quotas}",
    )
    _check_int(
        "max_concurrent_jobs",
        max_concurrent_jobs,
        1,
        INLINE_MAP_MAX_CONCURRENCY,
        ": it caps the Map state's concurrency (an inline Map runs at most 40 iterations at once) and should "
        "not exceed the per-model quota 'Sum of in-progress and submitted batch inference jobs using a base "
        f"model for <model>' (default {DEFAULT_MAX_CONCURRENT_JOBS}; it can be raised)",
    )
    low, high = JOB_TIMEOUT_HOURS
    _check_int(
        "job_timeout_hours",
        job_timeout_hours,
        low,
        high,
        ": CreateModelInvocationJob accepts 24 to 168 hours",
    )


def storage_props(
    scope: Construct, *, input_bucket: object, output_bucket: object, encryption_key: object
) -> tuple[s3.IBucket | None, s3.IBucket | None, kms.IKey | None]:
    """The input and output buckets and the key, each None when not given.

    A bucket may be given as an `s3.IBucket`, a bucket name or a bucket ARN (imported with
    `s3.Bucket.from_bucket_name` / `from_bucket_arn`); an `s3://` URI is refused with the bucket name and prefix
    to pass instead. The key may be a `kms.IKey` or a key ARN (`kms.Key.from_key_arn`).
    """
    return (
        bucket_prop(scope, "input_bucket", input_bucket, "ImportedInputBucket"),
        bucket_prop(scope, "output_bucket", output_bucket, "ImportedOutputBucket"),
        key_prop(scope, "encryption_key", encryption_key, "ImportedKey"),
    )


def check_model_region(model: BedrockModel, scope: Construct) -> None:
    """A geographic inference profile must be of the stack's geography (an `eu.` profile cannot be called
    from a us-east-1 stack); `global.` and in-Region models work anywhere."""
    check_profile_region("model_id", model.model_id, cdk.Stack.of(scope).region)


# ------------------------------------------------------------------------------------- price catalogue
def check_batch_price(catalog: PriceCatalog, model: BedrockModel, region: str) -> None:
    """`ValueError` when the catalogue has no batch price for `model` in `region`.

    The message says whether batch inference is offered for the model at all (a batch price in any Region of
    the catalogue means it is; none anywhere means no batch price is known for it), names the batchable models
    of the same family in `region`, and how to add the missing batch prices.
    """
    try:
        if catalog.has_batch_price(model.model_id, region):
            return
        offered = [r for r in catalog.regions() if catalog.has_batch_price(model.model_id, r)]
        known = True
    except UnknownPriceError:
        offered, known = [], False
    family = _batch_models(catalog, region, model)
    how = (
        "through the global cross-Region profile, global.<id>"
        if model.profile == "global"
        else "in-Region or through a geographic profile such as us.<id>"
    )
    same_family = f"Batchable {model.family} models with a batch price in {region} ({how}): {', '.join(family) or 'none'}."
    if (
        known
        and model.profile != "global"
        and catalog.has_batch_price(f"global.{model.foundation_model_id}", region)
    ):
        same_family += (
            f" Its global cross-Region inference profile has a batch price in {region}: "
            f"global.{model.foundation_model_id}."
        )
    if offered:
        raise ValueError(
            f"model_id {model.model_id!r} has no batch price in {region}. Batch inference is offered for it: the "
            f"price catalogue has its batch price in {', '.join(offered)}. {same_family} To run it in {region}, add "
            f"its batch-input and batch-output prices for {region} to a price override file: "
            f"{_refresh_hint(model, region)}"
        )
    if known:
        reason = (
            "no Region of the price catalogue has a batch price for it, so no batch price is known for this "
            "model anywhere"
        )
    else:
        reason = (
            "the price catalogue does not know this model in any Region, so no batch price is known for it"
        )
    raise ValueError(
        f"model_id {model.model_id!r} has no batch price in {region}: {reason}. {same_family} If AWS supports batch "
        "inference for this model, add batch-input and batch-output prices with a price override (docs/prices.md)."
    )


def _refresh_hint(model: BedrockModel, region: str) -> str:
    from inferwise.cost.refresh.names import BEDROCK_MODEL_IDS

    target = 'name the file in cdk.json context "inferwise:prices" (docs/prices.md, When a price is missing)'
    if model.foundation_model_id in BEDROCK_MODEL_IDS:
        return (
            f"inferwise prices refresh --region {region} --services AmazonBedrock --model "
            f"{model.foundation_model_id} --output inferwise-prices.json, then {target}."
        )
    return f"write batch-input and batch-output records for {model.foundation_model_id} by hand and {target}."


def _batch_models(catalog: PriceCatalog, region: str, model: BedrockModel) -> list[str]:
    """The models of `model`'s family with a batch price in `region` for the same kind of profile.

    A `global.` model counts the global profile's batch rate; any other counts the in-Region rate.
    """
    starts = tuple(start for start, of in BATCH_MODEL_FAMILIES if of == model.family)
    prefix = "global." if model.profile == "global" else ""
    candidates = {
        r.sku for r in catalog.records(service=BEDROCK_SERVICE, region=region) if r.sku.startswith(starts)
    }
    return sorted(sku for sku in candidates if catalog.has_batch_price(prefix + sku, region))


def token_prices(catalog: PriceCatalog, model: BedrockModel, region: str) -> dict[str, str]:
    """The per-million-token prices collect needs to report what a run cost, from the catalogue."""
    prices = {
        "BATCH_INPUT_PRICE_PER_MTOK": "batch-input",
        "BATCH_OUTPUT_PRICE_PER_MTOK": "batch-output",
        "ON_DEMAND_INPUT_PRICE_PER_MTOK": "input",
        "ON_DEMAND_OUTPUT_PRICE_PER_MTOK": "output",
    }
    found = {}
    for variable, dimension in prices.items():
        if model.family == "titan-embed" and dimension.endswith("output"):
            found[variable] = "0"  # embedding models bill input tokens only
            continue
        found[variable] = str(catalog.bedrock(model.model_id, region, dimension).unit_price)
    return found
