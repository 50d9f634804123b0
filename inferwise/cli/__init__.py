"""The `inferwise` command: cost reports from a cloud assembly, and the price catalogue.

One module per sub-command (`report`, `diff`, `compare`, `prices`), each adding its parser with
`add_<name>_command`; `common` holds what they share (argument types, format selection, the error wrapper).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from inferwise import __version__
from inferwise.cli.compare import add_compare_command
from inferwise.cli.diff import add_diff_command
from inferwise.cli.prices import add_prices_command
from inferwise.cli.report import add_report_command

DESCRIPTION = "The `inferwise` command: cost reports from a cloud assembly, and the price catalogue."

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferwise", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"inferwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_report_command(commands)
    add_diff_command(commands)
    add_compare_command(commands)
    add_prices_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code
