"""A route whose primary is a ScaleToZeroEndpoint: warm answers from the endpoint (SageMaker runtime stand-in),
the Bedrock fallback while it has no capacity (budgeted), the grant, the checks and the estimate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

from inferwise.constructs.gateway import GatewayUsage, InferenceGateway, Route, Tenant
from inferwise.constructs.scale_to_zero import InferenceModel, ScaleToZeroEndpoint
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.gateway import estimate_gateway
from tests.gateway.configs import ENV, TGI_IMAGE, endpoint, load
from tests.gateway.sagemaker_standin import SageMakerStandIn, chat_completion, no_capacity
from tests.gateway.support import LARGE, REGION, SMALL, TABLE, converse_body, event, handler, reply

ENDPOINT = endpoint()
ENDPOINT_NAME, (COMPONENT,) = ENDPOINT.endpoint_name, ENDPOINT.inference_component_names
ROUTE = Route("local", endpoint=ENDPOINT, fallback_model_id=SMALL, max_output_tokens=1000)


@pytest.fixture
def sagemaker() -> Iterator[SageMakerStandIn]:
    server = SageMakerStandIn()
    yield server
    server.close()


@pytest.fixture
def call(aws: Any, bedrock: Any, sagemaker: SageMakerStandIn) -> Any:
    lines: list[str] = []
    clients = {"bedrock": bedrock.client(), "sagemaker": sagemaker.client()}

    def serve(request: dict[str, Any], budget_usd: float = 100) -> dict[str, Any]:
        config = load([ROUTE], [Tenant("acme", budget_usd, header_trusted=True)])
        return handler.serve(request, config=config, dynamodb=aws, table=TABLE, emit=lines.append, **clients)

    serve.lines = lines  # type: ignore[attr-defined]
    return serve


def _budget_items(aws: Any) -> list[dict[str, Any]]:
    return list(aws.scan(TableName=TABLE)["Items"])


def test_the_configuration_names_the_endpoint_and_its_component() -> None:
    assert ENDPOINT_NAME == "Local-Chat" and COMPONENT == "Local-Chat-qwen"
    config = load([ROUTE], [Tenant("acme", 1, header_trusted=True)])
    assert config.routes["local"].endpoint == (ENDPOINT_NAME, COMPONENT)
    assert config.routes["local"].model == SMALL


def test_a_warm_endpoint_answers_and_reserves_nothing(call, sagemaker, bedrock, aws) -> None:
    body = converse_body("Hi there", system="Be brief.", max_tokens=50)
    body["inferenceConfig"]["temperature"] = 0.1
    response = call(event(body, path="/model/local/converse"))
    assert response["statusCode"] == 200, response["body"]
    assert sagemaker.calls == [
        (
            ENDPOINT_NAME,
            COMPONENT,
            {
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi there"},
                ],
                "max_tokens": 50,
                "temperature": 0.1,
            },
        )
    ]
    answer = json.loads(response["body"])
    assert answer["output"]["message"]["content"] == [{"text": "from the endpoint"}]
    assert answer["usage"] == {"inputTokens": 12, "outputTokens": 4, "totalTokens": 16}
    assert response["headers"]["x-inferwise-model"] == COMPONENT
    assert "x-inferwise-fallback" not in response["headers"]
    assert not bedrock.calls and not _budget_items(aws)
    metric = json.loads(call.lines[-1])
    assert (metric["EndpointCalls"], metric["Fallbacks"], metric["CostUSD"]) == (1, 0, 0)
    assert {m["Name"] for m in metric["_aws"]["CloudWatchMetrics"][0]["Metrics"]} >= {
        "EndpointCalls",
        "Fallbacks",
    }


def test_the_openai_shape_is_answered_from_the_endpoint(call, sagemaker) -> None:
    sagemaker.behaviour = lambda endpoint, component, body: chat_completion("short", finish="length")
    request = {"model": "local", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}
    answer = json.loads(call(event(request, path="/v1/chat/completions"))["body"])
    assert answer["choices"][0]["message"]["content"] == "short"
    assert answer["choices"][0]["finish_reason"] == "length"
    assert sagemaker.calls[0][2] == {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}


def test_a_cold_endpoint_falls_back_to_bedrock_within_the_budget(call, sagemaker, bedrock, aws) -> None:
    sagemaker.behaviour = no_capacity
    bedrock.behaviour = lambda model, body: reply("from bedrock")
    response = call(event(converse_body(), path="/model/local/converse"))
    assert response["statusCode"] == 200, response["body"]
    assert response["headers"]["x-inferwise-fallback"] == "bedrock"
    assert response["headers"]["x-inferwise-model"] == SMALL
    assert json.loads(response["body"])["output"]["message"]["content"] == [{"text": "from bedrock"}]
    assert len(sagemaker.calls) == 1  # the failed invoke is the wake signal: nothing else is called
    assert [model for model, _ in bedrock.calls] == [SMALL]
    (item,) = _budget_items(aws)
    # 10 input x 1.0 + 5 output x 5.0 USD/1M (global Haiku 4.5), reserved and settled like any Bedrock call
    assert item["spent"]["N"] == item["committed"]["N"] == "35"
    metric = json.loads(call.lines[-1])
    assert (metric["EndpointCalls"], metric["Fallbacks"], metric["CostUSD"]) == (1, 1, 0.000035)


def test_a_fallback_the_budget_cannot_hold_is_refused_with_429(call, sagemaker, bedrock) -> None:
    sagemaker.behaviour = no_capacity
    # worst case: ceil(chars/4) x 1.0 + 1000 x 5.0 micro-USD > USD 0.001
    response = call(event(converse_body(max_tokens=1000), path="/model/local/converse"), budget_usd=0.001)
    assert response["statusCode"] == 429
    assert response["headers"]["x-inferwise-fallback"] == "bedrock"
    assert json.loads(response["body"])["error"]["type"] == "budget_exceeded"
    assert len(sagemaker.calls) == 1 and not bedrock.calls
    metric = json.loads(call.lines[-1])
    assert (metric["BudgetRefusals"], metric["EndpointCalls"], metric["Fallbacks"]) == (1, 1, 1)


def test_other_endpoint_failures_are_502_without_a_fallback(call, sagemaker, bedrock) -> None:
    sagemaker.behaviour = lambda endpoint, component, body: {
        "_status": 424,
        "_error": "ModelError",
        "Message": "Received server error (500) from primary",
    }
    response = call(event(converse_body(), path="/model/local/converse"))
    assert response["statusCode"] == 502
    assert json.loads(response["body"])["error"]["type"] == "endpoint_failed"
    assert not bedrock.calls


def test_endpoint_routes_refuse_what_the_endpoint_cannot_take(call, sagemaker) -> None:
    image = {"role": "user", "content": [{"image": {"format": "png", "source": {"bytes": "AA=="}}}]}
    response = call(event({"messages": [image]}, path="/model/local/converse"))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["field"] == "messages[0].content[0]"
    streamed = call(event(converse_body(), path="/model/local/converse-stream"))
    assert streamed["statusCode"] == 400 and json.loads(streamed["body"])["error"]["field"] == "stream"
    assert not sagemaker.calls


# ------------------------------------------------------------------------------------------- construct
def _gateway(route: Route, stack: cdk.Stack | None = None) -> tuple[cdk.Stack, InferenceGateway]:
    stack = stack or cdk.Stack(cdk.App(), "S", env=ENV)
    tenants = [Tenant("acme", 10, header_trusted=True)]
    return stack, InferenceGateway(stack, "Gateway", routes=[route, Route("chat", LARGE)], tenants=tenants)


def _endpoint(stack: cdk.Stack, *names: str) -> ScaleToZeroEndpoint:
    models = [InferenceModel(name=n, image_uri=TGI_IMAGE, memory_mb=1024) for n in names or ("qwen",)]
    return ScaleToZeroEndpoint(stack, "Chat", instance_type="ml.g5.xlarge", models=models)


def test_the_function_may_invoke_that_endpoint_only() -> None:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    local = _endpoint(stack, "qwen", "llama")
    _gateway(Route("local", endpoint=local, endpoint_model="llama", fallback_model_id=SMALL), stack)
    template = assertions.Template.from_stack(stack)
    statements = [
        s
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sagemaker" in json.dumps(s["Action"])
    ]
    endpoint_id = stack.get_logical_id(local.endpoint)
    assert statements == [
        {
            "Action": "sagemaker:InvokeEndpoint",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [endpoint_id, "EndpointArn"]},
        }
    ]
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    config = json.dumps(function["Properties"]["Environment"]["Variables"]["GATEWAY_CONFIG"])
    assert '\\"endpoint\\":[\\"S-Chat\\",\\"S-Chat-llama\\"]' in config


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (
            lambda e: Route("local", endpoint=e),
            "Route 'local' fallback_model_id must name a Bedrock model from the price catalogue, got None",
        ),
        (
            lambda e: Route(
                "local", endpoint=e, endpoint_model="qwen", fallback_model_id="anthropic.claude-nope-v9"
            ),
            "Route 'local' fallback_model_id 'anthropic.claude-nope-v9' is not in the price catalogue",
        ),
        (
            lambda e: Route("local", LARGE, endpoint=e, fallback_model_id=SMALL),
            "Route 'local' model_id must be None on a route whose primary is endpoint S/Chat",
        ),
        (
            lambda e: Route("local", endpoint=e, fallback_model_id=SMALL, small_model_id=SMALL),
            "small_model_id must be None on a route whose primary is endpoint",
        ),
        (
            lambda e: Route("local", endpoint=e, fallback_model_id=SMALL, endpoint_model="mistral"),
            "endpoint_model must be one of qwen, llama .*got 'mistral'",
        ),
        (
            lambda e: Route("local", endpoint=e, fallback_model_id=SMALL),
            r"endpoint_model must name one of endpoint S/Chat's models \(qwen, llama\), got None",
        ),
        (
            lambda e: Route("local", fallback_model_id=SMALL),
            "Route 'local' model_id must be a Bedrock model id",
        ),
        (lambda e: Route("local", SMALL, fallback_model_id=LARGE), "fallback_model_id must be None without"),
        (
            lambda e: Route("local", endpoint="S-Chat", fallback_model_id=SMALL),
            "endpoint must be a ScaleToZero",
        ),
    ],
)
def test_bad_endpoint_routes_are_refused_naming_the_prop(route, message) -> None:
    stack = cdk.Stack(cdk.App(), "S", env=ENV)
    local = _endpoint(stack, "qwen", "llama")
    with pytest.raises(ValueError, match=message):
        _gateway(route(local), stack)


def test_the_estimate_prices_the_fallback_share_on_the_bedrock_model() -> None:
    usage = GatewayUsage(requests_per_month=1_000_000, fallback_share=0.1, route_shares=(("local", 1.0),))
    estimate = estimate_gateway([ROUTE.plan()], 2, usage, PriceCatalog.bundled(), REGION)
    lines = {line.component: line for line in estimate.lines}
    fallback_input = lines["local: fallback model, standard: input tokens"]
    assert fallback_input.monthly_quantity == Decimal(100_000 * 1_000) / Decimal(
        1_000_000
    )  # M tokens: 10% of requests
    dynamodb = next(line for line in estimate.lines if line.component.startswith("DynamoDB"))
    assert dynamodb.monthly_quantity == 100_000 * 2  # reservations only for Bedrock calls
    metrics = next(line for line in estimate.lines if line.component.startswith("CloudWatch custom metrics"))
    assert "2 more x 2 on endpoint routes" in metrics.assumptions[-1]
    assert (
        estimate.baseline is not None and estimate.baseline.lines == ()
    )  # the endpoint prices its own hours
    assert "fallback share 0.1 on endpoint routes" in estimate.assumptions
