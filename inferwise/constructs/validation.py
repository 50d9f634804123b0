"""Prop checks shared by the constructs: one message shape for every bad value a user can pass.

Every refusal reads `<prop> must be <what is allowed>, got <value>` (+ why or how to fix it), with the value's
repr cut to about 80 characters. Wrong types raise `InvalidTypeError` (a TypeError and a ValueError), bad
values `InvalidValueError` (a ValueError). The number, string and container checks live in the cost layer
(`inferwise.cost.validation`, also used by the usage dataclasses) and are re-exported here; this module adds
what needs CDK: deploy-time tokens, construct-typed props (and the strings accepted in their place), durations,
cron expressions that can fire, e-mail addresses and inference-profile geographies.

Every check runs before a value reaches jsii: a float `inf` or NaN sent to jsii kills its Node process, and
every later construct call in the same Python process then fails.
"""

from __future__ import annotations

import calendar
import datetime
import ipaddress
import math
import re
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from inferwise.cost.specs.regions import GEO_PROFILE_REGIONS, in_geography
from inferwise.cost.validation import (
    InvalidTypeError,
    InvalidValueError,
    check_bool,
    check_choice,
    check_instance,
    check_mapping,
    check_sequence,
    check_text,
    number_text,
    range_text,
    shown,
)
from inferwise.cost.validation import check_number as _check_number

__all__ = [
    "ECR_IMAGE",
    "EMAIL",
    "InvalidTypeError",
    "InvalidValueError",
    "bucket_prop",
    "check_bool",
    "check_choice",
    "check_construct",
    "check_cron_fires",
    "check_duration",
    "check_email",
    "check_instance",
    "check_mapping",
    "check_number",
    "check_profile_region",
    "check_retention",
    "check_sequence",
    "check_text",
    "check_whole_number",
    "implements",
    "is_token",
    "key_prop",
    "peer_prop",
    "role_prop",
    "shown",
]

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
"""An ECR image URI, `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>` or `@sha256:<digest>`."""

EMAIL = re.compile(
    r"[^@\s\"(),:;<>\[\]\\]{1,64}@(?:[^@\s\"(),:;<>\[\]\\.]{1,63}\.)+[^@\s\"(),:;<>\[\]\\.\d]{2,63}"
)
"""An e-mail address (use `fullmatch`): one `@`, a dotted domain, no whitespace or control characters."""
MAX_EMAIL_LENGTH = 254


# ------------------------------------------------------------------------------------------- numbers
def is_token(value: object) -> bool:
    """True for a deploy-time token (a string or number CDK resolves at deploy).

    Only strings and finite numbers are asked: a NaN or an infinity sent to jsii kills its process.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return bool(cdk.Token.is_unresolved(value))


def check_number(prop: str, value: object, **limits: Any) -> Any:
    """`inferwise.cost.validation.check_number`, refusing deploy-time number tokens (a priced figure must be
    known at synth)."""
    if isinstance(value, float) and is_token(value):
        raise InvalidValueError(
            f"{prop} must be a number known at synth (inferwise prices it), got a deploy-time token"
        )
    return _check_number(prop, value, **limits)


def check_whole_number(
    prop: str, value: object, low: int, high: int | None = None, *, cap: int | None = None
) -> int:
    """`value` if it is an int in [low, high] (and at most the sanity limit `cap`); otherwise an error naming
    the prop, the value and the range."""
    allowed = range_text(low, high)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTypeError(f"{prop} must be a whole number {allowed}, got {shown(value)}")
    if value < low or (high is not None and value > high):
        raise InvalidValueError(f"{prop} must be a whole number {allowed}, got {shown(value)}")
    if cap is not None and value > cap:
        raise InvalidValueError(
            f"{prop} must be at most {number_text(cap)} (inferwise's sanity limit for it; a larger figure is "
            f"almost certainly a typo), got {shown(value)}"
        )
    return value


# ------------------------------------------------------------------------------------- construct props
def implements(value: object, interface: type) -> bool:
    """Whether a jsii object implements the jsii interface `interface` (e.g. `s3.IBucket`).

    jsii interfaces are Protocols `isinstance` cannot test: this reads the interfaces each class declares
    (and those of the delegates of an imported resource's dynamic proxy).
    """
    proxy_class = getattr(interface, "__jsii_proxy_class__", None)
    proxy = proxy_class() if callable(proxy_class) else None
    candidates = [value, *getattr(value, "__dict__", {}).get("_delegates", ())]
    for candidate in candidates:
        if proxy is not None and isinstance(candidate, proxy):
            return True
        for cls in type(candidate).__mro__:
            for declared in getattr(cls, "__jsii_ifaces__", ()) or ():
                if interface in getattr(declared, "__mro__", ()):
                    return True
    return False


def check_construct(prop: str, value: object, interface: type, *, what: str, hint: str = "") -> Any:
    """`value` if it implements `interface`; the refusal says what to pass (`what`) and how (`hint`)."""
    if isinstance(value, str) and hint:
        raise InvalidTypeError(f"{prop} must be {what}, got the string {shown(value)}: {hint}")
    if not implements(value, interface):
        raise InvalidTypeError(f"{prop} must be {what}, got {shown(value)}")
    return value


_BUCKET_NAME = re.compile(r"(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_ARN = re.compile(r"arn:aws[a-z-]*:s3:::(?P<name>[^/]+)")


def bucket_prop(scope: Construct, prop: str, value: object, construct_id: str) -> s3.IBucket | None:
    """An `s3.IBucket`, or None. A bucket name or bucket ARN string is imported (`s3.Bucket.from_bucket_name`,
    `from_bucket_arn`) under `scope` as `construct_id`; an `s3://` URI is refused with what to pass instead."""
    if value is None:
        return None
    what = "an s3.IBucket, a bucket name or a bucket ARN"
    if isinstance(value, str):
        if is_token(value):
            return s3.Bucket.from_bucket_name(scope, construct_id, value)
        if value.startswith("s3://"):
            bucket, _, key = value[5:].partition("/")
            raise InvalidTypeError(
                f"{prop} must be {what}, got the S3 URI {shown(value)}: pass the bucket name {bucket!r}"
                + (f" and put the key prefix {key!r} in the matching *_prefix prop" if key else "")
            )
        arn = _BUCKET_ARN.fullmatch(value)
        if arn is not None and _BUCKET_NAME.fullmatch(arn["name"]):
            return s3.Bucket.from_bucket_arn(scope, construct_id, value)
        if _BUCKET_NAME.fullmatch(value):
            return s3.Bucket.from_bucket_name(scope, construct_id, value)
        raise InvalidValueError(
            f"{prop} must be {what} (S3 bucket names are 3-63 characters of a-z, 0-9, '.' and '-', starting and "
            f"ending with a letter or digit), got {shown(value)}"
        )
    return check_construct(prop, value, s3.IBucket, what=what)  # type: ignore[no-any-return]


_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}")


def role_prop(scope: Construct, prop: str, value: object, construct_id: str) -> iam.IRole:
    """An `iam.IRole`; a role ARN string is imported with `iam.Role.from_role_arn(..., mutable=False)` under
    `scope` as `construct_id`. A bare role name is refused: say which account's role with its ARN."""
    what = "an iam.IRole or a role ARN"
    if isinstance(value, str):
        if is_token(value) or _ROLE_ARN.fullmatch(value):
            return iam.Role.from_role_arn(scope, construct_id, value, mutable=False)
        raise InvalidTypeError(
            f"{prop} must be {what} ('arn:aws:iam::123456789012:role/<name>'), got {shown(value)}; for a role of "
            "this account by name pass iam.Role.from_role_name(scope, id, name)"
        )
    return check_construct(prop, value, iam.IRole, what=what)  # type: ignore[no-any-return]


_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/(?:mrk-)?[0-9a-f-]{32,36}")


def key_prop(scope: Construct, prop: str, value: object, construct_id: str) -> kms.IKey | None:
    """A `kms.IKey`, or None; a key ARN string is imported with `kms.Key.from_key_arn` under `scope`."""
    if value is None:
        return None
    what = "a kms.IKey or a KMS key ARN"
    if isinstance(value, str):
        if is_token(value) or _KEY_ARN.fullmatch(value):
            return kms.Key.from_key_arn(scope, construct_id, value)
        raise InvalidTypeError(
            f"{prop} must be {what} ('arn:aws:kms:<region>:<account>:key/<key id>'), got {shown(value)}; for an "
            "alias pass kms.Alias.from_alias_name(scope, id, 'alias/<name>')"
        )
    return check_construct(prop, value, kms.IKey, what=what)  # type: ignore[no-any-return]


def peer_prop(prop: str, value: object) -> ec2.IPeer | None:
    """An `ec2.IPeer`, or None; a CIDR string (IPv4 or IPv6), a security group id `sg-...` or a prefix list
    id `pl-...` becomes the matching `ec2.Peer`."""
    if value is None:
        return None
    what = "an ec2.IPeer, a CIDR such as '10.0.0.0/16', a security group id 'sg-...' or a prefix list id 'pl-...'"
    if isinstance(value, str):
        if re.fullmatch(r"sg-[0-9a-f]{8,17}", value):
            return ec2.Peer.security_group_id(value)
        if re.fullmatch(r"pl-[0-9a-f]{8,17}", value):
            return ec2.Peer.prefix_list(value)
        try:
            network = ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise InvalidValueError(f"{prop} must be {what}, got {shown(value)}") from None
        return ec2.Peer.ipv4(value) if network.version == 4 else ec2.Peer.ipv6(value)
    return check_construct(prop, value, ec2.IPeer, what=what)  # type: ignore[no-any-return]


def check_duration(prop: str, value: object, *, low: int, high: int, why: str = "") -> int:
    """`value` (a `cdk.Duration`) in whole seconds, between `low` and `high` seconds."""
    if not isinstance(value, cdk.Duration):
        hint = (
            f"; pass cdk.Duration.seconds({value})"
            if isinstance(value, int) and not isinstance(value, bool)
            else ""
        )
        raise InvalidTypeError(f"{prop} must be a cdk.Duration, got {shown(value)}{hint}")
    try:
        total = int(value.to_seconds())
    except RuntimeError:  # a token, or a fraction of a second
        raise InvalidValueError(
            f"{prop} must be a whole number of seconds known at synth, got {value.to_human_string()}"
        ) from None
    if not low <= total <= high:
        raise InvalidValueError(f"{prop} must be between {low} and {high} seconds{why}, got {total} s")
    return total


def check_retention(prop: str, value: object) -> logs.RetentionDays:
    """`value` if it is a `logs.RetentionDays` member."""
    if not isinstance(value, logs.RetentionDays):
        raise InvalidTypeError(
            f"{prop} must be a logs.RetentionDays member such as logs.RetentionDays.ONE_MONTH, got {shown(value)}"
        )
    return value


# --------------------------------------------------------------------------------------- e-mail
def check_email(prop: str, value: object) -> str:
    """`value` if it is one e-mail address: no whitespace anywhere (a trailing newline included)."""
    allowed = "an e-mail address like name@example.com"
    check_text(prop, value, allowed=allowed, max_length=MAX_EMAIL_LENGTH)
    assert isinstance(value, str)
    if not EMAIL.fullmatch(value):
        raise InvalidValueError(f"{prop} must be {allowed}, got {shown(value)}")
    return value


# ------------------------------------------------------------------------------- inference profiles
def profile_geography(model_id: str) -> str:
    """'' for an in-Region model, 'global', or the geography of a geo profile id or ARN ('us', 'eu', ...)."""
    body = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for geo in (*GEO_PROFILE_REGIONS, "global"):
        if body.startswith(f"{geo}."):
            return geo
    return ""


def check_profile_region(prop: str, model_id: str, region: str) -> None:
    """Refuse a geographic inference profile whose geography does not contain `region` (an `eu.` profile in
    a us-east-1 stack); nothing to check for `global.`, an in-Region model or a Region that is a token."""
    geo = profile_geography(model_id)
    if not geo or geo == "global" or cdk.Token.is_unresolved(region) or in_geography(geo, region):
        return
    fitting = [f"{g}." for g in GEO_PROFILE_REGIONS if in_geography(g, region)]
    raise InvalidValueError(
        f"{prop} must be an in-Region model id, a global. profile"
        + (f" or a {' / '.join(fitting)} profile" if fitting else "")
        + f" in a {region} stack, got {shown(model_id)}: {geo}. cross-Region inference profiles are invoked "
        f"from Regions of their own geography only ({', '.join(p + '*' for p in GEO_PROFILE_REGIONS[geo])}), so "
        "every call from this stack would fail (Bedrock user guide, cross-Region inference)"
    )


# --------------------------------------------------------------------------------------- cron
_MONTHS = {
    name: index + 1
    for index, name in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}
_WEEKDAYS = {name: index + 1 for index, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_CYCLE_YEARS = 28
"""Years after which the calendar (weekdays and leap days) repeats: enough to know a cron never fires."""
_LAST_YEAR = 2199


def _parse_value(text: str, names: dict[str, int]) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"an unreadable value {text!r}")
    return int(text)


def _field_values(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    """Values of a syntax-checked cron field (lists, ranges, steps, names; a reversed range wraps around)."""
    values: set[int] = set()
    for item in text.upper().split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step == 0:
            raise ValueError(f"a step of 0 in {text!r}")
        if span in ("*", "?"):
            start, end = low, high
        elif "-" in span:
            first, last = span.split("-", 1)
            start, end = _parse_value(first, names), _parse_value(last, names)
        else:
            start = _parse_value(span, names)
            end = high if step_text else start
        run = list(range(start, end + 1)) if start <= end else [*range(start, high + 1), *range(low, end + 1)]
        values.update(run[::step])
    return values


def _day_rule(day_of_month: str, day_of_week: str) -> Callable[[datetime.date], bool]:
    """Whether a date is selected by the day-of-month / day-of-week fields (exactly one of them is '?')."""
    if day_of_week == "?":
        text = day_of_month.upper()
        if text in ("L", "LW"):
            return lambda day: day.day == calendar.monthrange(day.year, day.month)[1]
        if text.endswith("W"):
            nearest = _parse_value(text[:-1], {})
            return lambda day: day.day == nearest
        days = _field_values(text, 1, 31, {})
        return lambda day: day.day in days
    text = day_of_week.upper()
    plain: set[int] = set()
    last: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in text.split(","):
        if item == "L":
            plain.add(7)
        elif item.endswith("L"):
            last.add(_parse_value(item[:-1], _WEEKDAYS))
        elif "#" in item:
            name, count = item.split("#")
            nth.add((_parse_value(name, _WEEKDAYS), _parse_value(count, {})))
        else:
            plain |= _field_values(item, 1, 7, _WEEKDAYS)

    def selected(day: datetime.date) -> bool:
        weekday = day.isoweekday() % 7 + 1  # AWS: 1 = SUN ... 7 = SAT
        month_days = calendar.monthrange(day.year, day.month)[1]
        return (
            weekday in plain
            or (weekday in last and day.day > month_days - 7)
            or (weekday, (day.day - 1) // 7 + 1) in nth
        )

    return selected


def check_cron_fires(prop: str, expression: str) -> None:
    """Refuse a six-field AWS cron body (already syntax-checked, e.g. by `OffHours`) that never fires: a date
    that does not exist (`0 20 30 FEB ? *`), years all in the past, a step of 0.

    A scheduled action that never fires deploys fine and silently never acts. Field ranges are those of the
    EventBridge cron reference (minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
    day-of-week 1-7 or SUN-SAT, year 1970-2199), which Application Auto Scaling and EC2 Auto Scaling share.
    """
    fields = expression.split()
    if len(fields) != 6:
        raise InvalidValueError(f"{prop} must be a six-field AWS cron expression, got {shown(expression)}")
    minute, hour, day_of_month, month, day_of_week, year = fields
    this_year = datetime.datetime.now(datetime.UTC).year
    try:
        _field_values(minute, 0, 59, {})
        _field_values(hour, 0, 23, {})
        months = sorted(_field_values(month, 1, 12, _MONTHS))
        wanted = set(range(this_year, this_year + _CYCLE_YEARS + 1)) if year == "*" else set()
        if year != "*":
            wanted = {y for y in _field_values(year, 1970, _LAST_YEAR, {}) if y >= this_year}
        rule = _day_rule(day_of_month, day_of_week)
        fires = any(
            rule(datetime.date(y, m, d))
            for y in sorted(wanted)
            for m in months
            for d in range(1, calendar.monthrange(y, m)[1] + 1)
        )
    except ValueError as bad:
        raise InvalidValueError(
            f"{prop} must be an AWS cron expression that can fire, got {shown(expression)}: it has {bad}"
        ) from None
    if fires:
        return
    if not wanted:
        reason = f"every year it names is before {this_year}"
    else:
        reason = (
            f"no date matches day-of-month {day_of_month!r}, month {month!r} and day-of-week {day_of_week!r}"
            + ("" if year == "*" else f" in the years {year!r}")
            + (
                " (FEB has no day 30 or 31; APR, JUN, SEP and NOV have no day 31)"
                if day_of_week == "?"
                else ""
            )
        )
    raise InvalidValueError(
        f"{prop} must be an AWS cron expression that can fire, got {shown(expression)}: {reason}, so the "
        "scheduled action would deploy and never run"
    )
