"""Usage files: change a construct's workload assumptions without changing code.

A pull request can edit `inferwise-usage.yml` (named by the cdk.json context key `inferwise:usage-file`)
and the cost diff shows what the new assumptions cost. The file holds defaults per usage class and values
per construct path (shell-style globs); later entries win:

```yaml
version: 1
defaults:                      # by usage class name
  EndpointUsage:
    days_per_month: 22
constructs:                    # by construct path glob
  "BatchInferenceStack/Pipeline":
    records_per_month: 5000000
```
A field the usage class does not have, a figure that is not a finite non-negative number (or that the usage
class refuses), or an entry that matches no construct is a synth error naming the file and the line. The
file is read safely (`inferwise.cost.validation.load_yaml_file`): at most 1 MiB of UTF-8, no YAML anchors or
aliases, no duplicate keys. Every value taken from the file is listed in the estimate's assumptions.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import jsii
from constructs import IConstruct, IValidation

from inferwise.cost.validation import (
    InvalidTypeError,
    InvalidValueError,
    is_number,
    key_lines,
    load_yaml_file,
    shown,
    to_decimal,
)

USAGE_FILE_CONTEXT_KEY = "inferwise:usage-file"
SECTIONS = ("defaults", "constructs")

Usage = TypeVar("Usage")


class UsageFileError(InvalidValueError):
    """A usage file that cannot be read or applied (a ValueError)."""


@dataclass(frozen=True)
class UsageEntry:
    """One block of the file: which usages it selects and the figures it sets."""

    section: str
    selector: str
    fields: Mapping[str, Any]
    line: int = 0
    """Line of the selector in the file (0: unknown)."""
    field_lines: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def selects(self, construct_path: str, usage: object) -> bool:
        if self.section == "defaults":
            return type(usage).__name__ == self.selector
        return fnmatch.fnmatchcase(construct_path, self.selector)

    def describe(self) -> str:
        return f"{self.section}.{self.selector}"

    def line_of(self, message: str) -> int:
        """The line of the first field `message` names, else the selector's line."""
        for name, line in self.field_lines.items():
            if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message):
                return line
        return self.line


@dataclass
class UsageFile:
    """A parsed usage file, and which of its entries have selected a construct so far."""

    path: Path
    entries: tuple[UsageEntry, ...]
    used: set[int] = dataclasses.field(default_factory=set)
    """Indexes of the entries that have selected a construct."""

    @classmethod
    def load(cls, path: Path) -> UsageFile:
        data = load_yaml_file(path, "usage file", UsageFileError)
        version = data.get("version") if isinstance(data, dict) else None
        if not isinstance(data, dict) or type(version) is not int or version != 1:
            raise UsageFileError(f"usage file {path} must be a mapping with 'version: 1'")
        unknown = set(data) - {"version", *SECTIONS}
        if unknown:
            raise UsageFileError(
                f"usage file {path} has unknown top-level keys {sorted(map(str, unknown))}; allowed: version, "
                f"{', '.join(SECTIONS)}"
            )
        lines = key_lines(path)
        entries = []
        for section in SECTIONS:
            blocks = data.get(section) or {}
            if not isinstance(blocks, dict):
                raise UsageFileError(
                    f"usage file {path}{_at(lines, section)}: '{section}' must be a mapping of selector to fields"
                )
            for selector, fields in blocks.items():
                where = _at(lines, section, str(selector))
                if not isinstance(fields, dict) or not fields:
                    raise UsageFileError(
                        f"usage file {path}{where}: {section}.{selector} must map field names to figures"
                    )
                for name, value in fields.items():
                    _check_figure(
                        path, _at(lines, section, str(selector), str(name)), section, selector, name, value
                    )
                entries.append(
                    UsageEntry(
                        section,
                        str(selector),
                        dict(fields),
                        lines.get((section, str(selector)), 0),
                        {str(n): lines.get((section, str(selector), str(n)), 0) for n in fields},
                    )
                )
        return cls(path, tuple(entries))

    def apply(self, construct_path: str, usage: Usage) -> tuple[Usage, tuple[str, ...]]:
        if not dataclasses.is_dataclass(usage) or isinstance(usage, type):
            raise InvalidTypeError(f"usage must be a usage dataclass instance, got {shown(usage)}")
        allowed = {f.name for f in dataclasses.fields(usage)}
        assumptions = []
        for index, entry in enumerate(self.entries):
            if not entry.selects(construct_path, usage):
                continue
            unknown = sorted(set(entry.fields) - allowed)
            if unknown:
                raise UsageFileError(
                    f"usage file {self.path}{_line(entry.field_lines.get(unknown[0], entry.line))}: "
                    f"{entry.describe()} sets {', '.join(unknown)}, which {type(usage).__name__} of {construct_path} "
                    f"does not have; allowed: {', '.join(sorted(allowed))}"
                )
            self.used.add(index)
            try:
                usage = dataclasses.replace(usage, **entry.fields)
            except ValueError as bad:
                raise UsageFileError(
                    f"usage file {self.path}{_line(entry.line_of(str(bad)))}: {entry.describe()}: {bad}"
                ) from None
            assumptions += [
                f"{name}={value} from usage file {self.path.name} ({entry.describe()})"
                for name, value in entry.fields.items()
            ]
        return usage, tuple(assumptions)

    def unused_entries(self) -> list[str]:
        return [
            f"usage file {self.path}{_line(entry.line)}: {entry.describe()} matches no construct"
            for index, entry in enumerate(self.entries)
            if index not in self.used
        ]


def _line(line: int) -> str:
    return f", line {line}" if line else ""


def _at(lines: Mapping[tuple[str, ...], int], *keys: str) -> str:
    return _line(lines.get(keys, 0))


def _check_figure(
    path: Path, where: str, section: str, selector: object, name: object, value: object
) -> None:
    """A field name that is a string and a figure that is a finite number >= 0 (not a bool)."""
    if not isinstance(name, str):
        raise UsageFileError(
            f"usage file {path}{where}: {section}.{selector} has the field name {shown(name)}; field names are "
            "the usage class's attribute names"
        )
    number = to_decimal(value) if isinstance(value, int | float | Decimal) and is_number(value) else None
    if number is None or not number.is_finite() or number < 0:
        raise UsageFileError(
            f"usage file {path}{where}: {section}.{selector}.{name} must be a non-negative number, got {shown(value)}"
        )


@jsii.implements(IValidation)
class _EveryEntryUsed:
    """Fails synth when a usage-file entry selected no construct (a typo would otherwise change nothing)."""

    def __init__(self, usage_file: UsageFile) -> None:
        self._usage_file = usage_file

    def validate(self) -> list[str]:
        return self._usage_file.unused_entries()


_LOADED = "_inferwise_usage_files"


def usage_file_for(scope: IConstruct) -> UsageFile | None:
    """The usage file named in context, loaded once per app (and checked for unused entries at synth)."""
    name = scope.node.try_get_context(USAGE_FILE_CONTEXT_KEY)
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip():
        raise UsageFileError(
            f"context {USAGE_FILE_CONTEXT_KEY!r} must be the path of a usage file, got {shown(name)}"
        )
    root = scope.node.root
    loaded: dict[str, UsageFile] = getattr(root, _LOADED, None) or {}
    if name not in loaded:
        loaded[name] = UsageFile.load(Path(name))
        root.node.add_validation(_EveryEntryUsed(loaded[name]))
        setattr(root, _LOADED, loaded)
    return loaded[name]


def apply_usage_file(scope: IConstruct, usage: Usage) -> tuple[Usage, tuple[str, ...]]:
    """`usage` with the usage file's figures for `scope` applied, and one assumption per figure taken."""
    usage_file = usage_file_for(scope)
    if usage_file is None:
        return usage, ()
    return usage_file.apply(scope.node.path, usage)
