"""`inferwise prices show|refresh`: list the price catalogue, or rebuild price records from the AWS Price List.

`add_prices_command` adds the `prices` group to the `inferwise` commands; `add_show_command` and
`add_refresh_command` add `show` and `refresh` to that group. Both name services the same way: the catalogue's
service names (`AmazonSageMaker`, `AWSLambda`, `awskms`, ...), in any case, and the older short words (`ec2`,
`lambda`). `show` filters by service, Region, sku (glob) and category, prints tab-separated lines or JSON, and
with `--spot` lists the Spot discount assumptions instead of prices.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from inferwise.cli.common import (
    Subparsers,
    UserError,
    add_file_option,
    add_format_option,
    one_line,
    one_line_parse_errors,
    user_errors,
)
from inferwise.cost.catalog import GLOBAL_DIMENSION_PREFIX, INFERENCE_PROFILE_PREFIXES, PriceCatalog
from inferwise.cost.records import PriceFileError, PriceRecord
from inferwise.cost.refresh import (
    BUNDLED_DIR,
    SERVICES,
    make_pricing_client,
    refresh,
    service_name,
    summarize,
    write_bundled,
    write_override_file,
)
from inferwise.cost.spot_discounts import SPOT_SERVICE, SpotDiscount

SHOW_PROG = "inferwise prices show"
PROG = "inferwise prices refresh"

client_factory: Callable[[], Any] = make_pricing_client
"""Makes the `pricing` client; tests replace it with one wired to botocore's Stubber."""


# ------------------------------------------------------------------------------------------------- show
CATEGORIES: tuple[str, ...] = ("OnDemand", "Batch", "Flex", "Priority", "Spot")
"""What `--category` takes: the pricing category a record carries (see `price_category`)."""
_TIER_CATEGORIES = (("batch-", "Batch"), ("flex-", "Flex"), ("priority-", "Priority"))


def price_category(record: PriceRecord) -> str:
    """The category of a record: `Spot` for a Spot discount assumption; for Bedrock, the service tier its
    dimension names (`batch-input` -> `Batch`, `flex-`, `priority-`; a `global:` scope is not a category);
    `OnDemand` for every other list price."""
    if record.service == SPOT_SERVICE:
        return "Spot"
    dimension = record.dimension.removeprefix(GLOBAL_DIMENSION_PREFIX)
    return next((name for prefix, name in _TIER_CATEGORIES if dimension.startswith(prefix)), "OnDemand")


def _category(text: str) -> str:
    """`--category`: one of `CATEGORIES`, in any case."""
    for name in CATEGORIES:
        if name.lower() == text.strip().lower():
            return name
    raise argparse.ArgumentTypeError(f"unknown category {text!r}; choose from {', '.join(CATEGORIES)}")


def _matcher(pattern: str | None, *, model_ids: bool = False) -> Callable[[str], bool]:
    """A case-insensitive glob (`*`, `?`, `[...]`); with `model_ids`, a Bedrock profile id (`us.`...) also
    matches its model's records, whose sku is the id without the profile prefix."""
    if pattern is None:
        return lambda value: True
    wanted = {pattern.strip().lower()}
    if model_ids:
        wanted |= {
            w[len(prefix) :] for w in wanted for prefix in INFERENCE_PROFILE_PREFIXES if w.startswith(prefix)
        }
    return lambda value: any(fnmatch.fnmatchcase(value.lower(), w) for w in wanted)


def _price_line(record: PriceRecord) -> str:
    tiers = ", ".join(
        f"{tier.usd.normalize():f}" + ("" if len(record.tiers) == 1 else f" from {tier.begin.normalize():f}")
        for tier in record.tiers
    )
    return f"{record.key}\t{tiers} USD per {record.unit}\t{record.source} {record.as_of.isoformat()} ({record.confidence})"


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f} %"


def _spot_line(discount: SpotDiscount) -> str:
    return (
        f"{SPOT_SERVICE}/{discount.family}/{discount.region}\taverage {_percent(discount.average)} off On-Demand "
        f"(observed {_percent(discount.low)} to {_percent(discount.high)})\t{discount.source} "
        f"{discount.as_of.isoformat()} (assumption)"
    )


def _source_json(catalog: PriceCatalog, key: str) -> dict[str, Any]:
    source = catalog.sources().get(key)
    return {
        "source": key,
        "source_title": source.title if source else "",
        "source_url": source.url if source else "",
    }


def _price_json(catalog: PriceCatalog, record: PriceRecord) -> dict[str, Any]:
    data = record.to_json()
    data.update(category=price_category(record), unit_price=format(record.unit_price, "f"))
    data.update(_source_json(catalog, record.source))
    return data


def _spot_json(catalog: PriceCatalog, discount: SpotDiscount) -> dict[str, Any]:
    return {
        "service": SPOT_SERVICE,
        "sku": discount.family,
        "region": discount.region,
        "category": "Spot",
        "unit": "fraction",
        "average": format(discount.average, "f"),
        "low": format(discount.low, "f"),
        "high": format(discount.high, "f"),
        **_source_json(catalog, discount.source),
        "as_of": discount.as_of.isoformat(),
        "notes": discount.notes,
    }


def _show_service(args: argparse.Namespace, catalog: PriceCatalog) -> tuple[str | None, bool]:
    """(the catalogue's name of the service asked for, or None; whether Spot discounts are asked for)."""
    if args.service is not None and args.service_flag is not None and args.service != args.service_flag:
        raise UserError(f"two services given: {args.service!r} and --service {args.service_flag!r}; pass one")
    given = args.service_flag or args.service
    spot_service = given is not None and given.strip().lower() == SPOT_SERVICE.lower()
    spot = args.spot or spot_service or args.category == "Spot"
    if spot and args.category not in (None, "Spot"):
        raise UserError(
            f"Spot discount assumptions have no category {args.category}; drop --category or --spot"
        )
    if given is None or spot_service:
        return None, spot
    service = given
    with contextlib.suppress(ValueError):  # an unknown name is reported with the known ones
        service = service_name(given, tuple(catalog.services()))
    if spot and service != "AmazonEC2":
        raise UserError(f"Spot discounts apply to AmazonEC2 instance prices only, not to {given}")
    return service, spot


@user_errors(SHOW_PROG)
def run_show(args: argparse.Namespace) -> int:
    """The `show` handler: catalogue prices (or Spot discount assumptions) with their source and date, as
    tab-separated lines or a JSON list. Returns the exit code."""
    catalog = PriceCatalog.bundled()
    service, spot = _show_service(args, catalog)
    region, sku = _matcher(args.region), _matcher(args.sku, model_ids=True)
    if spot:
        discounts = [d for d in catalog.spot_discounts() if region(d.region) and _spot_sku(d, args.sku)]
        rows = [(_spot_line(d), _spot_json(catalog, d)) for d in discounts]
    else:
        records = [
            r
            for r in catalog.records(service=service)
            if region(r.region) and sku(r.sku) and args.category in (None, price_category(r))
        ]
        rows = [(_price_line(r), _price_json(catalog, r)) for r in records]
    if not rows:
        raise UserError(_nothing_found(args, catalog, spot))
    if args.format == "json":
        json.dump([data for _, data in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for line, _ in rows:  # line by line: a reader that stops early (`| head`) stops the command early
            sys.stdout.write(line + "\n")
    return 0


def _spot_sku(discount: SpotDiscount, pattern: str | None) -> bool:
    """`--sku` for Spot discounts: the family (`g5`), or an instance type (`g5.xlarge`, `g5.*`) of it."""
    if pattern is None:
        return True
    family = pattern.strip().split(".", 1)[0]
    return _matcher(pattern)(discount.family) or _matcher(family)(discount.family)


def _nothing_found(args: argparse.Namespace, catalog: PriceCatalog, spot: bool) -> str:
    service = args.service_flag or args.service
    asked = f"service={service!r} region={args.region!r}"
    asked += "".join(
        f" {name}={value!r}" for name, value in (("sku", args.sku), ("category", args.category)) if value
    )
    what = "Spot discount assumptions" if spot else "prices"
    return (
        f"no {what} for {asked}. Services: {', '.join(catalog.services())}. Regions: {', '.join(catalog.regions())}. "
        f"Categories: {', '.join(CATEGORIES)}."
    )


# ---------------------------------------------------------------------------------------------- refresh
def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
    return errors


@user_errors(PROG)
def run_refresh(args: argparse.Namespace) -> int:
    """The `refresh` handler: fetch, print a summary, write what was asked for. Returns the exit code."""
    aws_errors = _aws_errors()
    try:
        refreshed = refresh(
            regions=args.regions,
            services=args.services or SERVICES,
            instance_types=args.instance_types,
            models=args.models,
            client=client_factory(),
            warn=lambda message: print(f"{PROG}: warning: {message}", file=sys.stderr),
        )
    except aws_errors as bad:
        raise UserError(f"AWS Price List request failed ({type(bad).__name__}): {one_line(bad)}") from None
    sys.stdout.write(summarize(refreshed))
    written: list[Path] = []
    try:
        if args.output is not None:
            write_override_file(refreshed, args.output)
            written.append(args.output)
        if args.write_bundled:
            written.extend(write_bundled(refreshed, BUNDLED_DIR))
    except (OSError, PriceFileError) as bad:
        raise UserError(f"cannot write prices: {one_line(bad)}") from None
    count = len(refreshed.records)
    if written:
        print(f"{count} prices written to {', '.join(str(path) for path in written)}")
    else:
        print(f"{count} prices fetched; nothing written (pass --output PATH or --write-bundled)")
    return 0


def _services(text: str) -> list[str]:
    """`--services AmazonS3,AmazonSNS`: comma-separated catalogue service names, any case."""
    try:
        return [service_name(part) for part in text.split(",") if part.strip()]
    except ValueError as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


def add_refresh_command(subparsers: Subparsers) -> None:
    """Add `refresh` to the `prices` command group (`subparsers` is that group's subparsers object)."""
    parser = subparsers.add_parser(
        "refresh",
        help="rebuild prices from the AWS Price List Query API (needs pricing:GetProducts)",
        description=(
            "Fetch current prices with pricing:GetProducts (exact filters; exactly one product, one OnDemand "
            "term and the expected unit, or fail). Prints a summary; writes only with --output or "
            "--write-bundled."
        ),
    )
    parser.add_argument(
        "--region", action="append", required=True, dest="regions", metavar="REGION",
        help="region to price, e.g. us-east-1 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--services", "--service", action="extend", type=_services, dest="services", metavar="SERVICE[,SERVICE]",
        help=f"services to refresh, as `prices show` names them (repeatable; default: all): {', '.join(SERVICES)}",
    )  # fmt: skip
    parser.add_argument(
        "--instance-type", action="append", dest="instance_types", metavar="TYPE",
        help="only these EC2 types and ml.* SageMaker types (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--model", action="append", dest="models", metavar="MODEL_ID",
        help="only these Bedrock model ids, e.g. amazon.nova-pro-v1:0 (repeatable)",
    )  # fmt: skip
    add_file_option(
        parser, "--output", "PATH",
        "write an override price file (records already in it that were not refreshed are kept)",
    )  # fmt: skip
    parser.add_argument(
        "--write-bundled", action="store_true",
        help="rewrite the matching records in the bundled price files (maintainers)",
    )  # fmt: skip
    parser.set_defaults(func=run_refresh)


def add_prices_command(commands: Subparsers) -> None:
    """Add the `prices` group (`show`, `refresh`) to the `inferwise` commands."""
    prices = commands.add_parser("prices", help="inspect or refresh the price catalogue")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    add_show_command(price_commands)
    add_refresh_command(price_commands)


def add_show_command(subparsers: Subparsers) -> None:
    """Add `show` to the `prices` command group."""
    show = subparsers.add_parser(
        "show",
        help="list catalogue prices (or Spot discount assumptions) with their source and date",
        description=(
            "List the bundled price catalogue: one tab-separated line per price (key, tiers, unit, source, as-of "
            "date, confidence), or a JSON list with --format json. Filters combine."
        ),
    )
    show.add_argument(
        "service", nargs="?",
        help="the catalogue's service name (AWS Price List service code, any case), e.g. AmazonEC2; as --service",
    )  # fmt: skip
    show.add_argument(
        "--service", dest="service_flag", metavar="SERVICE",
        help="the service, named as `prices refresh --services` names it: AmazonEC2, AmazonBedrock, AWSLambda, ...",
    )  # fmt: skip
    show.add_argument("--region", metavar="REGION", help="a Region, e.g. us-east-1 (glob allowed: 'eu-*')")
    show.add_argument(
        "--sku", metavar="SKU",
        help="a model id or instance type, glob allowed ('g5.*', 'anthropic.claude-*'); a Bedrock profile id "
        "(us.amazon.nova-lite-v1:0) matches its model",
    )  # fmt: skip
    show.add_argument(
        "--category", type=_category, metavar="CATEGORY",
        help=f"one of {', '.join(CATEGORIES)} (any case); Spot shows the Spot discount assumptions",
    )  # fmt: skip
    show.add_argument(
        "--spot", action="store_true",
        help="show the Spot discount assumptions (average, observed range, source) instead of prices",
    )  # fmt: skip
    add_format_option(show, ("table", "json"))
    one_line_parse_errors(show, SHOW_PROG)
    show.set_defaults(func=run_show)
