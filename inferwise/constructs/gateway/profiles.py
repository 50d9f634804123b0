"""Per-tenant application inference profiles: each tenant's Bedrock spend carries the tenant's tag.

Bedrock bills tokens to the model, so a gateway shared by tenants shows one line per model in Cost Explorer.
The gateway creates one `ApplicationInferenceProfile` per (tenant, Bedrock model of any route), tagged
`inferwise:tenant=<name>` (plus the `inferwise:stack` / `inferwise:construct` tags every resource of the
construct gets), and the function calls Converse with the tenant's profile ARN as `modelId`. Prices are still
the model's: a profile is a copy of the model, billed at its rates.

The function is told only the profile ids (12 characters each in practice; the CloudFormation schema allows
64): it rebuilds each ARN from one prefix (`arn:<partition>:bedrock:<region>:<account>:
application-inference-profile/`). `tenant_inference_profiles=False` on the construct skips all of this
(tenants x models profiles can be many resources, and many bytes of the 4 KB environment).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.inference_profile import ApplicationInferenceProfile, ModelUse
from inferwise.constructs.inference_profile import invoke_statements as profile_invoke_statements

TENANT_TAG = "inferwise:tenant"
PROFILE_ID_BYTES = 12
"""Length of an application inference profile id as Bedrock issues them (the schema allows up to 64)."""

Profiles = dict[str, dict[str, ApplicationInferenceProfile]]
"""tenant -> Bedrock model id -> its profile."""


def tenant_profiles(scope: Construct, tenants: Sequence[str], models: Sequence[str]) -> Profiles:
    """One tagged profile per tenant and model, under `scope/Profiles/<tenant>/<n>` (n: the model's index)."""
    holder = Construct(scope, "Profiles")
    profiles: Profiles = {}
    for tenant in tenants:
        group = Construct(holder, tenant)
        profiles[tenant] = {
            model: ApplicationInferenceProfile(
                group,
                f"Model{index}",
                model_id=model,
                label=f"{tenant}-{model}",
                description=f"inferwise gateway tenant {tenant} calls to {model}",
                tags={TENANT_TAG: tenant},
            )
            for index, model in enumerate(models)
        }
    return profiles


def profile_config(scope: Construct, profiles: Profiles, models: Sequence[str]) -> dict[str, Any]:
    """GATEWAY_CONFIG `profile_arn` (the ARN up to the id) and `profiles` (tenant -> ids in `models` order)."""
    if not profiles:
        return {}
    stack = cdk.Stack.of(scope)
    return {
        "profile_arn": (
            f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:application-inference-profile/"
        ),
        "profiles": {
            tenant: [by_model[m].resource.attr_inference_profile_id for m in models]
            for tenant, by_model in profiles.items()
        },
    }


def profile_bounds(profiles: Profiles) -> dict[str, int]:
    """Deploy-time profile id token -> its length, for measuring the configuration at synth."""
    return {
        p.resource.attr_inference_profile_id: PROFILE_ID_BYTES
        for by_model in profiles.values()
        for p in by_model.values()
    }


def invoke_statements(
    scope: Construct, profiles: Profiles, models: Sequence[str], actions: Sequence[str]
) -> list[iam.PolicyStatement]:
    """What the function may invoke, per model: the tenants' profiles of it (and the system profile they copy),
    the foundation model only through them; or the models themselves without profiles."""
    statements: list[iam.PolicyStatement] = []
    for model in models:
        through = [by_model[model].arn for by_model in profiles.values() if model in by_model]
        statements += profile_invoke_statements(scope, model, through=through, actions=actions)
    return statements


def gateway_model_uses(profiles: Profiles, models: Sequence[str]) -> tuple[ModelUse, ...]:
    """The gateway's Bedrock calls as `CostGuardrails` reads them (`model_uses`): one per tenant and model through
    its profile, or one per model called directly without profiles."""
    if not profiles:
        return tuple(ModelUse(model_id=m, invoked_id=m, attributed=False, label=m) for m in models)
    return tuple(
        ModelUse(model_id=model, invoked_id=profile.arn, attributed=True, label=f"{tenant} {model}")
        for tenant, by_model in profiles.items()
        for model, profile in by_model.items()
    )
