"""The bad-input suite's one assertion: a bad value is refused with a clear error, never a raw traceback.

Each case builds something with one bad value and says which error type it expects (ValueError or TypeError),
which prop the message must name and how the value must show in it. `assert_refused` also checks that the
error is inferwise's own (`InvalidValueError`, whose wrong-type form `InvalidTypeError` is both a TypeError
and a ValueError) unless the case says a neighbouring module raises it, that no raw exception type leaks
(`decimal.InvalidOperation`, `AttributeError`, `KeyError`, `RecursionError`, `MemoryError`, jsii errors, JSON
errors from a dead jsii process), and that the message stays short whatever the value's size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from inferwise.cost.validation import InvalidTypeError, InvalidValueError, shown
from tests.harness.synth import CONTEXT

REGION = "us-east-1"
ACCOUNT = "123456789012"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
ECR_IMAGE_URI = (
    "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:"
    "2.7.0-tgi3.3.6-gpu-py311-cu124-ubuntu22.04"
)
MAX_MESSAGE = 1500
"""No refusal is longer than this, whatever the size of the value refused."""

RAW: tuple[type[BaseException], ...] = (
    ArithmeticError,  # decimal.InvalidOperation, OverflowError, ZeroDivisionError
    AttributeError,
    KeyError,
    IndexError,
    RecursionError,
    MemoryError,
    json.JSONDecodeError,  # what a jsii process killed by a float inf answers
    UnicodeError,
    AssertionError,
)


@dataclass(frozen=True)
class Case:
    """One bad input: `build()` must raise `error` naming `prop` and showing `shows`."""

    id: str
    build: Callable[[], object]
    error: type[Exception]
    prop: str | tuple[str, ...]
    """The prop the message names (or the names it may go by, e.g. `off_hours.cron` / `OffHours.cron`)."""
    shows: str
    ours: bool = True
    """False when a module outside this suite's scope raises it (a plain ValueError is then enough)."""


@dataclass(frozen=True)
class Later:
    """A prop value made when the case runs, not when the module is collected (e.g. an `OffHours` that
    `OffHours.__post_init__` itself may refuse)."""

    make: Callable[[], object]


def resolve(props: dict[str, Any]) -> dict[str, Any]:
    """`props` with every `Later` value made."""
    return {key: value.make() if isinstance(value, Later) else value for key, value in props.items()}


def label(value: object) -> str:
    """A test id for a value that is the same in every process (no object addresses)."""
    text = shown(value)
    return type(value).__name__ if " at 0x" in text else text


def param(cases: list[Case]) -> Any:
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), sorted({i for i in ids if ids.count(i) > 1})
    return pytest.mark.parametrize("case", cases, ids=ids)


def assert_refused(case: Case) -> str:
    """Run the case; return the message after checking type, prop, value and length."""
    with pytest.raises(Exception) as raised:
        case.build()
    error = raised.value
    assert not isinstance(error, RAW), f"raw {type(error).__name__} leaked: {error!r}"
    assert isinstance(error, case.error), (
        f"expected {case.error.__name__}, got {type(error).__name__}: {error}"
    )
    if case.ours:
        assert isinstance(error, InvalidValueError), (
            f"not inferwise's own error: {type(error).__name__}: {error}"
        )
        if case.error is TypeError:
            assert isinstance(error, InvalidTypeError)
    message = str(error)
    names = (case.prop,) if isinstance(case.prop, str) else case.prop
    assert any(name in message for name in names), f"the message does not name {case.prop!r}: {message}"
    assert case.shows in message, f"the message does not show {case.shows!r}: {message}"
    assert len(message) <= MAX_MESSAGE, f"{len(message)} characters: {message[:200]}..."
    return message


def stack(region: str = REGION, account: str | None = None, app: cdk.App | None = None) -> cdk.Stack:
    """A stack in a fresh app (or in `app`), named after the Region."""
    app = app or cdk.App(context=CONTEXT)
    name = f"Bad{region.replace('-', '')}{len(app.node.children)}"
    return cdk.Stack(app, name, env=cdk.Environment(region=region, account=account))


def vpc(scope: cdk.Stack) -> ec2.IVpc:
    """An imported VPC with one public subnet: cheap to make, enough for a fleet to be built."""
    return ec2.Vpc.from_vpc_attributes(
        scope,
        "Vpc",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr_block="10.1.0.0/16",
        availability_zones=[f"{scope.region}a"],
        public_subnet_ids=["subnet-0123456789abcdef0"],
    )
