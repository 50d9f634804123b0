"""Tagged Bedrock application inference profiles: how a construct's token spend lands on its own tags.

Bedrock bills tokens to the model, not to the caller, so Cost Explorer cannot split token spend by the
tags of the construct that made the calls. An application inference profile is a copy of a foundation
model or of a system (cross-Region) inference profile that carries tags; calls that name the profile's ARN
as `modelId` are billed with those tags (docs/aws-facts.md, "Attribution"). `ApplicationInferenceProfile`
creates one; `inferwise.cost.recording.record_estimate` tags it `inferwise:stack` / `inferwise:construct`
like every other resource under the owning construct, and extra tags (a gateway tenant) are added here.

IAM: invoking through an application profile needs `bedrock:InvokeModel` on the profile and on what it
copies (the foundation model, or the system profile and its model in every Region it routes to);
`invoke_resources` lists exactly those ARNs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from constructs import Construct

from inferwise.cost.catalog import INFERENCE_PROFILE_PREFIXES

NAME_MAX_LENGTH = 64
"""`InferenceProfileName`: 1-64 characters of letters, digits, spaces, `_`, `-`, `.` and `:` (CloudFormation)."""

_UNSAFE = re.compile(r"[^0-9A-Za-z_.:-]+")


def model_arns(scope: Construct, model_id: str) -> list[str]:
    """What `bedrock:InvokeModel` must allow to call `model_id` (a foundation model or a system profile id).

    A foundation model is named in the stack's Region; a cross-Region profile (`us.`, `eu.`, `global.` ...)
    routes each call to its model in any Region it serves, so the profile and the model in every Region.
    """
    stack = cdk.Stack.of(scope)
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if model_id.startswith(prefix):
            return [
                system_profile_arn(scope, model_id),
                f"arn:{stack.partition}:bedrock:*::foundation-model/{model_id[len(prefix) :]}",
            ]
    return [foundation_model_arn(scope, model_id)]


def system_profile_arn(scope: Construct, profile_id: str) -> str:
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{profile_id}"


def foundation_model_arn(scope: Construct, model_id: str) -> str:
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model_id}"


def copy_source_arn(scope: Construct, model_id: str) -> str:
    """The ARN an application profile copies for `model_id`: the system profile's, or the foundation model's."""
    if model_id.startswith(INFERENCE_PROFILE_PREFIXES):
        return system_profile_arn(scope, model_id)
    return foundation_model_arn(scope, model_id)


def profile_name(scope: Construct, label: str) -> str:
    """A name unique per account and Region for the profile at `scope`: readable label, then a path hash.

    The hash covers the construct path (stack included), so two stacks or two constructs never collide;
    the label (cleaned of characters the name may not hold) only helps a person reading the console.
    """
    digest = hashlib.sha256(scope.node.path.encode()).hexdigest()[:10]
    readable = _UNSAFE.sub("-", label).strip("-_.:") or "profile"
    return f"{readable[: NAME_MAX_LENGTH - len(digest) - 1]}-{digest}"


class ApplicationInferenceProfile(Construct):
    """A tagged copy of a Bedrock model or system inference profile, for calls whose spend must be attributed.

    `arn` is what callers pass as `modelId` (Converse, InvokeModel, CreateModelInvocationJob);
    `invoke_resources` is what their role must be allowed to invoke. `tags` adds tags beyond the
    `inferwise:*` ones, for example the gateway's tenant.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        model_id: str,
        label: str,
        description: str,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.model_id = model_id
        self.resource = bedrock.CfnApplicationInferenceProfile(
            self,
            "Resource",
            inference_profile_name=profile_name(self, label),
            description=description,
            model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(
                copy_from=copy_source_arn(self, model_id)
            ),
        )
        for key, value in sorted((tags or {}).items()):
            cdk.Tags.of(self.resource).add(key, value)
        self.arn: str = self.resource.attr_inference_profile_arn
        self.invoke_resources: list[str] = [self.arn, *model_arns(self, model_id)]
