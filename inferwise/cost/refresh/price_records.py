"""Turning a parsed product into `PriceRecord`s and a `PriceFile`, each record traced to its source.

Records carry the product SKU, usagetype, operation, the document's `publicationDate` as `as_of`, and a
source key `aws-price-list-<serviceCode>-<date>` described in the `PriceFile`'s sources.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from inferwise.cost.records import PriceFile, PriceFileError, PriceRecord, PriceTier, Source
from inferwise.cost.refresh.documents import PriceListProduct
from inferwise.cost.refresh.errors import PriceListError

PRICE_LIST_URL = "https://pricing.us-east-1.amazonaws.com"
SOURCE_PREFIX = "aws-price-list-"
"""Every source a refresh writes starts with this; `merge_price_files` drops such sources once uncited."""


def source_key(product: PriceListProduct) -> str:
    """`aws-price-list-<serviceCode>-<publication date>`: one source per service and Price List edition."""
    return f"{SOURCE_PREFIX}{product.service_code}-{product.publication_date.isoformat()}"


def _source(product: PriceListProduct) -> Source:
    """The `Source` that `source_key(product)` names."""
    return Source(
        key=source_key(product),
        title=f"AWS Price List Query API ({product.service_code})",
        url=PRICE_LIST_URL,
        as_of=product.publication_date,
    )


def price_record(
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
    """A high-confidence record from `product`, traced to it (SKU, usagetype, operation, date, source)."""
    try:
        return PriceRecord(
            service=service,
            sku=sku,
            region=region,
            dimension=dimension,
            unit=unit,
            tiers=tiers,
            source=source_key(product),
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


def price_file_of(pairs: Iterable[tuple[PriceRecord, PriceListProduct]]) -> PriceFile:
    """The records, with the source each one cites (one per service and publication date)."""
    records: list[PriceRecord] = []
    sources: dict[str, Source] = {}
    for record, product in pairs:
        records.append(record)
        sources[record.source] = _source(product)
    return PriceFile(records=tuple(records), sources=sources)
