"""What the `inferwise` sub-commands share: argument types, file and format arguments, and one error wrapper.

A handler is `(args) -> exit code`. Decorated with `user_errors(prog)`, it may raise a user error (bad
files, unknown prices, price-file errors, bad assemblies, or `UserError` with a ready message); the wrapper
prints it as one line, `prog: message`, on stderr and returns `EXIT_USAGE`. Anything else is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn, TypeAlias, TypeVar

from inferwise.cost.catalog import UnknownPriceError
from inferwise.cost.records import PriceFileError
from inferwise.cost.refresh import PriceListError
from inferwise.cost.report import ReportError

EXIT_THRESHOLD = 1
EXIT_USAGE = 2

Handler: TypeAlias = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What `ArgumentParser.add_subparsers()` returns: each command adds its parser to it."""

T = TypeVar("T")


class UserError(Exception):
    """A user error whose message is ready to print (the wrapper neither rewrites nor prefixes it twice)."""


USER_ERRORS: tuple[type[Exception], ...] = (
    UserError,
    ReportError,
    UnknownPriceError,
    PriceFileError,
    PriceListError,
)
"""The errors every command reports as one line with exit code 2."""


# ------------------------------------------------------------------------------------------- errors
def one_line(error: BaseException | str) -> str:
    """The message on one line (runs of white space become one space); an empty error gives its type name."""
    text = " ".join(str(error).split())
    if not text and isinstance(error, BaseException):
        return type(error).__name__
    return text


def fail(prog: str, message: str) -> int:
    """Print `prog: message` as one line on stderr; returns `EXIT_USAGE`."""
    print(f"{prog}: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def user_errors(
    prog: str,
    *,
    also: tuple[type[Exception], ...] = (),
    rewrite: Callable[[str], str] | None = None,
) -> Callable[[Handler], Handler]:
    """Decorate a handler so a user error (`USER_ERRORS`, plus `also`) is one line on stderr and exit code 2.

    `rewrite` edits the message of every caught error except `UserError`, whose message is final.
    """
    caught = USER_ERRORS + also

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            try:
                return handler(args)
            except caught as bad:
                message = str(bad)
                if rewrite is not None and not isinstance(bad, UserError):
                    message = rewrite(message)
                return fail(prog, one_line(message) or type(bad).__name__)

        return run

    return decorate


def one_line_parse_errors(parser: argparse.ArgumentParser, prog: str) -> None:
    """Make argparse errors of `parser` one line (`prog: message`, exit code 2) instead of usage + message."""

    def error(message: str) -> NoReturn:
        raise SystemExit(fail(prog, message))

    parser.error = error  # type: ignore[method-assign]


# ----------------------------------------------------------------------------------- argument types
def usd_amount(text: str) -> Decimal:
    """Money: a non-negative, finite decimal number of US dollars."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative number, got {text!r}")
    return value


percent = usd_amount
"""A percentage: a non-negative, finite decimal number (100 is one hundred percent)."""


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def number(text: str) -> int | Decimal:
    """A finite number: an int when written as one (`5`), else a Decimal (`5.0`, `1e6`)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}")
    return (
        int(value)
        if value == value.to_integral_value() and "." not in text and "e" not in text.lower()
        else value
    )


# ------------------------------------------------------------------------------ file arguments
def add_assembly_argument(parser: argparse.ArgumentParser, name: str, help: str, **options: Any) -> None:
    """A positional cloud assembly directory (a `Path`), e.g. `cdk.out`."""
    parser.add_argument(name, type=Path, help=help, **options)


def add_file_option(parser: argparse.ArgumentParser, flag: str, metavar: str, help: str) -> None:
    """An optional file flag whose value is a `Path`."""
    parser.add_argument(flag, type=Path, metavar=metavar, help=help)


# ------------------------------------------------------------------------------------ output format
def add_format_option(parser: argparse.ArgumentParser, choices: Iterable[str]) -> None:
    """`--format`, one of `choices` (listed in that order in the help), default `table`."""
    parser.add_argument("--format", choices=tuple(choices), default="table")


def write_rendered(renderers: Mapping[str, Callable[[T], str]], format: str, value: T) -> None:
    """Render `value` in the chosen format to stdout."""
    sys.stdout.write(renderers[format](value))
