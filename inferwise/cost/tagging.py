"""The cost-allocation tags inferwise puts on resources, and the one rule that turns a construct path into a tag value.

Every resource a construct creates carries `inferwise:stack` (the stack name) and `inferwise:construct` (the
construct path). Once both keys are activated as cost allocation tags (`inferwise tags activate`), Cost
Explorer groups the bill by them and `inferwise actual` matches that bill to the estimates.

A tag value holds at most 256 characters, and some services (Bedrock among them) accept only ASCII letters,
digits, spaces and `_ . : / = + @ -`. A path that fits both rules is its own tag value; any other path is
shortened: characters outside the set become `_`, the result is cut to leave room for a 12-character hash,
and `@<hash>` (SHA-256 of the full path) ends it, so two long paths never share a value. The tagging code and
the bill reader both call `construct_tag_value`, so they always agree.
"""

from __future__ import annotations

import hashlib
import re

STACK_TAG_KEY = "inferwise:stack"
CONSTRUCT_TAG_KEY = "inferwise:construct"
TAG_KEYS: tuple[str, ...] = (STACK_TAG_KEY, CONSTRUCT_TAG_KEY)
"""The keys `inferwise tags activate` turns on as cost allocation tags."""

MAX_TAG_VALUE_LENGTH = 256
"""AWS tag values: at most 256 characters."""

HASH_LENGTH = 12
"""Hex characters of SHA-256 that end a shortened value."""

_ALLOWED = re.compile(r"[A-Za-z0-9 _.:/=+@-]")
_DISALLOWED = re.compile(r"[^A-Za-z0-9 _.:/=+@-]")


def is_valid_tag_value(value: str) -> bool:
    """Whether `value` fits every service's tag-value rules (length and the ASCII character set)."""
    return len(value) <= MAX_TAG_VALUE_LENGTH and all(_ALLOWED.fullmatch(ch) for ch in value)


def construct_tag_value(path: str) -> str:
    """The `inferwise:construct` value of a construct path: the path itself when it fits, else shortened.

    >>> construct_tag_value("BatchStack/Pipeline")
    'BatchStack/Pipeline'
    >>> len(construct_tag_value("Stack/" + "Deep/" * 60 + "Leaf"))
    256
    """
    if not path:
        raise ValueError("a construct path must not be empty")
    if is_valid_tag_value(path):
        return path
    digest = hashlib.sha256(path.encode("utf-8")).hexdigest()[:HASH_LENGTH]
    head = _DISALLOWED.sub("_", path)[: MAX_TAG_VALUE_LENGTH - HASH_LENGTH - 1]
    return f"{head}@{digest}"


def stack_tag_value(stack_name: str) -> str:
    """The `inferwise:stack` value of a stack name (stack names already fit; same rule for safety)."""
    return construct_tag_value(stack_name)
