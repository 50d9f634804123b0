"""`inferwise tags activate`: turn inferwise's tag keys on as cost allocation tags in Cost Explorer.

Activation has no CloudFormation resource (docs/aws-facts.md#attribution), so it is an API call:
`ListCostAllocationTags` (filtered to the keys) says which keys Cost Explorer knows and their status, then one
`UpdateCostAllocationTagsStatus` sets the known, inactive ones to `Active` (at most 20 keys a request). A key
Cost Explorer does not list yet cannot be activated: a tag key appears there only after a resource carrying it
has been billed. Spend shows under an activated tag after up to 24 hours, from activation on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from inferwise.cost.actual.query import NO_CREDENTIALS, ActualError, explain_client_error
from inferwise.cost.tagging import TAG_KEYS

NOT_FOUND = (
    "not found yet: a tag key appears in Cost Explorer only after a resource carrying it has been billed "
    "(deploy the tagged stacks, wait up to 24 hours, and run this again)"
)
DELAY = "Cost Explorer shows spend by an activated tag after up to 24 hours, and only for usage from activation on."
MAX_PAGES = 20


@dataclass(frozen=True)
class TagOutcome:
    """What happened to one key: `activated`, `already active`, `not found` or `failed`, and a detail."""

    key: str
    outcome: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("activated", "already active")

    def describe(self) -> str:
        return (
            self.detail
            if self.outcome == "not found"
            else self.outcome + (f": {self.detail}" if self.detail else "")
        )


def _call(client: Any, operation: str, action: str, **request: Any) -> dict[str, Any]:
    from botocore.exceptions import (  # type: ignore[import-untyped]
        BotoCoreError,
        ClientError,
        NoCredentialsError,
    )

    try:
        response: dict[str, Any] = getattr(client, operation)(**request)
    except ClientError as bad:
        raise ActualError(explain_client_error(bad.response, action)) from None
    except NoCredentialsError:
        raise ActualError(NO_CREDENTIALS) from None
    except BotoCoreError as bad:
        raise ActualError(f"cannot reach Cost Explorer: {bad}") from None
    return response


def tag_statuses(client: Any, keys: Sequence[str]) -> dict[str, str]:
    """Key -> `Active` or `Inactive`, for the keys Cost Explorer knows (`ListCostAllocationTags`, paged)."""
    found: dict[str, str] = {}
    token: str | None = None
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {"TagKeys": list(keys), **({"NextToken": token} if token else {})}
        page = _call(client, "list_cost_allocation_tags", "ce:ListCostAllocationTags", **request)
        for tag in page.get("CostAllocationTags") or []:
            if tag.get("TagKey") in keys:
                found[str(tag["TagKey"])] = str(tag.get("Status") or "")
        token = page.get("NextToken") or None
        if token is None:
            return found
    raise ActualError(f"ListCostAllocationTags answered more than {MAX_PAGES} pages")


def _not_found(code: str, message: str) -> bool:
    text = f"{code} {message}".lower().replace(" ", "")
    return "notfound" in text or "doesnotexist" in text or "unknowntag" in text


def activate_tags(client: Any, keys: Sequence[str] = TAG_KEYS) -> list[TagOutcome]:
    """Activate `keys` as cost allocation tags; one outcome per key, in order."""
    statuses = tag_statuses(client, keys)
    outcomes: dict[str, TagOutcome] = {}
    for key in keys:
        if key not in statuses:
            outcomes[key] = TagOutcome(key, "not found", NOT_FOUND)
        elif statuses[key] == "Active":
            outcomes[key] = TagOutcome(key, "already active")
    pending = [key for key in keys if key not in outcomes]
    if pending:
        response = _call(
            client,
            "update_cost_allocation_tags_status",
            "ce:UpdateCostAllocationTagsStatus",
            CostAllocationTagsStatus=[{"TagKey": key, "Status": "Active"} for key in pending],
        )
        errors = {str(e.get("TagKey")): e for e in response.get("Errors") or []}
        for key in pending:
            error = errors.get(key)
            if error is None:
                outcomes[key] = TagOutcome(key, "activated")
                continue
            code, message = str(error.get("Code") or ""), str(error.get("Message") or "")
            if _not_found(code, message):
                outcomes[key] = TagOutcome(key, "not found", NOT_FOUND)
            else:
                outcomes[key] = TagOutcome(key, "failed", f"{code}: {message}".strip(": "))
    return [outcomes[key] for key in keys]
