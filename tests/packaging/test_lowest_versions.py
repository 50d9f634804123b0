"""Packaging: the wheel works with the LOWEST aws-cdk-lib and cdk-nag that pyproject.toml allows.

`[project] dependencies` give aws-cdk-lib and cdk-nag as ranges (`>=lowest,<next major`); the dev
toolchain pins newer versions, so nothing else in the suite runs the lower bounds. Here a clean venv gets
the wheel (built once per session by test_wheel.py's fixture) with both pinned to their lower bounds, and
every app under examples/ is synthesized there with the repository's pinned CDK CLI (`cdk synth`, which
reads each example's cdk.json, `@aws-cdk/core:validateAgainstDefaultRules` included).

Why these lower bounds (checked by hand, see CHANGELOG.md):
- cdk-nag 3.0.0 is the first 3.x (the `Validations` plugin API); its METADATA requires aws-cdk-lib>=2.257.0.
- aws-cdk-lib 2.257.0 to 2.268.0 reject the cdk-nag finding ids the constructs acknowledge
  (`InvalidValidationId`: '::' inside `[...]`, fixed by aws/aws-cdk#38787 in 2.269.0).
- 2.269.0 and 2.270.0 fail synth under `validateAgainstDefaultRules` with false positives on the
  constructs' templates (E9004 `Fn::GetAtt EndpointName` of AWS::SageMaker::InferenceComponent, E1152 a
  `resolve:ssm:` ImageId); 2.271.0 synthesizes every example and the reference app cleanly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.docs.support import EXAMPLES, REPO_ROOT, Example, check_cost_report
from tests.packaging.test_wheel import _node_only_dir, wheel  # noqa: F401 - the session-scoped fixture

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
CDK_CLI = REPO_ROOT / "node_modules" / ".bin" / "cdk"
RANGED = {"aws-cdk-lib": 3, "cdk-nag": 4}
"""The dependencies given as a range, and the major version their range stops before."""


def lowest_versions() -> dict[str, str]:
    """`{name: lower bound}` of the ranged dependencies in `[project] dependencies`."""
    found: dict[str, str] = {}
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        if requirement.name in RANGED:
            (lower,) = [s.version for s in requirement.specifier if s.operator == ">="]
            found[requirement.name] = lower
    return found


def test_dependencies_are_ranges_from_the_lowest_version_to_the_next_major() -> None:
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        if requirement.name not in RANGED:
            continue
        operators = sorted(s.operator for s in requirement.specifier)
        assert operators == ["<", ">="], f"{text}: give a range >=lowest,<next major"
        (upper,) = [s.version for s in requirement.specifier if s.operator == "<"]
        assert Version(upper) == Version(str(RANGED[requirement.name])), text
    assert set(lowest_versions()) == set(RANGED)
    dev = PYPROJECT["project"]["optional-dependencies"]["dev"]
    for name in RANGED:  # the dev toolchain pins one version inside the range, so snapshots are stable
        (pin,) = [Requirement(d) for d in dev if Requirement(d).name == name]
        (pinned,) = [s.version for s in pin.specifier if s.operator == "=="]
        assert Version(pinned) >= Version(lowest_versions()[name]), pin


@pytest.fixture(scope="session")
def lowest_venv(
    wheel: Path,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, dict[str, str]]]:
    """A clean venv with the wheel and the lowest aws-cdk-lib and cdk-nag, and an env that hides the repo."""
    base = tmp_path_factory.mktemp("lowest-venv")
    venv = base / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pins = [f"{name}=={version}" for name, version in sorted(lowest_versions().items())]
    install = subprocess.run(
        [
            sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
            "install", "--no-compile", "--progress-bar", "off", "--quiet", str(wheel), *pins,
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    print(f"\nlowest-versions venv ({', '.join(pins)}): {time.monotonic() - started:.1f} s")

    dev_bins = {str(Path(sys.prefix) / "bin"), str(REPO_ROOT / ".venv" / "bin")}
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p not in dev_bins]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith(("CDK_", "JSII_"))
    }
    env["PATH"] = os.pathsep.join([str(venv / "bin"), str(_node_only_dir(base)), *path])
    env["VIRTUAL_ENV"] = str(venv)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    yield venv, env


def test_lowest_venv_has_the_lowest_versions(
    lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = lowest_venv
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"), "-c",
            "import importlib.metadata as m, inferwise; "
            "print(m.version('aws-cdk-lib'), m.version('cdk-nag'), inferwise.__file__)",
        ],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    cdk_lib, nag, location = probe.stdout.split()
    assert {"aws-cdk-lib": cdk_lib, "cdk-nag": nag} == lowest_versions()
    assert location.startswith(str(venv)), "the venv must use the installed wheel, not the source tree"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_synthesizes_with_the_lowest_versions(
    example: Example, lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    if not CDK_CLI.exists():
        pytest.fail(f"{CDK_CLI} is missing: run `make setup` (npm ci installs the pinned CDK CLI)")
    _, env = lowest_venv
    app_dir = tmp_path / example.name  # a copy, so `cdk synth` writes cdk.out outside the repository
    app_dir.mkdir()
    for name in ("app.py", "cdk.json"):
        shutil.copy(example.directory / name, app_dir / name)
    synth = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert synth.returncode == 0, synth.stdout + synth.stderr[-6000:]
    check_cost_report(app_dir / "cdk.out", example)


def test_reference_app_passes_cdk_nag_with_the_lowest_versions(
    lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The reference app (every reference stack, cdk-nag AwsSolutions strict, the cost report, cdk.json's
    validation) from the wheel: the constructs' acknowledgements match the lowest cdk-nag's finding ids."""
    if not CDK_CLI.exists():
        pytest.fail(f"{CDK_CLI} is missing: run `make setup` (npm ci installs the pinned CDK CLI)")
    _, env = lowest_venv
    for name in ("app.py", "cdk.json"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    synth = subprocess.run(
        [str(CDK_CLI), "synth", "--quiet"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert synth.returncode == 0, synth.stdout + synth.stderr[-6000:]
    assert (tmp_path / "cdk.out" / "cost-report.json").is_file()
