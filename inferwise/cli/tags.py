"""`inferwise tags activate`: turn `inferwise:stack` and `inferwise:construct` on as cost allocation tags.

Exit codes: 0 when every key is active, 2 when a key could not be activated (not found yet, or refused) or a
user error (access denied, no credentials). docs/actual.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from inferwise.cli.common import EXIT_USAGE, Subparsers, user_errors
from inferwise.cost.actual import CE_REGION, DELAY, ActualError, activate_tags, ce_client
from inferwise.cost.tagging import TAG_KEYS

PROG = "inferwise tags activate"

client_factory: Callable[[], Any] = ce_client
"""Makes the Cost Explorer client; tests replace it with one wired to botocore's Stubber."""


def _table(rows: list[tuple[str, str]]) -> list[str]:
    width = max(len(key) for key, _ in rows)
    return [f"  {key.ljust(width)}  {text}" for key, text in rows]


@user_errors(PROG, also=(ActualError,))
def run_activate(args: argparse.Namespace) -> int:
    """The `tags activate` handler: activate the keys (or say what it would do). Returns the exit code."""
    if args.dry_run:
        print(
            f"{PROG} --dry-run: would ask Cost Explorer ({CE_REGION}) which of these keys it knows "
            "(ce:ListCostAllocationTags), then set the known, inactive ones (ce:UpdateCostAllocationTagsStatus):"
        )
        print("\n".join(_table([(key, "Active") for key in TAG_KEYS])))
        print(f"No request sent. {DELAY}")
        return 0
    outcomes = activate_tags(client_factory(), TAG_KEYS)
    print(f"{PROG}: cost allocation tags in Cost Explorer ({CE_REGION}):")
    print("\n".join(_table([(o.key, o.describe()) for o in outcomes])))
    print(DELAY)
    failed = [o.key for o in outcomes if not o.ok]
    if failed:
        print(f"{PROG}: not activated: {', '.join(failed)}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def add_tags_command(commands: Subparsers) -> None:
    """Add `tags` (with `activate`) to the `inferwise` commands."""
    parser = commands.add_parser("tags", help="manage inferwise's cost allocation tags")
    actions = parser.add_subparsers(dest="tags_command", required=True)
    activate = actions.add_parser(
        "activate",
        help=f"activate {' and '.join(TAG_KEYS)} as cost allocation tags",
        description=(
            f"Activate {' and '.join(TAG_KEYS)} as cost allocation tags (Cost Explorer, {CE_REGION}), so "
            "`inferwise actual` can group the bill by construct. Needs ce:ListCostAllocationTags and "
            f"ce:UpdateCostAllocationTagsStatus. {DELAY}"
        ),
    )
    activate.add_argument("--dry-run", action="store_true", help="print what would be done, send nothing")
    activate.set_defaults(func=run_activate)
