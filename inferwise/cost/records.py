"""Price records: the rows of the price catalogue and their on-disk JSON form.

A record is one (service, sku, region, dimension) price with its unit, its tiers and its provenance.
The bundled catalogue, override files and `inferwise prices refresh` all read and write this one format:

```json
{
  "sources": {"karpenter-2026-07-20": {"title": "...", "url": "...", "as_of": "2026-07-20"}},
  "records": [
    {"service": "AmazonEC2", "sku": "inf2.xlarge", "region": "us-east-1", "dimension": "OnDemand",
     "unit": "Hrs", "tiers": [{"begin": "0", "end": null, "usd": "0.7582"}],
     "source": "karpenter-2026-07-20", "as_of": "2026-07-20", "confidence": "high",
     "usage_type": "BoxUsage:inf2.xlarge", "operation": "RunInstances", "price_list_sku": null,
     "free_quantity": null, "notes": ""}
  ]
}
```
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

CONFIDENCES = ("high", "medium", "low")


class PriceFileError(ValueError):
    """A price file (bundled, override or refreshed) that does not parse."""


@dataclass(frozen=True)
class PriceTier:
    """USD per unit for quantities in [begin, end); `end=None` means no upper bound."""

    begin: Decimal
    end: Decimal | None
    usd: Decimal


@dataclass(frozen=True)
class Source:
    """Where a set of prices came from."""

    key: str
    title: str
    url: str
    as_of: date


@dataclass(frozen=True)
class PriceRecord:
    """One price: what is sold (service, sku, region, dimension), per what unit, at what tiers, per whom.

    `service` is the AWS Price List service code (`AmazonEC2`, `AmazonBedrock`, ...). `free_quantity` is a
    monthly free allowance (e.g. Lambda's 400,000 GB-s); it is applied only when a caller asks for it.
    """

    service: str
    sku: str
    region: str
    dimension: str
    unit: str
    tiers: tuple[PriceTier, ...]
    source: str
    as_of: date
    confidence: str = "high"
    usage_type: str = ""
    operation: str = ""
    price_list_sku: str | None = None
    free_quantity: Decimal | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        if not self.tiers:
            raise PriceFileError(f"{self.key}: a price needs at least one tier")
        if self.tiers[0].begin != 0:
            raise PriceFileError(f"{self.key}: the first tier must begin at 0, got {self.tiers[0].begin}")
        for lower, upper in zip(self.tiers, self.tiers[1:], strict=False):
            if lower.end is None or lower.end != upper.begin:
                raise PriceFileError(
                    f"{self.key}: tiers must be contiguous, got {lower.end} then {upper.begin}"
                )
        if self.tiers[-1].end is not None:
            raise PriceFileError(f"{self.key}: the last tier must be open-ended (end null)")
        if any(tier.usd < 0 for tier in self.tiers):
            raise PriceFileError(f"{self.key}: a price cannot be negative")
        if self.confidence not in CONFIDENCES:
            raise PriceFileError(
                f"{self.key}: confidence must be one of {CONFIDENCES}, got {self.confidence!r}"
            )

    @property
    def key(self) -> str:
        """The catalogue key that cost lines cite as their price source."""
        return f"{self.service}/{self.sku}/{self.region}/{self.dimension}"

    @property
    def is_tiered(self) -> bool:
        return len(self.tiers) > 1

    @property
    def unit_price(self) -> Decimal:
        """The first tier's price: the list price for an untiered record."""
        return self.tiers[0].usd

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "sku": self.sku,
            "region": self.region,
            "dimension": self.dimension,
            "unit": self.unit,
            "tiers": [
                {
                    "begin": _plain(t.begin),
                    "end": None if t.end is None else _plain(t.end),
                    "usd": _plain(t.usd),
                }
                for t in self.tiers
            ],
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "confidence": self.confidence,
            "usage_type": self.usage_type,
            "operation": self.operation,
            "price_list_sku": self.price_list_sku,
            "free_quantity": None if self.free_quantity is None else _plain(self.free_quantity),
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PriceRecord:
        try:
            free = data.get("free_quantity")
            return cls(
                service=data["service"],
                sku=data["sku"],
                region=data["region"],
                dimension=data["dimension"],
                unit=data["unit"],
                tiers=tuple(
                    PriceTier(
                        begin=Decimal(tier["begin"]),
                        end=None if tier["end"] is None else Decimal(tier["end"]),
                        usd=Decimal(tier["usd"]),
                    )
                    for tier in data["tiers"]
                ),
                source=data["source"],
                as_of=date.fromisoformat(data["as_of"]),
                confidence=data.get("confidence", "high"),
                usage_type=data.get("usage_type", ""),
                operation=data.get("operation", ""),
                price_list_sku=data.get("price_list_sku"),
                free_quantity=None if free is None else Decimal(free),
                notes=data.get("notes", ""),
            )
        except KeyError as missing:
            raise PriceFileError(f"price record {dict(data)!r} is missing field {missing}") from None
        except (ArithmeticError, TypeError, ValueError) as bad:
            if isinstance(bad, PriceFileError):
                raise
            raise PriceFileError(f"price record {dict(data)!r} does not parse: {bad}") from None


@dataclass(frozen=True)
class PriceFile:
    """The contents of one price JSON file: its sources and its records."""

    records: tuple[PriceRecord, ...]
    sources: Mapping[str, Source] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "sources": {
                key: {"title": s.title, "url": s.url, "as_of": s.as_of.isoformat()}
                for key, s in sorted(self.sources.items())
            },
            "records": [r.to_json() for r in sorted(self.records, key=lambda r: r.key)],
        }

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> PriceFile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as bad:
            raise PriceFileError(f"cannot read price file {path}: {bad}") from None
        if not isinstance(data, dict) or not isinstance(data.get("records"), list):
            raise PriceFileError(f"price file {path} must be a JSON object with a 'records' list")
        try:
            sources = {
                key: Source(
                    key=key, title=s["title"], url=s.get("url", ""), as_of=date.fromisoformat(s["as_of"])
                )
                for key, s in data.get("sources", {}).items()
            }
        except (KeyError, TypeError, ValueError) as bad:
            raise PriceFileError(f"price file {path}: a source does not parse: {bad}") from None
        return cls(records=tuple(PriceRecord.from_json(r) for r in data["records"]), sources=sources)


def _plain(value: Decimal) -> str:
    """Fixed-point text: `0.0000002`, never `2E-7`, so price files diff cleanly."""
    return format(value, "f")


def merge_sources(files: Iterable[PriceFile]) -> dict[str, Source]:
    merged: dict[str, Source] = {}
    for price_file in files:
        merged.update(price_file.sources)
    return merged
