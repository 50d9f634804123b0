"""Packaging (verification layer 6): the wheel carries every file a `pip install` user needs, and works.

The wheel is built once per session from the source tree. Its expected content is computed from the
same tree (`git ls-files`, tracked and untracked-but-not-ignored), so a new price file or Lambda handler
is checked the day it is added. Then a clean venv (no system site-packages, nothing from the repo)
installs the wheel from PyPI and synthesizes a small user app with the cost report on.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from tests.harness.processes import clean_venv_with, run_ok

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "inferwise"
# Kept out of the wheel on purpose (pyproject.toml): the raw extracts the catalogue is checked against.
NOT_SHIPPED = (f"{PACKAGE}/cost/prices/sources/",)

USER_APP = textwrap.dedent(
    """
    from datetime import date
    from decimal import Decimal

    import aws_cdk as cdk
    from aws_cdk import aws_sqs as sqs
    from constructs import Construct

    import inferwise
    from inferwise import CostEstimate, CostLine, enable_cost_report, record_estimate


    def line(component, usd, category):
        return CostLine(
            component=component,
            service_code="AWSQueueService",
            usage_type="USE1-Requests-Tier1",
            pricing_unit="1M requests",
            monthly_quantity=Decimal(usd) / Decimal("0.40"),
            unit_price=Decimal("0.40"),
            monthly_cost=Decimal(usd),
            pricing_category=category,
            price_source="user-app",
            price_as_of=date(2026, 11, 1),
        )


    class Inbox(Construct):
        def __init__(self, scope, construct_id, *, usd, baseline_usd):
            super().__init__(scope, construct_id)
            self.queue = sqs.Queue(self, "Queue", enforce_ssl=True)
            baseline = CostEstimate("", "naive", "us-east-1", (line("requests", baseline_usd, "OnDemand"),))
            estimate = CostEstimate(
                "", "inbox", "us-east-1",
                (line("requests", usd, "OnDemand"), line("retries", "1.10", "OnDemand")),
                baseline=baseline,
            )
            record_estimate(self, estimate, self.queue.node.default_child)


    app = cdk.App()
    enable_cost_report(app)
    stack = cdk.Stack(app, "UserStack", env=cdk.Environment(region="us-east-1"))
    Inbox(stack, "Orders", usd="12.00", baseline_usd="40.00")
    Inbox(stack, "Refunds", usd="3.25", baseline_usd="9.00")
    app.synth()
    print("inferwise imported from", inferwise.__file__)
    """
)
EXPECTED_TOTAL = Decimal("12.00") + Decimal("1.10") + Decimal("3.25") + Decimal("1.10")
EXPECTED_BASELINE = Decimal("49.00")


def source_files() -> set[str]:
    """Every file under inferwise/ that is not ignored, relative to the repo (tracked or not yet)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", PACKAGE],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        listed = [
            str(p.relative_to(REPO_ROOT))
            for p in (REPO_ROOT / PACKAGE).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
    return {name for name in listed if (REPO_ROOT / name).is_file() and not name.startswith(NOT_SHIPPED)}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built once from the source tree with `python -m build` (nothing is written in the repo).

    The build backend comes from PyPI in an isolated env, unless hatchling is already importable here.
    """
    outdir = tmp_path_factory.mktemp("wheel")
    isolation = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", str(outdir), str(REPO_ROOT)],
        cwd=outdir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (built,) = outdir.glob(f"{PACKAGE}-*.whl")
    return built


def test_wheel_contains_every_source_file(wheel: Path) -> None:
    expected = source_files()
    data_files = {name for name in expected if not name.endswith(".py")}
    assert f"{PACKAGE}/py.typed" in data_files
    assert any(name.startswith(f"{PACKAGE}/cost/prices/") and name.endswith(".json") for name in data_files)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = archive.read(metadata).decode()
    assert sorted(data_files - names) == [], "data files missing from the wheel"
    assert sorted(expected - names) == [], "source files missing from the wheel"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", *NOT_SHIPPED))]
    assert "inferwise = inferwise.cli:main" in entry_points


@pytest.fixture(scope="session")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A clean venv with the wheel installed from PyPI, and an environment that sees nothing of the repo."""
    return clean_venv_with(
        tmp_path_factory.mktemp("clean-venv"), [wheel], label=f"clean venv + pip install of {wheel.name}"
    )


def test_installed_wheel_synthesizes_a_user_app_with_a_cost_report(
    clean_venv: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    venv, env = clean_venv
    app_dir, outdir = tmp_path / "user-app", tmp_path / "cdk.out"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(USER_APP)

    synth = run_ok([venv / "bin" / "python", "app.py"], cwd=app_dir, env={**env, "CDK_OUTDIR": str(outdir)})
    assert f"inferwise imported from {venv}" in synth.stdout, "the app must use the installed wheel"

    report = json.loads((outdir / "cost-report.json").read_text())
    assert Decimal(report["ListCost"]) == EXPECTED_TOTAL
    assert Decimal(report["x_BaselineCost"]) == EXPECTED_BASELINE
    (stack,) = report["x_Stacks"]
    assert stack["x_StackName"] == "UserStack"
    assert sorted(c["x_ConstructPath"] for c in stack["x_Constructs"]) == [
        "UserStack/Orders",
        "UserStack/Refunds",
    ]
    assert (outdir / "cost-report.md").is_file()

    cli = [str(venv / "bin" / PACKAGE), "report", str(outdir)]
    table = run_ok(cli, cwd=tmp_path, env=env, timeout=120)
    assert "UserStack/Orders" in table.stdout
    assert "$17.45" in table.stdout
    as_json = run_ok([*cli, "--format", "json"], cwd=tmp_path, env=env, timeout=120)
    assert Decimal(json.loads(as_json.stdout)["ListCost"]) == EXPECTED_TOTAL
