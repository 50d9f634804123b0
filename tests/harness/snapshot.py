"""Normalize a template for snapshots: drop what churns on every CDK upgrade or code edit."""

from __future__ import annotations

import re
from typing import Any

ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def normalized(template: dict[str, Any]) -> Any:
    """Asset hashes and the CDK bootstrap-version plumbing removed; everything a user deploys kept."""
    body = {k: v for k, v in template.items() if k not in ("Rules", "Parameters")}
    resources = {
        logical_id: resource
        for logical_id, resource in body.get("Resources", {}).items()
        if resource.get("Type") != "AWS::CDK::Metadata"
    }
    body["Resources"] = resources
    if set(body.get("Conditions", {})) <= {"CDKMetadataAvailable"}:
        body.pop("Conditions", None)
    return _scrub(body)


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return ASSET_HASH.sub("<asset-hash>", value)
    return value
