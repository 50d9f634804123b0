"""`inferwise compare`: formats, the workload file, one-line errors with exit code 2, and the chart."""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from inferwise.cli.compare import FLAG_FOR_FIELD, _with_flags, add_compare_command
from inferwise.cost.advisor import (
    OPTION_NAMES,
    WORKLOAD_FIELDS,
    compare_serving_options,
    workload_from_mapping,
)
from inferwise.cost.catalog import PriceCatalog

LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0"
BASIC = [
    "compare",
    "--model",
    LLAMA_8B,
    "--requests-per-month",
    "1000000",
    "--input-tokens",
    "500",
    "--output-tokens",
    "200",
]


def _run(argv: list[str]) -> int:
    """Parse and run as `inferwise` would, with `compare` added by `add_compare_command`."""
    parser = argparse.ArgumentParser(prog="inferwise")
    add_compare_command(parser.add_subparsers(dest="command", required=True))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    code: int = args.func(args)
    return code


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert _run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.endswith("\n") and captured.err.count("\n") == 1, captured.err
    return captured.err


def test_table_lists_every_option_the_cheapest_and_the_break_evens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _run(BASIC) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"inferwise compare: {LLAMA_8B} in us-east-1\n")
    for name in OPTION_NAMES.values():
        assert name in out
    assert "\ncheapest: Bedrock on-demand is cheapest: " in out
    assert "not priced: no sourced Provisioned Throughput rate for this model" in out
    assert "break-even volumes (searched 700k to 700B tokens/month):" in out
    assert "1  Bedrock on-demand" in out and "$154.00" in out


def test_json_is_the_comparison_with_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*BASIC, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    workload = workload_from_mapping(
        {
            "model_id": LLAMA_8B,
            "requests_per_month": 1_000_000,
            "input_tokens_per_request": 500,
            "output_tokens_per_request": 200,
        }
    )
    assert data == json.loads(json.dumps(compare_serving_options(workload).to_json()))
    assert data["x_Cheapest"] == "bedrock-on-demand"
    assert {option["x_Option"] for option in data["x_Options"]} == set(OPTION_NAMES)
    provisioned = next(o for o in data["x_Options"] if o["x_Option"] == "bedrock-provisioned")
    assert (provisioned["ListCost"], provisioned["x_Available"]) == (None, False)


def test_markdown_has_a_table_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*BASIC, "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| # | option | $/month | $/1M tokens | instances | utilisation | confidence |" in out
    assert "| 1 | Bedrock on-demand | $154.00 | $0.220 | - | - | high |" in out
    assert "**Cheapest:** Bedrock on-demand is cheapest" in out


def test_flags_set_batch_cache_routing_and_instances(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "compare", "--model", "anthropic.claude-haiku-4-5-20251001-v1:0", "--requests-per-month", "300000",
        "--input-tokens", "1000", "--output-tokens", "300", "--batch-ok", "--active-hours-per-day", "10",
        "--peak-to-average", "3", "--cache-prefix-tokens", "600", "--cache-hit-rate", "0.8",
        "--small-model", "amazon.nova-micro-v1:0", "--routed-share", "0.6",
        "--substitute-model", "meta-llama/Llama-3.1-8B-Instruct",
        "--instance-type", "ml.g6.xlarge", "--tokens-per-second", "150",
        "--instance-type", "m7g.2xlarge", "--throughput", "4",
        "--instance-type", "g6e.xlarge", "--tokens-per-second", "900",
        "--format", "json",
    ]  # fmt: skip
    assert _run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    workload = data["x_Workload"]
    assert (workload["realtime"], workload["batch_ok"]) == (False, True)
    assert workload["sagemaker_instance_type"] == "ml.g6.xlarge"
    assert workload["graviton_instance_type"] == "m7g.2xlarge"
    assert (workload["gpu_instance_type"], workload["gpu_tokens_per_second"]) == ("g6e.xlarge", 900)
    assert workload["inf2_instance_type"] is None
    options = {o["x_Option"]: o for o in data["x_Options"]}
    available = {key for key, o in options.items() if o["x_Available"]}
    assert {"bedrock-batch", "bedrock-prompt-cache", "bedrock-routed", "spot-gpu"} <= available
    assert options["spot-gpu"]["x_DifferentModel"] is True
    assert data["x_Cheapest"] == "bedrock-routed"


def test_a_workload_file_sets_fields_and_flags_override_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "workload.yml"
    path.write_text(
        f"model_id: {LLAMA_8B}\nrequests_per_month: 2000000\ninput_tokens_per_request: 500\n"
        "output_tokens_per_request: 200\nactive_hours_per_day: 8\nbatch_ok: true\n",
        encoding="utf-8",
    )
    assert (
        _run(["compare", "--workload", str(path), "--requests-per-month", "50000", "--format", "json"]) == 0
    )
    workload = json.loads(capsys.readouterr().out)["x_Workload"]
    assert workload["requests_per_month"] == 50000
    assert workload["active_hours_per_day"] == "8" or workload["active_hours_per_day"] == 8
    assert (workload["batch_ok"], workload["realtime"]) == (True, False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--requests-per-month", "-5"],
            "inferwise compare: --requests-per-month must be > 0, got -5\n",
        ),
        (
            ["--requests-per-month", "lots"],
            "inferwise compare: argument --requests-per-month: must be a number, got 'lots'\n",
        ),
        (
            ["--cache-prefix-tokens", "100", "--cache-hit-rate", "1.5"],
            "inferwise compare: --cache-hit-rate must be between 0 and 1, got 1.5\n",
        ),
        (
            ["--cache-hit-rate", "0.5"],
            "inferwise compare: --cache-prefix-tokens and --cache-hit-rate go together: give both or neither, got "
            "--cache-prefix-tokens=None, --cache-hit-rate=0.5\n",
        ),
        (
            ["--cache-prefix-tokens", "900", "--cache-hit-rate", "0.5"],
            "inferwise compare: --cache-prefix-tokens must be <= --input-tokens (500), got 900\n",
        ),
        (
            ["--instance-type", "ml.c5.xlarge"],
            "inferwise compare: --instance-type must be a SageMaker instance type inferwise knows (ml.g5.xlarge, "
            "ml.g5.2xlarge, ml.g5.12xlarge, ml.g6.xlarge, ml.g6.2xlarge, ml.g6.12xlarge, ml.g6e.xlarge, "
            "ml.g6e.2xlarge, ...), got 'ml.c5.xlarge'\n",
        ),
        (
            ["--instance-type", "x9.large"],
            "inferwise compare: --instance-type 'x9.large' is not an instance type the advisor knows: pass a "
            "SageMaker type (ml.g5.xlarge, ml.inf2.xlarge, ...), an Inferentia2 type (inf2.xlarge, ...), an EC2 GPU "
            "type (g5.xlarge, g6e.xlarge, ...), a Graviton type (c7g.16xlarge, m7g.2xlarge, ...) or a Serverless "
            "Inference memory size (serverless-1gb to serverless-6gb)\n",
        ),
        (
            ["--throughput", "100"],
            "inferwise compare: --tokens-per-second is given 1 time(s) and --instance-type 0 time(s): pass one "
            "--tokens-per-second per --instance-type, in the same order\n",
        ),
    ],
)
def test_errors_are_one_line_on_stderr_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert _error(capsys, [*BASIC, *argv]) == message


def test_an_argparse_error_is_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, [*BASIC, "--format", "xml"])
    assert err.startswith("inferwise compare: argument --format: invalid choice: 'xml'")


def test_an_unknown_model_is_one_line_naming_the_flags(capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(capsys, [*BASIC, "--model", "amazon.nova-mega-v9:0"])
    assert err.startswith(
        "inferwise compare: --model 'amazon.nova-mega-v9:0' has no Bedrock price in the catalogue for "
        "us-east-1: no AmazonBedrock price for model 'amazon.nova-mega-v9:0'"
    )
    assert "`inferwise prices show AmazonBedrock` lists the" in err
    assert err.endswith(
        "Add an override record in a price file passed with --prices FILE.json (see docs/prices.md).\n"
    )


def test_a_missing_model_says_what_the_workload_needs(capsys: pytest.CaptureFixture[str]) -> None:
    assert _error(capsys, ["compare", "--requests-per-month", "5"]) == (
        "inferwise compare: the workload needs --model, --input-tokens, --output-tokens\n"
    )


def test_with_a_workload_file_errors_name_the_field_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.yml"
    path.write_text(f"model_id: {LLAMA_8B}\ninput_tokens_per_request: 5\noutput_tokens_per_request: 5\n")
    assert _error(capsys, ["compare", "--workload", str(path), "--requests-per-month", "0"]) == (
        "inferwise compare: --requests-per-month (requests_per_month) must be > 0, got 0\n"
    )


def test_hints_name_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(BASIC) == 0
    out = capsys.readouterr().out
    assert "no prompt cache described: pass --cache-prefix-tokens and --cache-hit-rate" in out
    assert "no routing described: pass --small-model and --routed-share" in out
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", out.split("\ncheapest:", 1)[0]), (
        "a Python field name in the table"
    )
    assert _run([*BASIC, "--format", "md"]) == 0
    assert (
        "- Bedrock + prompt caching: no prompt cache described: pass --cache-prefix-tokens and"
        in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "message",
    [
        "Workload.cache_hit_rate must be between 0 and 1, got 1.5",
        "Workload.cache_prefix_tokens and Workload.cache_hit_rate go together: give both or neither, got "
        "cache_prefix_tokens=None, cache_hit_rate=Decimal('0.5')",
        "batch requested for a real-time workload: batch_ok=True needs realtime=False",
        "batch not requested: set batch_ok (--batch-ok) if the work can wait",
        "Workload.graviton_tokens_per_second is required for m7g.large",
        "Workload.region must be a non-empty string, got ''",
    ],
)
def test_every_field_in_a_message_becomes_its_flag(message: str) -> None:
    rewritten = _with_flags(message)
    assert not re.search(
        r"Workload\.|(?<![\w-])(" + "|".join(f for f in WORKLOAD_FIELDS if f != "realtime") + r")\b",
        rewritten,
    )
    assert set(re.findall(r"--[a-z-]+", rewritten)) <= set(FLAG_FOR_FIELD.values())
    assert _with_flags(message, field_names=True).count("(") >= rewritten.count("(")


def test_every_workload_field_but_realtime_has_a_flag() -> None:
    assert set(WORKLOAD_FIELDS) - set(FLAG_FOR_FIELD) == {
        "realtime"
    }  # a workload file sets it (or --batch-ok)


def test_prices_lays_an_override_file_over_the_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = PriceCatalog.bundled().bedrock(LLAMA_8B, "us-east-1", "input")
    override = {
        "sources": {"our-rate": {"title": "our negotiated rate", "url": "", "as_of": "2026-11-01"}},
        "records": [
            {**record.to_json(), "tiers": [{"begin": "0", "end": None, "usd": "0.11"}], "source": "our-rate"}
        ],
    }
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(override))
    assert _run([*BASIC, "--format", "json"]) == 0
    bundled = json.loads(capsys.readouterr().out)
    assert _run([*BASIC, "--format", "json", "--prices", str(path)]) == 0
    overridden = json.loads(capsys.readouterr().out)

    def on_demand(data: dict[str, Any]) -> Decimal:
        return Decimal(next(o for o in data["x_Options"] if o["x_Option"] == "bedrock-on-demand")["ListCost"])

    # 1M requests x 500 input tokens = 500M tokens: $0.11 less per 1M input tokens saves $55
    assert on_demand(bundled) - on_demand(overridden) == Decimal(55)


def test_a_price_file_that_does_not_parse_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{}")
    assert _error(capsys, [*BASIC, "--prices", str(path)]) == (
        f"inferwise compare: price file {path} must be a JSON object with a 'records' list\n"
    )


def test_batch_for_a_real_time_workload_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.yml"
    path.write_text("realtime: true\n", encoding="utf-8")
    assert _error(capsys, [*BASIC, "--workload", str(path), "--batch-ok"]) == (
        "inferwise compare: batch requested for a real-time workload: --batch-ok (batch_ok) needs realtime=False (a "
        "batch job returns within 24 h, not while a caller waits)\n"
    )


def test_a_workload_file_with_an_unknown_field_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.yml"
    path.write_text("model: x\n", encoding="utf-8")
    err = _error(capsys, ["compare", "--workload", str(path)])
    assert err.startswith(
        f"inferwise compare: workload file {path} has unknown field(s) model; allowed: model_id, "
    )
    missing = tmp_path / "missing.yml"
    assert _error(capsys, ["compare", "--workload", str(missing)]) == (
        f"inferwise compare: cannot read workload file {missing}: No such file or directory\n"
    )


def test_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "chart.png"
    assert _run([*BASIC, "--batch-ok", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert capsys.readouterr().err == f"inferwise compare: chart written to {path}\n"


def test_plot_without_matplotlib_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    path = tmp_path / "chart.png"
    assert _run([*BASIC, "--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        'inferwise compare: the chart needs matplotlib, which is not installed: pip install "inferwise[plot]"\n'
    )
    assert not path.exists()


# ------------------------------------------------------------------------------------ docs/choosing.md
DOC = Path(__file__).resolve().parents[2] / "docs" / "choosing.md"


def _doc_examples() -> list[tuple[str, str]]:
    """(command, output) for every `$ inferwise compare` in a console block of docs/choosing.md with output."""
    text = DOC.read_text(encoding="utf-8")
    examples = []
    for block in text.split("```console\n")[1:]:
        lines = block.split("\n```", 1)[0].split("\n")
        command: list[str] = []
        output: list[str] = []
        for line in lines:
            if line.startswith("$ ") or (command and command[-1].endswith("\\") and not output):
                command.append(line.removeprefix("$ "))
            else:
                output.append(line)
        joined = " ".join(part.rstrip("\\").strip() for part in command)
        if joined.startswith("inferwise compare") and output:
            examples.append((joined, "\n".join(output) + "\n"))
    return examples


def _doc_files() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    files = {}
    for block in text.split("```yaml\n")[1:]:
        body = block.split("\n```", 1)[0] + "\n"
        first = body.split("\n", 1)[0]
        if first.startswith("# ") and first.endswith(".yml"):
            files[first[2:]] = body
    return files


def test_the_docs_have_at_least_ten_worked_examples_and_their_charts() -> None:
    examples = _doc_examples()
    assert len(examples) >= 10
    text = DOC.read_text(encoding="utf-8")
    plotted = [command for command, _ in examples if "--plot " in command]
    assert len(plotted) >= 3
    for command in plotted:
        plot = command.split("--plot ", 1)[1].split()[0]
        assert plot.startswith("docs/img/") and (DOC.parents[1] / plot).is_file()
        assert f"]({plot.removeprefix('docs/')})" in text


@pytest.mark.parametrize(("command", "output"), _doc_examples())
def test_the_docs_show_what_the_tool_prints(
    command: str,
    output: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, body in _doc_files().items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    argv = command.split()[1:]
    if "--plot" in argv:
        plot = argv.index("--plot")
        del argv[plot : plot + 2]
    assert _run(argv) == 0
    assert capsys.readouterr().out == output


# ------------------------------------------------------------------------------------ bad self-hosting input
_BIG = ["--requests-per-month", "3000000", "--input-tokens", "1000", "--output-tokens", "300"]


@pytest.mark.parametrize(
    ("flags", "start"),
    [
        (
            "--model meta.llama3-1-70b-instruct-v1:0 --instance-type inf2.xlarge",
            "inferwise compare: --instance-type 'inf2.xlarge' cannot hold meta-llama/Llama-3.1-70B-Instruct at bf16: "
            "inf2.xlarge does not fit: 141.2 GB of weights + 0.4 GB of KV cache (1 sequence(s) x 1,300 tokens) > "
            "30.9 GB usable",
        ),
        (
            f"--model {LLAMA_8B} --substitute-model acme/Giant-1T",
            "inferwise compare: --substitute-model must be an open model the catalogue sizes (",
        ),
        (
            "--model amazon.nova-lite-v1:0 --service-tier flex",
            "inferwise compare: --service-tier=flex: the catalogue has no Flex price for amazon.nova-lite-v1:0 in "
            "us-east-1 (models with one there: amazon.nova-pro-v1:0)",
        ),
        (
            "--model amazon.nova-pro-v1:0 --cache-prefix-tokens 100 --cache-hit-rate 0.5 --cache-ttl 1h",
            "inferwise compare: --cache-ttl=1h: the catalogue has no 1-hour cache-write price for amazon.nova-pro-v1:0",
        ),
        (
            f"--model {LLAMA_8B} --scenarios 0.5,x",
            "inferwise compare: argument --scenarios: must be a number",
        ),
        (
            "--model anthropic.claude-haiku-4-5-20251001-v1:0 --input-tokens 300000",
            "inferwise compare: --input-tokens=300000 is more than the 200,000-token context window of "
            "anthropic.claude-haiku-4-5-20251001-v1:0 (--model): no request that long can be sent to it",
        ),
        (
            f"--model {LLAMA_8B} --savings-plan-discount 1.5",
            "inferwise compare: --savings-plan-discount must be > 0 and < 1 (a share off), got 1.5",
        ),
    ],
)
def test_bad_self_hosting_input_is_one_line_naming_the_flag(
    capsys: pytest.CaptureFixture[str], flags: str, start: str
) -> None:
    assert _error(capsys, ["compare", *_BIG, *flags.split()]).startswith(start)


@pytest.mark.parametrize("instance_type", ["ml.g5.xlarge", "serverless-2gb"])
def test_self_hosting_a_closed_model_is_refused_whatever_the_instance_type(
    capsys: pytest.CaptureFixture[str], instance_type: str
) -> None:
    argv = ["--model", "anthropic.claude-sonnet-4-5-20250929-v1:0", "--instance-type", instance_type]
    assert _error(capsys, ["compare", *_BIG, *argv]).startswith(
        "inferwise compare: --instance-type asks for self-hosting, but closed weights: "
        "anthropic.claude-sonnet-4-5-20250929-v1:0 cannot be self-hosted; pass --substitute-model (e.g. "
        "meta-llama/Llama-3.1-70B-Instruct)"
    )


@pytest.mark.parametrize("instance_type", ["g6e.xlarge", "serverless-6gb"])
def test_a_zero_throughput_is_refused_whatever_the_instance_type(
    capsys: pytest.CaptureFixture[str], instance_type: str
) -> None:
    argv = ["--model", LLAMA_8B, "--instance-type", instance_type, "--tokens-per-second", "0"]
    assert _error(capsys, ["compare", *_BIG, *argv]).startswith(
        "inferwise compare: --tokens-per-second must be > 0, got 0"
    )


def test_substitute_options_are_listed_apart_with_people_and_scenarios(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["compare", *_BIG, "--model", "anthropic.claude-sonnet-4-5-20250929-v1:0",
            "--substitute-model", "meta-llama/Llama-3.1-8B-Instruct", "--ops-hours-per-month", "10"]  # fmt: skip
    assert _run(argv) == 0
    out = capsys.readouterr().out
    assert "\ns  SpotInferenceFleet (Inferentia2)" in out
    assert (
        "s = self-hosted meta-llama/Llama-3.1-8B-Instruct, a different model from "
        "anthropic.claude-sonnet-4-5-20250929-v1:0: quality not compared" in out
    )
    assert "people: each self-hosted option includes 10 h x $100 = $1,000.00/month of operations" in out
    assert "\nscenarios:\n  0.5x (1.95B tokens/month): Bedrock global profile at " in out
    assert _run([*argv, "--format", "md"]) == 0
    markdown = capsys.readouterr().out
    assert "| s | SpotInferenceFleet (Inferentia2) |" in markdown and "Scenarios:" in markdown


def test_serverless_and_savings_plan_flags_set_their_fields(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", *_BIG, "--model", LLAMA_8B, "--precision", "int4", "--instance-type", "serverless-6gb",
            "--tokens-per-second", "30", "--savings-plan-discount", "0.25", "--savings-plan-term", "3yr",
            "--format", "json"]  # fmt: skip
    assert _run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    workload = data["x_Workload"]
    assert (workload["serverless_memory"], workload["serverless_tokens_per_second"]) == ("serverless-6gb", 30)
    assert (workload["savings_plan_discount"], workload["savings_plan_term"]) == ("0.25", "3yr")
    serverless = next(o for o in data["x_Options"] if o["x_Option"] == "sagemaker-serverless")
    assert serverless["x_InstanceType"] == "serverless-6gb"
    # 3M requests x 1,300 tokens / 30 tokens/s x 6 GB x $0.00002 per GB-second + $2,000 of people
    assert serverless["x_Available"] and Decimal(serverless["ListCost"]) == 17_600
    assert data["x_SchemaVersion"] == 3
