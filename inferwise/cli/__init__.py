"""The `inferwise` command: cost reports from a cloud assembly, and the price catalogue.

One module per sub-command (`report`, `diff`, `compare`, `prices`), each adding its parser with
`add_<name>_command`; `common` holds what they share (argument types, format selection, the error wrapper).

A reader that stops early (`inferwise prices show | head`) ends the command quietly with exit code 141
(128 + SIGPIPE), as `cat` or `yes` end in a shell; see `main`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from inferwise import __version__
from inferwise.cli.actual import add_actual_command
from inferwise.cli.compare import add_compare_command
from inferwise.cli.diff import add_diff_command
from inferwise.cli.prices import add_prices_command
from inferwise.cli.report import add_report_command
from inferwise.cli.tags import add_tags_command

DESCRIPTION = "The `inferwise` command: cost reports from a cloud assembly, and the price catalogue."

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE (13): what a shell reports for a POSIX tool killed by a closed pipe."""

__all__ = ["EXIT_BROKEN_PIPE", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inferwise", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"inferwise {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    add_report_command(commands)
    add_diff_command(commands)
    add_compare_command(commands)
    add_prices_command(commands)
    add_actual_command(commands)
    add_tags_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (0, 1 a threshold crossed, 2 bad input, 141 a closed pipe).

    When the reader of stdout goes away, the rest of the output is dropped without a traceback: stdout is
    pointed at /dev/null (so the interpreter's last flush cannot fail again) and the exit code is 141.
    """
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    return code


def _discard_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass
    finally:
        os.close(devnull)
