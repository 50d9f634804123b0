"""Routes whose primary is a `ScaleToZeroEndpoint`: checks, the function's grant, the handler's configuration.

The handler invokes the route's inference component first and, when it has no capacity (scaled to zero or in
its off-hours), answers from `fallback_model_id` on Bedrock, budgeted like any Bedrock call. The failed
invoke is counted in the component's `NoCapacityInvocationFailures`, which is what the endpoint's wake alarm
watches, so the fallback never delays the wake. See docs/gateway.md, "Fallback from a ScaleToZeroEndpoint".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from inferwise.constructs.scale_to_zero import ScaleToZeroEndpoint
from inferwise.constructs.validation import InvalidTypeError, InvalidValueError, shown

if TYPE_CHECKING:
    from inferwise.constructs.gateway.props import Route

ENDPOINT_ACTIONS = ["sagemaker:InvokeEndpoint"]


def check_endpoint_route(route: Route) -> None:
    """An endpoint route names the endpoint, one of its models and a Bedrock fallback, and nothing that only
    a Bedrock primary has; a Bedrock route names no fallback."""
    where = f"Route {route.name!r}"
    if route.endpoint is None:
        if route.model_id is None:
            raise InvalidValueError(
                f"{where} model_id must be a Bedrock model id, got None; or name endpoint=ScaleToZeroEndpoint "
                "with a fallback_model_id"
            )
        for prop in ("fallback_model_id", "endpoint_model"):
            if getattr(route, prop) is not None:
                raise InvalidValueError(
                    f"{where} {prop} must be None without an endpoint, got {shown(getattr(route, prop))}: a "
                    "fallback answers for a ScaleToZeroEndpoint primary (endpoint=...)"
                )
        return
    if not isinstance(route.endpoint, ScaleToZeroEndpoint):
        raise InvalidTypeError(
            f"{where} endpoint must be a ScaleToZeroEndpoint or None, got {shown(route.endpoint)}"
        )
    path = route.endpoint.node.path
    if route.model_id is not None:
        raise InvalidValueError(
            f"{where} model_id must be None on a route whose primary is endpoint {path}, got "
            f"{shown(route.model_id)}: name the Bedrock model that answers while it is scaled to zero as "
            "fallback_model_id"
        )
    if route.fallback_model_id is None:
        raise InvalidValueError(
            f"{where} fallback_model_id must name a Bedrock model from the price catalogue, got None: endpoint "
            f"{path} answers HTTP 400 'no capacity' for minutes while it wakes from zero, and the gateway answers "
            "from the fallback meanwhile"
        )
    if route.small_model_id is not None:
        raise InvalidValueError(
            f"{where} small_model_id must be None on a route whose primary is endpoint {path}, got "
            f"{shown(route.small_model_id)}: the endpoint is the cheap model tried first"
        )
    component_name(route)


def component_name(route: Route) -> str:
    """The inference component of `route.endpoint` the route invokes: `endpoint_model`'s, or the only one."""
    endpoint = route.endpoint
    assert endpoint is not None
    names = [model.name for model in endpoint.models]
    wanted = route.endpoint_model
    if wanted is None:
        if len(names) > 1:
            raise InvalidValueError(
                f"Route {route.name!r} endpoint_model must name one of endpoint {endpoint.node.path}'s models "
                f"({', '.join(names)}), got None"
            )
        return endpoint.inference_component_names[0]
    if wanted not in names:
        raise InvalidValueError(
            f"Route {route.name!r} endpoint_model must be one of {', '.join(names)} (the models of endpoint "
            f"{endpoint.node.path}), got {shown(wanted)}"
        )
    return endpoint.inference_component_names[names.index(wanted)]


def grant_endpoints(function: lambda_.Function, routes: Sequence[Route]) -> None:
    """`sagemaker:InvokeEndpoint` on the routes' endpoints only (the component is chosen per call)."""
    arns = sorted({r.endpoint.endpoint_arn for r in routes if r.endpoint is not None})
    if arns:
        function.add_to_role_policy(iam.PolicyStatement(actions=ENDPOINT_ACTIONS, resources=arns))
