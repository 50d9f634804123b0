"""`inferwise diff`: compare the cost reports of two cloud assemblies; exit 1 when a threshold is crossed."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from inferwise.cli.common import (
    EXIT_THRESHOLD,
    Subparsers,
    add_assembly_argument,
    add_format_option,
    percent,
    usd_amount,
    user_errors,
    write_rendered,
)
from inferwise.cost.diff import (
    CostDiff,
    diff_reports,
    render_diff_json,
    render_diff_markdown,
    render_diff_table,
    threshold_failures,
)
from inferwise.cost.report import report_from_cloud_assembly

PROG = "inferwise diff"

DIFF_RENDERERS: dict[str, Callable[[CostDiff], str]] = {
    "table": render_diff_table,
    "md": render_diff_markdown,
    "json": render_diff_json,
}


@user_errors(PROG)
def run_diff(args: argparse.Namespace) -> int:
    """The `diff` handler: diff the two reports, render, check the thresholds. Returns the exit code."""
    base = report_from_cloud_assembly(args.base)
    head = report_from_cloud_assembly(args.head)
    diff = diff_reports(base, head)
    if args.format == "md":
        sys.stdout.write(render_diff_markdown(diff, generated_at=args.generated_at))
    else:
        write_rendered(DIFF_RENDERERS, args.format, diff)
    failures = threshold_failures(
        diff,
        fail_over_usd=args.fail_over_usd,
        fail_increase_usd=args.fail_increase_usd,
        fail_increase_percent=args.fail_increase_percent,
    )
    for failure in failures:
        print(f"{PROG}: threshold crossed: {failure}", file=sys.stderr)
    return EXIT_THRESHOLD if failures else 0


def add_diff_command(commands: Subparsers) -> None:
    """Add `diff` to the `inferwise` commands."""
    parser = commands.add_parser("diff", help="compare the cost reports of two synthesized cloud assemblies")
    add_assembly_argument(parser, "base", help="cloud assembly of the base (e.g. the target branch)")
    add_assembly_argument(parser, "head", help="cloud assembly of the head (e.g. the pull request)")
    add_format_option(parser, sorted(DIFF_RENDERERS))
    parser.add_argument(
        "--fail-over-usd",
        type=usd_amount,
        metavar="USD",
        help="exit 1 when the head's monthly total is over USD",
    )
    parser.add_argument(
        "--fail-increase-usd",
        type=usd_amount,
        metavar="USD",
        help="exit 1 when the monthly total rises by more than USD",
    )
    parser.add_argument(
        "--fail-increase-percent",
        type=percent,
        metavar="PCT",
        help="exit 1 when the monthly total rises by more than PCT percent",
    )
    parser.add_argument(
        "--generated-at",
        help="timestamp written into the markdown marker, so a workflow never replaces a newer comment",
    )
    parser.set_defaults(func=run_diff)
