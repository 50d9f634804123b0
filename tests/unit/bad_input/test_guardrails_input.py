"""CostGuardrails refuses every bad prop with a clear error, before anything reaches jsii or Decimal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from inferwise.constructs.guardrails import CostGuardrails, HardCap, TokenSpendAlarm
from inferwise.cost.estimators.guardrails import GuardrailsUsage
from tests.unit.bad_input.support import ACCOUNT, HAIKU, Case, assert_refused, label, param, stack

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/chatbot-app"
MONITOR_ARN = f"arn:aws:ce::{ACCOUNT}:anomalymonitor/0123abcd-0123-abcd-0123-0123456789ab"


def guardrails(region: str = "us-east-1", **props: Any) -> CostGuardrails:
    props.setdefault("monthly_budget_usd", 100)
    props.setdefault("emails", ["finops@example.com"])
    return CostGuardrails(stack(region), "Guardrails", **props)


def bad(case_id: str, error: type[Exception], prop: str, shows: str, **props: Any) -> Case:
    return Case(case_id, lambda: guardrails(**props), error, prop, shows)


def alarm(field: str, value: object, error: type[Exception], shows: str) -> Case:
    """A TokenSpendAlarm made with one bad field (refused when made)."""
    fields: dict[str, Any] = {"model_id": HAIKU, "max_usd_per_hour": 5, field: value}
    return Case(
        f"TokenSpendAlarm.{field}={label(value)}",
        lambda: guardrails(token_spend_alarms=[TokenSpendAlarm(**fields)]),
        error,
        f"TokenSpendAlarm.{field}",
        shows,
    )


def dimensional_twice() -> None:
    app = cdk.App()
    CostGuardrails(stack(app=app, account=ACCOUNT), "First", monthly_budget_usd=100, emails=["a@example.com"])
    CostGuardrails(
        stack(app=app, account=ACCOUNT), "Second", monthly_budget_usd=100, emails=["a@example.com"]
    )


def dimensional_twice_without_account() -> None:
    app = cdk.App()
    CostGuardrails(stack(app=app), "First", monthly_budget_usd=100, emails=["a@example.com"])
    CostGuardrails(
        stack(app=app, region="eu-west-1"), "Second", monthly_budget_usd=100, emails=["a@example.com"]
    )


def budget_token() -> None:
    scope = stack()
    limit = cdk.CfnParameter(scope, "Limit", type="Number").value_as_number
    CostGuardrails(scope, "Guardrails", monthly_budget_usd=limit, emails=["a@example.com"])


def many_roles() -> None:
    guardrails(hard_cap=HardCap(at_percent=120, deny_roles=[f"{ROLE_ARN}{i}" for i in range(101)]))


def wrong_construct_as_role() -> None:
    scope = stack()
    bucket = s3.Bucket(scope, "Bucket")
    CostGuardrails(
        scope,
        "Guardrails",
        monthly_budget_usd=100,
        emails=["a@example.com"],
        hard_cap=HardCap(at_percent=120, deny_roles=[bucket]),  # type: ignore[list-item]
    )


V, T = ValueError, TypeError
BUDGET = "monthly_budget_usd"
CASES: list[Case] = [
    # the monthly budget: finite, > 0, sane, a number known at synth
    bad("budget nan", V, BUDGET, "nan", monthly_budget_usd=float("nan")),
    bad("budget inf", V, BUDGET, "inf", monthly_budget_usd=float("inf")),
    bad("budget -inf", V, BUDGET, "-inf", monthly_budget_usd=float("-inf")),
    bad("budget 1e30", V, BUDGET, "1e+30", monthly_budget_usd=1e30),
    bad("budget Decimal NaN", V, BUDGET, "Decimal('NaN')", monthly_budget_usd=Decimal("NaN")),
    bad("budget Decimal sNaN", V, BUDGET, "Decimal('sNaN')", monthly_budget_usd=Decimal("sNaN")),
    bad("budget Decimal inf", V, BUDGET, "Decimal('Infinity')", monthly_budget_usd=Decimal("Infinity")),
    bad("budget Decimal 1E+30", V, BUDGET, "Decimal('1E+30')", monthly_budget_usd=Decimal("1E+30")),
    bad("budget huge int", V, BUDGET, "digits", monthly_budget_usd=10**5000),
    bad("budget bool", T, BUDGET, "True", monthly_budget_usd=True),
    bad("budget string", T, BUDGET, "'100'", monthly_budget_usd="100"),
    bad("budget None", T, BUDGET, "None", monthly_budget_usd=None),
    bad("budget zero", V, BUDGET, "got 0", monthly_budget_usd=0),
    bad("budget negative", V, BUDGET, "-5", monthly_budget_usd=-5),
    bad("budget list", T, BUDGET, "[100]", monthly_budget_usd=[100]),
    Case("budget token", budget_token, V, BUDGET, "deploy-time token"),
    # e-mail addresses
    bad("emails string", T, "emails", "'a@example.com'", emails="a@example.com"),
    bad("email trailing newline", V, "emails[0]", "'a@example.com\\n'", emails=["a@example.com\n"]),
    bad("email leading space", V, "emails[0]", "' a@example.com'", emails=[" a@example.com"]),
    bad("email trailing space", V, "emails[0]", "'a@example.com '", emails=["a@example.com "]),
    bad("email inner space", V, "emails[0]", "'a @example.com'", emails=["a @example.com"]),
    bad("email no dot", V, "emails[0]", "'a@example'", emails=["a@example"]),
    bad("email no local part", V, "emails[0]", "'@example.com'", emails=["@example.com"]),
    bad("email two at", V, "emails[0]", "'a@@example.com'", emails=["a@@example.com"]),
    bad("email NUL", V, "emails[1]", "\\x00", emails=["b@example.com", "a@example.com\x00"]),
    bad("email tab", V, "emails[0]", "\\t", emails=["a\t@example.com"]),
    bad("email int", T, "emails[0]", "123", emails=[123]),
    bad("email None", T, "emails[0]", "None", emails=[None]),
    bad("email too long", V, "emails[0]", "characters", emails=["x" * 300 + "@example.com"]),
    bad("emails repeated", V, "emails", "A@example.com", emails=["a@example.com", "A@example.com"]),
    bad("eleven emails", V, "emails", "11", emails=[f"p{i}@example.com" for i in range(11)]),
    bad("emails int", T, "emails", "5", emails=5),
    bad("emails set", T, "emails", "a@example.com", emails={"a@example.com"}),
    # budget name: 1-100 characters, no ':', '\' or '/action/' (AWS Budgets)
    bad("name 101", V, "budget_name", "(101 characters)", budget_name="x" * 101),
    bad("name 10 MB", V, "budget_name", "(10,000,000 characters)", budget_name="x" * 10_000_000),
    bad("name colon", V, "budget_name", "'team:chatbot'", budget_name="team:chatbot"),
    bad("name backslash", V, "budget_name", "'team\\\\chatbot'", budget_name="team\\chatbot"),
    bad("name action", V, "budget_name", "'a/action/b'", budget_name="a/action/b"),
    bad("name script", V, "budget_name", "<script>", budget_name="<script>x</script>"),
    bad("name empty", V, "budget_name", "''", budget_name=""),
    bad("name blank", V, "budget_name", "'   '", budget_name="   "),
    bad("name newline", V, "budget_name", "'team\\n'", budget_name="team\n"),
    bad("name int", T, "budget_name", "123", budget_name=123),
    # services: Cost Explorer names, with suggestions
    bad("service Bedrock", V, "services[0]", "'Amazon Bedrock'", services=["Bedrock"]),
    bad("service bedrock", V, "services[0]", "'bedrock'", services=["bedrock"]),
    bad("service lower case", V, "services[0]", "'amazon bedrock'", services=["amazon bedrock"]),
    bad("service EC2", V, "services[0]", "'Amazon Elastic Compute Cloud - Compute'", services=["EC2"]),
    bad("service S3", V, "services[0]", "'Amazon Simple Storage Service'", services=["S3"]),
    bad("service typo", V, "services[0]", "'Amazon Bedrok'", services=["Amazon Bedrok"]),
    bad("service AWS lambda", V, "services[1]", "'AWS Lambda'", services=["Amazon Bedrock", "AWS lambda"]),
    bad("service newline", V, "services[0]", "'Amazon Bedrock\\n'", services=["Amazon Bedrock\n"]),
    bad("service empty", V, "services[0]", "''", services=[""]),
    bad("service None", T, "services[0]", "None", services=[None]),
    bad("services string", T, "services", "'Amazon Bedrock'", services="Amazon Bedrock"),
    bad("services empty", V, "services", "[]", services=[]),
    bad("services repeated", V, "services", "Amazon Bedrock", services=["Amazon Bedrock", "Amazon Bedrock"]),
    # cost allocation tags
    bad("tags string", T, "cost_filter_tags", "'project'", cost_filter_tags="project"),
    bad("tags empty", V, "cost_filter_tags", "{}", cost_filter_tags={}),
    bad("tag values string", V, "cost_filter_tags", "'chatbot'", cost_filter_tags={"project": "chatbot"}),
    bad("tag values empty", V, "cost_filter_tags", "[]", cost_filter_tags={"project": []}),
    bad("tag key empty", V, "cost_filter_tags key", "''", cost_filter_tags={"": ["x"]}),
    bad("tag key long", V, "cost_filter_tags key", "(129 characters)", cost_filter_tags={"k" * 129: ["x"]}),
    bad(
        "tag value long", V, "cost_filter_tags['project']", "(257", cost_filter_tags={"project": ["v" * 257]}
    ),
    bad("tag value None", T, "cost_filter_tags['project']", "None", cost_filter_tags={"project": [None]}),
    bad(
        "tag value newline",
        V,
        "cost_filter_tags['project']",
        "'a\\nb'",
        cost_filter_tags={"project": ["a\nb"]},
    ),
    bad(
        "tags and services",
        V,
        "cost_filter_tags or services",
        "not both",
        cost_filter_tags={"project": ["x"]},
        services=["Amazon Bedrock"],
    ),
    # alert percentages; at most 10 notifications per budget
    bad("percents number", T, "actual_alert_percents", "80", actual_alert_percents=80),
    bad("percents string", T, "actual_alert_percents", "'50,80'", actual_alert_percents="50,80"),
    bad("percent zero", V, "actual_alert_percents", "got 0", actual_alert_percents=(0,)),
    bad("percent nan", V, "actual_alert_percents", "nan", actual_alert_percents=(float("nan"),)),
    bad("percent inf", V, "actual_alert_percents", "inf", actual_alert_percents=(50, float("inf"))),
    bad("percent 1001", V, "actual_alert_percents", "1001", actual_alert_percents=(1001,)),
    bad("percent bool", T, "actual_alert_percents", "True", actual_alert_percents=(True,)),
    bad("percent string", T, "actual_alert_percents", "'50'", actual_alert_percents=("50",)),
    bad("percent repeated", V, "actual_alert_percents", "(80, 80)", actual_alert_percents=(80, 80)),
    bad("eleven percents", V, "actual_alert_percents", "11", actual_alert_percents=tuple(range(1, 12))),
    bad(
        "eleven notifications",
        V,
        "forecast_alert_percent",
        "11",
        actual_alert_percents=tuple(range(10, 110, 10)),
    ),
    bad("forecast nan", V, "forecast_alert_percent", "nan", forecast_alert_percent=float("nan")),
    bad("forecast zero", V, "forecast_alert_percent", "got 0", forecast_alert_percent=0),
    bad("forecast string", T, "forecast_alert_percent", "'100'", forecast_alert_percent="100"),
    # anomaly detection
    bad("anomaly yes", T, "anomaly_detection", "'yes'", anomaly_detection="yes"),
    bad("anomaly 1", T, "anomaly_detection", "got 1", anomaly_detection=1),
    bad("monitor type case", V, "anomaly_monitor_type", "'DIMENSIONAL'", anomaly_monitor_type="dimensional"),
    bad("monitor type None", T, "anomaly_monitor_type", "None", anomaly_monitor_type=None),
    bad("monitor arn int", T, "existing_anomaly_monitor_arn", "123", existing_anomaly_monitor_arn=123),
    bad(
        "monitor arn newline",
        V,
        "existing_anomaly_monitor_arn",
        "\\n",
        existing_anomaly_monitor_arn=MONITOR_ARN + "\n",
    ),
    bad("anomaly usd nan", V, "anomaly_threshold_usd", "nan", anomaly_threshold_usd=float("nan")),
    bad("anomaly usd inf", V, "anomaly_threshold_usd", "inf", anomaly_threshold_usd=float("inf")),
    bad("anomaly usd zero", V, "anomaly_threshold_usd", "got 0", anomaly_threshold_usd=0),
    bad("anomaly usd 1e8", V, "anomaly_threshold_usd", "100000000", anomaly_threshold_usd=100_000_000),
    bad("anomaly usd string", T, "anomaly_threshold_usd", "'100'", anomaly_threshold_usd="100"),
    bad("anomaly percent negative", V, "anomaly_threshold_percent", "-1", anomaly_threshold_percent=-1),
    bad(
        "anomaly percent NaN",
        V,
        "anomaly_threshold_percent",
        "Decimal('NaN')",
        anomaly_threshold_percent=Decimal("NaN"),
    ),
    Case("two DIMENSIONAL monitors", dimensional_twice, V, "anomaly_monitor_type", "'DIMENSIONAL'"),
    Case(
        "two DIMENSIONAL monitors, no account",
        dimensional_twice_without_account,
        V,
        "Baduseast10/First",
        "the deploying account",
    ),
    # token-spend alarms
    bad(
        "alarms single",
        T,
        "token_spend_alarms",
        "TokenSpendAlarm(",
        token_spend_alarms=TokenSpendAlarm(model_id=HAIKU, max_usd_per_hour=5),
    ),
    bad(
        "alarm string",
        T,
        "token_spend_alarms[0]",
        "'us.anthropic",
        token_spend_alarms=["us.anthropic.claude"],
    ),
    bad("alarm dict", T, "token_spend_alarms[0]", "{'model_id'", token_spend_alarms=[{"model_id": HAIKU}]),
    alarm("max_usd_per_hour", float("nan"), V, "nan"),
    alarm("max_usd_per_hour", float("inf"), V, "inf"),
    alarm("max_usd_per_hour", 1e30, V, "1e+30"),
    alarm("max_usd_per_hour", -1, V, "-1"),
    alarm("max_usd_per_hour", "5", T, "'5'"),
    alarm("max_usd_per_hour", True, T, "True"),
    alarm("evaluation_hours", 169, V, "169"),
    alarm("evaluation_hours", 0, V, "got 0"),
    alarm("evaluation_hours", 1.5, T, "1.5"),
    alarm("evaluation_hours", True, T, "True"),
    alarm("evaluation_hours", 10**6, V, "1000000"),
    alarm("model_id", "", V, "''"),
    alarm("model_id", None, T, "None"),
    alarm("model_id", "x" * 3000, V, "(3,000 characters)"),
    alarm("model_id", HAIKU + "\n", V, "\\n"),
    bad(
        "alarm eu. in us-east-1",
        V,
        "token_spend_alarms[0].model_id",
        "'eu.anthropic",
        token_spend_alarms=[TokenSpendAlarm(model_id=f"eu.{HAIKU}", max_usd_per_hour=5)],
    ),
    bad(
        "alarm apac. in us-east-1",
        V,
        "token_spend_alarms[1].model_id",
        "'apac.anthropic",
        token_spend_alarms=[TokenSpendAlarm(HAIKU, 5), TokenSpendAlarm(f"apac.{HAIKU}", 5)],
    ),
    bad(
        "alarm us-gov. in us-east-1",
        V,
        "token_spend_alarms[0].model_id",
        "'us-gov.",
        token_spend_alarms=[TokenSpendAlarm(model_id=f"us-gov.{HAIKU}", max_usd_per_hour=5)],
    ),
    bad(
        "alarm jp. in us-east-1",
        V,
        "token_spend_alarms[0].model_id",
        "'jp.",
        token_spend_alarms=[TokenSpendAlarm(model_id=f"jp.{HAIKU}", max_usd_per_hour=5)],
    ),
    Case(
        "alarm us. in eu-west-1",
        lambda: guardrails(
            "eu-west-1", token_spend_alarms=[TokenSpendAlarm(model_id=f"us.{HAIKU}", max_usd_per_hour=5)]
        ),
        V,
        "token_spend_alarms[0].model_id",
        "'us.",
    ),
    Case(
        "alarm eu. profile ARN in us-east-1",
        lambda: guardrails(
            token_spend_alarms=[
                TokenSpendAlarm(
                    model_id=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/eu.{HAIKU}",
                    max_usd_per_hour=5,
                )
            ]
        ),
        V,
        "token_spend_alarms[0].model_id",
        "'arn:aws:bedrock:us-east-1",
    ),
    # hard cap
    bad("hard cap string", T, "hard_cap", "'120'", hard_cap="120"),
    Case(
        "cap nan",
        lambda: HardCap(at_percent=float("nan"), deny_roles=[ROLE_ARN]),
        V,
        "HardCap.at_percent",
        "nan",
    ),
    Case(
        "cap inf",
        lambda: HardCap(at_percent=float("inf"), deny_roles=[ROLE_ARN]),
        V,
        "HardCap.at_percent",
        "inf",
    ),
    Case("cap zero", lambda: HardCap(at_percent=0, deny_roles=[ROLE_ARN]), V, "HardCap.at_percent", "got 0"),
    Case(
        "cap bool", lambda: HardCap(at_percent=True, deny_roles=[ROLE_ARN]), T, "HardCap.at_percent", "True"
    ),
    Case(
        "cap roles string",
        lambda: HardCap(at_percent=120, deny_roles=ROLE_ARN),
        T,
        "HardCap.deny_roles",
        "'arn:aws:iam",
    ),
    Case(
        "cap role int", lambda: HardCap(at_percent=120, deny_roles=[123]), T, "HardCap.deny_roles[0]", "123"
    ),  # type: ignore[list-item]
    Case(
        "cap role name",
        lambda: guardrails(hard_cap=HardCap(at_percent=120, deny_roles=["chatbot-app"])),
        T,
        "hard_cap.deny_roles[0]",
        "'chatbot-app'",
    ),
    Case(
        "cap role bad ARN",
        lambda: guardrails(hard_cap=HardCap(at_percent=120, deny_roles=["arn:aws:iam::1:role/x"])),
        T,
        "hard_cap.deny_roles[0]",
        "'arn:aws:iam::1:role/x'",
    ),
    Case("cap bucket as role", wrong_construct_as_role, T, "HardCap.deny_roles[0]", "Bucket"),
    Case("cap 101 roles", many_roles, V, "HardCap.deny_roles", "101"),
    # topic subscriptions
    bad(
        "subscriptions string",
        T,
        "topic_subscriptions",
        "'ops@example.com'",
        topic_subscriptions="ops@example.com",
    ),
    bad(
        "subscription not email",
        T,
        "topic_subscriptions[0]",
        "'https://hooks'",
        topic_subscriptions=["https://hooks"],
    ),
    bad(
        "subscription newline", V, "topic_subscriptions[0]", "\\n", topic_subscriptions=["ops@example.com\n"]
    ),
    bad("subscription int", T, "topic_subscriptions[0]", "123", topic_subscriptions=[123]),
    # usage
    bad("usage dict", T, "usage", "{'alerts_per_month': 1}", usage={"alerts_per_month": 1}),
    bad("usage other class", T, "usage", "TokenSpendAlarm", usage=TokenSpendAlarm(HAIKU, 1)),
]


@param(CASES)
def test_bad_guardrails_input_is_refused_clearly(case: Case) -> None:
    assert_refused(case)


def test_a_service_name_gets_its_cost_explorer_spelling_suggested() -> None:
    message = assert_refused(bad("Bedrock", ValueError, "services[0]", "'Bedrock'", services=["Bedrock"]))
    assert "did you mean 'Amazon Bedrock'?" in message
    assert "docs/aws-facts.md#cost-explorer-services" in message


def test_a_cost_explorer_name_inferwise_does_not_know_and_a_marketplace_model_are_accepted() -> None:
    guardrails(services=["Amazon OpenSearch Service", "Claude Sonnet 4.5 (Amazon Bedrock Edition)"])


def test_a_role_arn_and_an_email_string_are_accepted_for_the_cap_and_the_topic() -> None:
    made = guardrails(
        hard_cap=HardCap(at_percent=120, deny_roles=[ROLE_ARN]), topic_subscriptions=["oncall@example.com"]
    )
    template = Template.from_stack(cdk.Stack.of(made)).to_json()
    resources = template["Resources"].values()
    [action] = [r for r in resources if r["Type"] == "AWS::Budgets::BudgetsAction"]
    assert action["Properties"]["Definition"]["IamActionDefinition"]["Roles"] == ["chatbot-app"]
    [subscription] = [r for r in resources if r["Type"] == "AWS::SNS::Subscription"]
    assert subscription["Properties"]["Endpoint"] == "oncall@example.com"


def test_a_global_profile_and_the_stack_s_own_geography_are_accepted() -> None:
    guardrails(
        token_spend_alarms=[
            TokenSpendAlarm(model_id=f"us.{HAIKU}", max_usd_per_hour=5),
            TokenSpendAlarm(model_id=f"global.{HAIKU}", max_usd_per_hour=5, evaluation_hours=168),
        ]
    )


def test_one_dimensional_and_one_custom_monitor_per_account_are_fine() -> None:
    app = cdk.App()
    CostGuardrails(
        stack(app=app, account=ACCOUNT), "Dimensional", monthly_budget_usd=1, emails=["a@example.com"]
    )
    CostGuardrails(
        stack(app=app, account=ACCOUNT),
        "Custom",
        monthly_budget_usd=1,
        emails=["a@example.com"],
        cost_filter_tags={"project": ["x"]},
        anomaly_monitor_type="CUSTOM",
    )
    CostGuardrails(
        stack(app=app, account="210987654321"), "OtherAccount", monthly_budget_usd=1, emails=["a@example.com"]
    )


def test_the_second_dimensional_monitor_names_the_first_and_the_way_out() -> None:
    message = assert_refused(
        Case("twice", dimensional_twice, ValueError, "anomaly_monitor_type", "DIMENSIONAL")
    )
    assert (
        "Baduseast10/First already creates the DIMENSIONAL SERVICE monitor of account 123456789012" in message
    )
    assert "existing_anomaly_monitor_arn" in message


@pytest.mark.parametrize("bad_usage", [{"alerts_per_month": -1}, {"apply_free_tiers": "yes"}])
def test_bad_guardrails_usage_is_refused_when_made(bad_usage: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GuardrailsUsage(**bad_usage)


def test_hard_cap_takes_an_imported_role_too() -> None:
    scope = stack()
    role = iam.Role.from_role_name(scope, "Imported", "chatbot-app")
    CostGuardrails(
        scope,
        "Guardrails",
        monthly_budget_usd=100,
        emails=["a@example.com"],
        hard_cap=HardCap(at_percent=120, deny_roles=[role]),
    )
