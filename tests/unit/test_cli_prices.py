from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from inferwise.cli import main
from inferwise.cli.prices import CATEGORIES, price_category
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.refresh import SERVICES


def test_prices_show_lists_each_price_with_its_source_and_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "show", "AmazonEC2", "--region", "us-east-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = PriceCatalog.bundled().price("AmazonEC2", "inf2.xlarge", "us-east-1", "OnDemand")
    assert (
        f"{record.key}\t0.7582 USD per Hrs\t{record.source} {record.as_of.isoformat()} ({record.confidence})"
        in lines
    )
    assert all(line.startswith("AmazonEC2/") and "/us-east-1/" in line for line in lines)


def test_prices_show_of_an_unknown_service_says_what_is_known(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "show", "AmazonEC3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inferwise prices show: no prices for service='AmazonEC3' region=None. Services: ")
    assert "AmazonEC2" in err


# ------------------------------------------------------------------------------------------- filters
def show(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["prices", "show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def keys(out: str) -> list[str]:
    return [line.split("\t", 1)[0] for line in out.splitlines()]


def test_service_flag_and_positional_service_are_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    _, positional, _ = show(capsys, "AmazonEC2", "--region", "us-east-1")
    _, flag, _ = show(capsys, "--service", "amazonec2", "--region", "us-east-1")
    _, legacy, _ = show(capsys, "--service", "ec2", "--region", "us-east-1")
    assert positional == flag == legacy and positional
    code, _, err = show(capsys, "AmazonEC2", "--service", "AmazonS3")
    assert code == 2 and "two services given" in err


@pytest.mark.parametrize("service", SERVICES)
def test_show_takes_every_service_name_refresh_takes(
    service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = show(capsys, "--service", service, "--region", "us-east-1")
    assert code == 0
    assert all(key.startswith(f"{service}/") for key in keys(out))


def test_sku_glob_and_region_glob(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = show(capsys, "--sku", "g5.*", "--region", "eu-*")
    assert code == 0 and out
    for key in keys(out):
        service, sku, region, _ = key.split("/")
        assert service == "AmazonEC2" and sku.startswith("g5.") and region.startswith("eu-")
    _, exact, _ = show(capsys, "--sku", "G5.XLARGE", "--region", "us-east-1")
    assert keys(exact) == [
        "AmazonEC2/g5.xlarge/us-east-1/OnDemand",
        "AmazonEC2/g5.xlarge/us-east-1/Reserved1yrStandardNoUpfront",
    ]


def test_a_bedrock_profile_id_finds_its_model(capsys: pytest.CaptureFixture[str]) -> None:
    _, by_profile, _ = show(
        capsys, "--sku", "us.anthropic.claude-haiku-4-5-20251001-v1:0", "--region", "us-east-1"
    )
    _, by_model, _ = show(
        capsys, "--sku", "anthropic.claude-haiku-4-5-20251001-v1:0", "--region", "us-east-1"
    )
    assert by_profile == by_model
    assert "AmazonBedrock/anthropic.claude-haiku-4-5-20251001-v1:0/us-east-1/batch-input" in keys(by_model)


@pytest.mark.parametrize(
    ("category", "dimension_part"),
    [("Batch", "batch-"), ("flex", "flex-"), ("PRIORITY", "priority-")],
)
def test_category_selects_the_bedrock_tier(
    category: str, dimension_part: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = show(capsys, "--category", category)
    assert code == 0 and out
    assert all(dimension_part in key.rsplit("/", 1)[1] for key in keys(out))


def test_every_record_has_one_category() -> None:
    catalog = PriceCatalog.bundled()
    categories = {price_category(record) for record in catalog.records()}
    assert categories == set(CATEGORIES) - {"Spot"}
    record = catalog.price(
        "AmazonBedrock", "anthropic.claude-sonnet-4-5-20250929-v1:0", "us-east-1", "global:batch-input"
    )
    assert price_category(record) == "Batch"


def test_on_demand_leaves_out_the_bedrock_tiers(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = show(capsys, "--service", "AmazonBedrock", "--category", "ondemand", "--region", "us-east-1")
    dimensions = {key.rsplit("/", 1)[1].removeprefix("global:") for key in keys(out)}
    assert "input" in dimensions and not any(
        d.startswith(("batch-", "flex-", "priority-")) for d in dimensions
    )


def test_nothing_found_says_what_was_asked_and_what_exists(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = show(capsys, "--sku", "zz.*", "--category", "Batch")
    assert code == 2 and out == ""
    assert err.startswith(
        "inferwise prices show: no prices for service=None region=None sku='zz.*' category='Batch'. "
    )
    assert "Categories: OnDemand, Batch, Flex, Priority, Spot." in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exited:
        main(["prices", "show", "--category", "Reserved"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "inferwise prices show: argument --category: unknown category 'Reserved'; "
        "choose from OnDemand, Batch, Flex, Priority, Spot\n"
    )


# ---------------------------------------------------------------------------------------------- json
def test_json_lists_records_with_full_precision_prices_source_and_date(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = show(capsys, "AWSLambda", "--region", "us-east-1", "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert isinstance(records, list) and records
    (requests,) = [r for r in records if r["sku"] == "x86_64" and r["dimension"] == "Requests"]
    assert requests["unit_price"] == "0.0000002"  # never 2E-7
    assert requests["tiers"][0]["usd"] == "0.0000002"
    record = PriceCatalog.bundled().price("AWSLambda", "x86_64", "us-east-1", "Requests")
    source = PriceCatalog.bundled().sources()[record.source]
    assert requests["source"] == record.source and requests["as_of"] == record.as_of.isoformat()
    assert requests["source_title"] == source.title and requests["source_url"] == source.url
    assert requests["category"] == "OnDemand"


# ---------------------------------------------------------------------------------------------- spot
def test_spot_shows_the_discount_assumptions_with_their_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = show(capsys, "--spot", "--sku", "g5.xlarge", "--region", "us-east-1")
    assert code == 0
    discount = PriceCatalog.bundled().spot_discount("g5.xlarge", "us-east-1")
    pct = lambda f: f"{(f * 100).normalize():f} %"  # noqa: E731
    assert out == (
        f"EC2Spot/g5/us-east-1\taverage {pct(discount.average)} off On-Demand (observed {pct(discount.low)} to "
        f"{pct(discount.high)})\t{discount.source} {discount.as_of.isoformat()} (assumption)\n"
    )
    assert show(capsys, "--category", "spot", "--sku", "g5", "--region", "us-east-1")[1] == out
    assert show(capsys, "--service", "EC2Spot", "--sku", "g5.*", "--region", "us-east-1")[1] == out
    assert show(capsys, "AmazonEC2", "--spot", "--sku", "g5.2xlarge", "--region", "us-east-1")[1] == out


def test_spot_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = show(capsys, "--spot", "--region", "us-east-1", "--format", "json")
    discounts = json.loads(out)
    families = {d["sku"] for d in discounts}
    assert "g5" in families and all(d["category"] == "Spot" and d["region"] == "us-east-1" for d in discounts)
    g5 = next(d for d in discounts if d["sku"] == "g5")
    expected = PriceCatalog.bundled().spot_discount("g5.xlarge", "us-east-1")
    assert g5["average"] == format(expected.average, "f") and g5["source"] == expected.source
    assert g5["as_of"] == expected.as_of.isoformat() and g5["source_title"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--spot", "--service", "AmazonBedrock"], "Spot discounts apply to AmazonEC2 instance prices only"),
        (["--spot", "--category", "Batch"], "Spot discount assumptions have no category Batch"),
    ],
)
def test_spot_refuses_what_it_cannot_show(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = show(capsys, *args)
    assert code == 2 and message in err


# ------------------------------------------------------------------------------------- closed pipe
def _inferwise() -> str:
    found = shutil.which("inferwise", path=str(Path(sys.executable).parent))
    assert found, "the inferwise console script is not installed in the dev venv"
    return found


def test_prices_show_piped_to_head_exits_quietly() -> None:
    """`inferwise prices show | head -1` prints one line, nothing on stderr (no BrokenPipe traceback), exit 141."""
    result = subprocess.run(
        ["bash", "-c", f'"{_inferwise()}" prices show | head -1; echo "exit=${{PIPESTATUS[0]}}" >&2'],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == "exit=141\n", result.stderr


@pytest.mark.parametrize("format", ["table", "json"])
def test_a_reader_that_closes_the_pipe_ends_the_command_with_141(format: str) -> None:
    """The reader takes one line and closes the pipe while the command still has 300 KB (3 MB) to write."""
    process = subprocess.Popen(
        [_inferwise(), "prices", "show", "--format", format], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read()
    assert process.wait(timeout=120) == 141
    assert first.startswith(b"AWSBudgets/" if format == "table" else b"[") and errors == b""
