from __future__ import annotations

from syrupy.assertion import SnapshotAssertion

from tests.harness.snapshot import normalized
from tests.harness.synth import VerifiedAssembly


def test_fixture_template_snapshot(fixture_assembly: VerifiedAssembly, snapshot: SnapshotAssertion) -> None:
    assert normalized(fixture_assembly.template("Fixture")) == snapshot
