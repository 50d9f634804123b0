from __future__ import annotations

import pytest

from inferwise.cli import main
from inferwise.cost.catalog import PriceCatalog


def test_prices_show_lists_each_price_with_its_source_and_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "show", "AmazonEC2", "--region", "us-east-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = PriceCatalog.bundled().price("AmazonEC2", "inf2.xlarge", "us-east-1", "OnDemand")
    assert f"{record.key}\t0.7582 USD per Hrs\t{record.source} {record.as_of.isoformat()} ({record.confidence})" in lines
    assert all(line.startswith("AmazonEC2/") and "/us-east-1/" in line for line in lines)


def test_prices_show_of_an_unknown_service_says_what_is_known(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prices", "show", "AmazonEC3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("inferwise prices show: no prices for service='AmazonEC3' region=None. Services: ")
    assert "AmazonEC2" in err
