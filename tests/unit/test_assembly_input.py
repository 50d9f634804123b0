"""`report`, `diff` (either side) and `actual` refuse anything that is not a CDK cloud assembly.

Each malformed input ends the command with exit code 2 and one line on stderr that names the path and what
was expected: never a traceback, never an empty report with exit code 0. An assembly whose templates hold
no inferwise estimate is still a valid assembly (a report with no constructs and a note).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from inferwise.cli import main
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.report import ReportError, _parse_estimate, report_from_cloud_assembly

STACK = "aws:cloudformation:stack"
NESTED = "cdk:cloud-assembly"


# ------------------------------------------------------------------------------------------- builders
def estimate_json() -> dict[str, Any]:
    line = CostLine(
        component="requests",
        service_code="AWSLambda",
        usage_type="Request",
        pricing_unit="Requests",
        monthly_quantity=Decimal(1_000_000),
        unit_price=Decimal("0.0000002"),
        monthly_cost=Decimal("0.2"),
        pricing_category="OnDemand",
        price_source="AWSLambda/x86_64/us-east-1/Requests",
        price_as_of=date(2024, 7, 1),
    )
    return CostEstimate("App/Function", "function", "us-east-1", (line,)).to_json()


def template(metadata: Any = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"Type": "AWS::Lambda::Function"}
    if metadata is not None:
        resource["Metadata"] = metadata
    return {"Resources": {"Function": resource}}


def write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))


def assembly(root: Path, manifest: Any = None, **files: Any) -> Path:
    """A cloud assembly at root/cdk.out: `manifest` (default: one stack, App.template.json) and `files`."""
    out = root / "cdk.out"
    if manifest is None:
        manifest = {"version": "55.0.0", "artifacts": {"App": stack_artifact("App.template.json")}}
        files.setdefault("App.template.json", template())
    write(out / "manifest.json", manifest)
    for name, content in files.items():
        write(out / name.replace("__", "/"), content)
    return out


def stack_artifact(template_file: Any) -> dict[str, Any]:
    return {"type": STACK, "properties": {"templateFile": template_file}}


def with_template(content: Any) -> Callable[[Path], Path]:
    return lambda root: assembly(root, **{"App.template.json": content})


def with_manifest(content: Any) -> Callable[[Path], Path]:
    return lambda root: assembly(root, content)


def with_artifacts(artifacts: dict[str, Any], **files: Any) -> Callable[[Path], Path]:
    return lambda root: assembly(root, {"version": "55.0.0", "artifacts": artifacts}, **files)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_baselines(depth: int) -> str:
    """An inferwise:cost entry whose baseline holds a baseline ... `depth` levels down."""
    level = json.dumps(estimate_json())[:-1].replace('"x_Baseline": null, ', "") + ', "x_Baseline": '
    entry = level * depth + "null" + "}" * depth
    return (
        '{"Resources": {"Function": {"Type": "AWS::Lambda::Function", "Metadata": {"inferwise:cost": '
        + entry
        + "}}}}"
    )


def nothing(root: Path) -> Path:
    return root / "nowhere" / "cdk.out"


def a_file(root: Path) -> Path:
    write(root / "cdk.out", "not a directory")
    return root / "cdk.out"


def empty_directory(root: Path) -> Path:
    (root / "cdk.out").mkdir(parents=True)
    return root / "cdk.out"


def manifest_directory(root: Path) -> Path:
    (root / "cdk.out" / "manifest.json").mkdir(parents=True)
    return root / "cdk.out"


def cdktf_output(root: Path) -> Path:
    stack = {"name": "app", "constructPath": "app", "synthesizedStackPath": "stacks/app/cdk.tf.json"}
    return assembly(root, {"version": "0.20.11", "stacks": {"app": stack}}, stacks__app__cdk_tf_json="{}")


def nested_loop(root: Path) -> Path:
    return assembly(
        root,
        {"version": "55.0.0", "artifacts": {"Self": {"type": NESTED, "properties": {"directoryName": "."}}}},
    )


def nested_bad_manifest(root: Path) -> Path:
    nested = {"type": NESTED, "properties": {"directoryName": "assembly-Prod"}}
    return assembly(
        root,
        {"version": "55.0.0", "artifacts": {"Prod": nested}},
        **{"assembly-Prod__manifest.json": "[1, 2"},
    )


# ---------------------------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    message: str
    """A part of the one-line message (after the path)."""


CASES = [
    Case("missing directory", nothing, "does not exist: expected a CDK cloud assembly directory"),
    Case(
        "a file, not a directory",
        a_file,
        "is a file, not a directory: expected a CDK cloud assembly directory",
    ),
    Case("no manifest.json", empty_directory, "is not a cloud assembly: it has no manifest.json"),
    Case("manifest.json is a directory", manifest_directory, "it has no manifest.json"),
    Case(
        "manifest: malformed JSON", with_manifest('{"version": "55.0.0", "artifacts": {'), "is not valid JSON"
    ),
    Case("manifest: empty file", with_manifest(""), "is not valid JSON"),
    Case(
        "manifest: not UTF-8", with_manifest(b'{"version": "\xff\xfe"}'), "is not UTF-8 text (byte 13 is not)"
    ),
    Case("manifest: UTF-16", with_manifest('{"version": "55.0.0"}'.encode("utf-16")), "is not UTF-8 text"),
    Case("manifest: nested too deeply", with_manifest(deep(100_000)), "is JSON nested too deeply to read"),
    Case(
        "manifest: a 5,000-digit number",
        with_manifest('{"version": ' + "9" * 5000 + "}"),
        "is not valid JSON",
    ),
    Case("manifest: a list", with_manifest([1, 2]), "is a list, not a CDK cloud assembly manifest"),
    Case("manifest: null", with_manifest("null"), "is null, not a CDK cloud assembly manifest"),
    Case("manifest: empty object", with_manifest({}), '("version" is missing, "artifacts" is missing)'),
    Case(
        "manifest: artifacts a list",
        with_manifest({"version": "55.0.0", "artifacts": []}),
        '"artifacts" is a list',
    ),
    Case(
        "manifest: version a number", with_manifest({"version": 55, "artifacts": {}}), '"version" is a number'
    ),
    Case(
        "another tool's manifest.json",
        with_manifest({"name": "My PWA", "icons": [], "start_url": "/"}),
        'expected the manifest.json of a CDK cloud assembly (a JSON object with "version" and "artifacts")',
    ),
    Case(
        "a CDK for Terraform output",
        cdktf_output,
        "is a CDK for Terraform (cdktf) output, not an AWS CDK cloud assembly",
    ),
    Case(
        "artifact: not an object",
        with_artifacts({"App": "stack"}),
        'artifact App is a string: expected an object with a "type"',
    ),
    Case(
        "artifact: no templateFile",
        with_artifacts({"App": {"type": STACK}}),
        "has no properties.templateFile",
    ),
    Case(
        "artifact: templateFile not a string",
        with_artifacts({"App": stack_artifact(["a"])}),
        "has no properties.templateFile",
    ),
    Case(
        "artifact: template outside",
        with_artifacts({"App": stack_artifact("../x.template.json")}),
        "outside the assembly",
    ),
    Case(
        "artifact: absolute template path",
        with_artifacts({"App": stack_artifact("/etc/passwd")}),
        "outside the assembly",
    ),
    Case(
        "artifact: template missing",
        with_artifacts({"App": stack_artifact("App.template.json")}),
        "names the template App.template.json, which is not in",
    ),
    Case(
        "nested assembly: missing",
        with_artifacts({"P": {"type": NESTED, "properties": {"directoryName": "assembly-P"}}}),
        "names the nested assembly",
    ),
    Case("nested assembly: a loop", nested_loop, "nested cloud assemblies loop or go deeper than 16 levels"),
    Case(
        "nested assembly: bad manifest", nested_bad_manifest, "assembly-Prod/manifest.json is not valid JSON"
    ),
    Case("template: malformed JSON", with_template('{"Resources": '), "App.template.json is not valid JSON"),
    Case("template: not UTF-8", with_template(b"\xc3\x28"), "App.template.json is not UTF-8 text"),
    Case(
        "template: nested too deeply",
        with_template(deep(100_000)),
        "App.template.json is JSON nested too deeply",
    ),
    Case("template: a list", with_template([]), "App.template.json is a list, not a CloudFormation template"),
    Case("template: a string", with_template('"Resources"'), "is a string, not a CloudFormation template"),
    Case(
        "template: Resources a list",
        with_template({"Resources": []}),
        "Resources is a list: expected an object",
    ),
    Case(
        "template: a resource is a number",
        with_template({"Resources": {"R": 7}}),
        'resource R is a number: expected an object with a "Type"',
    ),
    Case(
        "template: Metadata a string",
        with_template(template("meta")),
        "resource Function has Metadata that is a string",
    ),
    Case(
        "estimate: a number",
        with_template(template({"inferwise:cost": 5})),
        "has an inferwise:cost entry that does not parse: a cost estimate must be a JSON object, got int",
    ),
    Case(
        "estimate: a line that is a string",
        with_template(template({"inferwise:cost": {**estimate_json(), "x_Lines": ["line"]}})),
        "has an inferwise:cost entry that does not parse",
    ),
    Case("estimate: baselines nested too deeply", with_template(nested_baselines(5000)), "too deeply"),
]

GOOD_SIDE = "good"
COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "report": lambda bad, good: ["report", str(bad)],
    "diff base": lambda bad, good: ["diff", str(bad), str(good)],
    "diff head": lambda bad, good: ["diff", str(good), str(bad)],
    "actual": lambda bad, good: ["actual", str(bad), "--month", "2026-10"],
}


def test_the_table_is_long_enough() -> None:
    assert len(CASES) >= 20
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_exits_2_with_one_line_naming_the_path(
    case: Case, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = case.build(tmp_path / "bad")
    good = assembly(tmp_path / GOOD_SIDE)
    assert main(COMMANDS[command](bad, good)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    prog = "inferwise " + command.split()[0]
    assert lines[0].startswith(f"{prog}: "), lines[0]
    assert str(bad) in lines[0] and case.message in lines[0], lines[0]
    assert len(lines[0]) < 600, "a long value is cut, never quoted whole"


def test_an_unreadable_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permissions cannot be tested as root, so reading the template fails the way a chmod 000 file does."""
    out = assembly(tmp_path)
    unreadable = out / "App.template.json"
    original = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert main(["report", str(out)]) == 2
    assert capsys.readouterr().err == (
        f"inferwise report: cannot read {unreadable} (Permission denied): expected a CloudFormation template "
        "written by `cdk synth` (a JSON object)\n"
    )


# ------------------------------------------------------------------------------------ what stays valid
def test_an_assembly_without_estimates_is_a_report_with_no_constructs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = assembly(tmp_path)
    assert main(["report", str(out)]) == 0
    assert capsys.readouterr().out == "inferwise: no cost estimates found in this cloud assembly\n"
    assert main(["report", str(out), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["x_Stacks"] == []
    assert main(["diff", str(out), str(out)]) == 0


def test_an_assembly_without_stacks_is_valid(tmp_path: Path) -> None:
    out = assembly(
        tmp_path,
        {
            "version": "55.0.0",
            "artifacts": {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}},
        },
    )
    assert report_from_cloud_assembly(out).constructs == ()


def test_a_valid_estimate_is_read(tmp_path: Path) -> None:
    out = assembly(tmp_path, **{"App.template.json": template({"inferwise:cost": estimate_json()})})
    (construct,) = report_from_cloud_assembly(out).constructs
    assert construct.estimate.construct_path == "App/Function" and construct.stack == "App"


def test_nested_stage_assemblies_are_followed(tmp_path: Path) -> None:
    nested = {"type": NESTED, "properties": {"directoryName": "assembly-Prod"}}
    out = assembly(
        tmp_path,
        {"version": "55.0.0", "artifacts": {"Prod": nested}},
        **{
            "assembly-Prod__manifest.json": {
                "version": "55.0.0",
                "artifacts": {"ProdApp": stack_artifact("ProdApp.template.json")},
            },
            "assembly-Prod__ProdApp.template.json": template({"inferwise:cost": estimate_json()}),
        },
    )
    assert [c.stack for c in report_from_cloud_assembly(out).constructs] == ["ProdApp"]


def test_an_estimate_nested_too_deeply_for_the_parser_is_a_report_error() -> None:
    """JSON the decoder still reads but `CostEstimate.from_json` cannot recurse through."""
    entry: dict[str, Any] = estimate_json()
    for _ in range(5000):
        entry = {**estimate_json(), "x_Baseline": entry}
    with pytest.raises(
        ReportError, match="has an inferwise:cost entry that does not parse: it is nested too deeply"
    ):
        _parse_estimate(Path("App.template.json"), "Function", entry)


def test_report_error_is_what_the_reader_raises(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        report_from_cloud_assembly(tmp_path / "missing")
