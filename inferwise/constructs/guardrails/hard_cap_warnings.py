"""Warnings for a hard cap that may not do what its user expects.

Two cases pass synth and deploy but surprise at the worst moment: denying inference to an administrative
role (the cap then locks out the people who would lift it, or is ignored because the role can detach the
policy), and a budget filtered on cost allocation tags that some Bedrock token spend does not carry. Token
spend carries tags only when it goes through an application inference profile that carries them
(docs/aws-facts.md#attribution). The inferwise constructs that call Bedrock (`BedrockBatchPipeline`) do so
through a profile of their own, tagged like the construct, so a budget that `watch`es them sees their token
spend; calls made any other way (`attribute_token_spend=False`, a profile the user passed, the application's
own calls) carry only the tags of whatever profile they name, or none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from inferwise.constructs.guardrails.watch import unattributed_uses
from inferwise.cost.tagging import construct_tag_value

ADMINISTRATIVE_NAME = re.compile(
    r"admin|poweruser|OrganizationAccountAccessRole|AWSReservedSSO", re.IGNORECASE
)
"""Role names that usually mean broad permissions (AdministratorAccess, PowerUserAccess, SSO admin sets)."""


def warn_about_hard_cap(
    scope: Construct,
    roles: Sequence[iam.IRole],
    cost_filter_tags: Mapping[str, Sequence[str]] | None,
    watched: Sequence[Construct] = (),
) -> None:
    """Add a warning annotation for each administrative-looking deny role, for a budget filtered on the user's
    own tags, and for watched constructs whose token spend does not carry their tags (a budget filters on tags
    or on services, never both)."""
    for role in roles:
        name = role.role_name
        if not cdk.Token.is_unresolved(name) and ADMINISTRATIVE_NAME.search(name):
            cdk.Annotations.of(scope).add_warning_v2(
                "inferwise:hard-cap-admin-role",
                f"hard_cap.deny_roles includes {name!r}, which looks administrative: an administrator can detach "
                "the deny policy, and denying inference to it locks out the people who would lift the cap. Deny "
                "inference to the application's runtime roles instead.",
            )
    if cost_filter_tags:
        cdk.Annotations.of(scope).add_warning_v2(
            "inferwise:hard-cap-untagged-tokens",
            "the budget behind hard_cap filters on cost allocation tags "
            f"({', '.join(sorted(cost_filter_tags))}); Bedrock token spend carries tags only when it goes "
            "through an application inference profile that carries them, so token spend of calls made any other "
            "way never counts towards the cap. The inferwise constructs' own profiles carry inferwise:stack and "
            "inferwise:construct (pass watch=[...] to filter on those); call other models through a profile "
            "tagged with these tags, or drop the tag filter for a budget that watches Amazon Bedrock.",
        )
    for construct, use in unattributed_uses(watched):
        cdk.Annotations.of(scope).add_warning_v2(
            "inferwise:hard-cap-unattributed-construct",
            f"the budget behind hard_cap watches {construct.node.path}, but that construct calls {use.model_id} "
            f"as {'a profile it did not create' if use.invoked_id != use.model_id else 'the model directly'}, so "
            "that token spend does not carry its inferwise:construct tag and never counts towards the cap. Let "
            "the construct create its own profile (attribute_token_spend=True, no inference_profile_arn), or tag "
            "your profile inferwise:construct with the construct's tag value "
            f"({construct_tag_value(construct.node.path)!r}).",
        )
