"""Checks shared by the usage dataclasses and the files that set them: one message shape for every bad value.

Every refusal reads `<prop> must be <what is allowed>, got <value>` (sometimes followed by why, or how to
fix it), where `<value>` is the repr cut to about 80 characters (`shown`): a 10 MB string, a huge integer
or a deep structure is never expanded into the message. A value of the wrong type raises `InvalidTypeError`
(both a `TypeError` and a `ValueError`), a value out of range `InvalidValueError` (a `ValueError`).

Numbers are int, float or Decimal, never bool (a YAML `yes` is not a volume). NaN and infinities are refused
before any Decimal arithmetic, and so are absurd magnitudes (`cap`: a sanity limit per field, e.g. 10^12
records a month), so no `decimal.InvalidOperation` and no float `inf` ever gets further.

YAML files (usage files, workload files) are read by `load_yaml_file`: at most 1 MiB, UTF-8, no anchors or
aliases (a 400-byte alias bomb expands to gigabytes), no duplicate keys, at most 32 levels deep; every
error names the file and, where there is one, the line.

The construct layer re-exports these from `inferwise.constructs.validation` and adds the checks of CDK
types (tokens, constructs, durations); the cost layer must not import it.
"""

from __future__ import annotations

import difflib
import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

Number = int | float | Decimal

MAX_SHOWN = 80
"""Characters of a value's repr quoted in a message."""
MAX_FILE_BYTES = 1 << 20
"""Largest usage or workload file read (1 MiB); real ones are a few hundred bytes."""
MAX_YAML_DEPTH = 32
MAX_SCALAR_CHARS = 10_000
MAX_INT_DIGITS = 40
"""An integer literal longer than this in a YAML file is refused before Python converts it."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class InvalidValueError(ValueError):
    """A prop, usage field or file value inferwise refuses; the message names it, shows it and says what is allowed."""


class InvalidTypeError(InvalidValueError, TypeError):
    """A value of the wrong type (also a ValueError, so code that catches ValueError keeps working)."""


# ------------------------------------------------------------------------------------------- showing
class _Repr(reprlib.Repr):
    def repr_int(self, x: int, level: int) -> str:
        if abs(x) >= 10**MAX_INT_DIGITS:
            return f"<int of about {int(x.bit_length() * 0.30103) + 1} digits>"
        return repr(x)


_REPR = _Repr()
_REPR.maxstring = MAX_SHOWN
_REPR.maxother = MAX_SHOWN
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = _REPR.maxdict = 4
_REPR.maxlevel = 2


def shown(value: object) -> str:
    """`value`'s repr, cut to about 80 characters (strings keep their start and end)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a repr that raises must not hide the real problem
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_SHOWN + 8 else text[:MAX_SHOWN] + "...>"


def number_text(value: Number) -> str:
    """A bound as people write it: 730, 0.5, 1,000,000,000,000."""
    number = to_decimal(value).normalize()
    if number == number.to_integral_value():
        whole = int(number)
        return f"{whole:,}" if abs(whole) >= 100_000 else str(whole)
    return format(number, "f")


# ------------------------------------------------------------------------------------------- numbers
def is_number(value: object) -> bool:
    """True for an int, float or Decimal; False for a bool."""
    return not isinstance(value, bool) and isinstance(value, int | float | Decimal)


def to_decimal(value: Number) -> Decimal:
    """The value as a Decimal (a float through its shortest repr, so 0.1 is 0.1)."""
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def range_text(
    low: Number | None, high: Number | None, *, low_open: bool = False, high_open: bool = False
) -> str:
    """`between 0 and 730`, `>= 1`, `> 0`, `> 0 and <= 24`."""
    if low is not None and high is not None and not low_open and not high_open:
        return f"between {number_text(low)} and {number_text(high)}"
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {number_text(low)}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {number_text(high)}")
    return " and ".join(parts) or "any finite number"


def _article(kind: str) -> str:
    return "an" if kind[0] in "aeiou" else "a"


def check_number(
    prop: str,
    value: object,
    *,
    low: Number | None = None,
    high: Number | None = None,
    low_open: bool = False,
    high_open: bool = False,
    cap: Number | None = None,
    whole: bool = False,
    kind: str | None = None,
    allowed: str | None = None,
) -> Decimal:
    """`value` as a Decimal if it is a finite number in range, else an error naming `prop`.

    `low`/`high` are the field's real bounds (quoted in every message); `cap` is a sanity limit on the
    magnitude (quoted only when passed). `whole` asks for an int (a float such as 2.0 is refused). `kind`
    names the type in the message (default "number", or "whole number"); `allowed` replaces the range text
    (one starting with "a "/"an " is a whole description, e.g. "a percentage in (0, 100] or None").
    """
    kind = kind or ("whole number" if whole else "number")
    described = allowed is not None and allowed.startswith(("a ", "an "))
    allowed = allowed or range_text(low, high, low_open=low_open, high_open=high_open)
    good_type = isinstance(value, int) if whole else is_number(value)
    if isinstance(value, bool) or not good_type:
        what = allowed if described else f"{_article(kind)} {kind} {allowed}"
        raise InvalidTypeError(f"{prop} must be {what}, got {shown(value)}")
    if isinstance(value, int) and abs(value) >= 10**MAX_INT_DIGITS:
        raise InvalidValueError(f"{prop} must be {allowed}, got {shown(value)}")
    number = to_decimal(value)  # type: ignore[arg-type]
    if not number.is_finite():
        raise InvalidValueError(f"{prop} must be a finite number {allowed}, got {shown(value)}")
    too_low = low is not None and (number <= to_decimal(low) if low_open else number < to_decimal(low))
    too_high = high is not None and (number >= to_decimal(high) if high_open else number > to_decimal(high))
    if too_low or too_high:
        raise InvalidValueError(f"{prop} must be {allowed}, got {shown(value)}")
    if cap is not None and abs(number) > to_decimal(cap):
        raise InvalidValueError(
            f"{prop} must be at most {number_text(cap)} (inferwise's sanity limit for it; a larger figure is "
            f"almost certainly a typo), got {shown(value)}"
        )
    return number


def check_bool(prop: str, value: object) -> bool:
    """`value` if it is True or False (not 1, 'yes' or None)."""
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{prop} must be True or False, got {shown(value)}")
    return value


# ------------------------------------------------------------------------------------------- strings
def check_text(
    prop: str,
    value: object,
    *,
    allowed: str = "a non-empty string",
    max_length: int | None = None,
    pattern: re.Pattern[str] | None = None,
    why: str = "",
) -> str:
    """`value` if it is a non-empty string without control characters or surrounding whitespace, at most
    `max_length` characters long and matching `pattern` (whole string); `why` is appended to a refusal."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{prop} must be {allowed}, got {shown(value)}{why}")
    if not value.strip():
        raise InvalidValueError(f"{prop} must be {allowed}, got {shown(value)}{why}")
    if _CONTROL.search(value):
        raise InvalidValueError(
            f"{prop} must be {allowed} without control characters (newline, tab, NUL, ...), got {shown(value)}"
        )
    if value != value.strip():
        raise InvalidValueError(
            f"{prop} must be {allowed} without leading or trailing whitespace, got {shown(value)}"
        )
    if max_length is not None and len(value) > max_length:
        raise InvalidValueError(
            f"{prop} must be at most {max_length} characters{why}, got {shown(value)} ({len(value):,} characters)"
        )
    if pattern is not None and not pattern.fullmatch(value):
        raise InvalidValueError(f"{prop} must be {allowed}, got {shown(value)}{why}")
    return value


def close_matches(word: str, choices: Iterable[str]) -> list[str]:
    """Choices that look like `word` (case-insensitive), best first."""
    by_folded = {choice.casefold(): choice for choice in choices}
    found = difflib.get_close_matches(word.casefold(), list(by_folded), n=3, cutoff=0.6)
    contains = [c for f, c in by_folded.items() if len(word) >= 3 and word.casefold() in f]
    return list(dict.fromkeys([*(by_folded[f] for f in found), *contains]))[:3]


def suggestion(word: object, choices: Iterable[str]) -> str:
    """`; did you mean 'x'?` for a string close to one of `choices`, else ''."""
    if not isinstance(word, str):
        return ""
    matches = close_matches(word, choices)
    return f"; did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def check_choice(prop: str, value: object, choices: Sequence[str]) -> str:
    """`value` if it is one of `choices`; the error lists them and the closest."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        error = InvalidValueError if isinstance(value, str) else InvalidTypeError
        raise error(f"{prop} must be one of {listed}, got {shown(value)}{suggestion(value, choices)}")
    return value


# ---------------------------------------------------------------------------------------- containers
def check_sequence(
    prop: str, value: object, *, of: str, min_items: int = 0, max_items: int | None = None
) -> tuple[Any, ...]:
    """`value` as a tuple if it is a list or tuple (not a string, mapping or set) of `min_items` to
    `max_items` items; `of` says what the items are, for the message."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidTypeError(f"{prop} must be a list of {of}, got {shown(value)}")
    if max_items is not None and len(value) > max_items:
        raise InvalidValueError(
            f"{prop} must hold at most {max_items} {of}, got {len(value):,}: {shown(value)}"
        )
    if len(value) < min_items:
        raise InvalidValueError(f"{prop} must hold at least {min_items} {of}, got {shown(value)}")
    return tuple(value)


def check_mapping(prop: str, value: object, *, of: str, max_items: int | None = None) -> Mapping[Any, Any]:
    """`value` if it is a mapping (dict) of at most `max_items` entries."""
    if not isinstance(value, Mapping):
        raise InvalidTypeError(f"{prop} must be a mapping of {of}, got {shown(value)}")
    if max_items is not None and len(value) > max_items:
        raise InvalidValueError(f"{prop} may hold at most {max_items} entries, got {len(value):,}")
    return value


def check_instance(prop: str, value: object, cls: type, hint: str = "") -> Any:
    """`value` if it is an instance of `cls`; `hint` (e.g. how to build one) is appended to a refusal."""
    if not isinstance(value, cls):
        raise InvalidTypeError(
            f"{prop} must be {_article(cls.__name__)} {cls.__name__}{hint}, got {shown(value)}"
        )
    return value


# ------------------------------------------------------------------------------------------- YAML files
class _StrictLoader(yaml.SafeLoader):
    """SafeLoader without anchors, aliases or duplicate keys, with bounded depth, scalars and integers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(None, None, f"aliases (*{event.anchor}) are not allowed", mark)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise yaml.composer.ComposerError(
                None, None, f"anchors (&{anchor}) are not allowed; repeat the values", mark
            )
        if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_SCALAR_CHARS:
            raise yaml.composer.ComposerError(
                None, None, f"a value of {len(event.value):,} characters is too long", mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node.start_mark.line + 1)
            except TypeError:  # an unhashable key; SafeLoader explains it below
                continue
            if first != key_node.start_mark.line + 1:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shown(key)} (first on line {first})", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def _construct_int(loader: yaml.SafeLoader, node: Any) -> Any:
    if len(str(node.value)) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of {len(node.value):,} digits is too large", node.start_mark
        )
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml_file(path: Path, what: str, error: type[Exception] = InvalidValueError) -> Any:
    """The document in the YAML file at `path`, or `error` naming `what` (e.g. "usage file"), the file and
    the line: at most `MAX_FILE_BYTES`, UTF-8, no anchors/aliases, no duplicate keys, bounded nesting."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as bad:
        raise error(f"cannot read {what} {path}: {bad.strerror or bad}") from None
    if len(data) > MAX_FILE_BYTES:
        raise error(
            f"{what} {path} is larger than {MAX_FILE_BYTES:,} bytes (1 MiB), the most inferwise reads; "
            "a usage or workload file is a few hundred bytes"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = data[: bad.start].count(b"\n") + 1
        raise error(
            f"{what} {path}, line {line}: not UTF-8 (byte 0x{data[bad.start]:02x}); save the file as UTF-8"
        ) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark or bad.context_mark
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = " ".join(part for part in (bad.context, bad.problem) if part)
        raise error(f"{what} {path}{where}: {problem or 'not valid YAML'}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as bad:
        raise error(f"{what} {path}: not valid YAML: {shown(str(bad))}") from None


def key_lines(path: Path) -> dict[tuple[str, ...], int]:
    """Line of each mapping key of an already validated YAML file, by its path of keys (for messages)."""
    lines: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except (OSError, yaml.YAMLError, ValueError):
        return lines

    def walk(node: Any, at: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                here = (*at, str(key_node.value))
                lines[here] = key_node.start_mark.line + 1
                walk(value_node, here)

    walk(root, ())
    return lines
