"""The package layout holds: layers import downward only, and no module or function grows past a readable size.

Layers, bottom to top: cost -> constructs -> stacks -> cli. Lambda handler code and the on-instance drain
agent run on AWS, not in the user's app, so they import nothing of inferwise outside their own folder.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "inferwise"

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

# Layer -> the inferwise packages it must never import.
FORBIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "cost": ("inferwise.constructs", "inferwise.stacks", "inferwise.cli"),
    "constructs": ("inferwise.stacks", "inferwise.cli"),
    "stacks": ("inferwise.cli",),
}

# Modules that are declarative data (tables of literals), exempt from the module size limit.
DATA_MODULES: frozenset[str] = frozenset()


def _modules() -> Iterator[Path]:
    yield from sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def _imported_modules(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", list(_modules()), ids=_name)
def test_layers_import_downward_only(path: Path) -> None:
    forbidden = FORBIDDEN_IMPORTS.get(_layer(path), ())
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = [m for m in _imported_modules(tree) if m.startswith(forbidden)]
    assert not upward, f"{_name(path)} ({_layer(path)} layer) imports {upward}"


@pytest.mark.parametrize(
    "folder", [p for p in sorted((PACKAGE / "lambda").iterdir()) if p.is_dir()] + [PACKAGE / "fleet_agent"]
)
def test_code_that_runs_on_aws_imports_no_library_code(folder: Path) -> None:
    """A handler or agent ships alone: importing inferwise there would fail at run time on AWS."""
    for path in folder.rglob("*.py"):
        imported = list(_imported_modules(ast.parse(path.read_text(encoding="utf-8"))))
        assert not [m for m in imported if m.startswith("inferwise")], f"{_name(path)} imports {imported}"


@pytest.mark.parametrize("path", [p for p in _modules() if _name(p) not in DATA_MODULES], ids=_name)
def test_no_module_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{_name(path)} has {lines} lines (limit {MAX_MODULE_LINES})"


def _is_literal_table(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A function whose body is one return of a literal (a table) is data, not logic."""
    body = [n for n in node.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Return) and isinstance(body[0].value, ast.Dict | ast.List)


@pytest.mark.parametrize("path", list(_modules()), ids=_name)
def test_no_function_over_the_size_limit(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
        and not _is_literal_table(node)
    ]
    assert not long, f"{_name(path)}: {', '.join(long)} over {MAX_FUNCTION_LINES} lines"
