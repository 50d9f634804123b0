"""`inferwise actual` and `inferwise tags activate` as commands: arguments, output, exit codes and one-line
errors. The commands are added to a fresh parser with their `add_*_command` (registration in
`inferwise.cli` is the lead's); Cost Explorer is moto's (answers queued through the moto API) or botocore's
Stubber, both through the modules' `client_factory`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from inferwise.cli import actual as actual_cli
from inferwise.cli import tags as tags_cli
from inferwise.cli.actual import add_actual_command
from inferwise.cli.tags import add_tags_command
from inferwise.cost.actual import needed_services
from inferwise.cost.actual.query import Month, construct_costs_request
from inferwise.cost.estimators.bedrock_batch import BatchUsage
from inferwise.cost.report import report_from_cloud_assembly
from inferwise.cost.usage_file import UsageFile
from tests.cost.test_actual import (
    BATCH_PATH,
    BEDROCK_SERVICE,
    MONTH,
    TODAY,
    Bill,
    batch_estimate,
    ce_client,
    endpoint_estimate,
    fleet_estimate,
    moto_ce,
    observed_bill,
    write_assembly,
)

__all__ = ["moto_ce"]  # the fixture, imported for these tests


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="inferwise")
    commands = parser.add_subparsers(dest="command", required=True)
    add_actual_command(commands)
    add_tags_command(commands)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actual_cli, "today", lambda: TODAY)


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    return write_assembly(tmp_path / "cdk.out", batch_estimate(), endpoint_estimate(), fleet_estimate())


@pytest.fixture
def billed(
    assembly: Path, moto_ce: Callable[[list[dict[str, Any]]], Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """moto answers the worked example's month (whatever `--suggest-usage` asks for)."""
    exchanges = observed_bill().exchanges(report_from_cloud_assembly(assembly), needed_services)
    client = moto_ce([answer for _, answer in exchanges])
    monkeypatch.setattr(actual_cli, "client_factory", lambda: client)
    yield assembly


def test_table_by_default_with_warnings_on_stderr(billed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run(["actual", str(billed), "--last-full-month", "--suggest-usage", str(billed.parent / "u.yml")])
        == 0
    )
    out, err = capsys.readouterr()
    assert out.startswith("inferwise actual vs estimate, 2026-10 (USD;")
    assert "BatchStack/Pipeline  " in out and "+99.7%" in out and "(untagged)" in out
    assert "inferwise actual: warning: 1 inferwise:construct value(s) belong to no construct" in err
    assert "inferwise actual: wrote " in err and "observed usage for 3 construct(s)" in err


def test_json_format_and_the_drift_threshold(billed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(
        [
            "actual",
            str(billed),
            "--month",
            "2026-10",
            "--format",
            "json",
            "--fail-drift-percent",
            "50",
            "--suggest-usage",
            str(billed.parent / "u.yml"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert json.loads(out)["x_Constructs"][0]["x_DriftPercent"] == "99.7"
    reason = [line for line in err.splitlines() if "drifted" in line]
    assert reason == [
        "inferwise actual: BatchStack/Pipeline drifted +99.7% (+$1,100.21) from its estimate $1,103.73, "
        "beyond --fail-drift-percent 50"
    ]


def test_below_the_threshold_exits_0_and_markdown_renders(
    billed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        [
            "actual",
            str(billed),
            "--month",
            "2026-10",
            "--format",
            "md",
            "--fail-drift-percent",
            "100",
            "--suggest-usage",
            str(billed.parent / "u.yml"),
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.startswith("# inferwise actual vs estimate, 2026-10")


def test_suggest_usage_writes_a_loadable_usage_file(billed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = billed.parent / "inferwise-usage.yml"
    assert run(["actual", str(billed), "--month", "2026-10", "--suggest-usage", str(path)]) == 0
    usage, _ = UsageFile.load(path).apply(BATCH_PATH, BatchUsage())
    assert usage.records_per_month == 2_000_000


def test_tags_not_active_is_one_line_with_the_hint(
    assembly: Path,
    moto_ce: Callable[[list[dict[str, Any]]], Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bill = Bill().add("", BEDROCK_SERVICE, "USE1-Claude4.5Haiku-input-tokens", "100")
    client = moto_ce([bill.page(bill.construct_groups())])
    monkeypatch.setattr(actual_cli, "client_factory", lambda: client)
    assert run(["actual", str(assembly), "--month", "2026-10"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("inferwise actual: no spend in 2026-10 carries the tag")
    assert "run `inferwise tags activate`" in err


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "User not enabled for cost explorer access",
            "inferwise actual: Cost Explorer is not enabled for this account",
        ),
        (
            "not authorized to perform: ce:GetCostAndUsage",
            "inferwise actual: access denied to ce:GetCostAndUsage",
        ),
    ],
)
def test_access_denied_and_not_enabled(
    assembly: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    message: str,
    expected: str,
) -> None:
    client = ce_client()
    monkeypatch.setattr(actual_cli, "client_factory", lambda: client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_cost_and_usage",
            "AccessDeniedException",
            message,
            400,
            expected_params=construct_costs_request(MONTH),
        )
        assert run(["actual", str(assembly), "--month", "2026-10"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected) and err.count("\n") == 1


def test_months_future_current_and_malformed(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["actual", str(assembly), "--month", "2027-01"]) == 2
    assert capsys.readouterr().err == "inferwise actual: 2027-01 has not started yet (today is 2026-11-15)\n"
    with pytest.raises(SystemExit) as exit_:
        run(["actual", str(assembly), "--month", "Oct"])
    assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        run(["actual", str(assembly), "--month", "2026-10", "--last-full-month"])
    current = Month(date(2026, 11, 1), TODAY, partial=True)
    bill = Bill(current).add_estimate(batch_estimate())
    client = ce_client()
    monkeypatch.setattr(actual_cli, "client_factory", lambda: client)
    report = report_from_cloud_assembly(write_assembly(assembly.parent / "one", batch_estimate()))
    with Stubber(client) as stub:
        for request, answer in bill.exchanges(report):
            stub.add_response("get_cost_and_usage", answer, request)
        assert run(["actual", str(assembly.parent / "one"), "--month", "2026-11"]) == 0
    out, err = capsys.readouterr()
    assert "2026-11, partial: 2026-11-01 to 2026-11-15 exclusive" in out
    assert "inferwise actual: warning: 2026-11 is the current month: the bill covers 14 day(s) so far" in err


def test_not_a_cloud_assembly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["actual", str(tmp_path), "--last-full-month"]) == 2
    assert "is not a cloud assembly" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- tags
def test_tags_activate_dry_run_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tags_cli, "client_factory", lambda: pytest.fail("no client on a dry run"))
    assert run(["tags", "activate", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "inferwise:stack      Active" in out and "inferwise:construct  Active" in out
    assert "No request sent." in out and "up to 24 hours" in out


def test_tags_activate_reports_each_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ce_client()
    monkeypatch.setattr(tags_cli, "client_factory", lambda: client)
    with Stubber(client) as stub:
        stub.add_response(
            "list_cost_allocation_tags",
            {
                "CostAllocationTags": [
                    {"TagKey": key, "Type": "UserDefined", "Status": "Inactive"}
                    for key in ("inferwise:stack", "inferwise:construct")
                ]
            },
            None,
        )
        stub.add_response("update_cost_allocation_tags_status", {"Errors": []}, None)
        assert run(["tags", "activate"]) == 0
    out = capsys.readouterr().out
    assert "  inferwise:stack      activated\n  inferwise:construct  activated\n" in out
    assert "after up to 24 hours" in out


def test_tags_activate_key_not_found_yet_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ce_client()
    monkeypatch.setattr(tags_cli, "client_factory", lambda: client)
    with Stubber(client) as stub:
        stub.add_response(
            "list_cost_allocation_tags",
            {
                "CostAllocationTags": [
                    {"TagKey": "inferwise:stack", "Type": "UserDefined", "Status": "Active"}
                ]
            },
            None,
        )
        assert run(["tags", "activate"]) == 2
    out, err = capsys.readouterr()
    assert "inferwise:stack      already active" in out
    assert (
        "inferwise:construct  not found yet: a tag key appears in Cost Explorer only after a resource carrying it has been billed"
        in out
    )
    assert err == "inferwise tags activate: not activated: inferwise:construct\n"


def test_tags_activate_access_denied(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    client = ce_client()
    monkeypatch.setattr(tags_cli, "client_factory", lambda: client)
    with Stubber(client) as stub:
        stub.add_response("list_cost_allocation_tags", {"CostAllocationTags": []}, None)
        assert run(["tags", "activate"]) == 2  # neither key known yet: nothing to update
        stub.add_client_error("list_cost_allocation_tags", "AccessDeniedException", "not authorized", 400)
        assert run(["tags", "activate"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(
        "inferwise tags activate: access denied to ce:ListCostAllocationTags: the caller needs"
    )


# ----------------------------------------------------------------------------------------------- docs
DOCS = Path(__file__).resolve().parents[2] / "docs" / "actual.md"


def _fenced(language: str, starting: str) -> str:
    """The body of the first ```<language> block of docs/actual.md whose text starts with `starting`."""
    for chunk in DOCS.read_text(encoding="utf-8").split(f"```{language}\n")[1:]:
        body = chunk.split("\n```", 1)[0] + "\n"
        if body.startswith(starting):
            return body
    raise AssertionError(f"no ```{language} block starting {starting!r} in {DOCS}")


def test_the_worked_example_in_the_docs_is_real_output(
    billed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(billed.parent)
    command = "inferwise actual cdk.out --last-full-month --fail-drift-percent 25 --suggest-usage inferwise-usage.yml"
    assert run(command.split()[1:]) == 1
    out, err = capsys.readouterr()
    documented = _fenced("console", f"$ {command}\n")
    warning, *rest = err.splitlines(keepends=True)
    assert documented == f"$ {command}\n" + warning + out + "".join(rest) + "$ echo $?\n1\n"
    assert _fenced("yaml", "# Suggested by") == (billed.parent / "inferwise-usage.yml").read_text()
