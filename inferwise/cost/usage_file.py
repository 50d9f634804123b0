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
A field the usage class does not have, a negative figure, or an entry that matches no construct is a
synth error. Every value taken from the file is listed in the estimate's assumptions.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import jsii
import yaml
from constructs import IConstruct, IValidation

USAGE_FILE_CONTEXT_KEY = "inferwise:usage-file"
SECTIONS = ("defaults", "constructs")

Usage = TypeVar("Usage")


class UsageFileError(ValueError):
    """A usage file that cannot be read or applied."""


@dataclass(frozen=True)
class UsageEntry:
    """One block of the file: which usages it selects and the figures it sets."""

    section: str
    selector: str
    fields: Mapping[str, Any]

    def selects(self, construct_path: str, usage: object) -> bool:
        if self.section == "defaults":
            return type(usage).__name__ == self.selector
        return fnmatch.fnmatchcase(construct_path, self.selector)

    def describe(self) -> str:
        return f"{self.section}.{self.selector}"


@dataclass
class UsageFile:
    """A parsed usage file, and which of its entries have selected a construct so far."""

    path: Path
    entries: tuple[UsageEntry, ...]
    used: set[int] = dataclasses.field(default_factory=set)
    """Indexes of the entries that have selected a construct."""

    @classmethod
    def load(cls, path: Path) -> UsageFile:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as bad:
            raise UsageFileError(f"cannot read usage file {path}: {bad}") from None
        if not isinstance(data, dict) or data.get("version") != 1:
            raise UsageFileError(f"usage file {path} must be a mapping with 'version: 1'")
        unknown = set(data) - {"version", *SECTIONS}
        if unknown:
            raise UsageFileError(
                f"usage file {path} has unknown top-level keys {sorted(unknown)}; allowed: version, {', '.join(SECTIONS)}"
            )
        entries = []
        for section in SECTIONS:
            blocks = data.get(section) or {}
            if not isinstance(blocks, dict):
                raise UsageFileError(
                    f"usage file {path}: '{section}' must be a mapping of selector to fields"
                )
            for selector, fields in blocks.items():
                if not isinstance(fields, dict) or not fields:
                    raise UsageFileError(
                        f"usage file {path}: {section}.{selector} must map field names to figures"
                    )
                for name, value in fields.items():
                    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                        raise UsageFileError(
                            f"usage file {path}: {section}.{selector}.{name} must be a non-negative number, got {value!r}"
                        )
                entries.append(UsageEntry(section, str(selector), dict(fields)))
        return cls(path, tuple(entries))

    def apply(self, construct_path: str, usage: Usage) -> tuple[Usage, tuple[str, ...]]:
        if not dataclasses.is_dataclass(usage) or isinstance(usage, type):
            raise TypeError(f"usage must be a dataclass instance, got {type(usage).__name__}")
        allowed = {f.name for f in dataclasses.fields(usage)}
        assumptions = []
        for index, entry in enumerate(self.entries):
            if not entry.selects(construct_path, usage):
                continue
            unknown = sorted(set(entry.fields) - allowed)
            if unknown:
                raise UsageFileError(
                    f"usage file {self.path}: {entry.describe()} sets {', '.join(unknown)}, which "
                    f"{type(usage).__name__} of {construct_path} does not have; allowed: {', '.join(sorted(allowed))}"
                )
            self.used.add(index)
            try:
                usage = dataclasses.replace(usage, **entry.fields)
            except ValueError as bad:
                raise UsageFileError(f"usage file {self.path}: {entry.describe()}: {bad}") from None
            assumptions += [
                f"{name}={value} from usage file {self.path.name} ({entry.describe()})"
                for name, value in entry.fields.items()
            ]
        return usage, tuple(assumptions)

    def unused_entries(self) -> list[str]:
        return [
            f"usage file {self.path}: {entry.describe()} matches no construct"
            for index, entry in enumerate(self.entries)
            if index not in self.used
        ]


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
