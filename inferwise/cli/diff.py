"""`inferwise diff`: compare the cost reports of two cloud assemblies; exit 1 when a threshold is crossed."""

from __future__ import annotations

import argparse
import sys

from inferwise.cli.common import (
    EXIT_THRESHOLD,
    Subparsers,
    add_assembly_argument,
    add_format_option,
    percent,
    usd_amount,
    user_errors,
)
from inferwise.cost.diff import (
    CommentContext,
    Thresholds,
    check_thresholds,
    diff_reports,
    render_diff_json,
    render_diff_markdown,
    render_diff_table,
)
from inferwise.cost.report import report_from_cloud_assembly

PROG = "inferwise diff"

FORMATS = ("json", "md", "table")


@user_errors(PROG)
def run_diff(args: argparse.Namespace) -> int:
    """The `diff` handler: diff the two reports, render, check the thresholds. Returns the exit code."""
    base = report_from_cloud_assembly(args.base)
    head = report_from_cloud_assembly(args.head)
    diff = diff_reports(base, head)
    thresholds = Thresholds(args.fail_over_usd, args.fail_increase_usd, args.fail_increase_percent)
    if args.format == "md":
        context = CommentContext(
            thresholds=thresholds,
            generated_at=args.generated_at,
            base_ref=args.base_ref,
            head_ref=args.head_ref,
            chart=args.chart,
        )
        sys.stdout.write(render_diff_markdown(diff, context=context))
    elif args.format == "json":
        sys.stdout.write(
            render_diff_json(diff, thresholds=thresholds, base_ref=args.base_ref, head_ref=args.head_ref)
        )
    else:
        sys.stdout.write(render_diff_table(diff))
    crossed = [check for check in check_thresholds(diff, thresholds) if check.crossed]
    for check in crossed:
        print(f"{PROG}: threshold crossed: {check.sentence()}", file=sys.stderr)
    return EXIT_THRESHOLD if crossed else 0


def add_diff_command(commands: Subparsers) -> None:
    """Add `diff` to the `inferwise` commands."""
    parser = commands.add_parser("diff", help="compare the cost reports of two synthesized cloud assemblies")
    add_assembly_argument(parser, "base", help="cloud assembly of the base (e.g. the target branch)")
    add_assembly_argument(parser, "head", help="cloud assembly of the head (e.g. the pull request)")
    add_format_option(parser, FORMATS)
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
        help="exit 1 when the monthly total rises by more than PCT percent (any rise from $0 does)",
    )
    parser.add_argument(
        "--generated-at",
        metavar="TIME",
        help="timestamp written into the markdown marker, so a workflow never replaces a newer comment",
    )
    parser.add_argument(
        "--base-ref",
        metavar="REF",
        help="commit (or branch) the base was synthesized from, shown in the markdown footer and the JSON",
    )
    parser.add_argument(
        "--head-ref",
        metavar="REF",
        help="commit (or branch) the head was synthesized from, shown in the markdown footer and the JSON",
    )
    parser.add_argument(
        "--chart",
        action="store_true",
        help="add a Mermaid bar chart of the largest changes, before and after, to the markdown",
    )
    parser.set_defaults(func=run_diff)
