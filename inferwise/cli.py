"""The `inferwise` command: cost reports from a cloud assembly, and the price catalogue."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from inferwise import __version__
from inferwise.cost.report import (
    CostReport,
    ReportError,
    render_json,
    render_markdown,
    render_table,
    report_from_cloud_assembly,
)

RENDERERS: dict[str, Callable[[CostReport], str]] = {
    "table": render_table,
    "md": render_markdown,
    "json": render_json,
}

EXIT_USAGE = 2


def _report(args: argparse.Namespace) -> int:
    try:
        report = report_from_cloud_assembly(Path(args.cdk_out))
    except ReportError as bad:
        print(f"inferwise report: {bad}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(RENDERERS[args.format](report))
    return 0


def _prices_show(args: argparse.Namespace) -> int:
    from inferwise.cost.catalog import PriceCatalog

    catalog = PriceCatalog.bundled()
    records = catalog.records(service=args.service, region=args.region)
    if not records:
        print(
            f"inferwise prices show: no prices for service={args.service!r} region={args.region!r}. "
            f"Services: {', '.join(catalog.services())}. Regions: {', '.join(catalog.regions())}.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    for record in records:
        tiers = ", ".join(
            f"{tier.usd.normalize():f}"
            + ("" if len(record.tiers) == 1 else f" from {tier.begin.normalize():f}")
            for tier in record.tiers
        )
        print(
            f"{record.key}\t{tiers} USD per {record.unit}\t{record.source} {record.as_of.isoformat()} ({record.confidence})"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferwise", description=__doc__)
    parser.add_argument("--version", action="version", version=f"inferwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("report", help="render the cost report of a synthesized cloud assembly")
    report.add_argument(
        "cdk_out", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)"
    )
    report.add_argument("--format", choices=sorted(RENDERERS), default="table")
    report.set_defaults(func=_report)

    prices = commands.add_parser("prices", help="inspect or refresh the price catalogue")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    show = price_commands.add_parser("show", help="list catalogue prices with their source and date")
    show.add_argument("service", nargs="?", help="AWS Price List service code, e.g. AmazonEC2")
    show.add_argument("--region")
    show.set_defaults(func=_prices_show)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
