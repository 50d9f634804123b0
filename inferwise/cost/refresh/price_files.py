"""Where refreshed prices go: merged into an override file, or into the bundled price files (maintainers),
and summarised one line per record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from inferwise.cost.records import PriceFile, PriceRecord
from inferwise.cost.refresh.price_records import SOURCE_PREFIX

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "prices"
"""The bundled price files, `inferwise/cost/prices/*.json`."""


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


def combine_price_files(files: Sequence[PriceFile]) -> PriceFile:
    """All the files' records in one `PriceFile`, later files winning for the same key."""
    combined = PriceFile(records=())
    for price_file in files:
        combined = merge_price_files(combined, price_file)
    return combined


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
