"""Rebuild price records from the AWS Price List Query API (`inferwise prices refresh`).

Every price comes from `pricing:GetProducts` (`FormatVersion="aws_v1"`) with exact `TERM_MATCH` filters, and
every answer is checked before it becomes a `PriceRecord`:

* a one-price query (an EC2 instance type, a SageMaker hosting instance, a Lambda price group) must return
  exactly one product: none is an error naming the filters, two or more an error naming the SKUs;
* a product must have exactly one OnDemand term, every price dimension must carry the expected unit, and
  *all* dimensions are read as tiers ordered by `beginRange` (`endRange` "Inf" is open-ended);
* a USD 0 dimension is kept only as the leading free tier of a paid tier; a product priced only at USD 0
  (e.g. a capacity-reservation row) is never taken as a price;
* Bedrock rows are classified one by one: batch rows (`batch` anywhere in usagetype, feature or
  inferenceType, any case) only ever fill the `batch-*` dimensions, custom-model, provisioned, flex,
  priority, long-context and media rows are left out, and two rows for the same dimension are an error;
* the usage-priced services (S3, CloudWatch, SNS, SQS, KMS, DynamoDB, Step Functions, EventBridge, EBS gp3,
  public IPv4, Budgets) take, per record, the one product of an exact query whose usagetype is the record's
  (`usage_prices`).

Records carry the product SKU, usagetype, operation, the document's `publicationDate` as `as_of`, and a
source key `aws-price-list-<serviceCode>-<date>` described in the returned `PriceFile`'s sources.

`refresh` (here) fetches what is asked for, one service at a time. The parts: `query` (client, filters,
`GetProducts` pages), `documents` (a `PriceList` element and its tiers), `price_records` (records and their
sources), one module per service (`instances`, `aws_lambda`, `bedrock` with `bedrock_models` and
`bedrock_rows`, `usage_prices` for the rest), `names` (the service names `--services` takes, the catalogue's)
and `price_files` (merging and writing). Everything importable from
`inferwise.cost.refresh` before the split still is, from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from inferwise.cost.records import PriceFile
from inferwise.cost.refresh.aws_lambda import (
    LAMBDA_ARCHITECTURES,
    LAMBDA_FREE_TIER_NOTE,
    LAMBDA_PRICES,
    fetch_lambda,
    lambda_filters,
)
from inferwise.cost.refresh.bedrock import (
    BEDROCK_UNIT,
    GLOBAL_DIMENSION_PREFIX,
    bedrock_filters,
    fetch_bedrock_model,
)
from inferwise.cost.refresh.bedrock_models import (
    BEDROCK_MARKETPLACE_SERVICE_CODE,
    BEDROCK_MODELS,
    BEDROCK_SERVICE_CODE,
    MARKETPLACE_SUFFIX,
    BedrockModel,
)
from inferwise.cost.refresh.bedrock_rows import classify_bedrock_row, classify_marketplace_row
from inferwise.cost.refresh.documents import PriceListProduct, parse_price_list_item
from inferwise.cost.refresh.errors import NoProductsError, PriceListError, Warn
from inferwise.cost.refresh.instances import (
    DEFAULT_EC2_INSTANCE_TYPES,
    DEFAULT_SAGEMAKER_INSTANCE_TYPES,
    ec2_filters,
    fetch_ec2_on_demand,
    fetch_sagemaker_hosting,
    sagemaker_filters,
)
from inferwise.cost.refresh.names import LEGACY_NAMES, SERVICES, service_name
from inferwise.cost.refresh.price_files import (
    BUNDLED_DIR,
    combine_price_files,
    merge_price_files,
    summarize,
    write_bundled,
    write_override_file,
)
from inferwise.cost.refresh.price_records import PRICE_LIST_URL, SOURCE_PREFIX
from inferwise.cost.refresh.query import (
    FORMAT_VERSION,
    MAX_PAGES,
    MAX_RESULTS,
    PRICING_REGION,
    Filter,
    check_region,
    fetch_products,
    make_pricing_client,
)
from inferwise.cost.refresh.usage_prices import (
    BILLING_CODES,
    USAGE_QUERIES,
    UsagePrice,
    UsageQuery,
    fetch_usage_prices,
    usage_type_matches,
)


@dataclass(frozen=True)
class _Selection:
    """What one refresh fetches in every region, and whether each list was asked for by name.

    An item asked for by name that a region does not sell is an error; a default item is skipped.
    """

    services: list[str]
    ec2_types: list[str]
    sagemaker_types: list[str]
    bedrock_models: list[str]
    explicit_types: bool
    explicit_models: bool
    explicit_services: bool = False


def _select(
    services: Iterable[str], instance_types: Sequence[str] | None, models: Sequence[str] | None
) -> _Selection:
    """The services, instance types and models to fetch: the ones named (checked), else the defaults."""
    try:
        wanted = list(dict.fromkeys(service_name(s) for s in services))
    except ValueError as bad:
        raise PriceListError(str(bad)) from None
    if models is not None:
        missing = [m for m in models if m not in BEDROCK_MODELS]
        if missing:
            raise PriceListError(
                f"unknown Bedrock model {missing[0]!r}; supported: {', '.join(sorted(BEDROCK_MODELS))}"
            )
    # The defaults are looked up in this package when called, so replacing them here (as tests do) works.
    ec2_types = (
        [t for t in instance_types if not t.startswith("ml.")] if instance_types is not None
        else list(DEFAULT_EC2_INSTANCE_TYPES)
    )  # fmt: skip
    sagemaker_types = (
        [t for t in instance_types if t.startswith("ml.")] if instance_types is not None
        else list(DEFAULT_SAGEMAKER_INSTANCE_TYPES)
    )  # fmt: skip
    return _Selection(
        services=wanted,
        ec2_types=ec2_types,
        sagemaker_types=sagemaker_types,
        bedrock_models=list(models) if models is not None else list(BEDROCK_MODELS),
        explicit_types=instance_types is not None,
        explicit_models=models is not None,
        explicit_services=set(wanted) != set(SERVICES),
    )


def _fetch_region(client: Any, region: str, selection: _Selection, warn: Warn | None) -> list[PriceFile]:
    """Every selected price in one region, service by service; a default item not sold there is skipped."""

    def skip(what: str, bad: NoProductsError, *, explicit: bool) -> None:
        if explicit:
            raise bad
        if warn is not None:
            warn(f"{what}: not in the Price List for this region, skipped ({bad})")

    files: list[PriceFile] = []
    for service in selection.services:
        if service == "AmazonEC2":
            for instance_type in dict.fromkeys(selection.ec2_types):
                try:
                    files.append(fetch_ec2_on_demand(client, region, instance_type))
                except NoProductsError as bad:
                    skip(f"EC2 {instance_type} in {region}", bad, explicit=selection.explicit_types)
        elif service == "AmazonSageMaker":
            for instance_name in dict.fromkeys(selection.sagemaker_types):
                try:
                    files.append(fetch_sagemaker_hosting(client, region, instance_name))
                except NoProductsError as bad:
                    skip(f"SageMaker {instance_name} in {region}", bad, explicit=selection.explicit_types)
        elif service == "AmazonBedrock":
            for model_id in dict.fromkeys(selection.bedrock_models):
                try:
                    files.append(fetch_bedrock_model(client, region, model_id, warn=warn))
                except NoProductsError as bad:
                    skip(f"Bedrock {model_id} in {region}", bad, explicit=selection.explicit_models)
        elif service == "AWSLambda":
            for architecture in LAMBDA_ARCHITECTURES:
                files.append(fetch_lambda(client, region, architecture))
        if service in USAGE_QUERIES:
            try:
                files.append(fetch_usage_prices(client, region, service))
            except NoProductsError as bad:
                skip(f"{service} in {region}", bad, explicit=selection.explicit_services)
    return files


def refresh(
    *,
    regions: Sequence[str],
    services: Iterable[str] = SERVICES,
    instance_types: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    client: Any = None,
    warn: Warn | None = None,
) -> PriceFile:
    """Fetch fresh prices for the regions and services asked for and return them as one `PriceFile`.

    `instance_types` (EC2 types and `ml.*` SageMaker types) and `models` (Bedrock model ids) limit what is
    fetched; without them the defaults are (`DEFAULT_EC2_INSTANCE_TYPES`, `DEFAULT_SAGEMAKER_INSTANCE_TYPES`,
    every model in `BEDROCK_MODELS`). Something asked for by name that the Price List does not sell in a
    region is an error; a default item that is not sold there is skipped and reported through `warn`.
    """
    if not regions:
        raise PriceListError("give at least one region")
    for region in regions:
        check_region(region)
    selection = _select(services, instance_types, models)
    if client is None:
        client = make_pricing_client()
    files = [
        price_file for region in regions for price_file in _fetch_region(client, region, selection, warn)
    ]
    result = combine_price_files(files)
    if not result.records:
        raise PriceListError(
            "nothing was refreshed: the filters selected no price (check --service/--instance-type)"
        )
    return result


__all__ = [
    "BEDROCK_MARKETPLACE_SERVICE_CODE",
    "BEDROCK_MODELS",
    "BEDROCK_SERVICE_CODE",
    "BEDROCK_UNIT",
    "BILLING_CODES",
    "BUNDLED_DIR",
    "DEFAULT_EC2_INSTANCE_TYPES",
    "DEFAULT_SAGEMAKER_INSTANCE_TYPES",
    "FORMAT_VERSION",
    "GLOBAL_DIMENSION_PREFIX",
    "LAMBDA_ARCHITECTURES",
    "LAMBDA_FREE_TIER_NOTE",
    "LAMBDA_PRICES",
    "LEGACY_NAMES",
    "MARKETPLACE_SUFFIX",
    "MAX_PAGES",
    "MAX_RESULTS",
    "PRICE_LIST_URL",
    "PRICING_REGION",
    "SERVICES",
    "SOURCE_PREFIX",
    "USAGE_QUERIES",
    "BedrockModel",
    "Filter",
    "NoProductsError",
    "PriceListError",
    "PriceListProduct",
    "UsagePrice",
    "UsageQuery",
    "Warn",
    "bedrock_filters",
    "check_region",
    "classify_bedrock_row",
    "classify_marketplace_row",
    "ec2_filters",
    "fetch_bedrock_model",
    "fetch_ec2_on_demand",
    "fetch_lambda",
    "fetch_products",
    "fetch_sagemaker_hosting",
    "fetch_usage_prices",
    "lambda_filters",
    "make_pricing_client",
    "merge_price_files",
    "parse_price_list_item",
    "refresh",
    "sagemaker_filters",
    "service_name",
    "summarize",
    "usage_type_matches",
    "write_bundled",
    "write_override_file",
]
