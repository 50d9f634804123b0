"""Attach a construct's cost estimate to the synthesized template, where the report and the diff find it."""

from __future__ import annotations

import dataclasses

from aws_cdk import Annotations, CfnResource, Stack, Token
from constructs import IConstruct

from inferwise.cost.model import COST_METADATA_KEY, CostEstimate
from inferwise.cost.render import estimate_summary

REGION_CONTEXT_KEY = "inferwise:region"
"""CDK context key naming the Region to price an environment-agnostic stack in."""

DEFAULT_PRICING_REGION = "us-east-1"


def pricing_region(scope: IConstruct) -> tuple[str, tuple[str, ...]]:
    """The Region whose prices apply to `scope`, and the assumption made when the stack has none.

    A stack with an explicit Region is priced there. An environment-agnostic stack is priced in the Region
    named by the `inferwise:region` context key, else in us-east-1; the returned assumption says which.
    """
    region = Stack.of(scope).region
    if not Token.is_unresolved(region):
        return region, ()
    chosen = scope.node.try_get_context(REGION_CONTEXT_KEY)
    if chosen is not None:
        return str(chosen), (f"stack has no Region; priced in {chosen} from context '{REGION_CONTEXT_KEY}'",)
    return DEFAULT_PRICING_REGION, (
        f"stack has no Region; priced in {DEFAULT_PRICING_REGION} "
        f"(set the stack's env or context '{REGION_CONTEXT_KEY}')",
    )


def record_estimate(
    construct: IConstruct,
    estimate: CostEstimate,
    main_resource: CfnResource,
    *,
    extra_assumptions: tuple[str, ...] = (),
) -> CostEstimate:
    """Stamp `estimate` with the construct's path (and `extra_assumptions`, e.g. figures taken from a
    usage file) and make it visible three ways.

    It becomes `construct.cost_estimate`, the `inferwise:cost` Metadata of `main_resource` in the template
    (so `inferwise report` and `inferwise diff` work from a cloud assembly alone), and an info annotation.
    Returns the stamped estimate.
    """
    path = construct.node.path
    stamped = dataclasses.replace(
        estimate,
        construct_path=path,
        assumptions=estimate.assumptions + extra_assumptions,
        baseline=None
        if estimate.baseline is None
        else dataclasses.replace(estimate.baseline, construct_path=path),
    )
    main_resource.add_metadata(COST_METADATA_KEY, stamped.to_json())
    Annotations.of(construct).add_info(f"inferwise: {estimate_summary(stamped)}")
    setattr(construct, "cost_estimate", stamped)  # noqa: B010 - constructs expose it as a public attribute
    return stamped
