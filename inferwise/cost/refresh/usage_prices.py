"""Usage-priced services the constructs price besides instances, tokens and Lambda: S3, CloudWatch (custom
metrics, standard alarms, Logs), SNS, SQS, KMS, DynamoDB on-demand, Step Functions Standard, EventBridge custom
events, EBS gp3, public IPv4 and Budgets.

Each `UsageQuery` is one `GetProducts` call per Region with exact `TERM_MATCH` filters (`regionCode` and the
attributes below). Each `UsagePrice` of the query then takes the one product whose `usagetype` is its usage type,
alone or after the Region's prefix (the billing code, `EUC1-`, or, for KMS, the Region code, `eu-central-1-`):
no product is an error naming the filters and the usage types that came back, two are an error naming both
SKUs. Every price dimension must carry an expected unit; all tiers are read.

Free tiers: a leading USD 0 tier the Price List states becomes the record's `free_quantity` (the catalogue
credits a free tier only when an estimate asks), except for Budgets, whose estimator reads the free
action-enabled budget-days as the record's leading tier, as the bundled record has it. Where the Price List
states no free tier, `free_quantity` is the account-wide allowance of the service's pricing page, as the
bundled us-east-1 record has it.

AWS Cost Explorer (the anomaly monitor and subscription are free, the API is priced per request) is not here:
no Price List product is used for it by the constructs, and its bundled records stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from inferwise.cost.records import PriceFile, PriceRecord, PriceTier
from inferwise.cost.refresh.documents import PriceListProduct, price_tiers
from inferwise.cost.refresh.errors import NoProductsError, PriceListError
from inferwise.cost.refresh.price_records import price_file_of, price_record
from inferwise.cost.refresh.query import Filter, describe_filters, fetch_products, term

BILLING_CODES: Mapping[str, str] = {
    "us-east-1": "USE1", "us-east-2": "USE2", "us-west-1": "USW1", "us-west-2": "USW2",
    "af-south-1": "AFS1", "ap-east-1": "APE1", "ap-south-1": "APS3", "ap-south-2": "APS5",
    "ap-southeast-1": "APS1", "ap-southeast-2": "APS2", "ap-southeast-3": "APS4", "ap-southeast-4": "APS6",
    "ap-northeast-1": "APN1", "ap-northeast-2": "APN2", "ap-northeast-3": "APN3", "ca-central-1": "CAN1",
    "eu-central-1": "EUC1", "eu-central-2": "EUC2", "eu-west-1": "EU", "eu-west-2": "EUW2", "eu-west-3": "EUW3",
    "eu-south-1": "EUS1", "eu-south-2": "EUS2", "eu-north-1": "EUN1", "il-central-1": "ILC1",
    "me-south-1": "MES1", "me-central-1": "MEC1", "sa-east-1": "SAE1",
}  # fmt: skip
"""The usage-type prefix of each Region (AWS "Region billing codes"); us-east-1 usage types mostly have none."""
_UNKNOWN_REGION_PREFIX = r"[A-Z]{2,4}[0-9]-"
"""A Region missing from the table: any billing-code-shaped prefix (letters then a digit, so `IA-` is not one)."""


@dataclass(frozen=True)
class UsagePrice:
    """One catalogue record and the Price List product it is read from.

    `usage_types`: the product's `usagetype` after the Region's prefix (one of them). `units`: each accepted
    Price List unit and how many of it make one record unit. `free_quantity`: the account-wide free allowance
    when the Price List states none. `keep_free_tier`: a leading USD 0 tier stays a tier. `may_be_free`: USD 0
    is the price (a standard budget), not a placeholder row.
    """

    service: str
    sku: str
    dimension: str
    usage_types: tuple[str, ...]
    units: Mapping[str, Decimal]
    unit: str
    free_quantity: Decimal | None = None
    keep_free_tier: bool = False
    may_be_free: bool = False


@dataclass(frozen=True)
class UsageQuery:
    """One `GetProducts` query (`service_code` and exact filters besides `regionCode`) and what it prices.

    `regional=False` is a global service (Price List location `Any`): no `regionCode` filter, and its records
    are written for the Region asked for.
    """

    service_code: str
    filters: tuple[tuple[str, str], ...]
    prices: tuple[UsagePrice, ...]
    regional: bool = True

    def query_filters(self, region: str) -> list[Filter]:
        region_filter = [term("regionCode", region)] if self.regional else []
        return [*region_filter, *(term(field, value) for field, value in self.filters)]


_ONE = Decimal(1)
_GB_MONTH = {"GB-Mo": _ONE}
_REQUESTS = {"Requests": _ONE}


def _price(service: str, sku: str, dimension: str, usage_type: str, units: Mapping[str, Decimal], unit: str,
           **options: Any) -> UsagePrice:  # fmt: skip
    return UsagePrice(service, sku, dimension, (usage_type,), units, unit, **options)


USAGE_QUERIES: Mapping[str, tuple[UsageQuery, ...]] = {
    "AmazonEC2": (
        UsageQuery("AmazonEC2", (("productFamily", "Storage"), ("volumeApiName", "gp3")), (
            _price("AmazonEC2", "gp3", "Storage", "EBS:VolumeUsage.gp3", _GB_MONTH, "GB-Mo"),
        )),
    ),
    "AmazonS3": (
        UsageQuery("AmazonS3", (("productFamily", "Storage"), ("storageClass", "General Purpose"),
                                ("volumeType", "Standard")), (
            _price("AmazonS3", "standard", "Storage", "TimedStorage-ByteHrs", _GB_MONTH, "GB-Mo"),
        )),
        UsageQuery("AmazonS3", (("productFamily", "API Request"), ("group", "S3-API-Tier1")), (
            _price("AmazonS3", "standard", "Tier1Requests", "Requests-Tier1", _REQUESTS, "Requests"),
        )),
        UsageQuery("AmazonS3", (("productFamily", "API Request"), ("group", "S3-API-Tier2")), (
            _price("AmazonS3", "standard", "Tier2Requests", "Requests-Tier2", _REQUESTS, "Requests"),
        )),
    ),
    "AmazonCloudWatch": (
        UsageQuery("AmazonCloudWatch", (("productFamily", "Metric"),), (
            _price("AmazonCloudWatch", "standard", "CustomMetric", "CW:MetricMonitorUsage", {"Metrics": _ONE},
                   "Metrics"),
        )),
        UsageQuery("AmazonCloudWatch", (("productFamily", "Alarm"), ("alarmType", "Standard")), (
            _price("AmazonCloudWatch", "standard", "StandardAlarm", "CW:AlarmMonitorUsage", {"Alarms": _ONE},
                   "Alarms", free_quantity=Decimal(10)),
        )),
        UsageQuery("AmazonCloudWatch", (("productFamily", "Data Payload"),), (
            _price("AmazonCloudWatch", "standard", "LogsIngestion", "DataProcessing-Bytes", {"GB": _ONE}, "GB",
                   free_quantity=Decimal(5)),
        )),
        UsageQuery("AmazonCloudWatch", (("productFamily", "Storage Snapshot"),), (
            _price("AmazonCloudWatch", "standard", "LogsStorage", "TimedStorage-ByteHrs", _GB_MONTH, "GB-Mo"),
        )),
    ),
    "AmazonSNS": (
        UsageQuery("AmazonSNS", (("productFamily", "API Request"), ("group", "SNS-Requests-Tier1")), (
            _price("AmazonSNS", "standard", "Requests", "Requests-Tier1", _REQUESTS, "Requests",
                   free_quantity=Decimal(1_000_000)),
        )),
    ),
    "AWSQueueService": (
        UsageQuery("AWSQueueService", (("productFamily", "API Request"), ("queueType", "Standard")), (
            UsagePrice("AWSQueueService", "standard", "Requests", ("Requests-RBP", "Requests-Tier1"), _REQUESTS,
                       "Requests"),
        )),
    ),
    "awskms": (
        UsageQuery("awskms", (("productFamily", "Encryption Key"),), (
            _price("awskms", "standard", "CustomerManagedKey", "KMS-Keys", {"Keys": _ONE}, "Keys"),
        )),
        UsageQuery("awskms", (("productFamily", "API Request"),), (
            _price("awskms", "standard", "SymmetricRequests", "KMS-Requests", _REQUESTS, "Requests",
                   free_quantity=Decimal(20_000)),
        )),
    ),
    "AmazonDynamoDB": (
        UsageQuery("AmazonDynamoDB", (("productFamily", "Amazon DynamoDB PayPerRequest Throughput"),), (
            _price("AmazonDynamoDB", "on-demand", "WriteRequestUnits", "WriteRequestUnits",
                   {"WriteRequestUnits": _ONE}, "Requests"),
            _price("AmazonDynamoDB", "on-demand", "ReadRequestUnits", "ReadRequestUnits",
                   {"ReadRequestUnits": _ONE}, "Requests"),
        )),
        UsageQuery("AmazonDynamoDB", (("productFamily", "Database Storage"),), (
            _price("AmazonDynamoDB", "on-demand", "Storage", "TimedStorage-ByteHrs", _GB_MONTH, "GB-Mo"),
        )),
    ),
    "AmazonStates": (
        UsageQuery("AmazonStates", (("productFamily", "AWS Step Functions"),), (
            _price("AmazonStates", "standard", "StateTransitions", "StateTransition",
                   {"StateTransitions": _ONE, "Transitions": _ONE}, "StateTransitions",
                   free_quantity=Decimal(4_000)),
        )),
    ),
    "AmazonEventBridge": (
        UsageQuery("AWSEvents", (("productFamily", "EventBridge"), ("eventType", "Custom Event")), (
            _price("AmazonEventBridge", "custom-events", "Events", "Event-64K-Chunks",
                   {"Events": _ONE, "64K-Chunks": _ONE}, "Events"),
        )),
    ),
    "AmazonVPC": (
        UsageQuery("AmazonVPC", (("group", "VPCPublicIPv4Address"),), (
            _price("AmazonVPC", "public-ipv4", "InUseAddress", "PublicIPv4:InUseAddress", {"Hrs": _ONE}, "Hrs"),
            _price("AmazonVPC", "public-ipv4", "IdleAddress", "PublicIPv4:IdleAddress", {"Hrs": _ONE}, "Hrs"),
        )),
    ),
    "AWSBudgets": (
        UsageQuery("AWSBudgets", (), regional=False, prices=(
            _price("AWSBudgets", "standard", "BudgetDays", "BudgetsUsage", {"Budget-days": _ONE}, "Budget-days",
                   may_be_free=True),
            _price("AWSBudgets", "standard", "ActionEnabledBudgetDays", "ActionEnabledBudgetsUsage",
                   {"Budget-days": _ONE}, "Budget-days", keep_free_tier=True),
            _price("AWSBudgets", "standard", "ReportDeliveries", "BudgetsReports", {"Message": _ONE}, "Message"),
        )),
    ),
}  # fmt: skip
"""Per catalogue service: the queries `refresh` makes for it (EC2 instances and Lambda are fetched elsewhere)."""


def usage_type_matches(usage_type: str, wanted: tuple[str, ...], region: str) -> bool:
    """Whether `usage_type` is one of `wanted`, alone or after the Region's prefix (billing code or Region code)."""
    code = BILLING_CODES.get(region)
    prefixes = ("", f"{region}-", f"{code}-") if code else ("", f"{region}-")
    if any(usage_type == prefix + suffix for prefix in prefixes for suffix in wanted):
        return True
    return code is None and any(
        re.fullmatch(_UNKNOWN_REGION_PREFIX + re.escape(suffix), usage_type) for suffix in wanted
    )


def _choose(products: list[PriceListProduct], spec: UsagePrice, region: str, where: str) -> PriceListProduct:
    """The one product whose usagetype is the spec's; none or two is an error naming what came back."""
    matching = [p for p in products if usage_type_matches(p.attr("usagetype"), spec.usage_types, region)]
    wanted = " or ".join(spec.usage_types)
    if not matching:
        seen = ", ".join(sorted({p.attr("usagetype") or "?" for p in products})) or "none"
        raise NoProductsError(
            f"no product with usagetype [<Region prefix>-]{wanted} among {where}; usagetypes: {seen}"
        )
    if len(matching) > 1:
        listed = ", ".join(f"{p.sku} ({p.attr('usagetype')})" for p in matching)
        raise PriceListError(
            f"{len(matching)} products with usagetype {wanted} among {where}, expected one: {listed}"
        )
    return matching[0]


def _tiers(product: PriceListProduct, spec: UsagePrice) -> tuple[tuple[PriceTier, ...], Decimal | None, str]:
    """The record's tiers and free quantity: a leading USD 0 tier becomes `free_quantity` unless kept."""
    parsed = price_tiers(product, spec.units)
    if parsed is None:
        if not spec.may_be_free:
            raise PriceListError(
                f"product {product.sku} ({product.attr('usagetype')}) is priced only at USD 0"
            )
        return (PriceTier(Decimal(0), None, Decimal(0)),), None, "priced at USD 0 in the Price List"
    tiers, _, description = parsed
    if spec.keep_free_tier or len(tiers) < 2 or tiers[0].usd != 0:
        return tiers, spec.free_quantity, description
    free = tiers[0].end
    merged = (replace(tiers[1], begin=Decimal(0)), *tiers[2:])
    return merged, free, description


def fetch_usage_prices(client: Any, region: str, service: str) -> PriceFile:
    """Every `USAGE_QUERIES[service]` record in `region`: one query each, one product per record."""
    pairs: list[tuple[PriceRecord, PriceListProduct]] = []
    for query in USAGE_QUERIES.get(service, ()):
        filters = query.query_filters(region)
        products = fetch_products(client, query.service_code, filters)
        where = f"the {len(products)} products matching {describe_filters(query.service_code, filters)}"
        if query.regional:
            strays = [p.sku for p in products if p.attr("regionCode") not in ("", region)]
            if strays:
                raise PriceListError(f"products {', '.join(strays)} are not in {region}, among {where}")
        for spec in query.prices:
            product = _choose(products, spec, region, where)
            tiers, free, description = _tiers(product, spec)
            scope = "" if query.regional else "global service (Price List location Any); "
            notes = (
                f"{scope}Price List {query.service_code} usagetype {product.attr('usagetype')}; {description}"
            )
            record = price_record(
                product, service=spec.service, sku=spec.sku, region=region, dimension=spec.dimension,
                unit=spec.unit, tiers=tiers, notes=notes.rstrip("; "), free_quantity=free,
            )  # fmt: skip
            pairs.append((record, product))
    return price_file_of(pairs)
