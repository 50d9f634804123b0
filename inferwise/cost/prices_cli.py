"""`inferwise prices refresh`: rebuild price records from the AWS Price List Query API.

`add_refresh_command` adds the sub-command to the `prices` command group; `inferwise.cli` owns the group.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inferwise.cost.records import PriceFileError
from inferwise.cost.refresh import (
    BUNDLED_DIR,
    SERVICES,
    PriceListError,
    make_pricing_client,
    refresh,
    summarize,
    write_bundled,
    write_override_file,
)

EXIT_USAGE = 2
PROG = "inferwise prices refresh"

client_factory: Callable[[], Any] = make_pricing_client
"""Makes the `pricing` client; tests replace it with one wired to botocore's Stubber."""


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

    errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)
    return errors


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_USAGE


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
    except PriceListError as bad:
        return _fail(_one_line(bad))
    except aws_errors as bad:
        return _fail(f"AWS Price List request failed ({type(bad).__name__}): {_one_line(bad)}")
    sys.stdout.write(summarize(refreshed))
    written: list[Path] = []
    try:
        if args.output is not None:
            write_override_file(refreshed, args.output)
            written.append(args.output)
        if args.write_bundled:
            written.extend(write_bundled(refreshed, BUNDLED_DIR))
    except (OSError, PriceFileError) as bad:
        return _fail(f"cannot write prices: {_one_line(bad)}")
    count = len(refreshed.records)
    if written:
        print(f"{count} prices written to {', '.join(str(path) for path in written)}")
    else:
        print(f"{count} prices fetched; nothing written (pass --output PATH or --write-bundled)")
    return 0


def add_refresh_command(subparsers: argparse._SubParsersAction[Any]) -> None:
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
        "--service", action="append", choices=SERVICES, dest="services",
        help="service to refresh (repeatable; default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--instance-type", action="append", dest="instance_types", metavar="TYPE",
        help="only these EC2 types and ml.* SageMaker types (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--model", action="append", dest="models", metavar="MODEL_ID",
        help="only these Bedrock model ids, e.g. amazon.nova-pro-v1:0 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, metavar="PATH",
        help="write an override price file (records already in it that were not refreshed are kept)",
    )  # fmt: skip
    parser.add_argument(
        "--write-bundled", action="store_true",
        help="rewrite the matching records in the bundled price files (maintainers)",
    )  # fmt: skip
    parser.set_defaults(func=run_refresh)
