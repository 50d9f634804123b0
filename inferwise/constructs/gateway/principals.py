"""Tenant principals: which IAM identities may act as which tenant, checked at synth and told to the function.

A principal is an `iam.IRole`, an `iam.IUser`, or the ARN of a role or user. The function matches callers by
account and name (`<account>:role/<name>`, `<account>:user/<name>`): a role's every session
(`arn:aws:sts::<account>:assumed-role/<name>/<session>`, which drops the role's path) is that role. A role
deleted and created again with the same name is the same principal to the gateway (as it is to an identity
policy that names its ARN).

Each principal is granted `lambda:InvokeFunctionUrl` (and the `lambda:InvokeFunction` that function URLs also
require) by the construct: in the policy of a role or user made in the app, in the function's resource policy
for one given by ARN or imported (an imported role may be immutable, or another stack's). See docs/gateway.md,
"Tenancy".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_cdk import aws_iam as iam

from inferwise.constructs.validation import (
    InvalidTypeError,
    InvalidValueError,
    check_bool,
    check_sequence,
    implements,
    is_token,
    shown,
)

if TYPE_CHECKING:
    from inferwise.constructs.gateway.props import Tenant

PRINCIPAL_ARN = re.compile(
    r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):(?P<kind>role|user)/(?:[\w+=,.@-]+/)*(?P<name>[\w+=,.@-]{1,64})$"
)
ASSUMED_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/")
WHAT = "an iam.IRole, an iam.IUser, or a role or user ARN ('arn:aws:iam::123456789012:role/<name>')"
ACCOUNT_BYTES = 12
NAME_BYTES = 64
"""Bounds of a deploy-time account id and role or user name, for the configuration's size at synth."""


@dataclass(frozen=True)
class Principal:
    """One identity that may act as a tenant: its key in GATEWAY_CONFIG `callers`, how errors name it, and
    what `lambda:InvokeFunctionUrl` is granted to."""

    key: str
    shown: str
    grantee: iam.IGrantable
    token_bounds: tuple[tuple[str, int], ...] = ()


def principal(prop: str, value: object) -> Principal:
    """`value` (a role, a user, or the ARN of either) as a `Principal`; anything else is refused."""
    if isinstance(value, str):
        return _from_arn(prop, value, iam.ArnPrincipal(value) if not is_token(value) else None)
    for kind, interface, arn_attr, name_attr in (
        ("role", iam.IRole, "role_arn", "role_name"),
        ("user", iam.IUser, "user_arn", "user_name"),
    ):
        if implements(value, interface):
            arn = getattr(value, arn_attr)
            if not is_token(arn):  # imported: grant on the function, whoever owns the role's policies
                return _from_arn(prop, arn, iam.ArnPrincipal(arn))
            account, name = value.env.account, getattr(value, name_attr)  # type: ignore[attr-defined]
            bounds = tuple((t, b) for t, b in ((account, ACCOUNT_BYTES), (name, NAME_BYTES)) if is_token(t))
            path = value.node.path  # type: ignore[attr-defined]
            return Principal(f"{account}:{kind}/{name}", f"{kind} {path}", value, bounds)  # type: ignore[arg-type]
    raise InvalidTypeError(f"{prop} must hold {WHAT}, got {shown(value)}")


def _from_arn(prop: str, arn: str, grantee: Any) -> Principal:
    if grantee is None:
        raise InvalidValueError(
            f"{prop}: the ARN {shown(arn)} is a deploy-time token the gateway cannot read at synth; pass the "
            "iam.IRole or iam.IUser itself"
        )
    match = PRINCIPAL_ARN.match(arn)
    if match is None:
        session = ASSUMED_ROLE_ARN.match(arn)
        hint = (
            f"; an assumed-role session names its role: pass 'arn:aws:iam::{session['account']}:role/"
            f"{session['name']}' (every session of the role then acts as the tenant)"
            if session
            else ""
        )
        raise InvalidValueError(f"{prop} must hold {WHAT}, got {shown(arn)}{hint}")
    return Principal(f"{match['account']}:{match['kind']}/{match['name']}", arn, grantee)


def tenant_principals(
    tenants: Sequence[Tenant], *, allow_shared_principals: bool
) -> dict[str, tuple[Principal, ...]]:
    """Each tenant's principals, checked: every tenant reachable by someone, no principal on two tenants
    unless `allow_shared_principals` (such a caller then names its tenant in every request)."""
    check_bool("InferenceGateway allow_shared_principals", allow_shared_principals)
    found: dict[str, tuple[Principal, ...]] = {}
    owners: dict[str, list[str]] = {}
    for tenant in tenants:
        where = f"Tenant {tenant.name!r}"
        check_bool(f"{where} header_trusted", tenant.header_trusted)
        values = check_sequence(f"{where} principals", tenant.principals, of=WHAT)
        listed = tuple(principal(f"{where} principals[{i}]", v) for i, v in enumerate(values))
        if not listed and not tenant.header_trusted:
            raise InvalidValueError(
                f"{where} principals must name at least one caller, got none with header_trusted=False: no "
                "caller could act as it. Name the roles or users it calls as (principals=[role, "
                "'arn:aws:iam::123456789012:role/<name>']), or set header_trusted=True so that any caller the "
                "URL's IAM policy admits may name it in x-inferwise-tenant (for a trusted upstream service)"
            )
        for item in listed:
            owners.setdefault(item.key, [])
            if tenant.name in owners[item.key]:
                raise InvalidValueError(f"{where} principals lists {item.shown} twice")
            owners[item.key].append(tenant.name)
        found[tenant.name] = listed
    shared = {key: names for key, names in owners.items() if len(names) > 1}
    if shared and not allow_shared_principals:
        key, names = next(iter(shared.items()))
        one = next(p for ps in found.values() for p in ps if p.key == key)
        raise InvalidValueError(
            f"Tenant principals: {one.shown} is on tenants {', '.join(repr(n) for n in names)}; a caller may "
            "act as several tenants only if it names one in x-inferwise-tenant on every request. Give each "
            "tenant its own role, or set InferenceGateway(allow_shared_principals=True) to allow that"
        )
    return found


def identity_config(
    tenants: Sequence[Tenant], principals: Mapping[str, Sequence[Principal]]
) -> dict[str, Any]:
    """GATEWAY_CONFIG `callers` (principal key -> tenants) and `trusted` (header-trusted tenants)."""
    callers: dict[str, list[str]] = {}
    for tenant in tenants:
        for item in principals.get(tenant.name, ()):
            callers.setdefault(item.key, []).append(tenant.name)
    config: dict[str, Any] = {"callers": callers}
    trusted = [t.name for t in tenants if t.header_trusted]
    if trusted:
        config["trusted"] = trusted
    return config
