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
  priority, long-context and media rows are left out, and two rows for the same dimension are an error.

Records carry the product SKU, usagetype, operation, the document's `publicationDate` as `as_of`, and a
source key `aws-price-list-<serviceCode>-<date>` described in the returned `PriceFile`'s sources.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from inferwise.cost.records import PriceFile, PriceFileError, PriceRecord, PriceTier, Source

PRICING_REGION = "us-east-1"
"""The Price List Query API endpoint region used for every call."""

PRICE_LIST_URL = "https://pricing.us-east-1.amazonaws.com"
FORMAT_VERSION = "aws_v1"
MAX_RESULTS = 100
MAX_PAGES = 200
SOURCE_PREFIX = "aws-price-list-"
BUNDLED_DIR = Path(__file__).resolve().parent / "prices"

SERVICES: tuple[str, ...] = ("ec2", "sagemaker", "bedrock", "lambda")
"""What `refresh` can fetch, in the order it fetches them (the CLI's `--service` choices)."""

Filter = dict[str, str]
Warn = Callable[[str], None]


class PriceListError(ValueError):
    """The Price List did not answer the way a price needs: no product, several, a wrong unit, ..."""


class NoProductsError(PriceListError):
    """A query matched no product (the thing is not sold in that region, or a filter value is wrong)."""


def _boto3() -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3


def make_pricing_client() -> Any:
    """The boto3 `pricing` client every refresh uses unless one is injected."""
    return _boto3().client("pricing", region_name=PRICING_REGION)


# ---------------------------------------------------------------------------------------------------------
# What is fetched by default and how Bedrock model ids map onto the Price List
# ---------------------------------------------------------------------------------------------------------

DEFAULT_EC2_INSTANCE_TYPES: tuple[str, ...] = (
    "inf2.xlarge", "inf2.8xlarge", "inf2.24xlarge", "inf2.48xlarge", "trn1.2xlarge",
    "g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g6.xlarge", "g6e.xlarge", "p4d.24xlarge", "p5.48xlarge",
    "c7g.xlarge", "c7g.2xlarge", "c7g.4xlarge", "m7g.xlarge", "m7g.2xlarge", "c8g.xlarge", "r7g.xlarge",
    "c7i.xlarge", "m7i.xlarge",
)  # fmt: skip

DEFAULT_SAGEMAKER_INSTANCE_TYPES: tuple[str, ...] = (
    "ml.g5.xlarge", "ml.g5.2xlarge", "ml.g5.12xlarge", "ml.g6.xlarge", "ml.g6.2xlarge", "ml.g6e.xlarge",
    "ml.g6e.2xlarge", "ml.inf2.xlarge", "ml.inf2.8xlarge", "ml.m5.xlarge", "ml.c7g.xlarge",
    "ml.p4d.24xlarge", "ml.p5.48xlarge",
)  # fmt: skip

BEDROCK_SERVICE_CODE = "AmazonBedrock"
BEDROCK_MARKETPLACE_SERVICE_CODE = "AmazonBedrockFoundationModels"
MARKETPLACE_SUFFIX = " (Amazon Bedrock Edition)"


@dataclass(frozen=True)
class BedrockModel:
    """Where the Price List sells one Bedrock model.

    `field`/`value` is the attribute the query matches exactly: `model` for `AmazonBedrock`, `servicename`
    for `AmazonBedrockFoundationModels`. `checked` is False for values seen in only one third-party source.
    """

    model_id: str
    service_code: str
    field: str
    value: str
    checked: bool


def _first_party(model_id: str, model: str, *, checked: bool) -> BedrockModel:
    return BedrockModel(model_id, BEDROCK_SERVICE_CODE, "model", model, checked)


def _marketplace(model_id: str, name: str, *, checked: bool) -> BedrockModel:
    return BedrockModel(
        model_id, BEDROCK_MARKETPLACE_SERVICE_CODE, "servicename", name + MARKETPLACE_SUFFIX, checked
    )


BEDROCK_MODELS: Mapping[str, BedrockModel] = {
    m.model_id: m
    for m in (
        # AmazonBedrock, `model` attribute (unit `1K tokens`).
        _first_party("amazon.nova-micro-v1:0", "Nova Micro", checked=True),
        _first_party("amazon.nova-lite-v1:0", "Nova Lite", checked=True),
        _first_party("amazon.nova-pro-v1:0", "Nova Pro", checked=True),
        _first_party("amazon.nova-premier-v1:0", "Nova Premier", checked=True),
        _first_party("meta.llama3-1-8b-instruct-v1:0", "Llama 3.1 8B", checked=False),
        _first_party("meta.llama3-1-70b-instruct-v1:0", "Llama 3.1 70B", checked=True),
        _first_party("meta.llama3-3-70b-instruct-v1:0", "Llama 3.3 70B", checked=False),
        _first_party("meta.llama3-8b-instruct-v1:0", "Llama 3 8B", checked=False),
        _first_party("meta.llama3-70b-instruct-v1:0", "Llama 3 70B", checked=False),
        _first_party("mistral.mistral-large-2402-v1:0", "Mistral Large", checked=False),
        _first_party("mistral.mistral-small-2402-v1:0", "Mistral Small", checked=False),
        _first_party("mistral.mistral-7b-instruct-v0:2", "Mistral 7B", checked=False),
        _first_party("mistral.mixtral-8x7b-instruct-v0:1", "Mixtral 8x7B", checked=False),
        # AmazonBedrockFoundationModels, `servicename` attribute (unit `Units` = per 1M tokens).
        _marketplace("anthropic.claude-sonnet-4-6", "Claude Sonnet 4.6", checked=True),
        _marketplace("anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", checked=True),
        _marketplace("anthropic.claude-haiku-4-5-20251001-v1:0", "Claude Haiku 4.5", checked=True),
        _marketplace("anthropic.claude-opus-4-5-20251101-v1:0", "Claude Opus 4.5", checked=True),
        _marketplace("anthropic.claude-opus-4-6-v1", "Claude Opus 4.6", checked=True),
        _marketplace("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude 3.5 Haiku", checked=True),
        _marketplace("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4", checked=False),
        _marketplace("anthropic.claude-opus-4-1-20250805-v1:0", "Claude Opus 4.1", checked=False),
        _marketplace("anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude 3.7 Sonnet", checked=False),
    )
}

BEDROCK_DIMENSIONS: tuple[str, ...] = (
    "input", "output", "batch-input", "batch-output", "cache-read", "cache-write-5m", "cache-write-1h",
)  # fmt: skip
BEDROCK_UNIT = "1M tokens"
GLOBAL_DIMENSION_PREFIX = "global:"
"""Rates for the `global.` cross-Region inference profile: dimension `global:input`, same sku."""

LAMBDA_ARCHITECTURES: tuple[str, ...] = ("x86_64", "arm64")


@dataclass(frozen=True)
class _LambdaPrice:
    dimension: str
    group: str
    usage_type: str
    units: Mapping[str, Decimal]
    unit: str
    free_quantity: Decimal


# Price List `group` and usagetype (after an optional region prefix such as `USW2-`) per record.
LAMBDA_PRICES: Mapping[tuple[str, str], _LambdaPrice] = {
    ("x86_64", "Requests"): _LambdaPrice(
        "Requests", "AWS-Lambda-Requests", "Request", {"Requests": Decimal(1)}, "Requests", Decimal(1_000_000)
    ),
    ("x86_64", "Duration"): _LambdaPrice(
        "Duration", "AWS-Lambda-Duration", "Lambda-GB-Second",
        {"Lambda-GB-Second": Decimal(1), "Second": Decimal(1)}, "GB-Seconds", Decimal(400_000),
    ),
    ("arm64", "Requests"): _LambdaPrice(
        "Requests", "AWS-Lambda-Requests-ARM", "Request-ARM", {"Requests": Decimal(1)}, "Requests",
        Decimal(1_000_000),
    ),
    ("arm64", "Duration"): _LambdaPrice(
        "Duration", "AWS-Lambda-Duration-ARM", "Lambda-GB-Second-ARM",
        {"Lambda-GB-Second": Decimal(1), "Second": Decimal(1)}, "GB-Seconds", Decimal(400_000),
    ),
}  # fmt: skip
LAMBDA_FREE_TIER_NOTE = (
    "free_quantity is the monthly account-wide Lambda free tier (1M requests, 400,000 GB-s) from the "
    "AWS Lambda pricing page; it is not in the Price List"
)


@functools.lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    session = _boto3().session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return frozenset(regions)


_REGION_SHAPE = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-\d+$")


def check_region(region: str) -> None:
    """Raise `PriceListError` unless `region` is a region code botocore knows, e.g. `us-east-1`."""
    if not _REGION_SHAPE.match(region):
        raise PriceListError(f"bad region {region!r}: expected a region code such as us-east-1")
    known = _known_regions()
    if known and region not in known:
        raise PriceListError(f"unknown region {region!r}; botocore knows {', '.join(sorted(known))}")


# ---------------------------------------------------------------------------------------------------------
# Filters (exact TERM_MATCH, PRICES.md §5)
# ---------------------------------------------------------------------------------------------------------


def _term(field: str, value: str) -> Filter:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def ec2_filters(region: str, instance_type: str) -> list[Filter]:
    """Linux, shared-tenancy, on-demand, used-capacity, no pre-installed software (the Karpenter set)."""
    return [
        _term("regionCode", region),
        _term("instanceType", instance_type),
        _term("operatingSystem", "Linux"),
        _term("tenancy", "Shared"),
        _term("preInstalledSw", "NA"),
        _term("licenseModel", "No License required"),
        _term("capacitystatus", "Used"),
        _term("marketoption", "OnDemand"),
    ]


def sagemaker_filters(region: str, instance_name: str) -> list[Filter]:
    """Real-time hosting only: `component=Hosting` leaves out the Studio/notebook rows of the same name."""
    return [_term("regionCode", region), _term("component", "Hosting"), _term("instanceName", instance_name)]


def bedrock_filters(region: str, model: BedrockModel) -> list[Filter]:
    return [_term("regionCode", region), _term(model.field, model.value)]


def lambda_filters(region: str, group: str) -> list[Filter]:
    return [_term("regionCode", region), _term("group", group)]


def _describe_filters(service_code: str, filters: Sequence[Filter]) -> str:
    return f"ServiceCode={service_code} " + " ".join(f"{f['Field']}={f['Value']!r}" for f in filters)


# ---------------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceListProduct:
    """One parsed `PriceList` element: a product, its OnDemand terms and the document's publication date."""

    sku: str
    service_code: str
    product_family: str
    attributes: Mapping[str, str]
    on_demand: Mapping[str, Any]
    publication_date: date

    def attr(self, name: str) -> str:
        return self.attributes.get(name, "")


def parse_price_list_item(item: str | Mapping[str, Any]) -> PriceListProduct:
    """Parse one `PriceList` element (a JSON string in the API response; a mapping is accepted too)."""
    try:
        doc = json.loads(item) if isinstance(item, str) else item
    except json.JSONDecodeError as bad:
        raise PriceListError(f"a PriceList element is not JSON: {bad}") from None
    if not isinstance(doc, Mapping):
        raise PriceListError("a PriceList element is not a JSON object")
    product = doc.get("product")
    if not isinstance(product, Mapping) or not isinstance(product.get("sku"), str):
        raise PriceListError("a PriceList element has no product.sku")
    sku = product["sku"]
    attributes = product.get("attributes")
    if not isinstance(attributes, Mapping):
        raise PriceListError(f"product {sku} has no attributes")
    terms = doc.get("terms")
    on_demand = terms.get("OnDemand", {}) if isinstance(terms, Mapping) else {}
    if not isinstance(on_demand, Mapping):
        raise PriceListError(f"product {sku}: terms.OnDemand is not an object")
    published = doc.get("publicationDate")
    if not isinstance(published, str):
        raise PriceListError(f"product {sku} has no publicationDate")
    try:
        publication_date = datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        raise PriceListError(
            f"product {sku}: publicationDate {published!r} is not an ISO timestamp"
        ) from None
    service_code = doc.get("serviceCode") or attributes.get("servicecode", "")
    return PriceListProduct(
        sku=sku,
        service_code=str(service_code),
        product_family=str(product.get("productFamily", "")),
        attributes={str(k): str(v) for k, v in attributes.items()},
        on_demand=on_demand,
        publication_date=publication_date,
    )


def fetch_products(client: Any, service_code: str, filters: Sequence[Filter]) -> list[PriceListProduct]:
    """Every product `GetProducts` returns for the filters, following `NextToken` to the last page."""
    products: list[PriceListProduct] = []
    token: str | None = None
    seen_tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {
            "ServiceCode": service_code,
            "Filters": [dict(f) for f in filters],
            "FormatVersion": FORMAT_VERSION,
            "MaxResults": MAX_RESULTS,
        }
        if token is not None:
            request["NextToken"] = token
        page = client.get_products(**request)
        if page.get("FormatVersion", FORMAT_VERSION) != FORMAT_VERSION:
            raise PriceListError(f"GetProducts answered FormatVersion {page.get('FormatVersion')!r}")
        for item in page.get("PriceList", []):
            product = parse_price_list_item(item)
            if product.service_code != service_code:
                raise PriceListError(
                    f"asked {service_code} but product {product.sku} belongs to {product.service_code!r}"
                )
            products.append(product)
        token = page.get("NextToken") or None
        if token is None:
            return products
        if token in seen_tokens:
            raise PriceListError(f"GetProducts repeated NextToken {token!r} for {service_code}")
        seen_tokens.add(token)
    raise PriceListError(
        f"GetProducts for {_describe_filters(service_code, filters)} exceeded {MAX_PAGES} pages"
    )


def _exactly_one(
    products: Sequence[PriceListProduct], service_code: str, filters: Sequence[Filter]
) -> PriceListProduct:
    if not products:
        raise NoProductsError(f"no product matches {_describe_filters(service_code, filters)}")
    if len(products) > 1:
        listed = ", ".join(f"{p.sku} ({p.attr('usagetype') or '?'})" for p in products)
        raise PriceListError(
            f"{len(products)} products match {_describe_filters(service_code, filters)}, "
            f"expected exactly one: {listed}"
        )
    return products[0]


# ---------------------------------------------------------------------------------------------------------
# Terms, dimensions and tiers
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dimension:
    unit: str
    begin: Decimal
    end: Decimal | None
    usd: Decimal
    description: str


def _decimal(value: Any, what: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise PriceListError(f"{what} is not a number: {value!r}") from None
    if not result.is_finite():
        raise PriceListError(f"{what} is not a finite number: {value!r}")
    return result


def _tidy(value: Decimal) -> Decimal:
    """Drop trailing zeros without turning whole numbers into exponent form (6000000000, not 6E+9)."""
    tidy = value.normalize()
    exponent = tidy.as_tuple().exponent
    return tidy.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else tidy


def _on_demand_dimensions(product: PriceListProduct) -> list[_Dimension]:
    """The price dimensions of the product's single OnDemand term, ordered by beginRange."""
    terms = list(product.on_demand.values())
    if len(terms) != 1:
        raise PriceListError(f"product {product.sku} has {len(terms)} OnDemand terms, expected exactly one")
    term = terms[0]
    raw = term.get("priceDimensions") if isinstance(term, Mapping) else None
    if not isinstance(raw, Mapping) or not raw:
        raise PriceListError(f"product {product.sku}: its OnDemand term has no priceDimensions")
    dimensions: list[_Dimension] = []
    for rate_code, dim in raw.items():
        where = f"product {product.sku} rate {rate_code}"
        if not isinstance(dim, Mapping):
            raise PriceListError(f"{where} is not an object")
        prices = dim.get("pricePerUnit")
        if not isinstance(prices, Mapping) or "USD" not in prices:
            raise PriceListError(f"{where} has no USD price (pricePerUnit={prices!r})")
        end = dim.get("endRange", "Inf")
        dimensions.append(
            _Dimension(
                unit=str(dim.get("unit", "")),
                begin=_decimal(dim.get("beginRange", "0"), f"{where} beginRange"),
                end=None if end in ("Inf", None) else _decimal(end, f"{where} endRange"),
                usd=_decimal(prices["USD"], f"{where} USD price"),
                description=str(dim.get("description", "")),
            )
        )
    return sorted(dimensions, key=lambda d: d.begin)


def _tiers(
    product: PriceListProduct, units: Mapping[str, Decimal]
) -> tuple[tuple[PriceTier, ...], str, str] | None:
    """(tiers converted to the record's unit, the Price List unit, the first paid row's description).

    `units` maps each accepted Price List unit to how many of them make one record unit (1000 for `1K tokens`
    priced per `1M tokens`). Returns None when every row is USD 0 (not a price). A USD 0 row is kept only as
    the leading free tier before a paid tier.
    """
    dimensions = _on_demand_dimensions(product)
    found = {d.unit for d in dimensions}
    unexpected = found - set(units)
    if unexpected:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) is priced per {sorted(unexpected)[0]!r}, "
            f"expected {' or '.join(repr(u) for u in units)}"
        )
    if len(found) > 1:
        raise PriceListError(f"product {product.sku} mixes units {sorted(found)} across its price dimensions")
    if all(d.usd == 0 for d in dimensions):
        return None
    for index, dim in enumerate(dimensions):
        if dim.usd == 0 and index != 0:
            raise PriceListError(
                f"product {product.sku}: a USD 0 tier from {dim.begin} is not a leading free tier; "
                "refusing it"
            )
    unit = dimensions[0].unit
    factor = units[unit]
    tiers = tuple(
        PriceTier(
            begin=_tidy(d.begin / factor),
            end=None if d.end is None else _tidy(d.end / factor),
            usd=_tidy(d.usd * factor),
        )
        for d in dimensions
    )
    paid = next(d for d in dimensions if d.usd != 0)
    return tiers, unit, paid.description


def _source_key(product: PriceListProduct) -> str:
    return f"{SOURCE_PREFIX}{product.service_code}-{product.publication_date.isoformat()}"


def _source(product: PriceListProduct) -> Source:
    return Source(
        key=_source_key(product),
        title=f"AWS Price List Query API ({product.service_code})",
        url=PRICE_LIST_URL,
        as_of=product.publication_date,
    )


def _record(
    product: PriceListProduct,
    *,
    service: str,
    sku: str,
    region: str,
    dimension: str,
    unit: str,
    tiers: tuple[PriceTier, ...],
    notes: str,
    free_quantity: Decimal | None = None,
) -> PriceRecord:
    try:
        return PriceRecord(
            service=service,
            sku=sku,
            region=region,
            dimension=dimension,
            unit=unit,
            tiers=tiers,
            source=_source_key(product),
            as_of=product.publication_date,
            confidence="high",
            usage_type=product.attr("usagetype"),
            operation=product.attr("operation"),
            price_list_sku=product.sku,
            free_quantity=free_quantity,
            notes=notes,
        )
    except PriceFileError as bad:
        raise PriceListError(f"product {product.sku}: {bad}") from None


def _price_file(pairs: Iterable[tuple[PriceRecord, PriceListProduct]]) -> PriceFile:
    records: list[PriceRecord] = []
    sources: dict[str, Source] = {}
    for record, product in pairs:
        records.append(record)
        sources[record.source] = _source(product)
    return PriceFile(records=tuple(records), sources=sources)


def _expect_attribute(product: PriceListProduct, name: str, expected: str) -> None:
    if product.attr(name) != expected:
        raise PriceListError(
            f"product {product.sku}: {name} is {product.attr(name)!r}, expected {expected!r}"
        )


def _expect_usage_type(product: PriceListProduct, suffix: str) -> None:
    """usagetype must be `suffix`, optionally after a region prefix such as `USW2-` (checked, never built)."""
    if not re.fullmatch(rf"(?:[A-Z0-9]+-)?{re.escape(suffix)}", product.attr("usagetype")):
        raise PriceListError(
            f"product {product.sku}: usagetype {product.attr('usagetype')!r} "
            f"is not [<region prefix>-]{suffix}"
        )


# ---------------------------------------------------------------------------------------------------------
# One service at a time
# ---------------------------------------------------------------------------------------------------------

_HRS = {"Hrs": Decimal(1)}


def fetch_ec2_on_demand(client: Any, region: str, instance_type: str) -> PriceFile:
    """The Linux on-demand hourly price of one EC2 instance type (`AmazonEC2/<type>/<region>/OnDemand`)."""
    filters = ec2_filters(region, instance_type)
    product = _exactly_one(fetch_products(client, "AmazonEC2", filters), "AmazonEC2", filters)
    for check in filters:
        _expect_attribute(product, check["Field"], check["Value"])
    parsed = _tiers(product, _HRS)
    if parsed is None:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) for {instance_type} in {region} "
            "is priced only at USD 0 (a reservation or placeholder row), not an on-demand price"
        )
    _expect_usage_type(product, f"BoxUsage:{instance_type}")
    tiers, _, description = parsed
    record = _record(
        product, service="AmazonEC2", sku=instance_type, region=region, dimension="OnDemand", unit="Hrs",
        tiers=tiers, notes=description,
    )  # fmt: skip
    return _price_file([(record, product)])


def fetch_sagemaker_hosting(client: Any, region: str, instance_name: str) -> PriceFile:
    """The real-time hosting hourly price of one `ml.*` type (`AmazonSageMaker/<type>/<region>/Hosting`)."""
    filters = sagemaker_filters(region, instance_name)
    product = _exactly_one(fetch_products(client, "AmazonSageMaker", filters), "AmazonSageMaker", filters)
    _expect_attribute(product, "instanceName", instance_name)
    parsed = _tiers(product, _HRS)
    if parsed is None:
        raise PriceListError(
            f"product {product.sku} ({product.attr('usagetype')}) for {instance_name} in {region} "
            "is priced only at USD 0, not a hosting price"
        )
    _expect_usage_type(product, f"Host:{instance_name}")
    tiers, _, description = parsed
    record = _record(
        product, service="AmazonSageMaker", sku=instance_name, region=region, dimension="Hosting", unit="Hrs",
        tiers=tiers, notes=description,
    )  # fmt: skip
    return _price_file([(record, product)])


def fetch_lambda(client: Any, region: str, architecture: str) -> PriceFile:
    """Lambda `Requests` and tiered `Duration` (GB-seconds) for one architecture (`x86_64` or `arm64`)."""
    pairs: list[tuple[PriceRecord, PriceListProduct]] = []
    for (arch, _dimension), spec in LAMBDA_PRICES.items():
        if arch != architecture:
            continue
        filters = lambda_filters(region, spec.group)
        product = _exactly_one(fetch_products(client, "AWSLambda", filters), "AWSLambda", filters)
        _expect_attribute(product, "group", spec.group)
        _expect_usage_type(product, spec.usage_type)
        parsed = _tiers(product, spec.units)
        if parsed is None:
            raise PriceListError(
                f"product {product.sku} ({product.attr('usagetype')}) is priced only at USD 0"
            )
        tiers, _, description = parsed
        record = _record(
            product, service="AWSLambda", sku=architecture, region=region, dimension=spec.dimension,
            unit=spec.unit, tiers=tiers, free_quantity=spec.free_quantity,
            notes=f"{description}; {LAMBDA_FREE_TIER_NOTE}" if description else LAMBDA_FREE_TIER_NOTE,
        )  # fmt: skip
        pairs.append((record, product))
    if not pairs:
        raise PriceListError(
            f"unknown Lambda architecture {architecture!r}; known: {', '.join(LAMBDA_ARCHITECTURES)}"
        )
    return _price_file(pairs)


# Bedrock row classification ---------------------------------------------------------------------------

_BEDROCK_LEFT_OUT = (
    "custom-model", "customization", "provisioned", "reserved", "training", "storage", "flex", "priority",
    "latency-optimized", "latencyoptimized", "long-context", "long-ctx", "lctx", "mantle", "image", "video",
    "audio", "speech",
)  # fmt: skip
_BEDROCK_QUALIFIERS = ("-batch", "-standard", "-cross-region-global")
_BEDROCK_KINDS = (
    ("-cache-read-input-token-count", "cache-read"),
    ("-cache-read-input-tokens", "cache-read"),
    ("-cache-read-tokens", "cache-read"),
    ("-cache-write-input-token-count", "cache-write-5m"),
    ("-cache-write-input-tokens", "cache-write-5m"),
    ("-cache-write-tokens-5m", "cache-write-5m"),
    ("-cache-write-tokens-1h", "cache-write-1h"),
    ("-cache-write-tokens", "cache-write-5m"),
    ("-input-tokens", "input"),
    ("-output-tokens", "output"),
)
_MARKETPLACE_USAGE = re.compile(r"^[A-Z0-9]+-MP:[A-Z0-9]+_(?P<component>.+)-Units$")
_MARKETPLACE_LEGACY = {
    "InputTokenCount": "input",
    "OutputTokenCount": "output",
    "CacheReadInputTokenCount": "cache-read",
    "CacheWriteInputTokenCount": "cache-write-5m",
    "CacheWrite1hInputTokenCount": "cache-write-1h",
    "MillionBatchInputTokens": "batch-input",
    "MillionBatchOutputTokens": "batch-output",
}
_MARKETPLACE_SNAKE = re.compile(
    r"^(?P<kind>input|output|cache_read|cache_write)_tokens(?:_(?P<ttl>5m|1h))?(?P<scope>_global)?"
    r"_(?P<tier>standard|batch)$"
)
_SNAKE_KINDS = {
    "input": "input",
    "output": "output",
    "cache_read": "cache-read",
    "cache_write": "cache-write",
}


def _is_batch(*texts: str) -> bool:
    return any("batch" in text.lower() for text in texts)


def _to_batch(kind: str) -> str | None:
    return {"input": "batch-input", "output": "batch-output"}.get(kind)


def classify_bedrock_row(attributes: Mapping[str, str]) -> tuple[str, bool] | None:
    """(dimension, is_global) of an `AmazonBedrock` row; None for a row that is not a token price we keep."""
    usage_type = attributes.get("usagetype", "")
    feature = attributes.get("feature", "")
    inference_type = attributes.get("inferenceType", "")
    texts = (usage_type.lower(), feature.lower(), inference_type.lower())
    if any(marker in text for text in texts for marker in _BEDROCK_LEFT_OUT):
        return None
    stem = usage_type.lower()
    is_global = "cross-region-global" in stem
    if "cross-region" in stem and not is_global:
        return None
    stripped = True
    while stripped:
        stripped = False
        for qualifier in _BEDROCK_QUALIFIERS:
            if stem.endswith(qualifier):
                stem, stripped = stem[: -len(qualifier)], True
    kind = next((k for suffix, k in _BEDROCK_KINDS if stem.endswith(suffix)), None)
    if kind is None:
        return None
    family = "cache" if kind.startswith("cache") else kind
    said = inference_type.lower()
    said_family = (
        "cache" if "cache" in said else "output" if "output" in said else "input" if "input" in said else ""
    )
    if said_family and said_family != family:
        raise PriceListError(
            f"usagetype {usage_type!r} is {family} tokens "
            f"but inferenceType {inference_type!r} says {said_family}"
        )
    if _is_batch(*texts):
        batch = _to_batch(kind)
        return None if batch is None else (batch, is_global)
    return kind, is_global


def classify_marketplace_row(attributes: Mapping[str, str]) -> tuple[str, bool] | None:
    """(dimension, is_global) of an `AmazonBedrockFoundationModels` row (usagetype `XXX-MP:XXX_<c>-Units`)."""
    match = _MARKETPLACE_USAGE.match(attributes.get("usagetype", ""))
    if match is None:
        return None
    component = match["component"]
    dimension: str | None
    snake = _MARKETPLACE_SNAKE.match(component)
    if snake is not None:
        kind = _SNAKE_KINDS[snake["kind"]]
        if kind == "cache-write":
            kind = f"cache-write-{snake['ttl'] or '5m'}"
        elif snake["ttl"]:
            return None
        is_global = snake["scope"] is not None
        dimension = _to_batch(kind) if snake["tier"] == "batch" else kind
    else:
        base, *qualifiers = component.split("_")
        if base not in _MARKETPLACE_LEGACY or not set(qualifiers) <= {"Global", "Batch"}:
            return None
        if len(qualifiers) != len(set(qualifiers)):
            return None
        kind = _MARKETPLACE_LEGACY[base]
        is_global = "Global" in qualifiers
        if "Batch" in qualifiers:
            dimension = None if kind.startswith("batch-") else _to_batch(kind)
        else:
            dimension = kind
    if dimension is None:
        return None
    if _is_batch(component) and not dimension.startswith("batch-"):
        return None  # never let a batch row price an on-demand dimension
    return dimension, is_global


_BEDROCK_UNITS: Mapping[str, Mapping[str, Decimal]] = {
    BEDROCK_SERVICE_CODE: {"1K tokens": Decimal(1000)},
    BEDROCK_MARKETPLACE_SERVICE_CODE: {"Units": Decimal(1), "1M tokens": Decimal(1)},
}


def fetch_bedrock_model(client: Any, region: str, model_id: str, *, warn: Warn | None = None) -> PriceFile:
    """On-demand, batch and prompt-cache token prices of one Bedrock model, per 1M tokens.

    Records are `AmazonBedrock/<model id>/<region>/<dimension>`; rates the Price List sells for the `global.`
    cross-Region inference profile get the dimensions `global:input`, `global:output`, ...
    """
    model = BEDROCK_MODELS.get(model_id)
    if model is None:
        raise PriceListError(
            f"unknown Bedrock model {model_id!r}; supported: {', '.join(sorted(BEDROCK_MODELS))}"
        )
    filters = bedrock_filters(region, model)
    products = fetch_products(client, model.service_code, filters)
    if not products:
        raise NoProductsError(f"no product matches {_describe_filters(model.service_code, filters)}")
    classify = (
        classify_bedrock_row if model.service_code == BEDROCK_SERVICE_CODE else classify_marketplace_row
    )
    units = _BEDROCK_UNITS[model.service_code]
    chosen: dict[str, tuple[PriceRecord, PriceListProduct]] = {}
    for product in products:
        classified = classify(product.attributes)
        if classified is None:
            continue
        kind, is_global = classified
        dimension = GLOBAL_DIMENSION_PREFIX + kind if is_global else kind
        parsed = _tiers(product, units)
        if parsed is None:
            if warn is not None:
                usage = product.attr("usagetype")
                warn(f"{model_id} {region}: product {product.sku} ({usage}) is priced at USD 0; skipped")
            continue
        tiers, unit, description = parsed
        previous = chosen.get(dimension)
        if previous is not None:
            raise PriceListError(
                f"{model_id} in {region}: products {previous[1].sku} ({previous[1].attr('usagetype')}) and "
                f"{product.sku} ({product.attr('usagetype')}) both price {dimension}"
            )
        scope = (
            "global cross-Region inference profile rate"
            if is_global
            else "in-Region / geo inference profile rate"
        )
        notes = f"{scope}; Price List unit {unit!r}; {description}".rstrip("; ")
        record = _record(
            product, service="AmazonBedrock", sku=model_id, region=region, dimension=dimension, unit=BEDROCK_UNIT,
            tiers=tiers, notes=notes,
        )  # fmt: skip
        chosen[dimension] = (record, product)
    if "input" not in chosen:
        listed = ", ".join(f"{p.sku} ({p.attr('usagetype')})" for p in products)
        raise PriceListError(
            f"no on-demand input-token price for {model_id} among the {len(products)} products matching "
            f"{_describe_filters(model.service_code, filters)}: {listed}"
        )
    return _price_file(chosen[key] for key in sorted(chosen))


# ---------------------------------------------------------------------------------------------------------
# The whole refresh
# ---------------------------------------------------------------------------------------------------------


def merge_price_files(base: PriceFile, refreshed: PriceFile) -> PriceFile:
    """`base` with every record of `refreshed` put in place (same key) or added; other records stay.

    A refreshed record without a `free_quantity` keeps the one `base` had. Sources follow the records:
    refreshed sources are added, and `aws-price-list-*` sources no record cites any more are dropped.
    """
    by_key = {record.key: record for record in base.records}
    for record in refreshed.records:
        old = by_key.get(record.key)
        if old is not None and record.free_quantity is None and old.free_quantity is not None:
            record = replace(record, free_quantity=old.free_quantity)
        by_key[record.key] = record
    cited = {record.source for record in by_key.values()}
    sources = {**base.sources, **refreshed.sources}
    kept = {
        key: source for key, source in sources.items() if key in cited or not key.startswith(SOURCE_PREFIX)
    }
    return PriceFile(records=tuple(by_key.values()), sources=kept)


def _combine(files: Sequence[PriceFile]) -> PriceFile:
    combined = PriceFile(records=())
    for price_file in files:
        combined = merge_price_files(combined, price_file)
    return combined


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
    fetched; without them the default lists above are fetched. Something asked for by name that the Price
    List does not sell in a region is an error; a default item that is not sold there is skipped and
    reported through `warn`.
    """
    if not regions:
        raise PriceListError("give at least one region")
    for region in regions:
        check_region(region)
    wanted = list(dict.fromkeys(services))
    unknown = [s for s in wanted if s not in SERVICES]
    if unknown:
        raise PriceListError(f"unknown service {unknown[0]!r}; choose from {', '.join(SERVICES)}")
    if models is not None:
        missing = [m for m in models if m not in BEDROCK_MODELS]
        if missing:
            raise PriceListError(
                f"unknown Bedrock model {missing[0]!r}; supported: {', '.join(sorted(BEDROCK_MODELS))}"
            )
    explicit_types = instance_types is not None
    ec2_types = (
        [t for t in instance_types if not t.startswith("ml.")] if instance_types is not None
        else list(DEFAULT_EC2_INSTANCE_TYPES)
    )  # fmt: skip
    sagemaker_types = (
        [t for t in instance_types if t.startswith("ml.")] if instance_types is not None
        else list(DEFAULT_SAGEMAKER_INSTANCE_TYPES)
    )  # fmt: skip
    bedrock_models = list(models) if models is not None else list(BEDROCK_MODELS)
    if client is None:
        client = make_pricing_client()

    def skip(what: str, bad: NoProductsError, *, explicit: bool) -> None:
        if explicit:
            raise bad
        if warn is not None:
            warn(f"{what}: not in the Price List for this region, skipped ({bad})")

    files: list[PriceFile] = []
    for region in regions:
        for service in wanted:
            if service == "ec2":
                for instance_type in dict.fromkeys(ec2_types):
                    try:
                        files.append(fetch_ec2_on_demand(client, region, instance_type))
                    except NoProductsError as bad:
                        skip(f"EC2 {instance_type} in {region}", bad, explicit=explicit_types)
            elif service == "sagemaker":
                for instance_name in dict.fromkeys(sagemaker_types):
                    try:
                        files.append(fetch_sagemaker_hosting(client, region, instance_name))
                    except NoProductsError as bad:
                        skip(f"SageMaker {instance_name} in {region}", bad, explicit=explicit_types)
            elif service == "bedrock":
                for model_id in dict.fromkeys(bedrock_models):
                    try:
                        files.append(fetch_bedrock_model(client, region, model_id, warn=warn))
                    except NoProductsError as bad:
                        skip(f"Bedrock {model_id} in {region}", bad, explicit=models is not None)
            else:
                for architecture in LAMBDA_ARCHITECTURES:
                    files.append(fetch_lambda(client, region, architecture))
    result = _combine(files)
    if not result.records:
        raise PriceListError(
            "nothing was refreshed: the filters selected no price (check --service/--instance-type)"
        )
    return result


def write_override_file(refreshed: PriceFile, path: Path) -> PriceFile:
    """Write `refreshed` as an override file; an existing file at `path` keeps the records not refreshed."""
    merged = merge_price_files(PriceFile.read(path), refreshed) if path.exists() else refreshed
    merged.write(path)
    return merged


def write_bundled(refreshed: PriceFile, prices_dir: Path = BUNDLED_DIR) -> list[Path]:
    """Put refreshed records into the bundled price files (for maintainers); returns the files rewritten.

    A record replaces the record with the same key wherever it is; a new record goes to a file that already
    holds prices of the same service and region, else of the same service, else to `<service>.json`.
    """
    loaded = {path: PriceFile.read(path) for path in sorted(prices_dir.glob("*.json"))}
    owners: dict[str, list[Path]] = {}
    by_service_region: dict[tuple[str, str], Path] = {}
    by_service: dict[str, Path] = {}
    for path, price_file in loaded.items():
        for record in price_file.records:
            owners.setdefault(record.key, []).append(path)
            by_service_region.setdefault((record.service, record.region), path)
            by_service.setdefault(record.service, path)
    assigned: dict[Path, list[PriceRecord]] = {}
    for record in refreshed.records:
        targets = owners.get(record.key) or [
            by_service_region.get((record.service, record.region))
            or by_service.get(record.service)
            or prices_dir / f"{record.service.lower()}.json"
        ]
        for target in targets:
            assigned.setdefault(target, []).append(record)
    written: list[Path] = []
    for path, records in sorted(assigned.items()):
        cited = {record.source for record in records}
        update = PriceFile(
            records=tuple(records), sources={k: s for k, s in refreshed.sources.items() if k in cited}
        )
        merge_price_files(loaded.get(path, PriceFile(records=())), update).write(path)
        written.append(path)
    return written


def summarize(price_file: PriceFile) -> str:
    """One line per record: key, price (tiers), unit, Price List SKU and date."""
    lines = []
    for record in sorted(price_file.records, key=lambda r: r.key):
        if record.is_tiered:
            price = ", ".join(f"{t.usd:f} from {t.begin:f}" for t in record.tiers)
        else:
            price = f"{record.unit_price:f}"
        sku = record.price_list_sku or "-"
        lines.append(f"{record.key}\t{price} USD per {record.unit}\t{sku}\t{record.as_of.isoformat()}")
    return "\n".join(lines) + ("\n" if lines else "")
