"""SpotInferenceFleet refuses every bad prop with a clear error, before anything reaches jsii.

The construct-typed props (vpc, vpc_subnets, allowed_peer, machine_image, instance_warmup, log_retention,
root_device_name) and the capacity floor are checked through the functions the construct calls
(`check_fleet_props`, `check_usage`); the construct-level cases at the end show the construct calls them.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs

from inferwise.constructs.spot_fleet import (
    ContainerServing,
    FleetUsage,
    OffHours,
    QueueBacklogScaling,
    SpotInferenceFleet,
    UserDataServing,
)
from inferwise.constructs.spot_fleet.props import check_fleet_props, check_usage
from inferwise.cost.catalog import PriceCatalog
from inferwise.cost.estimators.spot_fleet import estimate_spot_fleet
from tests.unit.bad_input.support import Case, Later, assert_refused, label, param, resolve, stack, vpc

IMAGE = "public.ecr.aws/example/server:1"
WEEKDAYS = "0 20 ? * MON-FRI *"
MORNINGS = "0 7 ? * MON-FRI *"


def fleet(**overrides: Any) -> SpotInferenceFleet:
    scope = stack()
    props: dict[str, Any] = {
        "vpc": vpc(scope),
        "vpc_subnets": ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
        "accelerator": "inferentia2",
        "serving": ContainerServing(image=IMAGE),
        "min_capacity": 1,
    }
    props.update({k: v(scope) if callable(v) and k in _SCOPED else v for k, v in resolve(overrides).items()})
    return SpotInferenceFleet(scope, "Fleet", **props)


_SCOPED = {"queue_backlog", "serving", "vpc", "allowed_peer", "machine_image"}
"""Props given as `lambda scope: ...` because they need the stack."""


def bad(case_id: str, error: type[Exception], prop: str, shows: str, **overrides: Any) -> Case:
    return Case(case_id, lambda: fleet(**overrides), error, prop, shows)


def made(case_id: str, build: Any, error: type[Exception], prop: str, shows: str) -> Case:
    """An option object refused when made (no stack needed unless `build` takes one)."""
    return Case(case_id, build, error, prop, shows)


def queue(target: object) -> Any:
    return lambda scope: QueueBacklogScaling(
        queue=sqs.Queue(scope, "Queue"), target_backlog_per_instance=target
    )  # type: ignore[arg-type]


def user_data(**fields: Any) -> Any:
    return lambda: UserDataServing(user_data=ec2.UserData.for_linux(), port=8080, **fields)


def fleet_props(name: str, value: object, error: type[Exception], shows: str) -> Case:
    """`check_fleet_props` with one bad construct-typed prop."""

    def build() -> object:
        scope = stack()
        props: dict[str, Any] = {
            "vpc": vpc(scope),
            "vpc_subnets": None,
            "allowed_peer": None,
            "machine_image": None,
            "instance_warmup": None,
            "log_retention": logs.RetentionDays.ONE_MONTH,
            "root_device_name": "/dev/xvda",
            name: value,
        }
        return check_fleet_props(**props)

    return Case(f"{name}={label(value)}", build, error, name, shows)


V, T = ValueError, TypeError
CRON = ("off_hours.cron", "OffHours.cron")
RESUME = ("off_hours.resume_cron", "OffHours.resume_cron")
INF, NAN = float("inf"), float("nan")
CASES: list[Case] = [
    # accelerator and instance types
    bad("accelerator gpu", V, "accelerator", "'gpu'", accelerator="gpu"),
    bad("accelerator case", V, "accelerator", "'Inferentia2'", accelerator="Inferentia2"),
    bad("accelerator None", T, "accelerator", "None", accelerator=None),
    bad("accelerator list", T, "accelerator", "['inferentia2']", accelerator=["inferentia2"]),
    bad("types string", T, "instance_types", "'inf2.xlarge'", instance_types="inf2.xlarge"),
    bad("type None", T, "instance_types[0]", "None", instance_types=[None]),
    bad("type empty", V, "instance_types[0]", "''", instance_types=[""]),
    bad(
        "type newline",
        V,
        "instance_types[1]",
        "'inf2.8xlarge\\n'",
        instance_types=["inf2.xlarge", "inf2.8xlarge\n"],
    ),
    bad("types empty", V, "instance_types", "[]", instance_types=[]),
    bad("types 41", V, "instance_types", "41", instance_types=["inf2.xlarge"] * 41),
    bad("types dict", T, "instance_types", "{'inf2.xlarge': 1}", instance_types={"inf2.xlarge": 1}),
    # capacity
    bad("base negative", V, "on_demand_base", "-1", on_demand_base=-1),
    bad("base float", T, "on_demand_base", "1.5", on_demand_base=1.5),
    bad("base bool", T, "on_demand_base", "True", on_demand_base=True),
    bad("base 1e30", V, "on_demand_base", "digits", on_demand_base=10**50),
    bad("spot 101", V, "spot_percent_above_base", "101", spot_percent_above_base=101),
    bad("spot float", T, "spot_percent_above_base", "50.0", spot_percent_above_base=50.0),
    bad("spot nan", T, "spot_percent_above_base", "nan", spot_percent_above_base=NAN),
    bad("min negative", V, "min_capacity", "-1", min_capacity=-1),
    bad("min string", T, "min_capacity", "'1'", min_capacity="1"),
    bad("max zero", V, "max_capacity", "got 0", max_capacity=0, min_capacity=0),
    bad("max inf", T, "max_capacity", "inf", max_capacity=INF),
    bad("max 1e30", V, "max_capacity", "1000000000000000000000000000000", max_capacity=10**30),
    bad("max 20000", V, "max_capacity", "20000", max_capacity=20_000),
    bad("max None", T, "max_capacity", "None", max_capacity=None),
    bad("min above max", V, "min_capacity", "got 5", min_capacity=5, max_capacity=4),
    bad("base above max", V, "on_demand_base", "got 5", on_demand_base=5, max_capacity=4),
    # instances
    bad("volume zero", V, "root_volume_gib", "got 0", root_volume_gib=0),
    bad("volume float", T, "root_volume_gib", "128.5", root_volume_gib=128.5),
    bad("volume huge", V, "root_volume_gib", "1000000000", root_volume_gib=10**9),
    bad("volume nan", T, "root_volume_gib", "nan", root_volume_gib=NAN),
    bad("volume below AMI", V, "root_volume_gib", "50", root_volume_gib=50),
    bad("heartbeat int", T, "lifecycle_heartbeat_timeout", "180", lifecycle_heartbeat_timeout=180),
    bad(
        "heartbeat short",
        V,
        "lifecycle_heartbeat_timeout",
        "20 s",
        lifecycle_heartbeat_timeout=cdk.Duration.seconds(20),
    ),
    bad(
        "heartbeat days",
        V,
        "lifecycle_heartbeat_timeout",
        "259200 s",
        lifecycle_heartbeat_timeout=cdk.Duration.days(3),
    ),
    bad("drain int", T, "drain_timeout", "90", drain_timeout=90),
    bad("drain too long", V, "drain_timeout", "160 s", drain_timeout=cdk.Duration.seconds(160)),
    bad("drain millis", V, "drain_timeout", "1 second 500 millis", drain_timeout=cdk.Duration.millis(1500)),
    bad("drain string", T, "drain_timeout", "'90s'", drain_timeout="90s"),
    # scaling
    bad("cpu zero", V, "target_cpu_utilization", "got 0", target_cpu_utilization=0),
    bad("cpu nan", V, "target_cpu_utilization", "nan", target_cpu_utilization=NAN),
    bad("cpu inf", V, "target_cpu_utilization", "inf", target_cpu_utilization=INF),
    bad("cpu 150", V, "target_cpu_utilization", "150", target_cpu_utilization=150),
    bad("cpu string", T, "target_cpu_utilization", "'60'", target_cpu_utilization="60"),
    bad("cpu bool", T, "target_cpu_utilization", "True", target_cpu_utilization=True),
    bad(
        "backlog string",
        T,
        "queue_backlog",
        "'https://sqs",
        queue_backlog="https://sqs.us-east-1.amazonaws.com/1/q",
    ),
    bad("backlog inf", V, "QueueBacklogScaling.target_backlog_per_instance", "inf", queue_backlog=queue(INF)),
    bad("backlog nan", V, "QueueBacklogScaling.target_backlog_per_instance", "nan", queue_backlog=queue(NAN)),
    bad(
        "backlog zero", V, "QueueBacklogScaling.target_backlog_per_instance", "got 0", queue_backlog=queue(0)
    ),
    bad(
        "backlog negative",
        V,
        "QueueBacklogScaling.target_backlog_per_instance",
        "-1",
        queue_backlog=queue(-1),
    ),
    bad(
        "backlog 1e30",
        V,
        "QueueBacklogScaling.target_backlog_per_instance",
        "1e+30",
        queue_backlog=queue(1e30),
    ),
    bad(
        "backlog target string",
        T,
        "QueueBacklogScaling.target_backlog_per_instance",
        "'10'",
        queue_backlog=queue("10"),
    ),
    made(
        "backlog queue ARN",
        lambda: QueueBacklogScaling(
            queue="arn:aws:sqs:us-east-1:123456789012:q", target_backlog_per_instance=10
        ),  # type: ignore[arg-type]
        T,
        "QueueBacklogScaling.queue",
        "'arn:aws:sqs",
    ),
    bad("off hours string", T, "off_hours", f"'{WEEKDAYS}'", off_hours=WEEKDAYS),
    bad(
        "off hours FEB 30",
        V,
        CRON,
        "'0 20 30 FEB ? *'",
        off_hours=Later(lambda: OffHours("0 20 30 FEB ? *", MORNINGS)),
    ),
    bad(
        "resume APR 31",
        V,
        RESUME,
        "'0 7 31 APR ? *'",
        off_hours=Later(lambda: OffHours(WEEKDAYS, "0 7 31 APR ? *")),
    ),
    bad(
        "resume 31 in 30-day months",
        V,
        RESUME,
        "'0 7 31 4,6,9,11 ? *'",
        off_hours=Later(lambda: OffHours(WEEKDAYS, "0 7 31 4,6,9,11 ? *")),
    ),
    bad(
        "off hours year",
        V,
        CRON,
        "2020",
        off_hours=Later(lambda: OffHours("0 20 ? * MON-FRI 2020", MORNINGS)),
    ),
    bad("warm pool yes", T, "warm_pool", "'yes'", warm_pool="yes"),
    bad("warm pool with Spot", V, "warm_pool", "spot_percent_above_base=100", warm_pool=True),
    bad("container role no", T, "container_needs_instance_role", "'no'", container_needs_instance_role="no"),
    bad("session manager None", T, "session_manager", "None", session_manager=None),
    # serving
    bad("serving string", T, "serving", f"'{IMAGE}'", serving=IMAGE),
    bad("serving None", T, "serving", "None", serving=None),
    made("image empty", lambda: ContainerServing(image=""), V, "ContainerServing.image", "''"),
    made("image None", lambda: ContainerServing(image=None), T, "ContainerServing.image", "None"),  # type: ignore[arg-type]
    made("image nan", lambda: ContainerServing(image=NAN), T, "ContainerServing.image", "nan"),  # type: ignore[arg-type]
    made("image newline", lambda: ContainerServing(image=IMAGE + "\n"), V, "ContainerServing.image", "\\n"),
    made(
        "image 2000",
        lambda: ContainerServing(image="x" * 2000),
        V,
        "ContainerServing.image",
        "(2,000 characters)",
    ),
    made("port zero", lambda: ContainerServing(image=IMAGE, port=0), V, "ContainerServing.port", "got 0"),
    made(
        "port 70000", lambda: ContainerServing(image=IMAGE, port=70000), V, "ContainerServing.port", "70000"
    ),
    made(
        "port float", lambda: ContainerServing(image=IMAGE, port=8080.0), T, "ContainerServing.port", "8080.0"
    ),  # type: ignore[arg-type]
    made("port bool", lambda: ContainerServing(image=IMAGE, port=True), T, "ContainerServing.port", "True"),
    made(
        "port string",
        lambda: ContainerServing(image=IMAGE, port="8080"),
        T,
        "ContainerServing.port",
        "'8080'",
    ),  # type: ignore[arg-type]
    made(
        "name dash",
        lambda: ContainerServing(image=IMAGE, container_name="-bad"),
        V,
        "ContainerServing.container_name",
        "'-bad'",
    ),
    made(
        "name 64",
        lambda: ContainerServing(image=IMAGE, container_name="a" * 64),
        V,
        "ContainerServing.container_name",
        "aaaa",
    ),
    made(
        "name None",
        lambda: ContainerServing(image=IMAGE, container_name=None),
        T,
        "ContainerServing.container_name",
        "None",
    ),  # type: ignore[arg-type]
    made(
        "command string",
        lambda: ContainerServing(image=IMAGE, command="serve --port 8080"),
        T,
        "ContainerServing.command",
        "'serve --port 8080'",
    ),
    made(
        "command None word",
        lambda: ContainerServing(image=IMAGE, command=["serve", None]),
        V,
        "ContainerServing.command[1]",
        "None",
    ),  # type: ignore[list-item]
    made(
        "command newline",
        lambda: ContainerServing(image=IMAGE, command=["serve\nrm -rf /"]),
        V,
        "ContainerServing.command[0]",
        "\\n",
    ),
    made(
        "environment list",
        lambda: ContainerServing(image=IMAGE, environment=[("A", "b")]),
        T,
        "ContainerServing.environment",
        "[('A', 'b')]",
    ),  # type: ignore[arg-type]
    made(
        "environment int value",
        lambda: ContainerServing(image=IMAGE, environment={"A": 1}),
        V,
        "ContainerServing.environment",
        "1",
    ),  # type: ignore[dict-item]
    made(
        "environment digit name",
        lambda: ContainerServing(image=IMAGE, environment={"1A": "x"}),
        V,
        "ContainerServing.environment",
        "'1A'",
    ),
    made(
        "environment space name",
        lambda: ContainerServing(image=IMAGE, environment={"A B": "x"}),
        V,
        "ContainerServing.environment",
        "'A B'",
    ),
    made(
        "user data string",
        lambda: UserDataServing(user_data="#!/bin/bash", port=8080, stop_url="http://x"),
        T,
        "UserDataServing.user_data",
        "'#!/bin/bash'",
    ),  # type: ignore[arg-type]
    made("user data no stop", user_data(), V, "UserDataServing", "neither"),
    made(
        "stop command string",
        user_data(stop_commands=["systemctl stop x"]),
        V,
        "UserDataServing.stop_commands",
        "'systemctl stop x'",
    ),
    made(
        "stop commands string",
        user_data(stop_commands="systemctl stop x"),
        T,
        "UserDataServing.stop_commands",
        "'systemctl stop x'",
    ),
    made(
        "stop url no scheme",
        user_data(stop_url="localhost:8080/drain"),
        V,
        "UserDataServing.stop_url",
        "'localhost:8080/drain'",
    ),
    made(
        "stop url newline",
        user_data(stop_url="http://127.0.0.1/drain\n"),
        V,
        "UserDataServing.stop_url",
        "\\n",
    ),
    made("stop url int", user_data(stop_url=8080), T, "UserDataServing.stop_url", "8080"),
    made(
        "busy command string",
        user_data(stop_url="http://127.0.0.1/drain", busy_command="pgrep x"),
        T,
        "UserDataServing.busy_command",
        "'pgrep x'",
    ),
    made(
        "user data port",
        lambda: UserDataServing(user_data=ec2.UserData.for_linux(), port=-1, stop_url="http://x"),
        V,
        "UserDataServing.port",
        "-1",
    ),
    # usage against the group
    bad(
        "usage above max",
        V,
        "usage.average_instances",
        "7",
        usage=FleetUsage(average_instances=7),
        max_capacity=6,
    ),
    bad("usage dict", T, "usage", "{'average_instances': 1}", usage={"average_instances": 1}),
    bad("usage other class", T, "usage", "ContainerServing", usage=ContainerServing(image=IMAGE)),
]


@param(CASES)
def test_bad_fleet_input_is_refused_clearly(case: Case) -> None:
    assert_refused(case)


# ------------------------------------------------------------------- construct-typed props (check_fleet_props)
FLEET_PROPS: list[Case] = [
    fleet_props("vpc", "vpc-0123456789abcdef0", T, "'vpc-0123456789abcdef0'"),
    fleet_props("vpc", None, T, "None"),
    fleet_props("vpc_subnets", "subnet-0123", T, "'subnet-0123'"),
    fleet_props("vpc_subnets", [ec2.SubnetType.PUBLIC], T, "PUBLIC"),
    fleet_props("allowed_peer", "10.0.0.0/33", V, "'10.0.0.0/33'"),
    fleet_props("allowed_peer", "10.0.0.1/8", V, "'10.0.0.1/8'"),
    fleet_props("allowed_peer", "anywhere", V, "'anywhere'"),
    fleet_props("allowed_peer", 8080, T, "8080"),
    fleet_props("machine_image", "ami-0123456789abcdef0", T, "'ami-0123456789abcdef0'"),
    fleet_props("machine_image", 42, T, "42"),
    fleet_props("instance_warmup", 300, T, "300"),
    fleet_props("instance_warmup", cdk.Duration.days(2), V, "172800 s"),
    fleet_props("log_retention", 30, T, "30"),
    fleet_props("log_retention", "ONE_MONTH", T, "'ONE_MONTH'"),
    fleet_props("root_device_name", "xvda", V, "'xvda'"),
    fleet_props("root_device_name", "/dev/xvda\n", V, "\\n"),
    fleet_props("root_device_name", None, T, "None"),
]


@param(FLEET_PROPS)
def test_bad_construct_typed_fleet_props_are_refused_clearly(case: Case) -> None:
    assert_refused(case)


def test_a_cidr_a_security_group_and_a_prefix_list_are_accepted_as_the_allowed_peer() -> None:
    scope = stack()
    network = vpc(scope)
    for peer in ("10.0.0.0/16", "2001:db8::/32", "sg-0123456789abcdef0", "pl-0123456789abcdef0"):
        found = check_fleet_props(
            vpc=network,
            vpc_subnets=None,
            allowed_peer=peer,
            machine_image=None,
            instance_warmup=cdk.Duration.minutes(5),
            log_retention=logs.RetentionDays.ONE_WEEK,
            root_device_name="/dev/xvda",
        )
        assert found is not None and found.unique_id


# --------------------------------------------------------------------------------------- the capacity floor
def floor(
    usage: FleetUsage, min_capacity: int, off_hours: OffHours | None = None, sources: tuple[str, ...] = ()
) -> Any:
    return lambda: check_usage(usage, 6, min_capacity, off_hours, sources)


FLOOR: list[Case] = [
    Case(
        "0 h with min 1",
        floor(FleetUsage(hours_per_month=0), 1),
        ValueError,
        "usage.hours_per_month",
        "got 0",
    ),
    Case(
        "286 h with min 1, no off_hours",
        floor(FleetUsage(hours_per_month=286), 1),
        ValueError,
        "min_capacity=1",
        "got 286",
    ),
    Case(
        "0.5 instances with min 1",
        floor(FleetUsage(average_instances=0.5), 1),
        ValueError,
        "usage.average_instances",
        "0.5",
    ),
    Case(
        "1 instance with min 2 and off_hours",
        floor(FleetUsage(average_instances=1, hours_per_month=286), 2, OffHours(WEEKDAYS, MORNINGS)),
        ValueError,
        "min_capacity (2)",
        "got 1",
    ),
    Case(
        "0 h from a usage file",
        floor(
            FleetUsage(hours_per_month=0),
            1,
            None,
            ("hours_per_month=0 from usage file u.yml (constructs.S/Fleet)",),
        ),
        ValueError,
        "usage.hours_per_month",
        "from usage file u.yml",
    ),
]


@param(FLOOR)
def test_usage_below_the_groups_floor_is_refused(case: Case) -> None:
    message = assert_refused(case)
    assert "min_capacity" in message and "lower min_capacity" in message


def test_the_floor_allows_what_the_group_can_do() -> None:
    check_usage(FleetUsage(average_instances=1, hours_per_month=730), 6, 1)
    check_usage(FleetUsage(average_instances=3, hours_per_month=286), 6, 1, OffHours(WEEKDAYS, MORNINGS))
    check_usage(FleetUsage(hours_per_month=0), 6, 0)


def test_the_estimator_never_prices_below_the_floor() -> None:
    with pytest.raises(ValueError, match=r"usage\.hours_per_month must be 730 when min_capacity=1"):
        estimate_spot_fleet(
            accelerator="inferentia2",
            instance_types=["inf2.xlarge"],
            on_demand_base=1,
            spot_percent_above_base=100,
            root_volume_gib=128,
            usage=FleetUsage(hours_per_month=0),
            catalog=PriceCatalog.bundled(),
            region="us-east-1",
            max_capacity=4,
            min_capacity=1,
        )


# ------------------------------------------------------------------------ the construct calls them
@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"usage": FleetUsage(hours_per_month=0)}, "usage.hours_per_month"),
        ({"vpc": "vpc-0123456789abcdef0"}, "vpc"),
        ({"allowed_peer": "10.0.0.0/33"}, "allowed_peer"),
        ({"log_retention": 30}, "log_retention"),
    ],
    ids=["floor", "vpc string", "peer", "retention int"],
)
def test_the_construct_refuses_them_too(overrides: dict[str, Any], prop: str) -> None:
    with pytest.raises(ValueError, match=prop):
        fleet(**overrides)
