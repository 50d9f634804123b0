"""`inferwise prices show|refresh`: list the price catalogue, or rebuild price records from the AWS Price List.

`add_prices_command` adds the `prices` group to the `inferwise` commands; `add_refresh_command` adds
`refresh` to that group. Both name services the same way: the catalogue's service names (`AmazonSageMaker`,
`AWSLambda`, `awskms`, ...), in any case; `refresh` also takes the older short words (`ec2`, `lambda`).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferwise.cli.common import Subparsers, UserError, add_file_option, one_line, user_errors
from inferwise.cost.catalog import PriceCatalog
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

SHOW_PROG = "inferwise prices show"
PROG = "inferwise prices refresh"

client_factory: Callable[[], Any] = make_pricing_client
"""Makes the `pricing` client; tests replace it with one wired to botocore's Stubber."""


# ------------------------------------------------------------------------------------------------- show
def _price_line(record: PriceRecord) -> str:
    tiers = ", ".join(
        f"{tier.usd.normalize():f}" + ("" if len(record.tiers) == 1 else f" from {tier.begin.normalize():f}")
        for tier in record.tiers
    )
    return f"{record.key}\t{tiers} USD per {record.unit}\t{record.source} {record.as_of.isoformat()} ({record.confidence})"


@user_errors(SHOW_PROG)
def run_show(args: argparse.Namespace) -> int:
    """The `show` handler: one line per catalogue price, with its source and date. Returns the exit code."""
    catalog = PriceCatalog.bundled()
    service = args.service
    if service is not None:
        with contextlib.suppress(ValueError):  # an unknown name is reported below with the known ones
            service = service_name(service, tuple(catalog.services()))
    records = catalog.records(service=service, region=args.region)
    if not records:
        raise UserError(
            f"no prices for service={args.service!r} region={args.region!r}. "
            f"Services: {', '.join(catalog.services())}. Regions: {', '.join(catalog.regions())}."
        )
    for record in records:
        print(_price_line(record))
    return 0


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
    show = price_commands.add_parser("show", help="list catalogue prices with their source and date")
    show.add_argument(
        "service",
        nargs="?",
        help="the catalogue's service name (AWS Price List service code), e.g. AmazonEC2",
    )
    show.add_argument("--region")
    show.set_defaults(func=run_show)
    add_refresh_command(price_commands)
