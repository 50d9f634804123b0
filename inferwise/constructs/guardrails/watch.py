"""Guardrails given constructs to watch: the budget's tag filter and the token-spend alarms' `ModelId`.

Every inferwise construct tags its resources `inferwise:construct` = its path (`record_estimate`), and the
ones that call Bedrock do so through an application inference profile carrying the same tags (see
`inferwise.constructs.inference_profile`), so their token spend is tagged too. `watch=[...]` therefore
filters the budget on those tag values: it sees the constructs' whole bill, tokens included.

A `TokenSpendAlarm` given a `construct` reads the AWS/Bedrock metrics under the `ModelId` the construct's
calls name: its profile's ARN (CloudWatch reports the id or ARN a call was made with,
docs/aws-facts.md#bedrock-metrics). One alarm per profile through which the construct calls the model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from constructs import Construct

from inferwise.constructs.guardrails.props import TokenSpendAlarm
from inferwise.constructs.inference_profile import ModelUse, model_uses
from inferwise.constructs.validation import InvalidTypeError, InvalidValueError, check_sequence, shown
from inferwise.cost.recording import MissingPricesError
from inferwise.cost.tagging import CONSTRUCT_TAG_KEY, construct_tag_value

MAX_WATCHED = 100
"""Constructs one budget watches (a sanity limit; each is one tag value of the filter)."""


@dataclass(frozen=True)
class AlarmTarget:
    """One token-spend alarm to build: the alarm's settings, the `ModelId` it reads, its key and construct id."""

    alarm: TokenSpendAlarm
    index: int
    metric_model_id: str
    key: str
    construct_id: str


def _recorded(construct: Construct) -> bool:
    """Whether `construct` recorded an inferwise estimate, which is what tags its resources."""
    try:
        return getattr(construct, "cost_estimate", None) is not None
    except MissingPricesError:
        return True  # recorded, with a price missing: synth fails on that with its own message


def check_watch(watch: object, guardrails: Construct) -> tuple[Construct, ...]:
    """The watched constructs: inferwise constructs (each recorded an estimate), none twice, not guardrails."""
    from inferwise.constructs.guardrails.construct import CostGuardrails  # the module that imports this one

    items = check_sequence("watch", watch, of="inferwise constructs", max_items=MAX_WATCHED)
    for index, item in enumerate(items):
        if not isinstance(item, Construct):
            raise InvalidTypeError(
                f"watch[{index}] must be an inferwise construct such as a BedrockBatchPipeline, got {shown(item)}"
            )
        if item is guardrails or isinstance(item, CostGuardrails):
            raise InvalidValueError(
                f"watch[{index}] is a CostGuardrails ({item.node.path}); watch the constructs whose spend it guards"
            )
        if not _recorded(item):
            raise InvalidValueError(
                f"watch[{index}] ({item.node.path}) is not an inferwise construct that recorded a cost estimate, so "
                f"its resources carry no {CONSTRUCT_TAG_KEY} tag to filter on; watch inferwise constructs, or filter "
                "with cost_filter_tags"
            )
    paths = [item.node.path for item in items]
    if len(set(paths)) != len(paths):
        raise InvalidValueError(f"watch must not repeat a construct, got {paths}")
    return tuple(items)


def budget_tags(
    watched: Sequence[Construct], tags: Mapping[str, Sequence[str]] | None, services: object
) -> Mapping[str, Sequence[str]] | None:
    """The budget's tag filter: `cost_filter_tags`, and with `watch` the watched constructs' tag values."""
    if not watched:
        return tags
    if services is not None:
        raise InvalidValueError(
            f"pass watch or services, not both: watch filters the budget on the {CONSTRUCT_TAG_KEY} tag of the "
            "watched constructs, and a budget filters on tags or on services"
        )
    if tags is not None and CONSTRUCT_TAG_KEY in tags:
        raise InvalidValueError(
            f"cost_filter_tags must not name {CONSTRUCT_TAG_KEY!r} when watch is given: watch sets that key "
            "from the watched constructs"
        )
    values = [construct_tag_value(construct.node.path) for construct in watched]
    return {**(tags or {}), CONSTRUCT_TAG_KEY: values}


def alarm_targets(alarms: Sequence[TokenSpendAlarm]) -> list[AlarmTarget]:
    """Each alarm's `ModelId`: the model id, or for an alarm given a construct the ARN of each profile through
    which that construct calls the model; one alarm per `ModelId`."""
    targets: list[AlarmTarget] = []
    for index, alarm in enumerate(alarms):
        key, construct_id = alarm.model_id, f"TokenSpend-{_safe(alarm.model_id)}"
        if alarm.construct is None:
            targets.append(AlarmTarget(alarm, index, alarm.model_id, key, construct_id))
            continue
        key += f" via {alarm.construct.node.path}"
        construct_id += f"-{_safe(alarm.construct.node.path)}"
        uses = _uses_of(alarm, index)
        for use in uses:
            suffix = (f" ({use.label})", f"-{_safe(use.label)}") if len(uses) > 1 else ("", "")
            targets.append(
                AlarmTarget(alarm, index, use.invoked_id, key + suffix[0], construct_id + suffix[1])
            )
    keys = [target.key for target in targets]
    if len(set(keys)) != len(keys):
        per_construct = (
            " (once per construct for alarms given one)" if any(a.construct for a in alarms) else ""
        )
        raise InvalidValueError(
            f"token_spend_alarms must name each model once{per_construct}, got {[_described(a) for a in alarms]}"
        )
    return targets


def _uses_of(alarm: TokenSpendAlarm, index: int) -> list[ModelUse]:
    """The construct's calls of the alarm's model; a clear error when it declares none."""
    construct = alarm.construct
    assert construct is not None
    uses = model_uses(construct)
    prop = f"token_spend_alarms[{index}].construct"
    if not uses:
        raise InvalidValueError(
            f"{prop} ({construct.node.path}) declares no Bedrock calls (no model_uses): pass a construct that calls "
            "Bedrock, such as a BedrockBatchPipeline, or leave construct unset to watch calls of model_id itself"
        )
    found = [use for use in uses if use.model_id == alarm.model_id]
    if not found:
        raise InvalidValueError(
            f"{prop} ({construct.node.path}) does not call model {alarm.model_id!r}; it calls "
            f"{sorted({use.model_id for use in uses})}: name one of those as model_id"
        )
    return found


def unattributed_uses(watched: Sequence[Construct]) -> list[tuple[Construct, ModelUse]]:
    """Calls of the watched constructs whose token spend does not carry their tags (no profile of their own)."""
    return [(construct, use) for construct in watched for use in model_uses(construct) if not use.attributed]


def unwatched_profile_calls(
    alarms: Sequence[TokenSpendAlarm], watched: Sequence[Construct]
) -> list[tuple[TokenSpendAlarm, Construct]]:
    """Alarms on a model id that a watched construct calls through a profile: they miss those calls."""
    return [
        (alarm, construct)
        for alarm in alarms
        if alarm.construct is None
        for construct in watched
        if any(
            use.model_id == alarm.model_id and use.invoked_id != use.model_id for use in model_uses(construct)
        )
    ]


def warn_about_profile_calls(
    scope: Construct, alarms: Sequence[TokenSpendAlarm], watched: Sequence[Construct]
) -> None:
    """Warn when a token-spend alarm reads a model's own `ModelId` while a watched construct calls that model
    through a profile (those calls report under the profile's ARN, so the alarm never sees them)."""
    for alarm, construct in unwatched_profile_calls(alarms, watched):
        cdk.Annotations.of(scope).add_warning_v2(
            "inferwise:token-alarm-misses-profile",
            f"the token-spend alarm on {alarm.model_id!r} reads ModelId {alarm.model_id!r}, but the watched "
            f"{construct.node.path} calls that model through its application inference profile, whose calls "
            f"CloudWatch reports under the profile's ARN: pass TokenSpendAlarm(..., construct=<that construct>) "
            "to alarm on them",
        )


def _described(alarm: TokenSpendAlarm) -> str:
    return alarm.model_id if alarm.construct is None else f"{alarm.model_id} via {alarm.construct.node.path}"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", text)
