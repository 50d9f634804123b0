"""Usage files and workload files are read safely: size, UTF-8, no YAML anchors or aliases, no duplicate keys,
bounded nesting and numbers; every refusal names the file and, where there is one, the line.

Before this, a 400-byte alias bomb took 2.5 GB and 30 s before a MemoryError.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.cost.advisor.workload import load_workload_file
from inferwise.cost.estimators.scale_to_zero import EndpointUsage
from inferwise.cost.estimators.spot_fleet import FleetUsage
from inferwise.cost.usage_file import UsageFile, UsageFileError, usage_file_for
from inferwise.cost.validation import MAX_FILE_BYTES
from tests.unit.bad_input.support import Case, assert_refused

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
HEAD = "version: 1\nconstructs:\n  Fleet/Chat:\n"

# (id, file content as text or bytes, the line named, what the message shows)
USAGE_FILES: list[tuple[str, str | bytes, str, str]] = [
    ("alias bomb", ALIAS_BOMB, "line 1", "anchors (&a)"),
    ("anchor on a figure", HEAD + "    hours_per_month: &h 100\n", "line 4", "anchors (&h)"),
    (
        "merge key with alias",
        "version: 1\nbase: &b {x: 1}\nconstructs:\n  A: {<<: *b}\n",
        "line 2",
        "anchors",
    ),
    (
        "duplicate key",
        HEAD + "    hours_per_month: 100\n    hours_per_month: 200\n",
        "line 5",
        "duplicate key 'hours_per_month'",
    ),
    (
        "duplicate selector",
        "version: 1\nconstructs:\n  A:\n    x: 1\n  A:\n    x: 2\n",
        "line 5",
        "duplicate key 'A'",
    ),
    (
        "deep nesting",
        "version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n",
        "line 2",
        "nested more than 32 levels",
    ),
    (
        "deep mappings",
        "version: 1\nx:" + "".join(f"\n{' ' * i}k{i}:" for i in range(1, 60)) + " 1\n",
        "line",
        "nested",
    ),
    ("not UTF-8", b"version: 1\nconstructs:\n  A:\n    x: \xff\xfe\n", "line 4", "not UTF-8"),
    ("latin-1", "version: 1\n# caf\xe9\n".encode("latin-1"), "line 2", "not UTF-8"),
    ("huge integer", HEAD + "    hours_per_month: " + "9" * 5000 + "\n", "line 4", "5,000 digits"),
    ("huge scalar", HEAD + "    x: " + "y" * 20_000 + "\n", "line 4", "20,000 characters"),
    ("tab indentation", "version: 1\nconstructs:\n\tA: 1\n", "line 3", "'\\t'"),
    (
        "python tag",
        "version: 1\nx: !!python/object/apply:os.system ['ls']\n",
        "line 2",
        "python/object/apply",
    ),
    ("unclosed quote", 'version: 1\nconstructs:\n  "A:\n', "line", "scanning"),
    ("a list", "- version: 1\n", "usage file", "'version: 1'"),
    ("version true", "version: true\n", "usage file", "'version: 1'"),
    ("version string", "version: '1'\n", "usage file", "'version: 1'"),
    ("version missing", "constructs: {}\n", "usage file", "'version: 1'"),
    ("empty file", "", "usage file", "'version: 1'"),
    ("unknown top-level key", "version: 1\nresources: {}\n", "usage file", "['resources']"),
    ("defaults a list", "version: 1\ndefaults: [1, 2]\n", "line 2", "'defaults' must be a mapping"),
    ("selector without fields", "version: 1\nconstructs:\n  A: {}\n", "line 3", "constructs.A must map"),
    ("selector a number", "version: 1\nconstructs:\n  A: 5\n", "line 3", "constructs.A must map"),
    ("figure nan", HEAD + "    hours_per_month: .nan\n", "line 4", "got nan"),
    ("figure inf", HEAD + "    hours_per_month: .inf\n", "line 4", "got inf"),
    ("figure 1e999", HEAD + "    hours_per_month: 1.0e+999\n", "line 4", "got inf"),
    ("figure negative", HEAD + "    hours_per_month: -3\n", "line 4", "got -3"),
    ("figure string", HEAD + "    hours_per_month: '100'\n", "line 4", "got '100'"),
    ("figure bool", HEAD + "    hours_per_month: yes\n", "line 4", "got True"),
    ("figure null", HEAD + "    hours_per_month:\n", "line 4", "got None"),
    ("figure list", HEAD + "    hours_per_month: [1, 2]\n", "line 4", "got [1, 2]"),
    ("figure date", HEAD + "    hours_per_month: 2026-01-01\n", "line 4", "datetime.date(2026, 1, 1)"),
    ("field name a number", HEAD + "    7: 100\n", "line 4", "field name 7"),
    ("field name a list", HEAD + "    [a]: 100\n", "line", "unhashable"),
]


def write(tmp_path: Path, content: str | bytes, name: str = "usage.yml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "line", "shows"), [c[1:] for c in USAGE_FILES], ids=[c[0] for c in USAGE_FILES]
)
def test_bad_usage_files_are_refused_naming_the_file_and_line(
    tmp_path: Path, content: str | bytes, line: str, shows: str
) -> None:
    path = write(tmp_path, content)
    started = time.monotonic()
    message = assert_refused(Case("file", lambda: UsageFile.load(path), ValueError, str(path), shows))
    assert line in message
    assert time.monotonic() - started < 5


def test_a_file_over_one_mebibyte_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    message = assert_refused(
        Case("big", lambda: UsageFile.load(path), ValueError, str(path), "1,048,576 bytes")
    )
    assert "1 MiB" in message


def test_an_endless_file_is_refused_after_one_mebibyte(tmp_path: Path) -> None:
    devzero = Path("/dev/zero")
    if not devzero.exists():
        pytest.skip("no /dev/zero")
    assert_refused(Case("zero", lambda: UsageFile.load(devzero), ValueError, "/dev/zero", "larger than"))


@pytest.mark.parametrize(
    ("make", "shows"),
    [(lambda tmp: tmp / "missing.yml", "No such file"), (lambda tmp: tmp, "Is a directory")],
    ids=["missing", "directory"],
)
def test_an_unreadable_usage_file_is_named(tmp_path: Path, make: Callable[[Path], Path], shows: str) -> None:
    path = make(tmp_path)
    assert_refused(
        Case("unreadable", lambda: UsageFile.load(path), ValueError, f"cannot read usage file {path}", shows)
    )


# ------------------------------------------------------------------------------------------------ applying
APPLIED: list[tuple[str, str, object, str, str]] = [
    ("hours above 730", "hours_per_month: 800", FleetUsage(), "FleetUsage.hours_per_month", "got 800"),
    (
        "average above the sanity limit",
        "average_instances: 100000000",
        FleetUsage(),
        "FleetUsage.average_instances",
        "100000000",
    ),
    (
        "a whole number",
        "instances_while_active: 1.5",
        EndpointUsage(),
        "EndpointUsage.instances_while_active",
        "1.5",
    ),
    (
        "a field of another class",
        "hours_per_month: 100",
        EndpointUsage(),
        "sets hours_per_month",
        "EndpointUsage",
    ),
]


@pytest.mark.parametrize(
    ("field", "usage", "prop", "shows"), [a[1:] for a in APPLIED], ids=[a[0] for a in APPLIED]
)
def test_a_figure_the_usage_class_refuses_names_the_file_and_the_line(
    tmp_path: Path, field: str, usage: object, prop: str, shows: str
) -> None:
    path = write(tmp_path, f"version: 1\nconstructs:\n  Stack/Thing:\n    {field}\n")
    loaded = UsageFile.load(path)
    message = assert_refused(
        Case("apply", lambda: loaded.apply("Stack/Thing", usage), ValueError, prop, shows)
    )
    assert message.startswith(f"usage file {path}, line 4: constructs.Stack/Thing")


def test_a_usage_file_context_that_is_not_a_path_is_refused() -> None:
    app = cdk.App(context={"inferwise:usage-file": 42})
    with pytest.raises(
        UsageFileError, match=r"context 'inferwise:usage-file' must be the path of a usage file, got 42"
    ):
        usage_file_for(app)


def test_a_good_file_with_a_bom_and_comments_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path, "\ufeff# assumptions\nversion: 1\nconstructs:\n  Fleet/Chat:\n    hours_per_month: 286\n"
    )
    usage, assumptions = UsageFile.load(path).apply("Fleet/Chat", FleetUsage())
    assert usage == FleetUsage(hours_per_month=286)
    assert assumptions == ("hours_per_month=286 from usage file usage.yml (constructs.Fleet/Chat)",)


# ------------------------------------------------------------------------------------------- workload files
WORKLOAD_FILES: list[tuple[str, str | bytes, str]] = [
    ("alias bomb", ALIAS_BOMB, "anchors (&a)"),
    ("duplicate field", "model_id: a\nmodel_id: b\n", "line 2: duplicate key 'model_id'"),
    ("unknown field", "model_id: a\nrequest_per_month: 5\n", "has unknown field(s) request_per_month"),
    ("a list", "- model_id: a\n", "must be a mapping of Workload fields, got list"),
    ("not UTF-8", b"model_id: \xff\n", "line 1: not UTF-8"),
    ("deep nesting", "model_id: " + "[" * 100 + "]" * 100 + "\n", "nested more than 32 levels"),
    ("huge integer", "requests_per_month: " + "1" * 100 + "\n", "100 digits"),
    ("python tag", "model_id: !!python/name:os.system\n", "python/name"),
]


@pytest.mark.parametrize(
    ("content", "shows"), [w[1:] for w in WORKLOAD_FILES], ids=[w[0] for w in WORKLOAD_FILES]
)
def test_bad_workload_files_are_refused_naming_the_file(
    tmp_path: Path, content: str | bytes, shows: str
) -> None:
    path = write(tmp_path, content, "workload.yml")
    assert_refused(
        Case("workload", lambda: load_workload_file(path), ValueError, f"workload file {path}", shows)
    )


def test_a_misspelt_workload_field_gets_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "model_id: a\nrequest_per_month: 5\n", "workload.yml")
    message = assert_refused(
        Case("typo", lambda: load_workload_file(path), ValueError, "request_per_month", "line 2")
    )
    assert "did you mean 'requests_per_month'" in message


def test_an_empty_workload_file_has_no_fields(tmp_path: Path) -> None:
    assert load_workload_file(write(tmp_path, "# nothing yet\n", "workload.yml")) == {}
