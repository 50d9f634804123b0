"""`inferwise report`: the cost report of a synthesized cloud assembly."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from inferwise.cli.common import (
    Subparsers,
    add_assembly_argument,
    add_format_option,
    user_errors,
    write_rendered,
)
from inferwise.cost.report import (
    CostReport,
    render_json,
    render_markdown,
    render_table,
    report_from_cloud_assembly,
)

PROG = "inferwise report"

RENDERERS: dict[str, Callable[[CostReport], str]] = {
    "table": render_table,
    "md": render_markdown,
    "json": render_json,
}


@user_errors(PROG)
def run_report(args: argparse.Namespace) -> int:
    """The `report` handler: read the assembly, render the report. Returns the exit code."""
    report = report_from_cloud_assembly(args.cdk_out)
    write_rendered(RENDERERS, args.format, report)
    return 0


def add_report_command(commands: Subparsers) -> None:
    """Add `report` to the `inferwise` commands."""
    parser = commands.add_parser("report", help="render the cost report of a synthesized cloud assembly")
    add_assembly_argument(
        parser, "cdk_out", nargs="?", default="cdk.out", help="cloud assembly directory (default: cdk.out)"
    )
    add_format_option(parser, sorted(RENDERERS))
    parser.set_defaults(func=run_report)
