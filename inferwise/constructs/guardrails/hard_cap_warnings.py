"""Warnings for a hard cap that may not do what its user expects.

Two cases pass synth and deploy but surprise at the worst moment: denying inference to an administrative
role (the cap then locks out the people who would lift it, or is ignored because the role can detach the
policy), and a budget filtered on cost allocation tags, which does not see Bedrock token spend unless that
spend goes through a tagged application inference profile (docs/aws-facts.md#attribution).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

ADMINISTRATIVE_NAME = re.compile(
    r"admin|poweruser|OrganizationAccountAccessRole|AWSReservedSSO", re.IGNORECASE
)
"""Role names that usually mean broad permissions (AdministratorAccess, PowerUserAccess, SSO admin sets)."""


def warn_about_hard_cap(
    scope: Construct,
    roles: Sequence[iam.IRole],
    cost_filter_tags: Mapping[str, Sequence[str]] | None,
) -> None:
    """Add a warning annotation for each administrative-looking deny role and for a tag-filtered budget
    (a budget filters on tags or on services, never both), which cannot see untagged Bedrock token spend."""
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
            "through a tagged application inference profile, so on-demand token spend may never count "
            "towards the cap. Call models through a tagged application inference profile, or drop the tag "
            "filter for a budget that watches Amazon Bedrock.",
        )
