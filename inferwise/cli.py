"""The `inferwise` command: cost reports from a cloud assembly, and the price catalogue."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from inferwise import __version__
from inferwise.advisor_cli import add_compare_command
from inferwise.cost.diff import (
    CostDiff,
    diff_reports,
    render_diff_json,
    render_diff_markdown,
    render_diff_table,
    threshold_failures,
)
from inferwise.cost.prices_cli import add_refresh_command
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

DIFF_RENDERERS: dict[str, Callable[[CostDiff], str]] = {
    "table": render_diff_table,
    "md": render_diff_markdown,
    "json": render_diff_json,
}

EXIT_THRESHOLD = 1
EXIT_USAGE = 2


def _usd_amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text!r}")
    return value


def _report(args: argparse.Namespace) -> int:
    try:
        report = report_from_cloud_assembly(Path(args.cdk_out))
    except ReportError as bad:
        print(f"inferwise report: {bad}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(RENDERERS[args.format](report))
    return 0


def _diff(args: argparse.Namespace) -> int:
    try:
        base = report_from_cloud_assembly(Path(args.base))
        head = report_from_cloud_assembly(Path(args.head))
    except ReportError as bad:
        print(f"inferwise diff: {bad}", file=sys.stderr)
        return EXIT_USAGE
    diff = diff_reports(base, head)
    if args.format == "md":
        sys.stdout.write(render_diff_markdown(diff, generated_at=args.generated_at))
    else:
        sys.stdout.write(DIFF_RENDERERS[args.format](diff))
    failures = threshold_failures(
        diff,
        fail_over_usd=args.fail_over_usd,
        fail_increase_usd=args.fail_increase_usd,
        fail_increase_percent=args.fail_increase_percent,
    )
    for failure in failures:
        print(f"inferwise diff: threshold crossed: {failure}", file=sys.stderr)
    return EXIT_THRESHOLD if failures else 0


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

    diff = commands.add_parser("diff", help="compare the cost reports of two synthesized cloud assemblies")
    diff.add_argument("base", help="cloud assembly of the base (e.g. the target branch)")
    diff.add_argument("head", help="cloud assembly of the head (e.g. the pull request)")
    diff.add_argument("--format", choices=sorted(DIFF_RENDERERS), default="table")
    diff.add_argument(
        "--fail-over-usd",
        type=_usd_amount,
        metavar="USD",
        help="exit 1 when the head's monthly total is over USD",
    )
    diff.add_argument(
        "--fail-increase-usd",
        type=_usd_amount,
        metavar="USD",
        help="exit 1 when the monthly total rises by more than USD",
    )
    diff.add_argument(
        "--fail-increase-percent",
        type=_usd_amount,
        metavar="PCT",
        help="exit 1 when the monthly total rises by more than PCT percent",
    )
    diff.add_argument(
        "--generated-at",
        help="timestamp written into the markdown marker, so a workflow never replaces a newer comment",
    )
    diff.set_defaults(func=_diff)

    add_compare_command(commands)

    prices = commands.add_parser("prices", help="inspect or refresh the price catalogue")
    price_commands = prices.add_subparsers(dest="prices_command", required=True)
    show = price_commands.add_parser("show", help="list catalogue prices with their source and date")
    show.add_argument("service", nargs="?", help="AWS Price List service code, e.g. AmazonEC2")
    show.add_argument("--region")
    show.set_defaults(func=_prices_show)
    add_refresh_command(price_commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
