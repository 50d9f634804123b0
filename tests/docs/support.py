"""What the documentation tests share: the fenced blocks of the markdown files, and the example apps.

Conventions in README.md and docs/*.md (HTML comments, invisible on GitHub, on the line right before a
fence):

- `<!-- not-run: <reason> -->` before a ```python block: the block is deliberately not executed (the
  reason says why); every other python block runs as a complete program.
- `<!-- file: <name> -->` before a block: the block is that file of a walkthrough (README's quick start).
- `<!-- output: <command> -->` before a block: what that command prints, checked by a test.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC_FILES: tuple[Path, ...] = (REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md")))
EXAMPLES_DIR = REPO_ROOT / "examples"

_FENCE = re.compile(r"^ {0,3}(`{3,})(.*)$")
_MARKER = re.compile(r"^<!--\s*(not-run|file|output)\b(.*?)-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a markdown file."""

    path: Path
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence (the last line of the file when the fence is not closed)
    language: str
    code: str
    markers: dict[str, str]  # from the HTML comment on the line before the fence, e.g. {"not-run": "why"}

    @property
    def name(self) -> str:
        return str(self.path.relative_to(REPO_ROOT))


def fenced_blocks(path: Path) -> list[Block]:
    """Every fenced block of `path`, in order; a fence closes only on as many backticks as opened it."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        ticks, info = opening.group(1), opening.group(2).strip()
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            closing = _FENCE.match(lines[end])
            if closing and len(closing.group(1)) >= len(ticks) and not closing.group(2).strip():
                break
            body.append(lines[end])
            end += 1
        markers: dict[str, str] = {}
        if index > 0 and (marker := _MARKER.match(lines[index - 1])):
            markers[marker.group(1)] = marker.group(2).lstrip(":").strip()
        language = info.split()[0] if info else ""
        blocks.append(
            Block(path, index + 1, min(end + 1, len(lines)), language, "\n".join(body) + "\n", markers)
        )
        index = end + 1
    return blocks


def lines_outside_fences(path: Path) -> list[tuple[int, str]]:
    """(1-based line number, text) of every line that is not inside a fenced block."""
    inside: set[int] = set()
    for block in fenced_blocks(path):
        inside.update(range(block.line, block.end + 1))
    return [(n, text) for n, text in enumerate(path.read_text().splitlines(), 1) if n not in inside]


def python_blocks() -> list[Block]:
    return [block for path in DOC_FILES for block in fenced_blocks(path) if block.language == "python"]


@dataclass(frozen=True)
class Example:
    """An app under examples/ and what its cost report must contain."""

    name: str
    stack: str
    constructs: tuple[str, ...]
    has_baseline: bool

    @property
    def directory(self) -> Path:
        return EXAMPLES_DIR / self.name


EXAMPLES: tuple[Example, ...] = (
    Example("bedrock_batch", "BedrockBatchExample", ("BedrockBatchExample/Summaries",), True),
    Example("guardrails", "GuardrailsExample", ("GuardrailsExample/Guardrails",), False),
    Example("scale_to_zero", "ScaleToZeroExample", ("ScaleToZeroExample/Chat",), True),
    Example("spot_fleet", "SpotFleetExample", ("SpotFleetExample/Chat",), True),
)


def cdk_json_context(directory: Path) -> dict[str, Any]:
    context: dict[str, Any] = json.loads((directory / "cdk.json").read_text()).get("context", {})
    return context


def check_cost_report(outdir: Path, example: Example) -> dict[str, Any]:
    """The cost report of a synthesized example: present (JSON and markdown) and naming its constructs."""
    assert (outdir / "cost-report.md").is_file(), f"no cost-report.md in {outdir}"
    report: dict[str, Any] = json.loads((outdir / "cost-report.json").read_text())
    (stack,) = report["x_Stacks"]
    assert stack["x_StackName"] == example.stack
    constructs = {c["x_ConstructPath"]: c for c in stack["x_Constructs"]}
    assert sorted(constructs) == sorted(example.constructs)
    for path, estimate in constructs.items():
        assert Decimal(estimate["ListCost"]) > 0, f"{path} is priced at $0"
        assert (estimate.get("x_Baseline") is not None) == example.has_baseline, path
    return report
