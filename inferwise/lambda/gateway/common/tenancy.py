"""Which tenant a request is billed to: decided by the caller's IAM identity, not by a header it could forge.

With `AWS_IAM` auth, Lambda verifies the SigV4 signature before the function runs and puts the signer in the
event at `requestContext.authorizer.iam` (`userArn`, `userId`, `accountId`, `callerId`, `accessKey`,
`principalOrgId`). The gateway reduces `userArn` to a key:

- `arn:<partition>:sts::<account>:assumed-role/<role>/<session>` -> `<account>:role/<role>` (any session of
  the role: Lambda functions, ECS tasks and SSO users all call as sessions of a role);
- `arn:<partition>:iam::<account>:user/<path>/<user>` -> `<account>:user/<user>`.

GATEWAY_CONFIG `callers` maps keys to the tenants they may act as; `trusted` lists the tenants that accept
the `x-inferwise-tenant` header from any caller the URL's IAM policy admits. The rules:

1. a caller mapped to one tenant is that tenant; the header may be omitted, and naming another tenant is 403;
2. a caller mapped to several tenants must name one of them in the header (400 without it, 403 for another);
3. an unmapped caller must name a header-trusted tenant (400 without a header, 403 for any other tenant).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .config import GatewayConfig
from .requests import TENANT_HEADER, BadRequest

ASSUMED_ROLE = re.compile(r"^arn:[a-z-]+:sts::(\d{12}):assumed-role/([^/]+)/[^/]+$")
IAM_PRINCIPAL = re.compile(r"^arn:[a-z-]+:iam::(\d{12}):(role|user)/(?:[^/]+/)*([^/]+)$")


def caller_arn(event: Mapping[str, Any]) -> str | None:
    """The signer's ARN as Lambda verified it, or None (no AWS_IAM authorizer in the event)."""
    context = event.get("requestContext") or {}
    identity = ((context.get("authorizer") or {}).get("iam")) or {}
    arn = identity.get("userArn")
    return str(arn) if arn else None


def caller_key(arn: str | None) -> str | None:
    """`<account>:role/<name>` or `<account>:user/<name>` for `arn`; None for anything else."""
    if arn is None:
        return None
    session = ASSUMED_ROLE.match(arn)
    if session:
        return f"{session[1]}:role/{session[2]}"
    principal = IAM_PRINCIPAL.match(arn)
    if principal:
        return f"{principal[1]}:{principal[2]}/{principal[3]}"
    return None


def resolve_tenant(config: GatewayConfig, event: Mapping[str, Any], header: str) -> str:
    """The tenant this request is billed to, by the rules above; a BadRequest (400 or 403) otherwise."""
    arn = caller_arn(event)
    key = caller_key(arn)
    mapped = config.callers.get(key, ()) if key else ()
    if mapped:
        if header:
            if header not in mapped:
                raise BadRequest(
                    TENANT_HEADER,
                    f"caller {key} may act as {', '.join(mapped)}, not as {header!r}",
                    status=403,
                )
            return header
        if len(mapped) == 1:
            return mapped[0]
        raise BadRequest(
            TENANT_HEADER, f"caller {key} may act as several tenants: name one of {', '.join(mapped)}"
        )
    if not header:
        raise BadRequest(TENANT_HEADER, "header missing: name the tenant the request is billed to")
    if header not in config.tenants:
        raise BadRequest(TENANT_HEADER, f"unknown tenant {header!r}", status=403)
    if header not in config.trusted:
        raise BadRequest(
            TENANT_HEADER,
            f"caller {key or arn or 'without an IAM identity'} is not a principal of tenant {header!r}, "
            "and that tenant does not accept the header from other callers",
            status=403,
        )
    return header
