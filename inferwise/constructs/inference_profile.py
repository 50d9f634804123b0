"""Tagged Bedrock application inference profiles: how a construct's token spend lands on its own tags.

Bedrock bills tokens to the model, not to the caller, so Cost Explorer cannot split token spend by the
tags of the construct that made the calls. An application inference profile is a copy of a foundation
model or of a system (cross-Region) inference profile that carries tags; calls that name the profile's ARN
as `modelId` are billed with those tags (docs/aws-facts.md, "Attribution"). `ApplicationInferenceProfile`
creates one; `inferwise.cost.recording.record_estimate` tags it `inferwise:stack` / `inferwise:construct`
like every other resource under the owning construct, and extra tags (a gateway tenant) are added here.

IAM: invoking through an application profile needs `bedrock:InvokeModel` on the profile and on what it
copies (the foundation model, or the system profile and its model in every Region it routes to);
`invoke_resources` lists exactly those ARNs, and `invoke_statements` grants them with the foundation
model reachable only through the profile (`bedrock:InferenceProfileArn`).

A construct that calls Bedrock says how in `model_uses` (a tuple of `ModelUse`): which model, what its calls
name as `modelId`, and whether that is a profile carrying its tags. `CostGuardrails` reads it for token-spend
alarms and for the hard-cap warnings.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_bedrock as bedrock
from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.validation import InvalidTypeError, InvalidValueError, is_token, shown
from inferwise.cost.catalog import INFERENCE_PROFILE_PREFIXES

NAME_MAX_LENGTH = 64
"""`InferenceProfileName`: 1-64 characters, letters and digits each followed by at most one space, `_` or `-`
(cfn schema `^([0-9a-zA-Z][ _-]?)+$`)."""
DESCRIPTION_MAX_LENGTH = 200
"""`Description`: 1-200 characters, letters, digits, `:` and `.` each followed by at most one space, `_` or `-`
(cfn schema `^([0-9a-zA-Z:.][ _-]?)+$`)."""

BEDROCK_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>\d*):(?P<kind>[a-z-]+)/(?P<id>.+)$"
)
"""A Bedrock resource ARN: partition, Region, account (empty for foundation models), kind and id."""

APPLICATION_PROFILE_ID = re.compile(r"^[a-zA-Z0-9-:.]+$")
"""The id part of an `application-inference-profile/` ARN (botocore `bedrock` `InferenceProfileArn`)."""

INVOKE_ACTIONS: tuple[str, ...] = ("bedrock:InvokeModel",)
"""Converse and InvokeModel are both authorized as bedrock:InvokeModel (docs/aws-facts.md#budget-actions)."""

_NOT_IN_NAME = re.compile(r"[^0-9A-Za-z]+")
_NOT_IN_DESCRIPTION = re.compile(r"[^0-9A-Za-z:. _-]+")
_SEPARATORS = re.compile(r"[ _-]{2,}")


@dataclass(frozen=True)
class ModelUse:
    """One model a construct calls, and what its calls name as `modelId`.

    `model_id`: the model or system profile the construct was given (the key of its catalogue prices).
    `invoked_id`: what the calls pass as `modelId`, which is also the `ModelId` dimension their AWS/Bedrock
    metrics report under: an application inference profile's ARN, or `model_id` itself for direct calls.
    `attributed`: True when `invoked_id` is a profile the construct created, so the token spend carries the
    construct's `inferwise:*` tags. `label`: short and readable, unique among the construct's uses.
    """

    model_id: str
    invoked_id: str
    attributed: bool
    label: str


def model_uses(construct: object) -> tuple[ModelUse, ...]:
    """The `ModelUse`s a construct declares (its `model_uses` attribute), or none."""
    uses = getattr(construct, "model_uses", ())
    return tuple(use for use in uses if isinstance(use, ModelUse))


# ------------------------------------------------------------------------------------------ model ARNs
def _system_profile(model_id: str) -> str | None:
    """The system profile id `model_id` names (an id with a geography prefix or an inference-profile ARN)."""
    arn = BEDROCK_ARN.match(model_id)
    if arn is not None:
        return arn.group("id") if arn.group("kind") == "inference-profile" else None
    return model_id if model_id.startswith(INFERENCE_PROFILE_PREFIXES) else None


def _foundation_id(model_id: str) -> str:
    """The foundation model behind `model_id`: without ARN and without geography prefix."""
    arn = BEDROCK_ARN.match(model_id)
    body = arn.group("id") if arn is not None else model_id
    for prefix in INFERENCE_PROFILE_PREFIXES:
        if body.startswith(prefix):
            return body[len(prefix) :]
    return body


def model_arns(scope: Construct, model_id: str) -> list[str]:
    """What `bedrock:InvokeModel` must allow to call `model_id` (a foundation model or a system profile, as an
    id or an ARN).

    A foundation model is named in the stack's Region (an ARN as given); a cross-Region profile (`us.`, `eu.`,
    `global.` ...) routes each call to its model in any Region it serves, so the profile and the model in
    every Region.
    """
    stack = cdk.Stack.of(scope)
    profile = _system_profile(model_id)
    if profile is None:
        return [foundation_model_arn(scope, model_id)]
    return [
        system_profile_arn(scope, model_id),
        f"arn:{stack.partition}:bedrock:*::foundation-model/{_foundation_id(profile)}",
    ]


def system_profile_arn(scope: Construct, profile_id: str) -> str:
    """The ARN of a system inference profile in the stack's Region and account (an ARN as given)."""
    if BEDROCK_ARN.match(profile_id):
        return profile_id
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{profile_id}"


def foundation_model_arn(scope: Construct, model_id: str) -> str:
    """The ARN of a foundation model in the stack's Region (an ARN as given)."""
    if BEDROCK_ARN.match(model_id):
        return model_id
    stack = cdk.Stack.of(scope)
    return f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model_id}"


def copy_source_arn(scope: Construct, model_id: str) -> str:
    """The ARN an application profile copies for `model_id`: the system profile's, or the foundation model's."""
    if _system_profile(model_id) is not None:
        return system_profile_arn(scope, model_id)
    return foundation_model_arn(scope, model_id)


def invoke_statements(
    scope: Construct,
    model_id: str,
    *,
    through: str | Sequence[str] = (),
    actions: Sequence[str] = INVOKE_ACTIONS,
) -> list[iam.PolicyStatement]:
    """`actions` on what calling `model_id` needs, `through` one or more application profiles' ARNs if given.

    The profiles (`through`, the system profile `model_id` names) are allowed as resources; the foundation model
    only with `bedrock:InferenceProfileArn` equal to one of them, so a role can reach the model only through
    its profiles (in a cross-Region profile's case, only in the Regions that profile routes to;
    docs/aws-facts.md#batch-iam). A plain foundation model called directly is one unconditioned statement.
    """
    arns = model_arns(scope, model_id)
    profiles = ([through] if isinstance(through, str) else list(through)) + arns[:-1]
    foundation = arns[-1:]
    if not profiles:
        return [iam.PolicyStatement(actions=list(actions), resources=foundation)]
    return [
        iam.PolicyStatement(actions=list(actions), resources=profiles),
        iam.PolicyStatement(
            actions=list(actions),
            resources=foundation,
            conditions={
                "StringEquals": {
                    "bedrock:InferenceProfileArn": profiles[0] if len(profiles) == 1 else profiles
                }
            },
        ),
    ]


# ------------------------------------------------------------------------------- existing profiles
def existing_profile_arn(scope: Construct, prop: str, value: object) -> str:
    """An application inference profile ARN the user already has, checked against the stack.

    A token passes unchecked. Otherwise it must be `arn:<partition>:bedrock:<region>:<account>:
    application-inference-profile/<id>`, in the stack's Region and account when those are known: a profile is
    called in its own Region, and its tags attribute spend in its own account.
    """
    if not isinstance(value, str):
        raise InvalidTypeError(
            f"{prop} must be an application inference profile ARN string, got {shown(value)}"
        )
    if is_token(value):
        return value
    arn = BEDROCK_ARN.match(value)
    example = "arn:aws:bedrock:<region>:<account>:application-inference-profile/<id>"
    if arn is None or arn.group("kind") != "application-inference-profile":
        hint = ""
        kinds = {"inference-profile": "a system inference-profile", "foundation-model": "a foundation-model"}
        if arn is not None and arn.group("kind") in kinds:
            hint = (
                f"; {kinds[arn.group('kind')]} ARN names a model to copy: pass it as model_id and the construct "
                "creates its own tagged application inference profile from it"
            )
        raise InvalidValueError(
            f"{prop} must be an application inference profile ARN ({example}), got {shown(value)}{hint}"
        )
    if (
        not arn.group("region")
        or not re.fullmatch(r"\d{12}", arn.group("account"))
        or not APPLICATION_PROFILE_ID.match(arn.group("id"))
    ):
        raise InvalidValueError(
            f"{prop} must be an application inference profile ARN ({example}) with a Region, a 12-digit account "
            f"and an id of letters, digits, '-', ':' and '.', got {shown(value)}"
        )
    stack = cdk.Stack.of(scope)
    why = {
        "Region": "A profile is called in its own Region, and this stack's calls and batch jobs run in",
        "account": "Its tags attribute spend in its own account, and this stack's roles run and are billed in",
    }
    for what, theirs, ours in (
        ("Region", arn.group("region"), stack.region),
        ("account", arn.group("account"), stack.account),
    ):
        if not cdk.Token.is_unresolved(ours) and theirs != ours:
            raise InvalidValueError(
                f"{prop} must be a profile of this stack's {what} ({ours}), got one of {theirs}: {shown(value)}. "
                f"{why[what]} {ours}; create the profile there, or leave {prop} unset and the "
                "construct creates its own"
            )
    return value


# ------------------------------------------------------------------------------------------ profiles
def profile_name(scope: Construct, label: str) -> str:
    """A name unique per account and Region for the profile at `scope`: readable label, then a path hash.

    The hash covers the construct path (stack included), so two stacks or two constructs never collide;
    the label (cleaned of characters the name may not hold) only helps a person reading the console.
    """
    digest = hashlib.sha256(scope.node.path.encode()).hexdigest()[:10]
    readable = _NOT_IN_NAME.sub("-", label).strip("-") or "profile"
    return f"{readable[: NAME_MAX_LENGTH - len(digest) - 1].rstrip('-')}-{digest}"


def profile_description(text: str) -> str:
    """`text` as a profile description CloudFormation accepts, at most 200 characters: other characters become
    a space, and a run of separators (space, `_`, `-`) one separator."""
    cleaned = _NOT_IN_DESCRIPTION.sub(" ", text)
    cleaned = _SEPARATORS.sub(lambda run: " " if " " in run.group() else run.group()[0], cleaned)
    return cleaned.strip(" _-")[:DESCRIPTION_MAX_LENGTH] or "inferwise"


class ApplicationInferenceProfile(Construct):
    """A tagged copy of a Bedrock model or system inference profile, for calls whose spend must be attributed.

    `arn` is what callers pass as `modelId` (Converse, InvokeModel, CreateModelInvocationJob);
    `invoke_resources` is what their role must be allowed to invoke, and `invoke_statements()` the policy
    statements that allow it. `tags` adds tags beyond the `inferwise:*` ones, for example the gateway's tenant.
    `model_id` may be a foundation model or system profile id, or an ARN of either. `label` and `description`
    are cleaned to what CloudFormation accepts (`profile_name`, `profile_description`).
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
            description=profile_description(description),
            model_source=bedrock.CfnApplicationInferenceProfile.InferenceProfileModelSourceProperty(
                copy_from=copy_source_arn(self, model_id)
            ),
        )
        for key, value in sorted((tags or {}).items()):
            cdk.Tags.of(self.resource).add(key, value)
        self.arn: str = self.resource.attr_inference_profile_arn
        self.invoke_resources: list[str] = [self.arn, *model_arns(self, model_id)]

    def invoke_statements(self, actions: Sequence[str] = INVOKE_ACTIONS) -> list[iam.PolicyStatement]:
        """`actions` on `invoke_resources`, the foundation model only through this profile or its source."""
        return invoke_statements(self, self.model_id, through=self.arn, actions=actions)
