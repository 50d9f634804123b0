"""How a `BedrockBatchPipeline` calls its model, so that its token spend carries the pipeline's tags.

By default the pipeline creates an application inference profile copied from its model (a foundation model
or a system profile, as an id or an ARN). `inferwise.cost.recording.record_estimate` tags it
`inferwise:stack` / `inferwise:construct` like every other resource of the pipeline, and both the batch jobs
(submit) and the on-demand calls for small remainders (on_demand) name its ARN as `modelId`, so the token
spend lands on the pipeline in Cost Explorer (docs/aws-facts.md#attribution). The profile costs nothing.

`inference_profile_arn` names an application inference profile the user already has: the pipeline calls
through it and creates none, and the spend carries that profile's tags, which are the user's to choose.
`attribute_token_spend=False` calls the model directly (untagged token spend, as before profiles existed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.bedrock_batch.props import BedrockModel
from inferwise.constructs.inference_profile import (
    INVOKE_ACTIONS,
    ApplicationInferenceProfile,
    ModelUse,
    existing_profile_arn,
    invoke_statements,
    model_arns,
)
from inferwise.constructs.validation import InvalidValueError, check_bool

PROFILE_ID = "ModelProfile"
"""Construct id of the pipeline's application inference profile."""


@dataclass(frozen=True)
class ModelAccess:
    """What the pipeline's calls name as `modelId` and what IAM must allow for it.

    `invoke_model_id`: the profile ARN (created or given), or the model id when attribution is off.
    `through`: the application profile ARN the calls go through, or None. `profile`: the profile the
    pipeline created, or None.
    """

    model: BedrockModel
    invoke_model_id: str
    through: str | None
    profile: ApplicationInferenceProfile | None

    def resources(self, scope: Construct) -> list[str]:
        """Every ARN the calls need: the application profile (if any), then what it copies or the model."""
        return [
            *([self.through] if self.through is not None else []),
            *model_arns(scope, self.model.model_id),
        ]

    def statements(
        self, scope: Construct, actions: Sequence[str] = INVOKE_ACTIONS
    ) -> list[iam.PolicyStatement]:
        """`actions` on `resources`, the foundation model only through the profiles (see `invoke_statements`)."""
        return invoke_statements(scope, self.model.model_id, through=self.through or (), actions=actions)

    @property
    def model_uses(self) -> tuple[ModelUse, ...]:
        return (
            ModelUse(
                model_id=self.model.model_id,
                invoked_id=self.invoke_model_id,
                attributed=self.profile is not None,
                label="Model",
            ),
        )


def model_access(
    pipeline: Construct,
    model: BedrockModel,
    *,
    attribute_token_spend: object,
    inference_profile_arn: object,
) -> ModelAccess:
    """The pipeline's way to its model: its own tagged profile, the user's profile, or the model directly."""
    attribute = check_bool("attribute_token_spend", attribute_token_spend)
    if inference_profile_arn is not None:
        if not attribute:
            raise InvalidValueError(
                "inference_profile_arn is set but attribute_token_spend=False asks for direct calls to the model: "
                "leave inference_profile_arn unset, or keep attribute_token_spend=True to call through that profile"
            )
        arn = existing_profile_arn(pipeline, "inference_profile_arn", inference_profile_arn)
        return ModelAccess(model, arn, arn, None)
    if not attribute:
        return ModelAccess(model, model.model_id, None, None)
    profile = ApplicationInferenceProfile(
        pipeline,
        PROFILE_ID,
        model_id=model.model_id,
        label=pipeline.node.path,
        description=(
            f"Bedrock batch pipeline {pipeline.node.path} calls {model.foundation_model_id} through this profile "
            "so its token spend carries the pipeline tags"
        ),
    )
    return ModelAccess(model, profile.arn, profile.arn, profile)
