"""cdk-nag acknowledgements that name exactly one finding, and Checkov skips with their reasons.

cdk-nag 3 names a granular IAM5 finding after the policy resource as it appears in the template, with
intrinsic functions written as `<AWS::Partition>` or `<Logical.Arn>`. Acknowledging that exact id, rather
than the whole rule, keeps every other wildcard a finding.

Checkov (which users run on `cdk.out` in CI) reads skips from each resource's Metadata; `checkov_skip`
writes one with its reason, as an acknowledgement carries one for cdk-nag.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def nag_resource_name(stack: cdk.Stack, value: str) -> str:
    """`value` (a policy resource, possibly holding tokens) as cdk-nag prints it in a finding id."""

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if isinstance(part, dict) and "Fn::Join" in part:
            separator, parts = part["Fn::Join"]
            return str(separator).join(text(p) for p in parts)
        if isinstance(part, dict) and "Fn::GetAtt" in part:
            logical_id, attribute = part["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if isinstance(part, dict) and "Ref" in part:
            return f"<{part['Ref']}>"
        raise ValueError(f"cannot name policy resource {part!r} as cdk-nag does")

    return text(stack.resolve(value))


def iam5_resource_finding(stack: cdk.Stack, resource: str) -> str:
    """The acknowledgement id of cdk-nag's IAM5 finding for one wildcard policy resource."""
    return f"AwsSolutions::AwsSolutions-IAM5[Resource::{nag_resource_name(stack, resource)}]"


# ------------------------------------------------------------------------------------------------ Checkov
CHECKOV_REASONS: dict[str, str] = {
    "log-group-kms": (
        "CloudWatch Logs encrypts every log group at rest with a service-owned key; this construct owns no "
        "KMS key to reuse, and a new one would add $1/month plus requests (not in the estimate) and a key "
        "policy for the logs service."
    ),
    "public-ip-no-nat": (
        "Placed in public subnets, which have no NAT gateway ($32.85/month plus $0.045/GB), the instances "
        "reach ECR, the model hub and Systems Manager over a public IPv4 address; their security group "
        "admits only the serving port, from inside the VPC."
    ),
}
"""Reasons shared by several Checkov skips, by topic; a skip specific to one resource writes its own."""


def checkov_skip(resource: IConstruct, check_id: str, reason: str) -> None:
    """Skip Checkov check `check_id` on one resource, with its written reason, as Checkov reads it.

    Checkov takes skips from the resource's `Metadata.checkov.skip` list (`{"id", "comment"}`); the comment
    is reported with the skipped check. `resource` is a CfnResource or an L2 construct whose default child
    is one; repeated calls add to the list.
    """
    cfn = resource if isinstance(resource, cdk.CfnResource) else resource.node.default_child
    if not isinstance(cfn, cdk.CfnResource):
        raise TypeError(f"{resource.node.path} has no CloudFormation resource to carry a Checkov skip")
    if not check_id.startswith("CKV") or len(reason.strip()) < 20:
        raise ValueError(
            f"a Checkov skip needs a check id and a written reason, got {check_id!r}: {reason!r}"
        )
    existing = cfn.get_metadata("checkov") or {}
    skips = [s for s in existing.get("skip", []) if s["id"] != check_id]
    cfn.add_metadata("checkov", {**existing, "skip": [*skips, {"id": check_id, "comment": reason}]})
