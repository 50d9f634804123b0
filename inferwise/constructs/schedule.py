"""Off-hours schedules shared by the constructs that can be forced to zero capacity on a timetable.

`OffHours` names two AWS cron expressions: when to force capacity to zero and when to give it back.
Application Auto Scaling (scheduled actions on a scalable target) and EC2 Auto Scaling (scheduled
actions on a group) both take them, with an IANA time zone so the schedule follows daylight saving time.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache

_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_WEEKDAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"

# One pattern per field of an AWS cron expression, in order:
# minutes, hours, day-of-month, month, day-of-week, year.
# Source: "Cron expressions reference", Amazon EventBridge user guide
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html), the
# format Application Auto Scaling's scheduled actions use (`cron(fields)`, six fields).
_FIELDS: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("minutes", r"[0-5]?\d", (), "0-59 , - * /"),
    ("hours", r"(?:[01]?\d|2[0-3])", (), "0-23 , - * /"),
    ("day-of-month", r"(?:[1-9]|[12]\d|3[01])W?", (r"\?", "L", "LW"), "1-31 , - * ? / L W"),
    ("month", rf"(?:[1-9]|1[0-2]|{_MONTHS})", (), "1-12 or JAN-DEC , - * /"),
    ("day-of-week", rf"(?:[1-7]|{_WEEKDAYS})(?:#[1-5]|L)?", (r"\?", "L"), "1-7 or SUN-SAT , - * ? L #"),
    ("year", r"(?:19[7-9]\d|2[01]\d\d)", (), "1970-2199 , - * /"),
)


def _field_pattern(value: str, specials: tuple[str, ...]) -> re.Pattern[str]:
    """A comma list of `*`, values, ranges and steps of `value`, or one of the field's special tokens."""
    item = rf"(?:\*|{value}(?:-{value})?)(?:/\d+)?"
    alternatives = "|".join((rf"{item}(?:,{item})*", *specials))
    return re.compile(rf"^(?:{alternatives})$", re.IGNORECASE)


_PATTERNS = tuple(_field_pattern(value, specials) for _, value, specials, _ in _FIELDS)

_WRAPPED = re.compile(r"^cron\((?P<body>.*)\)$", re.IGNORECASE)


def validate_cron(expression: str, prop: str) -> str:
    """Return the six-field body of an AWS cron expression, or raise a ValueError naming `prop`.

    Accepts `0 20 ? * MON-FRI *` and `cron(0 20 ? * MON-FRI *)`. AWS requires exactly one of
    day-of-month and day-of-week to be `?`.
    """
    if not isinstance(expression, str):
        raise ValueError(f"{prop} must be an AWS cron expression string, got {expression!r}")
    wrapped = _WRAPPED.match(expression.strip())
    body = " ".join((wrapped.group("body") if wrapped else expression).split())
    fields = body.split(" ") if body else []
    example = "e.g. '0 20 ? * MON-FRI *' (minutes hours day-of-month month day-of-week year)"
    if len(fields) != len(_FIELDS):
        raise ValueError(
            f"{prop} must be an AWS cron expression with 6 fields, got {expression!r} "
            f"({len(fields)} fields); {example}"
        )
    for text, (name, _, _, allowed), pattern in zip(fields, _FIELDS, _PATTERNS, strict=True):
        if not pattern.match(text):
            raise ValueError(
                f"{prop} has an invalid {name} field {text!r} in {expression!r}; allowed: {allowed}; {example}"
            )
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        raise ValueError(
            f"{prop} must set exactly one of day-of-month and day-of-week to '?', got {expression!r}; {example}"
        )
    return body


@cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(time_zone: str, prop: str) -> str:
    """Return `time_zone` if it is an IANA time zone name (as scheduled actions take it)."""
    known = _known_time_zones()
    if (
        not isinstance(time_zone, str)
        or not time_zone
        or (known and time_zone not in known and time_zone != "UTC")
    ):
        raise ValueError(
            f"{prop} must be an IANA time zone name such as 'UTC' or 'Europe/Berlin', got {time_zone!r}"
        )
    return time_zone


@dataclass(frozen=True)
class OffHours:
    """A timetable that forces capacity to zero, whatever the traffic, and later gives it back.

    `cron` is when capacity is forced to zero (e.g. weekday evenings), `resume_cron` when the normal
    limits come back (e.g. weekday mornings); both are AWS cron expressions (six fields, with or without
    the `cron(...)` wrapper) evaluated in `time_zone` (IANA name, default UTC). Requests that arrive while
    it is off fail fast instead of waking the capacity.
    """

    cron: str
    resume_cron: str
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        object.__setattr__(self, "cron", validate_cron(self.cron, "OffHours.cron"))
        object.__setattr__(self, "resume_cron", validate_cron(self.resume_cron, "OffHours.resume_cron"))
        validate_time_zone(self.time_zone, "OffHours.time_zone")
        if self.cron == self.resume_cron:
            raise ValueError(f"OffHours.cron and OffHours.resume_cron must differ, both are {self.cron!r}")

    @property
    def off_expression(self) -> str:
        """`cron(...)`, as a scheduled action's Schedule/Recurrence takes it."""
        return f"cron({self.cron})"

    @property
    def resume_expression(self) -> str:
        return f"cron({self.resume_cron})"
