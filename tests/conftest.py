"""Session fixtures: every stack is synthesized once per test run and shared."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.stacks import add_reference_stacks
from tests.fixtures.fixture_stack import FixtureStack
from tests.harness.synth import VerifiedAssembly, synth_for_assertions, synth_verified


@pytest.fixture(scope="session")
def fixture_assembly(tmp_path_factory: pytest.TempPathFactory) -> VerifiedAssembly:
    """The harness fixture stack, synthesized with cdk-nag and the cost report as the reference app is."""
    outdir: Path = tmp_path_factory.mktemp("fixture-cdk-out")
    return synth_verified(lambda app: [FixtureStack(app, "Fixture")], outdir)


@pytest.fixture(scope="session")
def reference_assembly(tmp_path_factory: pytest.TempPathFactory) -> VerifiedAssembly:
    """Every reference stack, synthesized once with cdk-nag and the cost report on (as `make synth` does)."""
    return synth_verified(add_reference_stacks, tmp_path_factory.mktemp("reference-cdk-out"))


@pytest.fixture(scope="session")
def reference_stacks() -> dict[str, cdk.Stack]:
    """Every reference stack in a plain app, by stack name, for `assertions.Template.from_stack`."""
    return {stack.stack_name: stack for stack in synth_for_assertions(add_reference_stacks)}
