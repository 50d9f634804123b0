"""Session fixtures of the deploy tests: one moto server and CDK CLI per worker, the reference assembly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from inferwise.stacks import add_reference_stacks
from tests.harness.moto_deploy import CdkCli, MotoServer, running_moto_server
from tests.harness.synth import CONTEXT


def synth_plain(outdir: Path, build: Callable[[cdk.App], Any]) -> Path:
    """Synthesize a plain app (the reference app's context, no nag, no cost plugin) into `outdir`."""
    app = cdk.App(outdir=str(outdir), context=CONTEXT)
    build(app)
    app.synth()
    return outdir


def logical_id_like(resources: dict[str, dict[str, Any]], resource_type: str, contains: str) -> str:
    """The one deployed resource of `resource_type` whose logical id contains `contains`."""
    matches = [lid for lid, s in resources.items() if s["ResourceType"] == resource_type and contains in lid]
    assert len(matches) == 1, f"expected one {resource_type} named like {contains!r}, got {matches}"
    return matches[0]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    with running_moto_server(tmp_path_factory.mktemp("moto") / "moto-server.log") as server:
        yield server


@pytest.fixture(scope="session")
def cdk_cli(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> CdkCli:
    return CdkCli(moto_server, home=tmp_path_factory.mktemp("cdk-cli-home"))


@pytest.fixture(scope="session")
def reference_cloud_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth_plain(tmp_path_factory.mktemp("reference-plain-cdk-out"), add_reference_stacks)
