"""`inferwise actual`: a month of the bill (Cost Explorer, by the `inferwise:construct` tag) against the
estimates of a cloud assembly, with the drift per construct and the lines that explain it.

Exit codes: 0, 1 when a construct drifted beyond `--fail-drift-percent` (each reason on stderr), 2 for a user
error (no data, tags not active, Cost Explorer off or denied, a bad assembly or month). docs/actual.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from inferwise.cli.common import (
    EXIT_THRESHOLD,
    Subparsers,
    UserError,
    add_assembly_argument,
    add_file_option,
    add_format_option,
    percent,
    user_errors,
    write_rendered,
)
from inferwise.cost.actual import (
    ActualError,
    ActualReport,
    ce_client,
    compare_month,
    last_full_month,
    month_period,
    needed_services,
    parse_month,
    render_json,
    render_markdown,
    render_table,
    render_usage_file,
    suggest_usage,
)
from inferwise.cost.report import report_from_cloud_assembly

PROG = "inferwise actual"

RENDERERS: dict[str, Callable[[ActualReport], str]] = {
    "table": render_table,
    "md": render_markdown,
    "json": render_json,
}

client_factory: Callable[[], Any] = ce_client
"""Makes the Cost Explorer client; tests replace it (moto, or botocore's Stubber)."""


def utc_today() -> date:
    return datetime.now(UTC).date()


today: Callable[[], date] = utc_today
"""Today's date in UTC (Cost Explorer's day); tests replace it."""


def month_argument(text: str) -> date:
    """`--month YYYY-MM` -> the month's first day."""
    try:
        return parse_month(text)
    except ValueError as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


@user_errors(PROG, also=(ActualError,))
def run_actual(args: argparse.Namespace) -> int:
    """The `actual` handler: read the estimates, ask Cost Explorer, print the comparison. Returns the exit code."""
    report = report_from_cloud_assembly(args.cdk_out)
    now = today()
    month = month_period(args.month or last_full_month(now), now)
    suggest_path = args.suggest_usage
    actual = compare_month(
        report,
        month,
        client_factory(),
        needed=needed_services if suggest_path is not None else (lambda estimate: ()),
    )
    for warning in actual.warnings():
        _warn(warning)
    write_rendered(RENDERERS, args.format, actual)
    if suggest_path is not None:
        suggestions, skipped = suggest_usage(actual)
        try:
            suggest_path.write_text(render_usage_file(suggestions, skipped, actual), encoding="utf-8")
        except OSError as bad:
            raise UserError(f"cannot write {suggest_path}: {bad}") from None
        print(
            f"{PROG}: wrote {suggest_path}: observed usage for {len(suggestions)} construct(s)"
            + (f", {len(skipped)} skipped (reasons in the file)" if skipped else ""),
            file=sys.stderr,
        )
    if args.fail_drift_percent is not None:
        reasons = actual.over(args.fail_drift_percent)
        for reason in reasons:
            print(f"{PROG}: {reason}", file=sys.stderr)
        if reasons:
            return EXIT_THRESHOLD
    return 0


def add_actual_command(commands: Subparsers) -> None:
    """Add `actual` to the `inferwise` commands."""
    parser = commands.add_parser(
        "actual",
        help="compare a month of the bill (Cost Explorer, by inferwise tags) with the estimates",
        description=(
            "Compare a month of actual spend, read from Cost Explorer grouped by the inferwise:construct "
            "cost allocation tag, with the estimates of a cloud assembly. Credentials come from the usual "
            "boto3 chain; Cost Explorer answers from us-east-1 whatever the Region of the resources, and "
            "bills $0.01 per request (a month takes 1 + the number of services explained)."
        ),
    )
    add_assembly_argument(
        parser, "cdk_out", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)"
    )
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--month", type=month_argument, metavar="YYYY-MM", help="the calendar month to read")
    when.add_argument("--last-full-month", action="store_true", help="the last complete calendar month (UTC)")
    add_format_option(parser, RENDERERS)
    parser.add_argument(
        "--fail-drift-percent",
        type=percent,
        metavar="N",
        help="exit 1 when a construct's actual cost is more than N%% above or below its estimate",
    )
    add_file_option(
        parser,
        "--suggest-usage",
        "FILE",
        "write a usage file with the month's observed usage per construct path (docs/actual.md)",
    )
    parser.set_defaults(func=run_actual)
