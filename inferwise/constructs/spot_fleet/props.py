"""The fleet's options (serving, queue-backlog scaling), its defaults and limits, and the checks of its props."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sqs as sqs

from inferwise.constructs.schedule import OffHours
from inferwise.constructs.validation import (
    InvalidTypeError,
    InvalidValueError,
    check_bool,
    check_choice,
    check_construct,
    check_cron_fires,
    check_duration,
    check_instance,
    check_mapping,
    check_number,
    check_retention,
    check_sequence,
    check_text,
    check_whole_number,
    is_token,
    peer_prop,
    shown,
)
from inferwise.cost.catalog import PriceCatalog, UnknownPriceError
from inferwise.cost.estimators.spot_fleet import (
    EC2_SERVICE,
    MAX_FLEET_INSTANCES,
    ON_DEMAND_DIMENSION,
    FleetUsage,
    usage_floor_problem,
)
from inferwise.cost.specs.ec2 import (
    ACCELERATORS,
    ARCHITECTURE_OF,
    DEFAULT_INSTANCE_TYPES,
    Accelerator,
    Ec2InstanceSpec,
    ec2_instance_spec,
)

NEURON_DLAMI_PARAMETER = "/aws/service/neuron/dlami/base/amazon-linux-2023/latest/image_id"
"""Neuron DLAMI base (driver + tools, for containers) on Amazon Linux 2023; only `latest` exists (gotcha 19)."""
AL2023_ARM64_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
"""Amazon Linux 2023 arm64, kernel-default (CDK's latest_amazon_linux2023 picks kernel-6.1; gotcha 19)."""
AMI_PARAMETERS: dict[Accelerator, str] = {
    "inferentia2": NEURON_DLAMI_PARAMETER,
    "graviton": AL2023_ARM64_PARAMETER,
}
MIN_ROOT_VOLUME_GIB: dict[Accelerator, int] = {"inferentia2": 100, "graviton": 8}
"""Snapshot sizes of the default AMIs: the Neuron DLAMI's is about 100 GB (community), AL2023's 8 GiB."""
DEFAULT_WARMUP_SECONDS: dict[Accelerator, int] = {"inferentia2": 600, "graviton": 300}

DEFAULT_HEARTBEAT_SECONDS = 180
DEFAULT_DRAIN_SECONDS = 90
COMPLETE_MARGIN_SECONDS = 30
"""The drain deadline must leave this much of the heartbeat for CompleteLifecycleAction."""
MAX_OVERRIDES = 40
IMDS_HOP_LIMIT = 1
"""IMDSv2 responses reach the host only: a container on Docker's bridge network is one hop further and gets no
answer, so it cannot borrow the instance role (docs/aws-facts.md#spot-signals)."""
IMDS_HOP_LIMIT_FOR_CONTAINERS = 2
"""With `container_needs_instance_role=True`: the extra hop lets a container reach IMDS and the role's credentials."""
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
"""What SSM Agent needs for Session Manager alone (AWS's custom Session Manager instance profile; the same
actions as the AWS managed AWSCloud9SSMInstanceProfile), instead of AmazonSSMManagedInstanceCore's Run
Command, State Manager, inventory and patching permissions."""

_CONTAINER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")
_URL = re.compile(r"https?://[^\s/]+(?:/\S*)?")
_DEVICE_NAME = re.compile(r"/dev/[a-z0-9]+")
MAX_IMAGE_LENGTH = 1024
MAX_BACKLOG_PER_INSTANCE = 1_000_000
"""Sanity limit of `QueueBacklogScaling.target_backlog_per_instance`."""
SECONDS_PER_DAY = 86_400
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_AWS_WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class ContainerServing:
    """Serve with one Docker container per instance, started by the user data.

    - `image`: any image reference; an ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`)
      gets a login and pull permission on exactly that repository.
    - `port`: the TCP port the server listens on inside the container; published 1:1 on the host and the
      only port the security group opens.
    - `command`: arguments after the image (the image's entrypoint stays).
    - On inf2 every `/dev/neuron*` device is passed in. Logs go to the fleet's log group (awslogs driver).
    - Draining: `docker kill --signal SIGTERM`, so the server must stop accepting work and finish in-flight
      requests on SIGTERM (TGI, vLLM and uvicorn-based servers do); the agent waits for the container to exit.
    """

    image: str
    port: int = 8080
    command: Sequence[str] = ()
    environment: Mapping[str, str] = field(default_factory=dict)
    container_name: str = "inferwise-serving"

    def __post_init__(self) -> None:
        if not is_token(self.image):
            check_text(
                "ContainerServing.image",
                self.image,
                allowed="an image reference such as 'public.ecr.aws/<repo>:<tag>'",
                max_length=MAX_IMAGE_LENGTH,
            )
        _check_port("ContainerServing.port", self.port)
        check_text(
            "ContainerServing.container_name",
            self.container_name,
            allowed="letters, digits, '_', '.' or '-' (at most 63, starting with a letter or digit)",
            pattern=_CONTAINER_NAME,
        )
        _check_words("ContainerServing.command", self.command)
        environment = check_mapping(
            "ContainerServing.environment", self.environment, of="variable names to string values"
        )
        for key, value in environment.items():
            if not isinstance(key, str) or not _ENV_KEY.match(key) or not isinstance(value, str):
                raise InvalidValueError(
                    f"ContainerServing.environment needs names matching {_ENV_KEY.pattern} and string values, "
                    f"got {shown(key)}: {shown(value)}"
                )


@dataclass(frozen=True)
class UserDataServing:
    """Serve with your own user data (appended after the construct's); say how to drain it.

    - `port`: the port your server listens on (the only one the security group opens).
    - `stop_commands`: commands (argument lists, no shell) the drain agent runs to stop taking work;
      `stop_url`: or an URL it POSTs to (e.g. `http://127.0.0.1:8080/drain`).
    - `busy_command`: a command that exits 0 while work is in flight. Without one the agent waits until the
      drain deadline before completing the lifecycle action.
    """

    user_data: ec2.UserData
    port: int
    stop_commands: Sequence[Sequence[str]] = ()
    stop_url: str | None = None
    busy_command: Sequence[str] = ()

    def __post_init__(self) -> None:
        check_instance(
            "UserDataServing.user_data",
            self.user_data,
            ec2.UserData,
            " (e.g. ec2.UserData.for_linux() with add_commands(...))",
        )
        _check_port("UserDataServing.port", self.port)
        if not self.stop_commands and not self.stop_url:
            raise InvalidValueError(
                "UserDataServing needs stop_commands or stop_url: how the drain agent tells your server to stop "
                "taking work, got neither"
            )
        commands = check_sequence("UserDataServing.stop_commands", self.stop_commands, of="argument lists")
        for command in commands:
            if isinstance(command, str) or not command or not all(isinstance(w, str) for w in command):
                raise InvalidValueError(
                    f"UserDataServing.stop_commands must hold argument lists such as ['systemctl', 'stop', "
                    f"'my-server'], got {shown(command)}"
                )
            _check_words("UserDataServing.stop_commands", command)
        if self.stop_url is not None:
            check_text(
                "UserDataServing.stop_url",
                self.stop_url,
                allowed="an http:// or https:// URL such as 'http://127.0.0.1:8080/drain'",
                pattern=_URL,
            )
        _check_words("UserDataServing.busy_command", self.busy_command)


@dataclass(frozen=True)
class QueueBacklogScaling:
    """Scale on an SQS queue's backlog per InService instance (metric math; docs/aws-facts.md#spot-scaling).

    `target_backlog_per_instance`: messages one instance can hold as backlog within your latency goal
    (acceptable latency / average seconds per message). With no instance in service the divisor is 1,
    so the metric is the whole backlog.
    """

    queue: sqs.IQueue
    target_backlog_per_instance: float

    def __post_init__(self) -> None:
        check_construct(
            "QueueBacklogScaling.queue",
            self.queue,
            sqs.IQueue,
            what="an sqs.IQueue",
            hint="pass sqs.Queue.from_queue_arn(scope, id, arn) for a queue made elsewhere",
        )
        check_number(
            "QueueBacklogScaling.target_backlog_per_instance",
            self.target_backlog_per_instance,
            low=0,
            low_open=True,
            cap=MAX_BACKLOG_PER_INSTANCE,
        )


def _check_port(prop: str, port: object) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        error = (
            InvalidValueError if isinstance(port, int) and not isinstance(port, bool) else InvalidTypeError
        )
        raise error(f"{prop} must be a TCP port between 1 and 65535, got {shown(port)}")


def _check_words(prop: str, words: object) -> None:
    """An argument list: strings without NUL or newline (they would break the generated shell script)."""
    for index, word in enumerate(check_sequence(prop, words, of="strings (an argument list)")):
        if not isinstance(word, str) or re.search(r"[\x00\n\r]", word):
            raise InvalidValueError(
                f"{prop}[{index}] must be a string without NUL or line breaks, got {shown(word)}"
            )


def unix_recurrence(expression: str, prop: str) -> str:
    """An `OffHours` AWS cron body (6 fields) as the 5-field Unix cron EC2 Auto Scaling's Recurrence takes.

    `?` becomes `*`; day-of-week numbers (AWS: 1-7 = SUN-SAT) become names; the year must be `*`; `L`, `W`
    and `#` have no Unix equivalent and are refused.
    """
    minute, hour, day_of_month, month, day_of_week, year = expression.split(" ")
    if year != "*":
        raise InvalidValueError(
            f"{prop} {expression!r}: EC2 Auto Scaling schedules have no year field; use '*' for the year"
        )
    unsupported = (("day-of-month", day_of_month, "LW"), ("day-of-week", day_of_week, "L#"))
    for name, text, marks in unsupported:
        if any(mark in text.upper() for mark in marks):
            raise InvalidValueError(
                f"{prop} {expression!r}: the {name} field {text!r} uses {' or '.join(marks)}, which EC2 Auto "
                "Scaling's Unix cron does not support"
            )

    def weekday(match: re.Match[str]) -> str:
        return _AWS_WEEKDAYS[int(match.group(0)) - 1]

    days: list[str] = []
    for item in day_of_week.split(","):
        span, slash, step = item.partition("/")
        days.append(re.sub(r"\b[1-7]\b", weekday, span) + slash + step)
    unix_day_of_week = "*" if day_of_week == "?" else ",".join(days).upper()
    unix_day_of_month = "*" if day_of_month == "?" else day_of_month
    return " ".join((minute, hour, unix_day_of_month, month.upper(), unix_day_of_week))


_DURATION_PROPS = {
    DEFAULT_HEARTBEAT_SECONDS: "lifecycle_heartbeat_timeout",
    DEFAULT_DRAIN_SECONDS: "drain_timeout",
}
"""The prop a default belongs to, so that `seconds(value, default)` can name it when `prop` is not given."""


def seconds(value: cdk.Duration | None, default: int, prop: str | None = None) -> int:
    """`value` (a `cdk.Duration` of whole seconds, at most a day) in seconds, or `default` when it is None.

    The ranges of each prop are checked by `check_instances` with their AWS limits."""
    if value is None:
        return default
    name = prop or _DURATION_PROPS.get(default, "duration")
    return check_duration(name, value, low=0, high=SECONDS_PER_DAY)


def instance_type_list(accelerator: Accelerator, instance_types: Sequence[str] | None) -> list[str]:
    """The instance types to override, the accelerator's defaults when None; refuses an unknown accelerator."""
    check_choice("accelerator", accelerator, ACCELERATORS)
    if isinstance(instance_types, str):
        raise InvalidTypeError(
            f"instance_types must be a list of instance types such as [{shown(instance_types)}], got {shown(instance_types)}"
        )
    if instance_types is None:
        return list(DEFAULT_INSTANCE_TYPES[accelerator])
    types = check_sequence("instance_types", instance_types, of="instance types such as 'inf2.xlarge'")
    for index, instance_type in enumerate(types):
        check_text(
            f"instance_types[{index}]", instance_type, allowed="an instance type such as 'inf2.xlarge'"
        )
    return list(types)


def validate_instance_types(
    types: list[str], accelerator: Accelerator, catalog: PriceCatalog, region: str
) -> list[Ec2InstanceSpec]:
    """The specs of `types`: at least one, each once, one CPU architecture, the accelerator's kind, priced."""
    if not types:
        raise InvalidValueError(f"instance_types must list at least one instance type, got {types!r}")
    if len(types) > MAX_OVERRIDES:
        raise InvalidValueError(
            f"instance_types may list at most {MAX_OVERRIDES} types (EC2 Auto Scaling), got {len(types)}"
        )
    duplicates = sorted({t for t in types if types.count(t) > 1})
    if duplicates:
        raise InvalidValueError(
            f"instance_types lists {', '.join(duplicates)} more than once; list each type once"
        )
    specs = [ec2_instance_spec(t) for t in types]
    architectures = {s.architecture for s in specs}
    if len(architectures) > 1:
        by_arch = {a: [s.instance_type for s in specs if s.architecture == a] for a in sorted(architectures)}
        raise InvalidValueError(
            "instance_types mixes CPU architectures under one AMI: "
            + "; ".join(f"{a}: {', '.join(ts)}" for a, ts in by_arch.items())
            + f". One launch template has one AMI; use only {ARCHITECTURE_OF[accelerator]} types for "
            f"accelerator={accelerator!r}"
        )
    for spec in specs:
        if spec.accelerator != accelerator:
            raise InvalidValueError(
                f"instance_types has {spec.instance_type!r}, a {spec.accelerator} type, but accelerator="
                f"{accelerator!r} takes {'inf2.*' if accelerator == 'inferentia2' else 'Graviton c7g, m7g, r7g or c8g'} "
                f"types, e.g. {', '.join(DEFAULT_INSTANCE_TYPES[accelerator])}"
            )
    for spec in specs:
        _check_priced(spec, accelerator, catalog, region)
    return specs


def _check_priced(
    spec: Ec2InstanceSpec, accelerator: Accelerator, catalog: PriceCatalog, region: str
) -> None:
    try:
        catalog.price(EC2_SERVICE, spec.instance_type, region, ON_DEMAND_DIMENSION)
    except UnknownPriceError:
        priced = sorted(
            r.sku
            for r in catalog.records(EC2_SERVICE, region)
            if r.dimension == ON_DEMAND_DIMENSION and _is_type_of(r.sku, accelerator)
        )
        raise InvalidValueError(
            f"instance_types has {spec.instance_type!r}, which has no EC2 On-Demand price for {region} in the "
            f"price catalogue; {accelerator} types priced there: {', '.join(priced) or 'none'}. Pick one of "
            'those or add an override record (cdk.json context "inferwise:prices", docs/prices.md)'
        ) from None


def _is_type_of(instance_type: str, accelerator: Accelerator) -> bool:
    try:
        return ec2_instance_spec(instance_type).accelerator == accelerator
    except ValueError:
        return False


def check_capacity(
    serving: object, on_demand_base: int, spot_percent_above_base: int, min_capacity: int, max_capacity: int
) -> None:
    """The serving option and the group's size and On-Demand/Spot split."""
    if not isinstance(serving, ContainerServing | UserDataServing):
        raise InvalidTypeError(
            f"serving must be a ContainerServing(image=...) or a UserDataServing(...), got {shown(serving)}"
        )
    check_whole_number("on_demand_base", on_demand_base, 0, cap=MAX_FLEET_INSTANCES)
    check_whole_number("spot_percent_above_base", spot_percent_above_base, 0, 100)
    check_whole_number("min_capacity", min_capacity, 0, cap=MAX_FLEET_INSTANCES)
    check_whole_number("max_capacity", max_capacity, 1, cap=MAX_FLEET_INSTANCES)
    if min_capacity > max_capacity:
        raise InvalidValueError(f"min_capacity must be <= max_capacity ({max_capacity}), got {min_capacity}")
    if on_demand_base > max_capacity:
        raise InvalidValueError(
            f"on_demand_base must be <= max_capacity ({max_capacity}), got {on_demand_base}: the group can never "
            "run that many On-Demand instances"
        )


def check_instances(
    accelerator: Accelerator,
    root_volume_gib: int,
    default_ami: bool,
    heartbeat_seconds: int,
    drain_seconds: int,
) -> None:
    """The root volume against the AMI, and the drain deadline against the lifecycle hook's heartbeat."""
    check_whole_number("root_volume_gib", root_volume_gib, 1, 16384)
    if default_ami and root_volume_gib < MIN_ROOT_VOLUME_GIB[accelerator]:
        raise InvalidValueError(
            f"root_volume_gib must be >= {MIN_ROOT_VOLUME_GIB[accelerator]} for the default {accelerator} AMI "
            f"({AMI_PARAMETERS[accelerator]}, whose snapshot is that large), got {root_volume_gib}; pass "
            "machine_image for a smaller AMI"
        )
    if not 30 <= heartbeat_seconds <= 7200:
        raise InvalidValueError(
            f"lifecycle_heartbeat_timeout must be between 30 and 7200 seconds (EC2 Auto Scaling), got "
            f"{heartbeat_seconds} s"
        )
    if not 0 <= drain_seconds <= heartbeat_seconds - COMPLETE_MARGIN_SECONDS:
        raise InvalidValueError(
            f"drain_timeout must be between 0 and lifecycle_heartbeat_timeout - {COMPLETE_MARGIN_SECONDS} s "
            f"({heartbeat_seconds - COMPLETE_MARGIN_SECONDS} s), so the agent can complete the lifecycle action "
            f"before the hook times out, got {drain_seconds} s"
        )


def check_scaling(
    target_cpu_utilization: float | None,
    queue_backlog: QueueBacklogScaling | None,
    off_hours: OffHours | None,
    warm_pool: bool,
    spot_percent_above_base: int,
) -> None:
    """The scaling policies, the off-hours schedule (as Unix cron, and able to fire) and the warm pool."""
    if target_cpu_utilization is not None:
        check_number(
            "target_cpu_utilization",
            target_cpu_utilization,
            low=0,
            low_open=True,
            high=100,
            allowed="a percentage in (0, 100] or None",
        )
    if queue_backlog is not None and not isinstance(queue_backlog, QueueBacklogScaling):
        raise InvalidTypeError(
            f"queue_backlog must be a QueueBacklogScaling(queue=..., target_backlog_per_instance=...) or None, got "
            f"{shown(queue_backlog)}"
        )
    if off_hours is not None:
        if not isinstance(off_hours, OffHours):
            raise InvalidTypeError(
                f"off_hours must be an OffHours(cron=..., resume_cron=...) or None, got {shown(off_hours)}"
            )
        unix_recurrence(off_hours.cron, "off_hours.cron")
        unix_recurrence(off_hours.resume_cron, "off_hours.resume_cron")
        check_cron_fires("off_hours.cron", off_hours.cron)
        check_cron_fires("off_hours.resume_cron", off_hours.resume_cron)
    check_bool("warm_pool", warm_pool)
    if warm_pool and spot_percent_above_base > 0:
        raise InvalidValueError(
            f"warm_pool=True needs an On-Demand-only fleet (spot_percent_above_base=0), got "
            f"spot_percent_above_base={spot_percent_above_base}: EC2 Auto Scaling refuses a warm pool on a "
            "mixed-instances group that requests Spot (CDK would not catch it until deploy)"
        )


def imds_hop_limit(container_needs_instance_role: object, session_manager: object) -> int:
    """The launch template's IMDS hop limit, after checking that the two switches which widen what an
    instance (or its container) may reach are plain booleans."""
    for prop, value in (
        ("container_needs_instance_role", container_needs_instance_role),
        ("session_manager", session_manager),
    ):
        check_bool(prop, value)
    return IMDS_HOP_LIMIT_FOR_CONTAINERS if container_needs_instance_role else IMDS_HOP_LIMIT


def check_usage(
    usage: FleetUsage,
    max_capacity: int,
    min_capacity: int = 0,
    off_hours: OffHours | None = None,
    sources: Sequence[str] = (),
) -> None:
    """The usage the estimate prices must fit the group: at most `max_capacity` instances, and never below
    the floor `min_capacity` forces (all month without `off_hours`); `sources` are the usage-file
    assumptions, quoted when a refused figure came from the file."""
    if not isinstance(usage, FleetUsage):
        raise InvalidTypeError(
            f"usage must be a FleetUsage(average_instances=..., hours_per_month=...), got {shown(usage)}"
        )
    if Decimal(str(usage.average_instances)) > max_capacity:
        raise InvalidValueError(
            f"usage.average_instances must be <= max_capacity ({max_capacity}), got {usage.average_instances:g}"
            + _from_file("average_instances", sources)
        )
    floor = usage_floor_problem(usage, min_capacity, off_hours is not None)
    if floor is not None:
        field = "average_instances" if floor.startswith("usage.average_instances") else "hours_per_month"
        raise InvalidValueError(floor + _from_file(field, sources))


def _from_file(field: str, sources: Sequence[str]) -> str:
    quoted = [source for source in sources if source.startswith(f"{field}=")]
    return f" ({'; '.join(quoted)})" if quoted else ""


def check_fleet_props(
    vpc: object,
    vpc_subnets: object,
    allowed_peer: object,
    machine_image: object,
    instance_warmup: object,
    log_retention: object,
    root_device_name: object,
) -> ec2.IPeer | None:
    """The construct-typed props; returns `allowed_peer` as an `ec2.IPeer` (a CIDR string, a security group
    id or a prefix list id is accepted in its place)."""
    check_construct(
        "vpc",
        vpc,
        ec2.IVpc,
        what="an ec2.IVpc",
        hint="pass ec2.Vpc.from_lookup(scope, 'Vpc', vpc_id=...) (needs the stack's account and Region) or "
        "ec2.Vpc.from_vpc_attributes(...) for an existing VPC",
    )
    if vpc_subnets is not None and not isinstance(vpc_subnets, ec2.SubnetSelection):
        raise InvalidTypeError(
            "vpc_subnets must be an ec2.SubnetSelection such as "
            f"ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC) or None, got {shown(vpc_subnets)}"
        )
    if machine_image is not None:
        check_construct(
            "machine_image",
            machine_image,
            ec2.IMachineImage,
            what="an ec2.IMachineImage",
            hint="for an AMI id pass ec2.MachineImage.generic_linux({'<region>': 'ami-...'})",
        )
    if instance_warmup is not None:
        check_duration("instance_warmup", instance_warmup, low=0, high=SECONDS_PER_DAY)
    check_retention("log_retention", log_retention)
    check_text(
        "root_device_name",
        root_device_name,
        allowed="a device name such as '/dev/xvda'",
        pattern=_DEVICE_NAME,
    )
    return peer_prop("allowed_peer", allowed_peer)
