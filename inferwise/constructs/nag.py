"""cdk-nag acknowledgements that name exactly one finding.

cdk-nag 3 names a granular IAM5 finding after the policy resource as it appears in the template, with
intrinsic functions written as `<AWS::Partition>` or `<Logical.Arn>`. Acknowledging that exact id, rather
than the whole rule, keeps every other wildcard a finding.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk


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
