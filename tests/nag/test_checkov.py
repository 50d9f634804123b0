"""Checkov, the policy scanner users run on `cdk.out` in CI, passes the reference app.

Checkov clashes with the dev toolchain's pins, so it is not a dev dependency: a session fixture installs
the pinned version into a venv of its own under pytest's temporary directory (about 45 s) and scans the
reference assembly once (about 6 s). Every deliberate deviation is a skip in the resource's Metadata
written by `inferwise.constructs.nag.checkov_skip`, and must carry its reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.harness.synth import VerifiedAssembly

CHECKOV_VERSION = "3.3.30"
SCAN_OPTIONS = ("--framework", "cloudformation", "--skip-download", "--output", "json")


@pytest.fixture(scope="session")
def checkov(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `checkov` executable of a venv that holds only the pinned Checkov."""
    venv = tmp_path_factory.mktemp("checkov-venv")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"checkov=={CHECKOV_VERSION}"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    print(f"checkov {CHECKOV_VERSION} venv set up in {time.monotonic() - started:.1f} s")
    return venv / "bin" / "checkov"


@pytest.fixture(scope="session")
def checkov_results(checkov: Path, reference_assembly: VerifiedAssembly) -> dict[str, list[dict[str, Any]]]:
    """One scan of the reference assembly: Checkov's results (passed, failed, skipped checks).

    Not `--quiet`: with it, the JSON output leaves out the skipped checks and their comments.
    """
    started = time.monotonic()
    scan = subprocess.run(
        [str(checkov), "-d", str(reference_assembly.outdir), *SCAN_OPTIONS],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(f"checkov scanned the reference assembly in {time.monotonic() - started:.1f} s")
    assert scan.returncode in (0, 1), scan.stderr
    report: Any = json.loads(scan.stdout)
    reports = report if isinstance(report, list) else [report]
    assert [r["check_type"] for r in reports] == ["cloudformation"], scan.stdout[:2000]
    assert reports[0]["summary"]["checkov_version"] == CHECKOV_VERSION
    results: dict[str, list[dict[str, Any]]] = reports[0]["results"]
    return results


def _stack(check: dict[str, Any]) -> str:
    return Path(check["file_path"]).name.removesuffix(".template.json")


def _line(check: dict[str, Any]) -> str:
    return f"{_stack(check)} {check['resource']}: {check['check_id']} {check['check_name']}"


def test_checkov_scans_every_reference_stack(
    checkov_results: dict[str, list[dict[str, Any]]], reference_assembly: VerifiedAssembly
) -> None:
    scanned = {
        _stack(c)
        for kind in ("passed_checks", "failed_checks", "skipped_checks")
        for c in checkov_results[kind]
    }
    assert scanned >= set(reference_assembly.stack_names)
    assert checkov_results["parsing_errors"] == []


def test_reference_app_passes_checkov(checkov_results: dict[str, list[dict[str, Any]]]) -> None:
    failed = checkov_results["failed_checks"]
    assert [_line(c) for c in failed] == []


def test_every_checkov_skip_carries_a_reason(checkov_results: dict[str, list[dict[str, Any]]]) -> None:
    skipped = checkov_results["skipped_checks"]
    assert skipped, "the reference stacks skip some checks deliberately (public IPs without NAT, log keys)"
    unexplained = [
        _line(c) for c in skipped if len(c["check_result"].get("suppress_comment", "").strip()) < 20
    ]
    assert unexplained == []
