"""Every reference stack in each of the catalogue's 15 Regions: it synthesizes with a complete estimate, or it
fails with the one missing-prices message (or a prop check refuses an unpriced choice). The table below is the
coverage this documents; when the catalogue gains prices, regenerate it with

    python -m tests.cost.test_regional_synth

Cheap by design: plain apps (no cdk-nag), one app per Region holding every reference stack, built once per
session. A stack that fails while it is built (its guardrails read `cost_estimate`, which raises while a price is
missing) is taken out of its app, so the others still synthesize.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import aws_cdk as cdk
import pytest

from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.plugin import enable_cost_report
from inferwise.cost.recording import MISSING_PRICE_PREFIX, MissingPricesError
from inferwise.cost.report import CostReport
from inferwise.stacks import REFERENCE_STACKS
from tests.harness.synth import CONTEXT

REGIONS = (
    "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2", "ap-south-1", "ca-central-1",
    "sa-east-1",
)  # fmt: skip
OK = "ok"
BATCH = "refused: model_id 'us.anthropic.claude-haiku-4-5-20251001-v1:0' has no batch price"
TOKEN_ALARM = "refused: token_spend_alarms[0]: no on-demand input token price"
INF2_8XL = "refused: instance_types has 'inf2.8xlarge', which has no EC2 On-Demand price"
INF2_XL = "refused: instance_types has 'inf2.xlarge', which has no EC2 On-Demand price"


# What each reference stack does in each Region: "ok" (synthesizes with a complete estimate), "missing: <keys>"
# (the one missing-prices message, naming exactly these catalogue keys for the stack), or "refused: <start of
# the prop check's ValueError>".
EXPECTED: dict[str, dict[str, str]] = {
    "us-east-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": OK,
        "SpotFleetStack": OK,
    },
    "us-east-2": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/us-east-2/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/us-east-2/AverageDiscount",
    },
    "us-west-2": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/us-west-2/Hosting",
        "SpotFleetStack": OK,
    },
    "eu-west-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/eu-west-1/Hosting",
        "SpotFleetStack": OK,
    },
    "eu-west-2": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/eu-west-2/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/eu-west-2/AverageDiscount",
    },
    "eu-west-3": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/eu-west-3/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/eu-west-3/AverageDiscount AmazonEC2/g5.xlarge/eu-west-3/OnDemand",
    },
    "eu-central-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/eu-central-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/eu-central-1/AverageDiscount",
    },
    "eu-north-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/eu-north-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/eu-north-1/AverageDiscount",
    },
    "ap-northeast-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ap-northeast-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/ap-northeast-1/AverageDiscount",
    },
    "ap-northeast-2": {
        "BatchInferenceStack": "refused: model_id 'apac.anthropic.claude-haiku-4-5-20251001-v1:0' has no batch price in a",
        "CostGuardrailsStack": TOKEN_ALARM,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ap-northeast-2/Hosting",
        "SpotFleetStack": INF2_8XL,
    },
    "ap-southeast-1": {
        "BatchInferenceStack": "refused: model_id 'apac.anthropic.claude-haiku-4-5-20251001-v1:0' has no batch price in a",
        "CostGuardrailsStack": TOKEN_ALARM,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ap-southeast-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/ap-southeast-1/AverageDiscount AmazonEC2/g5.xlarge/ap-southeast-1/OnDemand",
    },
    "ap-southeast-2": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ap-southeast-2/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/ap-southeast-2/AverageDiscount",
    },
    "ap-south-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": OK,
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ap-south-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/ap-south-1/AverageDiscount",
    },
    "ca-central-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": OK,
        "GatewayStack": "refused: Route 'bulk' model_id 'amazon.nova-pro-v1:0' is not in the price catalogue for c",
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/ca-central-1/Hosting",
        "SpotFleetStack": INF2_XL,
    },
    "sa-east-1": {
        "BatchInferenceStack": OK,
        "CostGuardrailsStack": TOKEN_ALARM,
        "GatewayStack": "refused: Route 'bulk' model_id 'amazon.nova-pro-v1:0' is not in the price catalogue for s",
        "ScaleToZeroEndpointStack": "missing: AmazonSageMaker/ml.g5.xlarge/sa-east-1/Hosting",
        "SpotFleetStack": "missing: EC2Spot/inf2/sa-east-1/AverageDiscount",
    },
}


@dataclass
class RegionRun:
    """One Region's app: what happened to each stack while it was built, and the report of the synth."""

    region: str
    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    report: CostReport | None = None


def outcome_of(error: Exception, stack: str) -> str:
    if isinstance(error, MissingPricesError):
        keys = [m.key for m in error.missing if m.stack_path == stack]
        return "missing: " + " ".join(keys)
    for known in (BATCH, TOKEN_ALARM, INF2_8XL, INF2_XL):
        if str(error).startswith(known.removeprefix("refused: ")):
            return known
    return f"refused: {str(error)[:80]}"


PRICING_CONTEXT = {**CONTEXT, "@aws-cdk/core:validateAgainstDefaultRules": False}
"""The reference app's context without the CloudFormation schema rules: this test is about prices, and the
rules refuse AWS::Budgets::Budget in some Regions (a deployment question, not a pricing one)."""


def run_region(region: str, outdir: Path) -> RegionRun:
    app = cdk.App(outdir=str(outdir), context=PRICING_CONTEXT)
    plugin = enable_cost_report(app)
    run = RegionRun(region)
    for name, stack_class in REFERENCE_STACKS:
        try:
            stack_class(app, name, env=cdk.Environment(region=region))
        except (MissingPricesError, ValueError) as error:
            run.outcomes[name] = outcome_of(error, name)
            run.messages[name] = str(error)
            app.node.try_remove_child(name)
        else:
            run.outcomes[name] = OK
    app.synth()
    run.report = plugin.last_report
    return run


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RegionRun]:
    root = tmp_path_factory.mktemp("regional-cdk-out")
    return {region: run_region(region, root / region) for region in REGIONS}


@pytest.mark.parametrize("region", REGIONS)
def test_coverage_is_what_the_table_documents(runs: dict[str, RegionRun], region: str) -> None:
    assert runs[region].outcomes == EXPECTED[region]


@pytest.mark.parametrize("region", REGIONS)
def test_a_stack_that_synthesizes_has_a_complete_estimate_from_the_catalogue(
    runs: dict[str, RegionRun], region: str
) -> None:
    run = runs[region]
    ok = [stack for stack, outcome in run.outcomes.items() if outcome == OK]
    if not ok:
        return
    assert run.report is not None
    catalog = PriceCatalog.bundled()
    for stack in ok:
        estimates = [c.estimate for c in run.report.constructs if c.stack == stack]
        assert estimates, f"{stack} in {region} has no estimate in the report"
        assert sum(e.monthly_total for e in estimates) > 0
        for estimate in estimates:
            assert estimate.region == region
            for line in estimate.lines:
                assert not line.price_source.startswith(MISSING_PRICE_PREFIX)
                service, rest = line.price_source.split("/", 1)
                sku, where, dimension = rest.rsplit("/", 2)
                assert where == region
                catalog.price(service, sku, where, dimension)  # a catalogue price, never a placeholder


@pytest.mark.parametrize("region", REGIONS)
def test_a_stack_missing_prices_fails_with_the_one_message_and_the_refresh_command(
    runs: dict[str, RegionRun], region: str
) -> None:
    run = runs[region]
    catalog = PriceCatalog.bundled()
    for stack, outcome in run.outcomes.items():
        if not outcome.startswith("missing: "):
            continue
        message = run.messages[stack]
        assert message.count("inferwise: ") == 1
        for key in outcome.removeprefix("missing: ").split():
            assert f"    {key}\n" in message
            service, sku, where, dimension = key.split("/")
            with pytest.raises(UnknownPriceError):
                if service == "EC2Spot":
                    catalog.spot_discount(f"{sku}.xlarge", where)
                else:
                    catalog.price(service, sku, where, dimension)
        if "AmazonSageMaker" in outcome:
            assert f"inferwise prices refresh --region {region} --services AmazonSageMaker" in message
        assert '"inferwise:prices"' in message


def coverage_table(runs: dict[str, RegionRun]) -> str:
    """The EXPECTED table as Python source, from what the runs found."""
    names = {OK: "OK", BATCH: "BATCH", TOKEN_ALARM: "TOKEN_ALARM", INF2_8XL: "INF2_8XL", INF2_XL: "INF2_XL"}
    lines = ["EXPECTED: dict[str, dict[str, str]] = {"]
    for region in REGIONS:
        lines.append(f"    {region!r}: {{")
        for stack, outcome in runs[region].outcomes.items():
            lines.append(f"        {stack!r}: {names.get(outcome, repr(outcome))},")
        lines.append("    },")
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        found = {region: run_region(region, Path(scratch) / region) for region in REGIONS}
    sys.stdout.write(coverage_table(found) + "\n")
