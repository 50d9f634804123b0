"""`inferwise actual` in the cost layer: tag values, months, Cost Explorer requests (moto and botocore's
Stubber), matching the bill to the estimates, drift and its explanation, the JSON schema, and the usage file
`--suggest-usage` writes, round-tripped through the usage-file loader and the estimators.

The bill is built from estimates: "observed" usage is priced by the same estimators (`Bill.add_estimate`) and
written as Cost Explorer groups, so a month of twice the records is exactly what the estimator says twice the
records cost. `Bill.exchanges` records the requests `compare_month` makes against a fake client that answers
from the bill; the same requests and answers then drive moto (queued in that order) and the Stubber (which
checks each request against the `ce` service model and the expected parameters).
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import jsonschema
import pytest
import requests
from botocore.stub import Stubber
from moto import mock_aws

from inferwise.cost.actual import (
    ActualError,
    ActualReport,
    Month,
    activate_tags,
    compare_month,
    explain,
    last_full_month,
    month_period,
    needed_services,
    parse_month,
    render_json,
    render_markdown,
    render_table,
    render_usage_file,
    suggest_usage,
)
from inferwise.cost.actual.query import construct_costs, construct_costs_request
from inferwise.cost.actual.services import (
    SERVICE_NAMES,
    actual_key,
    service_code,
    strip_region,
    unit_factor,
)
from inferwise.cost.actual.suggest import glob_escape
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.bedrock_batch import BatchPlan, BatchUsage, estimate_bedrock_batch
from inferwise.cost.estimators.scale_to_zero import EndpointUsage, estimate_scale_to_zero
from inferwise.cost.estimators.spot_fleet import FleetUsage, estimate_spot_fleet
from inferwise.cost.model import CostEstimate, CostLine
from inferwise.cost.render import cents
from inferwise.cost.report import CostReport, report_from_cloud_assembly
from inferwise.cost.tagging import (
    CONSTRUCT_TAG_KEY,
    MAX_TAG_VALUE_LENGTH,
    TAG_KEYS,
    construct_tag_value,
    is_valid_tag_value,
)
from inferwise.cost.usage_file import UsageFile

REGION = "us-east-1"
CATALOG = PriceCatalog.bundled()
MODEL_ID = "anthropic.claude-haiku-4-5-20251001-v1:0"
BEDROCK_SERVICE = "Claude Haiku 4.5 (Amazon Bedrock Edition)"
BATCH_PATH, ENDPOINT_PATH, FLEET_PATH = "BatchStack/Pipeline", "EndpointStack/Endpoint", "FleetStack/Fleet"
MONTH = Month(date(2026, 10, 1), date(2026, 11, 1))
TODAY = date(2026, 11, 15)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "actual.md"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


# ---------------------------------------------------------------------------------------- estimates
def batch_estimate(records: int = 1_000_000) -> CostEstimate:
    estimate = estimate_bedrock_batch(
        BatchPlan(model_id=MODEL_ID), BatchUsage(records_per_month=records), CATALOG, REGION
    )
    return dataclasses.replace(estimate, construct_path=BATCH_PATH)


def endpoint_estimate(active_hours: float = 8.0) -> CostEstimate:
    estimate = estimate_scale_to_zero(
        "ml.g5.xlarge", 1, EndpointUsage(active_hours_per_day=active_hours), CATALOG, REGION
    )
    return dataclasses.replace(estimate, construct_path=ENDPOINT_PATH)


def fleet_estimate(average: float = 2.0) -> CostEstimate:
    estimate = estimate_spot_fleet(
        accelerator="inferentia2",
        instance_types=("inf2.xlarge",),
        on_demand_base=1,
        spot_percent_above_base=100,
        root_volume_gib=100,
        usage=FleetUsage(average_instances=average),
        catalog=CATALOG,
        region=REGION,
        max_capacity=4,
    )
    return dataclasses.replace(estimate, construct_path=FLEET_PATH)


def write_assembly(root: Path, *estimates: CostEstimate) -> Path:
    """A cloud assembly with one stack per estimate (named by the path's first part): no synth needed."""
    root.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for estimate in estimates:
        stack = estimate.construct_path.split("/", 1)[0]
        template = {
            "Resources": {
                "Main": {"Type": "AWS::S3::Bucket", "Metadata": {"inferwise:cost": estimate.to_json()}}
            }
        }
        (root / f"{stack}.template.json").write_text(json.dumps(template))
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "properties": {"templateFile": f"{stack}.template.json"},
        }
    (root / "manifest.json").write_text(json.dumps({"version": "48.0.0", "artifacts": artifacts}))
    return root


def assembly_report(tmp_path: Path, *estimates: CostEstimate) -> CostReport:
    return report_from_cloud_assembly(write_assembly(tmp_path / "cdk.out", *estimates))


# --------------------------------------------------------------------------------------------- bill
_NO_USAGE_TYPE = {
    ("AmazonCloudWatch", "LogsIngestion"): "USE1-DataProcessing-Bytes",
    ("awskms", "CustomerManagedKey"): "USE1-KMS-Keys",
    ("awskms", "SymmetricRequests"): "USE1-KMS-Requests",
    ("AmazonSNS", "Requests"): "USE1-Requests-Tier1",
}


def ce_usage(line: CostLine) -> tuple[str, str, str, Decimal]:
    """(Cost Explorer service, usage type, unit, quantity) for a line, as a bill would show it."""
    code, dimension = line.service_code, line.price_source.rsplit("/", 1)[-1]
    if code == "AmazonBedrock":
        return (
            BEDROCK_SERVICE,
            f"USE1-Claude4.5Haiku-{dimension}-tokens",
            "tokens",
            line.monthly_quantity * 1_000_000,
        )
    if code == "AmazonEC2":
        service = "EC2 - Other" if line.usage_type.startswith("EBS:") else SERVICE_NAMES[code][0]
        spot = line.pricing_category == "Dynamic"
        usage_type = line.usage_type.replace("BoxUsage:", "SpotUsage:") if spot else line.usage_type
        return service, usage_type, line.pricing_unit, line.monthly_quantity
    usage_type = line.usage_type or _NO_USAGE_TYPE[(code, dimension)]
    return SERVICE_NAMES[code][0], usage_type, line.pricing_unit, line.monthly_quantity


@dataclass(frozen=True)
class Row:
    tag: str
    service: str
    usage_type: str
    unblended: Decimal
    amortized: Decimal
    quantity: Decimal
    unit: str


def _amount(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0000000001")))


class Bill:
    """A month of Cost Explorer data: rows of (tag value, service, usage type) with costs and quantities."""

    def __init__(self, month: Month = MONTH) -> None:
        self.month = month
        self.rows: list[Row] = []

    def add(
        self, tag: str, service: str, usage_type: str, cost: str, quantity: str = "1", unit: str = "N/A"
    ) -> Bill:
        self.rows.append(Row(tag, service, usage_type, Decimal(cost), Decimal(cost), Decimal(quantity), unit))
        return self

    def add_estimate(
        self, estimate: CostEstimate, *, price: Callable[[CostLine], Decimal] = lambda line: Decimal(1)
    ) -> Bill:
        """What the estimate's lines would bill, tagged with its construct's value (`price` scales a line's cost)."""
        tag = construct_tag_value(estimate.construct_path)
        for line in estimate.lines:
            service, usage_type, unit, quantity = ce_usage(line)
            cost = line.monthly_cost * price(line)
            self.rows.append(Row(tag, service, usage_type, cost, cost, quantity, unit))
        return self

    def _groups(
        self, rows: list[Row], dimension: Callable[[Row], str], unit: Callable[[list[Row]], str]
    ) -> list[dict[str, Any]]:
        grouped: dict[tuple[str, str], list[Row]] = defaultdict(list)
        for row in rows:
            grouped[(row.tag, dimension(row))].append(row)
        return [
            {
                "Keys": [f"{CONSTRUCT_TAG_KEY}${tag}", value],
                "Metrics": {
                    "UnblendedCost": {
                        "Amount": _amount(sum((r.unblended for r in items), Decimal(0))),
                        "Unit": "USD",
                    },
                    "AmortizedCost": {
                        "Amount": _amount(sum((r.amortized for r in items), Decimal(0))),
                        "Unit": "USD",
                    },
                    "UsageQuantity": {
                        "Amount": _amount(sum((r.quantity for r in items), Decimal(0))),
                        "Unit": unit(items),
                    },
                },
            }
            for (tag, value), items in sorted(grouped.items())
        ]

    def page(self, groups: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
        period = {"Start": self.month.start.isoformat(), "End": self.month.end.isoformat()}
        page: dict[str, Any] = {
            "ResultsByTime": [{"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": False}],
            "DimensionValueAttributes": [],
        }
        if token is not None:
            page["NextPageToken"] = token
        return page

    def construct_groups(self) -> list[dict[str, Any]]:
        return self._groups(self.rows, lambda r: r.service, lambda rows: "N/A")

    def usage_groups(self, service: str, tags: Collection[str]) -> list[dict[str, Any]]:
        rows = [r for r in self.rows if r.service == service and r.tag in tags]
        units = lambda rows: rows[0].unit if len({r.unit for r in rows}) == 1 else "N/A"  # noqa: E731
        return self._groups(rows, lambda r: r.usage_type, units)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """What Cost Explorer answers to one of `compare_month`'s requests."""
        if request["GroupBy"][1]["Key"] == "SERVICE":
            return self.page(self.construct_groups())
        service_filter, tag_filter, _ = request["Filter"]["And"]
        return self.page(
            self.usage_groups(service_filter["Dimensions"]["Values"][0], tag_filter["Tags"]["Values"])
        )

    def exchanges(
        self, report: CostReport, needed: Callable[[CostEstimate], Collection[str]] = lambda e: ()
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The (request, answer) pairs `compare_month` makes against this bill, in order."""
        recorded: list[tuple[dict[str, Any], dict[str, Any]]] = []

        class Recorder:
            def get_cost_and_usage(inner, **request: Any) -> dict[str, Any]:
                recorded.append((request, self.answer(request)))
                return recorded[-1][1]

        compare_month(report, self.month, Recorder(), needed=needed)
        return recorded


def observed_bill() -> Bill:
    """The worked example's month: twice the records, the endpoint's hourly price 10% up, 3 fleet instances instead of 2,
    some untagged spend, and spend tagged by another app."""
    return (
        Bill()
        .add_estimate(batch_estimate(2_000_000))
        .add_estimate(
            endpoint_estimate(),
            price=lambda line: (
                Decimal("1.1") if line.usage_type.endswith("Host:ml.g5.xlarge") else Decimal(1)
            ),
        )
        .add_estimate(fleet_estimate(3.0))
        .add("", BEDROCK_SERVICE, "USE1-Claude4.5Haiku-input-tokens", "12.34", "22436363", "tokens")
        .add("", "Amazon Route 53", "HostedZone", "0.50")
        .add("OtherApp/Worker", "AWS Lambda", "Request", "3.21", "16050000", "Requests")
    )


@pytest.fixture
def moto_ce(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[dict[str, Any]]], Any]]:
    """moto's Cost Explorer: queue GetCostAndUsage answers (the documented moto API), get a boto3 client."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():

        def queue(results: list[dict[str, Any]]) -> Any:
            answer = requests.post(
                "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
                json={"results": results},
            )
            assert answer.status_code == 201
            return boto3.client("ce", region_name=REGION)

        yield queue


def ce_client() -> Any:
    return botocore.session.get_session().create_client(
        "ce", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


@pytest.fixture
def worked_example(tmp_path: Path, moto_ce: Callable[[list[dict[str, Any]]], Any]) -> ActualReport:
    report = assembly_report(tmp_path, batch_estimate(), endpoint_estimate(), fleet_estimate())
    bill = observed_bill()
    exchanges = bill.exchanges(report, needed_services)
    client = moto_ce([answer for _, answer in exchanges])
    return compare_month(report, MONTH, client, needed=needed_services)


# ------------------------------------------------------------------------------------------ tagging
def test_a_path_that_fits_is_its_own_tag_value() -> None:
    assert TAG_KEYS == ("inferwise:stack", "inferwise:construct")
    assert construct_tag_value("BatchStack/Pipeline") == "BatchStack/Pipeline"


def test_a_long_or_odd_path_is_shortened_with_a_hash_and_stays_distinct() -> None:
    long_a, long_b = "Stack/" + "Deep/" * 60 + "LeafA", "Stack/" + "Deep/" * 60 + "LeafB"
    value_a, value_b = construct_tag_value(long_a), construct_tag_value(long_b)
    assert len(value_a) == len(value_b) == MAX_TAG_VALUE_LENGTH
    assert value_a != value_b and value_a == construct_tag_value(long_a)
    assert value_a.startswith("Stack/Deep/") and is_valid_tag_value(value_a)
    odd = construct_tag_value("Stack/Café (v2)")
    assert (
        odd.startswith("Stack/Caf_ _v2_@")
        and len(odd) == len("Stack/Caf_ _v2_@") + 12
        and is_valid_tag_value(odd)
    )
    with pytest.raises(ValueError):
        construct_tag_value("")


# ------------------------------------------------------------------------------------------- months
def test_months_past_current_and_future() -> None:
    assert parse_month("2024-02") == date(2024, 2, 1)
    for bad in ("2024-13", "24-02", "2024-2", "last"):
        with pytest.raises(ValueError):
            parse_month(bad)
    assert last_full_month(date(2026, 1, 10)) == date(2025, 12, 1)
    assert month_period(date(2024, 2, 1), TODAY) == Month(date(2024, 2, 1), date(2024, 3, 1))
    current = month_period(date(2026, 11, 1), TODAY)
    assert current.partial and current.end == TODAY and current.days == 14
    with pytest.raises(ActualError, match="has not started yet"):
        month_period(date(2026, 12, 1), TODAY)
    with pytest.raises(ActualError, match="no data for it yet"):
        month_period(date(2026, 11, 1), date(2026, 11, 1))


# -------------------------------------------------------------------------------- names and units
def test_bill_names_meet_the_estimate_names() -> None:
    assert service_code("Claude Haiku 4.5 (Amazon Bedrock Edition)") == "AmazonBedrock"
    assert service_code("EC2 - Other") == "AmazonEC2" and service_code("Amazon Route 53") is None
    assert strip_region("USE1-USW2-AWS-Out-Bytes") == "AWS-Out-Bytes"
    assert (
        strip_region("KMS-Requests") == "KMS-Requests"
        and strip_region("EU-BoxUsage:t3.micro") == "BoxUsage:t3.micro"
    )
    assert actual_key("AmazonBedrock", "USE1-Claude4.5Haiku-batch-input-tokens") == "tokens:batch-input"
    assert (
        actual_key("AmazonBedrock", "USE1-Claude4.5Haiku-cache-read-input-token-count") == "tokens:cache-read"
    )
    assert actual_key("AmazonBedrock", "USE2-Claude4.5Haiku-output-tokens") == "tokens:output"
    assert unit_factor("tokens", "1M tokens") == Decimal("0.000001")
    assert (
        unit_factor("Hrs", "Hrs") == 1
        and unit_factor("N/A", "Hrs") is None
        and unit_factor("GB", "Hrs") is None
    )


# ----------------------------------------------------------------------------------- the comparison
def test_twice_the_records_is_usage_drift_explained_by_the_token_lines(worked_example: ActualReport) -> None:
    batch = {c.path: c for c in worked_example.constructs}[BATCH_PATH]
    observed = batch_estimate(2_000_000)
    assert batch.estimated == cents(batch_estimate().monthly_total)
    assert batch.billed == cents(observed.monthly_total) == batch.amortized
    assert batch.drift == batch.billed - batch.estimated
    assert batch.drift_percent is not None and batch.drift_percent > Decimal(99)
    first, second = batch.explaining_lines()[:2]
    assert {first.key, second.key} == {"tokens:batch-input", "tokens:batch-output"}
    for line in (first, second):
        assert line.cause == "usage above"
        assert line.actual_quantity == 2 * line.estimated_quantity
        assert line.usage_effect == line.estimated_cost and line.price_effect is not None
        assert cents(line.price_effect) == 0
        assert line.services == (BEDROCK_SERVICE,)
    assert (
        "usage above: 2,000 1M tokens billed vs 1,000 estimated (+100.0%); usage +$550.00, price as estimated ($0.55 per 1M tokens)"
        in explain({line.key: line for line in batch.lines}["tokens:batch-input"])
    )


def test_a_changed_price_is_price_drift(worked_example: ActualReport) -> None:
    endpoint = {c.path: c for c in worked_example.constructs}[ENDPOINT_PATH]
    [hosting] = endpoint.explaining_lines()
    assert hosting.cause == "price higher"
    assert hosting.usage_effect is not None and cents(hosting.usage_effect) == 0
    assert hosting.price_effect == pytest.approx(hosting.estimated_cost / 10)
    assert "$1.5488 vs $1.408 per Hrs" in explain(hosting)


def test_untagged_spend_in_the_estimates_services_is_its_own_row(worked_example: ActualReport) -> None:
    assert [(s.services, s.actual.unblended) for s in worked_example.untagged] == [
        ((BEDROCK_SERVICE,), Decimal("12.34"))
    ]
    assert worked_example.untagged_billed == Decimal("12.34")
    assert worked_example.other_tag_values == ("OtherApp/Worker",)
    table = render_table(worked_example)
    assert "(untagged)" in table and "Route 53" not in table


def test_requests_are_few_and_follow_next_page_token(tmp_path: Path) -> None:
    report = assembly_report(tmp_path, batch_estimate())
    bill = Bill().add_estimate(batch_estimate(2_000_000))
    exchanges = bill.exchanges(report)
    assert exchanges[0][0] == construct_costs_request(MONTH)
    explained = [request["Filter"]["And"][0]["Dimensions"]["Values"][0] for request, _ in exchanges[1:]]
    assert BEDROCK_SERVICE in explained and explained == sorted(explained) and len(explained) <= 3
    assert all(request["Filter"]["And"][1]["Tags"]["Values"] == [BATCH_PATH] for request, _ in exchanges[1:])
    client = ce_client()
    groups = bill.construct_groups()
    with Stubber(client) as stub:
        stub.add_response(
            "get_cost_and_usage", bill.page(groups[:2], token="page-2"), construct_costs_request(MONTH)
        )
        stub.add_response(
            "get_cost_and_usage",
            bill.page(groups[2:]),
            {**construct_costs_request(MONTH), "NextPageToken": "page-2"},
        )
        for request, answer in exchanges[1:]:
            stub.add_response("get_cost_and_usage", answer, request)
        actual = compare_month(report, MONTH, client)
        stub.assert_no_pending_responses()
    assert actual.requests == len(exchanges) + 1
    assert actual.constructs[0].billed == cents(batch_estimate(2_000_000).monthly_total)


# ---------------------------------------------------------------------------------------- no data
def test_a_month_without_data_says_so(tmp_path: Path, moto_ce: Callable[[list[dict[str, Any]]], Any]) -> None:
    client = moto_ce([])
    with pytest.raises(ActualError, match="Cost Explorer has no cost for 2026-10"):
        compare_month(assembly_report(tmp_path, batch_estimate()), MONTH, client)


def test_spend_without_any_tag_means_the_tags_are_not_active(
    tmp_path: Path, moto_ce: Callable[[list[dict[str, Any]]], Any]
) -> None:
    bill = Bill().add("", BEDROCK_SERVICE, "USE1-Claude4.5Haiku-input-tokens", "100")
    client = moto_ce([bill.page(bill.construct_groups())])
    with pytest.raises(
        ActualError, match=r"not active as a cost allocation tag yet \(run `inferwise tags activate`"
    ):
        compare_month(assembly_report(tmp_path, batch_estimate()), MONTH, client)


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "AccessDeniedException",
            "User not enabled for cost explorer access",
            "Cost Explorer is not enabled for this account",
        ),
        (
            "AccessDeniedException",
            "User: arn:aws:iam::1:user/x is not authorized",
            "access denied to ce:GetCostAndUsage: the caller needs ce:GetCostAndUsage",
        ),
        ("DataUnavailableException", "Data is not available", "Cost Explorer has no data for this request"),
        ("LimitExceededException", "Rate exceeded", "Cost Explorer's request rate limit was reached"),
    ],
)
def test_cost_explorer_errors_become_one_line_with_what_to_do(code: str, message: str, expected: str) -> None:
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_client_error("get_cost_and_usage", code, message, 400)
        with pytest.raises(ActualError) as error:
            construct_costs(client, MONTH)
    assert str(error.value).startswith(expected)
    assert f"(AWS said: {code}: {message})" in str(error.value) and "\n" not in str(error.value)


# ------------------------------------------------------------------------------------------- output
def documented_schema() -> dict[str, Any]:
    """The JSON schema in docs/actual.md: the ```json block after the `actual-json-schema` marker."""
    text = DOCS.read_text(encoding="utf-8").split("<!-- actual-json-schema -->", 1)[1]
    block = text.split("```json\n", 1)[1].split("\n```", 1)[0]
    schema: dict[str, Any] = json.loads(block)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def test_json_output_follows_the_documented_schema(worked_example: ActualReport) -> None:
    data = json.loads(render_json(worked_example))
    jsonschema.validate(data, documented_schema(), format_checker=jsonschema.FormatChecker())
    batch = next(c for c in data["x_Constructs"] if c["x_ConstructPath"] == BATCH_PATH)
    assert batch["x_EstimatedCost"] == str(cents(batch_estimate().monthly_total))
    assert batch["BilledCost"] == str(cents(batch_estimate(2_000_000).monthly_total))
    tokens = next(line for line in batch["x_Lines"] if line["x_Cause"] == "usage above")
    assert tokens["x_Explains"] and tokens["x_UsageEffectUSD"] == "550.00"
    assert data["x_Untagged"]["BilledCost"] == "12.34" and data["x_OtherTagValues"] == ["OtherApp/Worker"]
    money = [
        c[k]
        for c in data["x_Constructs"]
        for k in ("x_EstimatedCost", "BilledCost", "EffectiveCost", "x_DriftUSD")
    ]
    assert all(len(amount.split(".")[1]) == 2 for amount in money)
    data["x_Constructs"][0]["BilledCost"] = "2203.9"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, documented_schema())


def test_markdown_and_table_show_every_construct(worked_example: ActualReport) -> None:
    markdown, table = render_markdown(worked_example), render_table(worked_example)
    for path in (BATCH_PATH, ENDPOINT_PATH, FLEET_PATH):
        assert f"## {path}" in markdown and path in table
    assert table.splitlines()[-1].startswith("  -")  # the untagged services close the table output
    assert "TOTAL" in table and "What explains the drift:" in markdown


def test_fail_drift_reasons_name_the_construct(worked_example: ActualReport) -> None:
    [reason] = worked_example.over(Decimal(25))  # the batch doubled; the endpoint and the fleet drifted less
    assert reason.startswith(f"{BATCH_PATH} drifted +99.7% (+$") and reason.endswith(
        "beyond --fail-drift-percent 25"
    )
    assert len(worked_example.over(Decimal(5))) == 3
    assert worked_example.over(Decimal(1000)) == []


# ---------------------------------------------------------------------------------- suggested usage
def test_the_suggested_usage_file_makes_the_next_estimate_match_the_bill(
    worked_example: ActualReport, tmp_path: Path
) -> None:
    suggestions, skipped = suggest_usage(worked_example)
    assert skipped == []
    path = tmp_path / "inferwise-usage.yml"
    path.write_text(render_usage_file(suggestions, skipped, worked_example))
    usage_file = UsageFile.load(path)
    batch_usage, assumptions = usage_file.apply(BATCH_PATH, BatchUsage())
    assert batch_usage == BatchUsage(records_per_month=2_000_000, output_tokens_per_record=200)
    assert assumptions
    rebuilt = dataclasses.replace(
        estimate_bedrock_batch(BatchPlan(model_id=MODEL_ID), batch_usage, CATALOG, REGION),
        construct_path=BATCH_PATH,
    )
    billed = {c.path: c.billed for c in worked_example.constructs}
    assert cents(rebuilt.monthly_total) == billed[BATCH_PATH]
    endpoint_usage, _ = usage_file.apply(ENDPOINT_PATH, EndpointUsage())
    assert endpoint_usage.active_hours_per_day == 8.0  # the hours were as estimated; the price was not
    fleet_usage, _ = usage_file.apply(FLEET_PATH, FleetUsage())
    assert fleet_usage.average_instances == 3.0
    assert cents(fleet_estimate(fleet_usage.average_instances).monthly_total) == billed[FLEET_PATH]
    assert usage_file.unused_entries() == []


def test_hours_above_the_estimate_suggest_more_active_hours(
    tmp_path: Path, moto_ce: Callable[[list[dict[str, Any]]], Any]
) -> None:
    report = assembly_report(tmp_path, endpoint_estimate())
    bill = Bill().add_estimate(endpoint_estimate(12.5))
    client = moto_ce([answer for _, answer in bill.exchanges(report, needed_services)])
    actual = compare_month(report, MONTH, client, needed=needed_services)
    [suggestion], _ = suggest_usage(actual)
    assert suggestion.fields == {"active_hours_per_day": 12.5}
    assert cents(endpoint_estimate(12.5).monthly_total) == actual.constructs[0].billed


def test_patterns_without_a_metered_figure_are_skipped_and_paths_are_escaped() -> None:
    assert glob_escape("Stack/Fleet[1]*") == "Stack/Fleet[[]1][*]"
    month = ActualReport(MONTH, (), (), (), False, 1)
    text = render_usage_file([], ["Guard: no usage figure"], month)
    assert "# skipped: Guard: no usage figure" in text and text.endswith("constructs: {}\n")


# ------------------------------------------------------------------------------------ tag activation
def test_activation_turns_on_the_inactive_key_and_reports_each() -> None:
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_response(
            "list_cost_allocation_tags",
            {
                "CostAllocationTags": [
                    {"TagKey": "inferwise:stack", "Type": "UserDefined", "Status": "Active"},
                    {"TagKey": "inferwise:construct", "Type": "UserDefined", "Status": "Inactive"},
                ]
            },
            {"TagKeys": list(TAG_KEYS)},
        )
        stub.add_response(
            "update_cost_allocation_tags_status",
            {"Errors": []},
            {"CostAllocationTagsStatus": [{"TagKey": "inferwise:construct", "Status": "Active"}]},
        )
        outcomes = activate_tags(client)
    assert [(o.key, o.outcome) for o in outcomes] == [
        ("inferwise:stack", "already active"),
        ("inferwise:construct", "activated"),
    ]


def test_a_key_not_billed_yet_cannot_be_activated_and_says_why() -> None:
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_response(
            "list_cost_allocation_tags",
            {
                "CostAllocationTags": [
                    {"TagKey": "inferwise:stack", "Type": "UserDefined", "Status": "Inactive"}
                ]
            },
            {"TagKeys": list(TAG_KEYS)},
        )
        stub.add_response(
            "update_cost_allocation_tags_status",
            {
                "Errors": [
                    {"TagKey": "inferwise:stack", "Code": "TagKeysNotFound", "Message": "Tag key not found"}
                ]
            },
            None,
        )
        outcomes = activate_tags(client)
    assert [o.outcome for o in outcomes] == ["not found", "not found"]
    assert "only after a resource carrying it has been billed" in outcomes[1].describe()


def test_activation_access_denied_names_the_permissions() -> None:
    client = ce_client()
    with Stubber(client) as stub:
        stub.add_client_error("list_cost_allocation_tags", "AccessDeniedException", "not authorized", 400)
        with pytest.raises(
            ActualError,
            match=r"access denied to ce:ListCostAllocationTags.*ce:UpdateCostAllocationTagsStatus",
        ):
            activate_tags(client)


def test_a_construct_without_spend_is_warned_about_and_skipped(
    tmp_path: Path, moto_ce: Callable[[list[dict[str, Any]]], Any]
) -> None:
    guard = dataclasses.replace(
        endpoint_estimate(), construct_path="GuardStack/Guardrails", pattern="CostGuardrails"
    )
    report = assembly_report(tmp_path, batch_estimate(), endpoint_estimate(), guard)
    bill = Bill().add_estimate(batch_estimate()).add_estimate(guard)
    client = moto_ce([answer for _, answer in bill.exchanges(report, needed_services)])
    actual = compare_month(report, MONTH, client, needed=needed_services)
    assert (
        f"no spend in 2026-10 carries {CONSTRUCT_TAG_KEY}={ENDPOINT_PATH}: not deployed"
        in actual.warnings()[0]
    )
    suggestions, skipped = suggest_usage(actual)
    assert [s.construct_path for s in suggestions] == [BATCH_PATH]
    assert skipped == [
        f"{ENDPOINT_PATH}: no spend carries its tag in 2026-10",
        "GuardStack/Guardrails: no usage figure of a CostGuardrails follows from the bill",
    ]
    assert suggestions[0].fields == {"records_per_month": 1_000_000, "output_tokens_per_record": 200}
