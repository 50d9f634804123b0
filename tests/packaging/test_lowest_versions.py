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

import shutil
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.docs.support import EXAMPLES, REPO_ROOT, Example, check_cost_report
from tests.harness.processes import cdk_synth, clean_venv_with, run_ok
from tests.packaging.test_wheel import wheel  # noqa: F401 - the session-scoped fixture

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
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
) -> tuple[Path, dict[str, str]]:
    """A clean venv with the wheel and the lowest aws-cdk-lib and cdk-nag, and an env that hides the repo."""
    pins = [f"{name}=={version}" for name, version in sorted(lowest_versions().items())]
    return clean_venv_with(
        tmp_path_factory.mktemp("lowest-venv"),
        [wheel, *pins],
        label=f"lowest-versions venv ({', '.join(pins)})",
    )


def test_lowest_venv_has_the_lowest_versions(
    lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = lowest_venv
    probe = run_ok(
        [
            venv / "bin" / "python", "-c",
            "import importlib.metadata as m, inferwise; "
            "print(m.version('aws-cdk-lib'), m.version('cdk-nag'), inferwise.__file__)",
        ],
        cwd=tmp_path, env=env, timeout=60,
    )  # fmt: skip
    cdk_lib, nag, location = probe.stdout.split()
    assert {"aws-cdk-lib": cdk_lib, "cdk-nag": nag} == lowest_versions()
    assert location.startswith(str(venv)), "the venv must use the installed wheel, not the source tree"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_example_synthesizes_with_the_lowest_versions(
    example: Example, lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    _, env = lowest_venv
    app_dir = tmp_path / example.name  # a copy, so `cdk synth` writes cdk.out outside the repository
    app_dir.mkdir()
    for name in ("app.py", "cdk.json"):
        shutil.copy(example.directory / name, app_dir / name)
    cdk_synth(app_dir, env)
    check_cost_report(app_dir / "cdk.out", example)


def test_reference_app_passes_cdk_nag_with_the_lowest_versions(
    lowest_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """The reference app (every reference stack, cdk-nag AwsSolutions strict, the cost report, cdk.json's
    validation) from the wheel: the constructs' acknowledgements match the lowest cdk-nag's finding ids."""
    _, env = lowest_venv
    for name in ("app.py", "cdk.json"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    cdk_synth(tmp_path, env, timeout=600)
    assert (tmp_path / "cdk.out" / "cost-report.json").is_file()
