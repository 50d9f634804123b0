"""The price catalogue: dated, sourced prices looked up by (service, sku, region, dimension).

The bundled catalogue is the JSON under `inferwise/cost/prices/` (one file per service family, in the
`PriceFile` format of `inferwise.cost.records`). A user extends or corrects it with an override file named by
the CDK context key `inferwise:prices` (see `catalog_for` and docs/prices.md).

An unknown price is an `UnknownPriceError` naming what was asked, the closest known keys and how to add an
override: the catalogue never guesses and never prices anything at zero by default.

Spot is not a price: `spot.json` holds per-family *average discounts* (service `EC2Spot`, unit `fraction`) that
are kept apart from the priced records and reach a cost line only through `line(..., discount=...)`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from inferwise.cost.model import Confidence, CostLine, PricingCategory
from inferwise.cost.records import PriceFile, PriceFileError, PriceRecord, Source
from inferwise.cost.spot_discounts import (
    SPOT_SERVICE,
    SpotDiscount,
    check_discount_applies,
    check_spot_record,
    spot_assumption,
)

if TYPE_CHECKING:
    import constructs

CONTEXT_KEY = "inferwise:prices"
"""CDK context key (cdk.json) naming an override price file, relative to the working directory."""

BEDROCK_SERVICE = "AmazonBedrock"
GLOBAL_DIMENSION_PREFIX = "global:"
"""Bedrock dimensions for the `global.` cross-Region inference profile rate, e.g. `global:input`."""

TOKENS_PER_PRICED_UNIT = Decimal(1_000_000)
"""Bedrock records are priced per 1M tokens (unit `1M tokens`)."""
INFERENCE_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "us-gov.", "global.")

_OVERRIDE_HINT = (
    f'Add an override record in a price file named by the cdk.json context key "{CONTEXT_KEY}" '
    "(see docs/prices.md)."
)
_CONFIDENCE_ORDER = {"low": 0, "medium": 1, "high": 2}

_Key = tuple[str, str, str, str]


class UnknownPriceError(LookupError):
    """No price in the catalogue for what was asked; the message says what is known and how to add one."""

    def __init__(
        self,
        message: str,
        *,
        service: str = "",
        sku: str = "",
        region: str = "",
        dimension: str = "",
        close_matches: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.service = service
        self.sku = sku
        self.region = region
        self.dimension = dimension
        self.close_matches = tuple(close_matches)

    def __str__(self) -> str:
        return str(self.args[0])


def tiered_cost(record: PriceRecord, quantity: Decimal, *, apply_free_tier: bool = False) -> Decimal:
    """The cost of `quantity` units under `record`'s tiers; each tier prices the part of the quantity inside it.

    With `apply_free_tier`, the record's monthly `free_quantity` is credited at the rates of the lowest tiers
    (as AWS credits a free tier against the first units of the month); without it nothing is free.
    """
    quantity = _check_quantity(quantity)
    total = _tiers_cost(record, quantity)
    if apply_free_tier and record.free_quantity:
        total -= _tiers_cost(record, min(quantity, record.free_quantity))
    return total


class PriceCatalog:
    """An immutable set of price records (and Spot discount assumptions) with their sources."""

    def __init__(self, records: Iterable[PriceRecord], sources: Mapping[str, Source]) -> None:
        self._sources: dict[str, Source] = dict(sources)
        self._prices: dict[_Key, PriceRecord] = {}
        self._spot: dict[_Key, PriceRecord] = {}
        for record in records:
            key = _key(record)
            table = self._spot if record.service == SPOT_SERVICE else self._prices
            if key in table:
                raise PriceFileError(f"duplicate price record {record.key}")
            if record.service == SPOT_SERVICE:
                check_spot_record(record)
            table[key] = record
        self._bedrock_ids: dict[str, str] = {}

    # ------------------------------------------------------------------------------------ construction
    @classmethod
    def bundled(cls) -> PriceCatalog:
        """The catalogue shipped in the package (`inferwise/cost/prices/*.json`); loaded once per process."""
        return _bundled()

    @classmethod
    def from_files(cls, paths: Sequence[Path]) -> PriceCatalog:
        """Load price files; a record key may appear in only one file and every record must cite a known source."""
        records: list[PriceRecord] = []
        sources: dict[str, Source] = {}
        origin: dict[str, Path] = {}
        files = [(Path(path), _read_price_file(Path(path))) for path in paths]
        for path, price_file in files:
            for key, source in price_file.sources.items():
                if sources.setdefault(key, source) != source:
                    raise PriceFileError(
                        f"price file {path}: source {key!r} differs from the same key in another file"
                    )
        for path, price_file in files:
            for record in price_file.records:
                if record.key in origin:
                    raise PriceFileError(
                        f"price record {record.key} is in both {origin[record.key]} and {path}"
                    )
                if record.source not in sources:
                    raise PriceFileError(
                        f"price file {path}: record {record.key} cites source {record.source!r}, "
                        "which no file's 'sources' defines"
                    )
                origin[record.key] = path
                records.append(record)
        return cls(records, sources)

    def with_overrides(
        self, records: Iterable[PriceRecord], *, sources: Mapping[str, Source] | None = None
    ) -> PriceCatalog:
        """A new catalogue where `records` replace records with the same key and add new ones.

        Each override must cite a source known to this catalogue or given in `sources`.
        """
        merged_sources = {**self._sources, **(sources or {})}
        overrides: dict[str, PriceRecord] = {}
        for record in records:
            if record.key in overrides:
                raise PriceFileError(f"override record {record.key} is given twice")
            if record.source not in merged_sources:
                raise PriceFileError(
                    f"override record {record.key} cites source {record.source!r}, which is neither in the "
                    "catalogue nor in the override's sources"
                )
            overrides[record.key] = record
        kept = [r for r in self._all_records() if r.key not in overrides]
        return PriceCatalog([*kept, *overrides.values()], merged_sources)

    def with_override_file(self, path: Path) -> PriceCatalog:
        """A new catalogue with the records of a price file (PriceFile format) laid over this one."""
        path = Path(path)
        price_file = _read_price_file(path)
        try:
            return self.with_overrides(price_file.records, sources=price_file.sources)
        except PriceFileError as bad:
            raise PriceFileError(f"price file {path}: {bad}") from None

    # ------------------------------------------------------------------------------------------ lookup
    def price(self, service: str, sku: str, region: str, dimension: str) -> PriceRecord:
        """The record for exactly this key, or `UnknownPriceError` with close matches."""
        record = self._prices.get((service, sku, region, dimension))
        if record is None:
            raise self._unknown(service, sku, region, dimension)
        return record

    def cost(
        self,
        service: str,
        sku: str,
        region: str,
        dimension: str,
        quantity: Decimal,
        *,
        apply_free_tier: bool = False,
    ) -> Decimal:
        """Monthly cost of `quantity` units: tier-aware; the free quantity is credited only when asked."""
        return tiered_cost(
            self.price(service, sku, region, dimension), quantity, apply_free_tier=apply_free_tier
        )

    def line(
        self,
        component: str,
        service: str,
        sku: str,
        region: str,
        dimension: str,
        quantity: Decimal,
        *,
        pricing_category: PricingCategory = "OnDemand",
        assumptions: Sequence[str] = (),
        apply_free_tier: bool = False,
        discount: SpotDiscount | None = None,
    ) -> CostLine:
        """A cost line for `quantity` units of one price.

        `unit_price` is the list price for an untiered record and the effective price (cost / quantity) for a
        tiered one. With a Spot `discount`, cost and unit price are multiplied by (1 - discount.average), the
        pricing category becomes "Dynamic", an assumption names the discount, its range and source, and a
        "high" confidence is lowered to "medium" (the discount is an assumption, not a price).
        """
        record = self.price(service, sku, region, dimension)
        quantity = _check_quantity(quantity)
        monthly = tiered_cost(record, quantity, apply_free_tier=apply_free_tier)
        notes = list(assumptions)
        confidence = record.confidence
        category: PricingCategory = pricing_category
        factor = Decimal(1)
        if discount is not None:
            check_discount_applies(record, discount, pricing_category)
            category = "Dynamic"
            factor = discount.factor
            monthly *= factor
            notes.append(spot_assumption(discount))
            if confidence == "high":
                confidence = "medium"
        if apply_free_tier and record.free_quantity:
            notes.append(
                f"AWS free tier applied: the first {_number(record.free_quantity)} {record.unit} per month "
                f"of {record.service} {record.dimension} are not charged"
            )
        tiered = record.is_tiered and quantity > 0
        unit_price = monthly / quantity if tiered else record.unit_price * factor
        return CostLine(
            component=component,
            service_code=record.service,
            usage_type=record.usage_type,
            pricing_unit=record.unit,
            monthly_quantity=quantity,
            unit_price=unit_price,
            monthly_cost=monthly,
            pricing_category=category,
            price_source=record.key,
            price_as_of=record.as_of,
            operation=record.operation,
            assumptions=tuple(notes),
            confidence=cast(Confidence, confidence),
        )

    # ----------------------------------------------------------------------------------------- Bedrock
    def bedrock_line(
        self,
        component: str,
        model_id: str,
        region: str,
        dimension: str,
        tokens: Decimal,
        *,
        pricing_category: PricingCategory = "OnDemand",
        assumptions: Sequence[str] = (),
    ) -> CostLine:
        """A cost line for `tokens` Bedrock tokens of `model_id` (resolved as `bedrock` does; priced per 1M)."""
        record = self.bedrock(model_id, region, dimension)
        return self.line(
            component,
            record.service,
            record.sku,
            record.region,
            record.dimension,
            tokens / TOKENS_PER_PRICED_UNIT,
            pricing_category=pricing_category,
            assumptions=assumptions,
        )

    def bedrock(self, model_id: str, region: str, dimension: str) -> PriceRecord:
        """The Bedrock price for a model id, inference profile id or ARN.

        Accepts ids with or without a geo/global profile prefix (`us.`, `eu.`, `apac.`, `jp.`, `au.`, `global.`),
        foundation-model and inference-profile ARNs, and version/context suffixes (`:0`, `-v1:0`, `:200k`).
        A `global.` profile selects the `global:<dimension>` rate where the model has one.
        """
        profile, sku = self._resolve_bedrock(model_id)
        if profile == "global" and not dimension.startswith(GLOBAL_DIMENSION_PREFIX):
            record = self._prices.get((BEDROCK_SERVICE, sku, region, GLOBAL_DIMENSION_PREFIX + dimension))
            if record is not None:
                return record
        return self.price(BEDROCK_SERVICE, sku, region, dimension)

    def bedrock_models(self, region: str | None = None) -> list[str]:
        """Canonical model ids (no profile prefix) with at least one price, in `region` if given."""
        return sorted(
            {k[1] for k in self._prices if k[0] == BEDROCK_SERVICE and (region is None or k[2] == region)}
        )

    def has_batch_price(self, model_id: str, region: str) -> bool:
        """Whether batch inference for this model id (profile-aware) has a price in `region`.

        An unknown model is an `UnknownPriceError`, not False.
        """
        profile, sku = self._resolve_bedrock(model_id)
        dimensions = ["batch-input"]
        if profile == "global":
            dimensions.insert(0, GLOBAL_DIMENSION_PREFIX + "batch-input")
        return any((BEDROCK_SERVICE, sku, region, d) in self._prices for d in dimensions)

    # -------------------------------------------------------------------------------------------- Spot
    def spot_discount(self, instance_type: str, region: str) -> SpotDiscount:
        """The assumed average Spot discount for the instance's family (the part before the first dot)."""
        family = instance_type.split(".", 1)[0]
        average = self._spot.get((SPOT_SERVICE, family, region, "AverageDiscount"))
        if average is None:
            families = sorted({k[1] for k in self._spot})
            regions = sorted({k[2] for k in self._spot if k[1] == family})
            close = (
                difflib.get_close_matches(family, families, n=3, cutoff=0.6) if family not in families else []
            )
            parts = [
                f"no Spot discount assumption for instance family {family!r} ({instance_type}) in {region}."
            ]
            if close:
                parts.append(f"Close matches: {', '.join(close)}.")
            if regions:
                parts.append(f"Known regions for {family}: {', '.join(regions)}.")
            else:
                parts.append(f"Known families: {', '.join(families)}.")
            parts.append(
                f"Spot is not in the AWS Price List: add an {SPOT_SERVICE} record (sku {family}, dimension "
                "AverageDiscount, unit fraction) in a price file named by the cdk.json context key "
                f'"{CONTEXT_KEY}" (see docs/prices.md).'
            )
            raise UnknownPriceError(
                " ".join(parts),
                service=SPOT_SERVICE,
                sku=family,
                region=region,
                dimension="AverageDiscount",
                close_matches=close,
            )
        low = self._spot.get((SPOT_SERVICE, family, region, "LowDiscount"))
        high = self._spot.get((SPOT_SERVICE, family, region, "HighDiscount"))
        return SpotDiscount(
            family=family,
            region=region,
            average=average.unit_price,
            low=average.unit_price if low is None else low.unit_price,
            high=average.unit_price if high is None else high.unit_price,
            source=average.source,
            as_of=average.as_of,
            notes=average.notes,
        )

    def spot_discounts(self, region: str | None = None) -> list[SpotDiscount]:
        """Every Spot discount assumption (in `region` if given), sorted by family and region."""
        pairs = sorted({(k[1], k[2]) for k in self._spot if region is None or k[2] == region})
        return [self.spot_discount(f"{family}.any", reg) for family, reg in pairs]

    # ------------------------------------------------------------------------------------- inspection
    @property
    def as_of(self) -> date:
        """The oldest as-of date of any record: the catalogue is only as fresh as its stalest price."""
        dates = [r.as_of for r in self._all_records()]
        if not dates:
            raise UnknownPriceError("the price catalogue is empty")
        return min(dates)

    def records(self, service: str | None = None, region: str | None = None) -> list[PriceRecord]:
        """Price records (Spot discounts excluded), optionally filtered, sorted by key."""
        return sorted(
            (
                r
                for r in self._prices.values()
                if (service is None or r.service == service) and (region is None or r.region == region)
            ),
            key=lambda r: r.key,
        )

    def services(self) -> list[str]:
        return sorted({k[0] for k in self._prices})

    def regions(self) -> list[str]:
        return sorted({k[2] for k in self._prices})

    def sources(self) -> Mapping[str, Source]:
        return MappingProxyType(self._sources)

    def __len__(self) -> int:
        return len(self._prices)

    def __repr__(self) -> str:
        return (
            f"PriceCatalog({len(self._prices)} prices, {len(self._spot)} spot assumptions, "
            f"{len(self._sources)} sources)"
        )

    # -------------------------------------------------------------------------------------- internals
    def _all_records(self) -> list[PriceRecord]:
        return [*self._prices.values(), *self._spot.values()]

    def _unknown(self, service: str, sku: str, region: str, dimension: str) -> UnknownPriceError:
        parts = [f"no {service} price for sku {sku!r} in {region} (dimension {dimension})."]
        close: list[str] = []
        services = self.services()
        if service not in services:
            close = difflib.get_close_matches(service, services, n=3, cutoff=0.5)
            if close:
                parts.append(f"Close matches: {', '.join(close)}.")
            parts.append(f"Known services: {', '.join(services)}.")
        else:
            keys = [k for k in self._prices if k[0] == service]
            skus = sorted({k[1] for k in keys})
            if sku not in skus:
                close = difflib.get_close_matches(sku, skus, n=3, cutoff=0.6)
                if close:
                    parts.append(f"Close matches: {', '.join(close)}.")
                parts.append(f"Known regions for {service}: {', '.join(sorted({k[2] for k in keys}))}.")
            else:
                sku_regions = sorted({k[2] for k in keys if k[1] == sku})
                if region not in sku_regions:
                    parts.append(f"Known regions for {service} {sku}: {', '.join(sku_regions)}.")
                else:
                    dimensions = sorted({k[3] for k in keys if k[1] == sku and k[2] == region})
                    close = difflib.get_close_matches(dimension, dimensions, n=3, cutoff=0.6)
                    parts.append(f"Known dimensions for {sku} in {region}: {', '.join(dimensions)}.")
        parts.append(_OVERRIDE_HINT)
        return UnknownPriceError(
            " ".join(parts), service=service, sku=sku, region=region, dimension=dimension, close_matches=close
        )

    def _resolve_bedrock(self, model_id: str) -> tuple[str, str]:
        """(profile, canonical sku) for a model id, profile id or ARN; `UnknownPriceError` if none matches."""
        profile, base = _split_model_id(model_id)
        sku = self._bedrock_ids.get(base)
        if sku is None:
            sku = self._match_bedrock_sku(model_id, base)
            self._bedrock_ids[base] = sku
        return profile, sku

    def _match_bedrock_sku(self, model_id: str, base: str) -> str:
        skus = self.bedrock_models()
        if base in skus:
            return base
        for level in range(1, len(_ID_SUFFIXES) + 1):
            wanted = _normalise_id(base, level)
            matches = [s for s in skus if _normalise_id(s, level) == wanted]
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise UnknownPriceError(
                    f"Bedrock model id {model_id!r} is ambiguous: it matches {', '.join(matches)}. "
                    "Pass the full model id.",
                    service=BEDROCK_SERVICE,
                    sku=base,
                    close_matches=matches,
                )
        close = difflib.get_close_matches(base, skus, n=5, cutoff=0.6)
        parts = [f"no {BEDROCK_SERVICE} price for model {model_id!r} (model id {base!r})."]
        if close:
            parts.append(f"Close matches: {', '.join(close)}.")
        parts.append(f"PriceCatalog.bedrock_models() lists the {len(skus)} known model ids.")
        parts.append(_OVERRIDE_HINT)
        raise UnknownPriceError(" ".join(parts), service=BEDROCK_SERVICE, sku=base, close_matches=close)


# ---------------------------------------------------------------------------------------------- helpers
_ARN = re.compile(
    r"^arn:aws[a-z-]*:bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<kind>[a-z-]+)/(?P<id>.+)$"
)
_ID_SUFFIXES = (
    re.compile(r":\d+k$"),  # context-length variant, e.g. :200k
    re.compile(r":\d+$"),  # revision, e.g. :0
    re.compile(r"-v\d+$"),  # version, e.g. -v1
    re.compile(r"-\d{8}$"),  # release date, e.g. -20251001
)


def _split_model_id(model_id: str) -> tuple[str, str]:
    """(profile, id without profile prefix): profile is '' (in-Region), 'us', 'eu', ..., or 'global'."""
    text = model_id.strip().lower()
    arn = _ARN.match(text)
    if arn:
        kind = arn.group("kind")
        if kind not in ("foundation-model", "inference-profile", "system-defined-inference-profile"):
            raise UnknownPriceError(
                f"cannot price Bedrock ARN {model_id!r}: an ARN of kind {kind!r} does not name its foundation model. "
                "Pass the foundation model id or its inference profile id instead.",
                service=BEDROCK_SERVICE,
            )
        text = arn.group("id")
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if text.startswith(prefix):
            return prefix[:-1], text[len(prefix) :]
    return "", text


def _normalise_id(model_id: str, level: int) -> str:
    """Strip the first `level` suffix kinds (context, revision, version, date), each at most once, in order."""
    for pattern in _ID_SUFFIXES[:level]:
        model_id = pattern.sub("", model_id)
    return model_id


def _key(record: PriceRecord) -> _Key:
    return (record.service, record.sku, record.region, record.dimension)


def _check_quantity(quantity: Decimal) -> Decimal:
    if isinstance(quantity, bool) or not isinstance(quantity, Decimal | int):
        raise TypeError(f"quantity must be a Decimal (or int), got {type(quantity).__name__} {quantity!r}")
    value = Decimal(quantity)
    if not value.is_finite() or value < 0:
        raise ValueError(f"quantity must be a finite, non-negative number, got {quantity!r}")
    return value


def _tiers_cost(record: PriceRecord, quantity: Decimal) -> Decimal:
    total = Decimal(0)
    for tier in record.tiers:
        if quantity <= tier.begin:
            break
        upper = quantity if tier.end is None else min(quantity, tier.end)
        total += (upper - tier.begin) * tier.usd
    return total


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _read_price_file(path: Path) -> PriceFile:
    """`PriceFile.read`, with the path in every error (record-level errors do not name it)."""
    try:
        return PriceFile.read(path)
    except PriceFileError as bad:
        if str(path) in str(bad):
            raise
        raise PriceFileError(f"price file {path}: {bad}") from None


def _bundled_paths() -> list[Path]:
    folder = resources.files("inferwise.cost").joinpath("prices")
    return sorted(Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".json"))


@lru_cache(maxsize=1)
def _bundled() -> PriceCatalog:
    return PriceCatalog.from_files(_bundled_paths())


@lru_cache(maxsize=16)
def _bundled_with_override(path: str, _mtime_ns: int, _size: int) -> PriceCatalog:
    return PriceCatalog.bundled().with_override_file(Path(path))


def catalog_for(scope: constructs.IConstruct) -> PriceCatalog:
    """The catalogue a construct prices itself with: the bundled one plus the override file named by the CDK
    context key `inferwise:prices`, if set, seen through `inferwise.cost.recording.RecordingCatalog`.

    The path is relative to the working directory (where `cdk synth` runs); each file version is loaded once.
    A price the construct's estimate needs and the catalogue lacks is recorded against its stack (synth then
    fails naming every missing price and the command that fills them), not raised at the first miss.
    """
    from inferwise.cost.recording import recording_catalog  # imports aws-cdk-lib, which the CLI never needs

    return recording_catalog(_catalog_with_override(scope), scope)


def _catalog_with_override(scope: constructs.IConstruct) -> PriceCatalog:
    value = scope.node.try_get_context(CONTEXT_KEY)
    if value is None or value == "":
        return PriceCatalog.bundled()
    if not isinstance(value, str):
        raise PriceFileError(f'CDK context "{CONTEXT_KEY}" must be the path of a price file, got {value!r}')
    path = Path(value).resolve()
    try:
        stat = path.stat()
    except OSError as missing:
        raise PriceFileError(
            f'cannot read price file {path} (named by CDK context "{CONTEXT_KEY}"): {missing.strerror}'
        ) from None
    try:
        return _bundled_with_override(str(path), stat.st_mtime_ns, stat.st_size)
    except PriceFileError as bad:
        raise PriceFileError(f'{bad} (named by CDK context "{CONTEXT_KEY}")') from None
