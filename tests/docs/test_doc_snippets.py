"""Every ```python block in README.md and docs/*.md runs, as written, as a complete program.

Each block runs in its own Python process (the jsii runtime reads CDK_OUTDIR when it starts), from an
empty temporary directory, with CDK_OUTDIR pointing into it, the repository root on PYTHONPATH (so
`from examples.common import stack` works as it does from a checkout) and no AWS account needed: a block
that synthesizes an app must leave a cost report. A block that cannot run offline is marked
`<!-- not-run: reason -->` on the line before its fence (tests/docs/support.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.support import DOC_FILES, REPO_ROOT, Block, lines_outside_fences, python_blocks

BLOCKS = python_blocks()


def _block_id(block: Block) -> str:
    index = [b for b in BLOCKS if b.path == block.path].index(block)
    return f"{block.name}#{index}"


def snippet_env(outdir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CDK_", "JSII_")) and key not in ("PYTHONPATH", "PYTHONSTARTUP")
    }
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        CDK_OUTDIR=str(outdir),
        # Client code (boto3) needs a Region to build a client; it never calls AWS here.
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_the_docs_have_python_blocks() -> None:
    names = {block.name for block in BLOCKS}
    assert "README.md" in names
    for page in ("bedrock-batch", "scale-to-zero", "spot-fleet", "guardrails"):
        assert f"docs/{page}.md" in names


@pytest.mark.parametrize("block", BLOCKS, ids=_block_id)
def test_python_block_runs(block: Block, tmp_path: Path) -> None:
    if "not-run" in block.markers:
        pytest.skip(f"marked not-run: {block.markers['not-run']}")
    outdir = tmp_path / "cdk.out"
    workdir = tmp_path / "work"
    workdir.mkdir()
    script = workdir / "snippet.py"
    script.write_text(block.code)
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=workdir,
        env=snippet_env(outdir),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, f"{block.name}:{block.line} failed\n{run.stdout}\n{run.stderr[-6000:]}"
    if (outdir / "manifest.json").exists():
        report = json.loads((outdir / "cost-report.json").read_text())
        constructs = [c for stack in report["x_Stacks"] for c in stack["x_Constructs"]]
        assert constructs, f"{block.name}:{block.line} synthesized an app whose cost report is empty"


def test_every_not_run_marker_has_a_reason_and_a_python_block() -> None:
    python_starts = {(block.path, block.line) for block in BLOCKS}
    problems = []
    for path in DOC_FILES:
        for number, text in lines_outside_fences(path):
            if not re.match(r"^\s*<!--\s*not-run", text):
                continue
            where = f"{path.relative_to(REPO_ROOT)}:{number}"
            match = re.match(r"^<!-- not-run: (\S.*?) -->$", text.strip())
            if match is None or len(match.group(1).strip()) < 10:
                problems.append(f"{where}: write it as <!-- not-run: <reason, 10 characters or more> -->")
            if (path, number + 1) not in python_starts:
                problems.append(f"{where}: the marker must be on the line right before a ```python fence")
    assert problems == []


def test_python_blocks_hold_no_placeholders() -> None:
    """No `"<a SageMaker DLC image URI>"`-style strings a reader would have to replace before running."""
    placeholder = re.compile(r"""["']<[^"'>]*>["']""")
    found = [
        f"{block.name}:{block.line}: {match.group(0)}"
        for block in BLOCKS
        for match in placeholder.finditer(block.code)
    ]
    assert found == []
